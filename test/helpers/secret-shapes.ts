import { randomBytes, randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { parseSimulatorConfig, type SimulatorConfig } from '../../src/simulator/index.js';

/** Key formats a secret may come in: what the scrubbing must catch whatever it looks like. */
export const SECRET_SHAPES = ['sk', 'uuid', 'base64', 'aiza', 'hex'] as const;
export type SecretShape = (typeof SECRET_SHAPES)[number];

/** A fresh secret of a shape; base64 ones carry `+`, `/` and `=` (their URL-encoded form differs). */
export function secretOfShape(shape: SecretShape): string {
  switch (shape) {
    case 'sk':
      return `sk-proj-${randomBytes(24).toString('hex')}`;
    case 'uuid':
      return randomUUID();
    case 'base64':
      return `${randomBytes(18).toString('base64')}+/${randomBytes(9).toString('base64')}a=`;
    case 'aiza':
      return `AIza${randomBytes(26).toString('base64url').slice(0, 35)}`;
    case 'hex':
      return randomBytes(32).toString('hex');
  }
}

/** The two configs of matchedConfigs with each key's generated secret put in place of its test secret, in both. */
export function withSecrets<F>(cfg: { sim: SimulatorConfig; fleet: F; secretOf: (keyId: string) => string }, secrets: Record<string, string>): { sim: SimulatorConfig; fleet: F } {
  let sim = JSON.stringify(cfg.sim);
  let fleet = JSON.stringify(cfg.fleet);
  for (const [keyId, secret] of Object.entries(secrets)) {
    const from = JSON.stringify(cfg.secretOf(keyId)).slice(1, -1);
    const to = JSON.stringify(secret).slice(1, -1);
    sim = sim.split(from).join(to);
    fleet = fleet.split(from).join(to);
  }
  return { sim: parseSimulatorConfig(JSON.parse(sim)), fleet: JSON.parse(fleet) as F };
}

/** Where a secret may hide besides its plain value: URL-encoded (a query string, a logged URL). */
export function secretForms(secret: string): string[] {
  const encoded = encodeURIComponent(secret);
  return encoded === secret ? [secret] : [secret, encoded];
}

/** An alert webhook receiver on loopback: every body it was sent. */
export async function startAlertReceiver(): Promise<{ url: string; bodies: string[]; close(): Promise<void> }> {
  const bodies: string[] = [];
  const server: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      bodies.push(body);
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}/alerts`, bodies, close: () => new Promise<void>((r) => server.close(() => r())) };
}

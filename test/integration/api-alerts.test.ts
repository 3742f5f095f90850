import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createWebhookAlerts, signBody } from '../../src/adapters/alerts/webhook.js';
import { createLogger } from '../../src/logger.js';

let server: Server;
let url = '';
let status = 200;
const received: Array<{ headers: IncomingHttpHeaders; body: string }> = [];
const logger = createLogger({ level: 'silent' });

beforeAll(async () => {
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString()));
    req.on('end', () => {
      received.push({ headers: req.headers, body });
      res.statusCode = status;
      res.end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
});

afterAll(async () => {
  await new Promise((r) => server.close(r));
});

describe('webhook alerts', () => {
  it('posts signed JSON that the receiver can verify', async () => {
    const alerts = createWebhookAlerts({ alertWebhookUrl: url, alertWebhookSecret: 'hook-secret' }, logger);
    alerts.send({ kind: 'key_disabled', subject: 'k1', detail: 'health check: key_invalid' });
    await alerts.drain();
    const got = received.at(-1);
    expect(got).toBeDefined();
    expect(got?.headers['x-quotaflow-signature']).toBe(signBody('hook-secret', got?.body ?? ''));
    expect(JSON.parse(got?.body ?? '{}')).toMatchObject({ kind: 'key_disabled', subject: 'k1', detail: 'health check: key_invalid' });
  });

  it('sends the same (kind, subject) once per dedupe window, others at once', async () => {
    let t = 0;
    const alerts = createWebhookAlerts({ alertWebhookUrl: url, alertWebhookSecret: undefined }, logger, { dedupeMs: 1000, now: () => t });
    const before = received.length;
    alerts.send({ kind: 'no_capacity', subject: 'acme', detail: 'x' });
    alerts.send({ kind: 'no_capacity', subject: 'acme', detail: 'x' });
    alerts.send({ kind: 'breaker_open', subject: 'm', detail: 'y' });
    t = 2000;
    alerts.send({ kind: 'no_capacity', subject: 'acme', detail: 'x' });
    await alerts.drain();
    expect(received.slice(before).map((r) => JSON.parse(r.body).kind)).toEqual(['no_capacity', 'breaker_open', 'no_capacity']);
    expect(received.at(-1)?.headers['x-quotaflow-signature']).toBeUndefined();
  });

  it('never throws: an unreachable or failing receiver is only logged, and the queue stays bounded', async () => {
    status = 500;
    const dead = createWebhookAlerts({ alertWebhookUrl: 'http://127.0.0.1:1/none', alertWebhookSecret: 's' }, logger, { maxQueue: 2, timeoutMs: 500 });
    for (let i = 0; i < 20; i++) expect(() => dead.send({ kind: 'key_disabled', subject: `k${i}`, detail: 'd' })).not.toThrow();
    await dead.drain();
    const failing = createWebhookAlerts({ alertWebhookUrl: url, alertWebhookSecret: 's' }, logger);
    const before = received.length;
    failing.send({ kind: 'key_disabled', subject: 'k-fail', detail: 'd' });
    await failing.drain();
    expect(received.length).toBe(before + 1);
    status = 200;
  });
});

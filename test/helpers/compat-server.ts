/**
 * A real Fastify server on port 0 with the compatible routes over an
 * in-memory GenerationService, for the real SDKs to talk to.
 */
import Fastify, { type FastifyInstance } from 'fastify';
import { compatRoutes, type AuthFailure } from '../../src/api/compat/index.js';
import type { Tenant } from '../../src/core/types.js';
import { FakeGenerationService } from './compat-service.js';

export const TOKENS = { acme: 'qf-acme-token-0001', beta: 'qf-beta-token-0002', off: 'qf-off-token-0003' } as const;

/** acme may use three models, beta only the lite one; `off` is a tenant whose access was revoked. */
export const CHAINS: Record<string, string[]> = {
  acme: ['gemini-2.5-pro', 'gemini-2.5-flash', 'gemini-2.5-flash-lite'],
  beta: ['gemini-2.5-flash-lite'],
};

const tenant = (id: string): Tenant => ({ id, keyMode: 'central-only', models: CHAINS[id] ?? null });

export interface CompatServer {
  url: string;
  app: FastifyInstance;
  service: FakeGenerationService;
  /** every line the routes logged, serialised */
  logs: string[];
  close(): Promise<void>;
}

export async function startCompatServer(opts: { maxWaitMs?: number; pinned?: string[]; bodyLimit?: number } = {}): Promise<CompatServer> {
  const service = new FakeGenerationService(CHAINS);
  const logs: string[] = [];
  const record = (obj: object, msg: string): void => void logs.push(JSON.stringify({ ...obj, msg }));
  const app = Fastify();
  await compatRoutes(app, {
    service,
    authenticate: async (token): Promise<Tenant | AuthFailure> => {
      if (token === TOKENS.acme) return tenant('acme');
      if (token === TOKENS.beta) return tenant('beta');
      if (token === TOKENS.off) return { failure: 'forbidden', message: 'tenant "off" has been switched off' };
      return Promise.resolve({ failure: 'unknown_token' });
    },
    maxWaitMs: opts.maxWaitMs ?? 10_000,
    logger: { warn: record, error: record },
    pinModel: (t) => (opts.pinned ?? []).includes(t.id),
    now: () => Date.UTC(2026, 0, 2, 3, 4, 5),
    ...(opts.bodyLimit !== undefined ? { bodyLimit: opts.bodyLimit } : {}),
  });
  await app.listen({ port: 0, host: '127.0.0.1' });
  const address = app.server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  return { url: `http://127.0.0.1:${port}`, app, service, logs, close: () => app.close() };
}

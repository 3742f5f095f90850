import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { FastifyAdapter } from '@bull-board/fastify';
import type { Queue } from 'bullmq';
import type { FastifyInstance } from 'fastify';

const SECRET_FIELD = /secret|token|api[-_]?key|authorization|password|credential/i;

/** A copy of job data with every field whose name suggests a secret replaced: what Bull Board shows. */
export function redactForDisplay(value: unknown, depth = 0): unknown {
  if (depth > 20) return '[…]';
  if (Array.isArray(value)) return value.map((v) => redactForDisplay(v, depth + 1));
  if (typeof value !== 'object' || value === null) return value;
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, SECRET_FIELD.test(k) ? '[redacted]' : redactForDisplay(v, depth + 1)]));
}

/**
 * Bull Board under `basePath`, registered inside a scope the caller has
 * already put behind the admin guard. Job data and results go through
 * redactForDisplay (key ids stay, anything named like a secret does not).
 */
export async function registerBullBoard(app: FastifyInstance, queues: readonly Queue[], basePath: string): Promise<void> {
  const serverAdapter = new FastifyAdapter();
  const adapters = queues.map((q) => {
    const a = new BullMQAdapter(q, { readOnlyMode: false });
    a.setFormatter('data', (data: unknown) => redactForDisplay(data));
    a.setFormatter('returnValue', (data: unknown) => redactForDisplay(data));
    return a;
  });
  createBullBoard({ queues: adapters, serverAdapter });
  serverAdapter.setBasePath(basePath);
  await app.register(serverAdapter.registerPlugin(), { prefix: basePath });
}

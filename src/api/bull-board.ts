import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { FastifyAdapter } from '@bull-board/fastify';
import type { Queue } from 'bullmq';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

const SECRET_FIELD = /secret|token|api[-_]?key|authorization|password|credential/i;

/** A copy of job data with every field whose name suggests a secret replaced: what Bull Board shows. */
export function redactForDisplay(value: unknown, depth = 0): unknown {
  if (depth > 20) return '[…]';
  if (Array.isArray(value)) return value.map((v) => redactForDisplay(v, depth + 1));
  if (typeof value !== 'object' || value === null) return value;
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, SECRET_FIELD.test(k) ? '[redacted]' : redactForDisplay(v, depth + 1)]));
}

export interface BullBoardOptions {
  /** QUOTAFLOW_BULL_BOARD_ACTIONS: whether the board may change jobs and queues (retry, promote, clean, remove, edit data, pause...) */
  actions: boolean;
}

const READ_ONLY_METHODS = new Set(['GET', 'HEAD']);

/**
 * Refuses every request that could change something. Bull Board's own
 * read-only mode hides the buttons and refuses most changes (405); this
 * covers every route it has or will have, since all of its changes are
 * PUT/POST/PATCH/DELETE and all of its reads are GET.
 */
async function refuseChanges(req: FastifyRequest, reply: FastifyReply): Promise<void> {
  if (READ_ONLY_METHODS.has(req.method)) return;
  await reply.code(403).send({ error: { code: 'forbidden', message: 'Bull Board is read-only: set QUOTAFLOW_BULL_BOARD_ACTIONS=true to allow retrying, promoting, cleaning and editing jobs' } });
}

/**
 * Bull Board under `basePath`, registered inside a scope the caller has
 * already put behind the admin guard. Read-only unless `actions`. Job data
 * and results go through redactForDisplay (key ids stay, anything named like
 * a secret does not).
 */
export async function registerBullBoard(app: FastifyInstance, queues: readonly Queue[], basePath: string, opts: BullBoardOptions): Promise<void> {
  const serverAdapter = new FastifyAdapter();
  const adapters = queues.map((q) => {
    const a = new BullMQAdapter(q, { readOnlyMode: !opts.actions });
    a.setFormatter('data', (data: unknown) => redactForDisplay(data));
    a.setFormatter('returnValue', (data: unknown) => redactForDisplay(data));
    return a;
  });
  createBullBoard({ queues: adapters, serverAdapter });
  serverAdapter.setBasePath(basePath);
  await app.register(async (board) => {
    if (!opts.actions) board.addHook('onRequest', refuseChanges);
    await board.register(serverAdapter.registerPlugin(), { prefix: basePath });
  });
}

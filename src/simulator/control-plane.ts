/**
 * /_sim/* endpoints: how tests, demos and benchmarks steer and read the
 * stand-in over HTTP (the same operations as SimulatorHandle).
 *
 *   GET  /_sim/health             -> { ok: true }
 *   GET  /_sim/stats[?calls=N]    -> SimulatorStats (only the last N calls when given)
 *   POST /_sim/reset              -> forget calls and quota usage
 *   POST /_sim/faults  {rules}    -> replace the fault rules (faults-schema.ts)
 *   POST /_sim/keys    {invalidKeys?, forbiddenKeys?} -> replace the given key lists
 *
 * Unauthenticated on purpose: the stand-in is a test double bound to
 * 127.0.0.1 by default.
 */
import { z } from 'zod';
import { ValidationError } from '../errors.js';
import type { SimulatorEngine } from './engine.js';
import { formatIssues, parseFaultConfig } from './faults-schema.js';

export interface ControlReply {
  status: number;
  body: unknown;
}

const keyListsSchema = z.strictObject({
  invalidKeys: z.array(z.string().min(1)).optional(),
  forbiddenKeys: z.array(z.string().min(1)).optional(),
});

function invalid(err: ValidationError): ControlReply {
  return { status: 400, body: { error: { code: 400, message: err.message, status: 'INVALID_ARGUMENT', issues: err.issues } } };
}

export function handleControl(
  engine: SimulatorEngine,
  method: string,
  path: string,
  query: URLSearchParams | undefined,
  body: unknown,
): ControlReply {
  const route = `${method} ${path}`;
  switch (route) {
    case 'GET /_sim/health':
      return { status: 200, body: { ok: true } };
    case 'GET /_sim/stats': {
      const stats = engine.stats();
      const limit = Number(query?.get('calls') ?? Number.NaN);
      if (Number.isInteger(limit) && limit >= 0) stats.calls = limit === 0 ? [] : stats.calls.slice(-limit);
      return { status: 200, body: stats };
    }
    case 'POST /_sim/reset':
      engine.reset();
      return { status: 200, body: { ok: true } };
    case 'POST /_sim/faults':
      try {
        engine.setFaults(parseFaultConfig(body));
        return { status: 200, body: { ok: true } };
      } catch (err) {
        if (err instanceof ValidationError) return invalid(err);
        throw err;
      }
    case 'POST /_sim/keys': {
      const parsed = keyListsSchema.safeParse(body);
      if (!parsed.success) return invalid(new ValidationError('invalid key lists', formatIssues(parsed.error.issues)));
      engine.setKeyLists(parsed.data);
      return { status: 200, body: { ok: true } };
    }
    default:
      return { status: 404, body: { error: { code: 404, message: `no control endpoint ${route}`, status: 'NOT_FOUND' } } };
  }
}

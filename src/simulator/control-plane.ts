/**
 * /_sim/* endpoints: how tests, demos and benchmarks steer and read the
 * stand-in over HTTP (the same operations as SimulatorHandle).
 *
 *   GET  /_sim/health             -> { ok: true }
 *   GET  /_sim/stats[?calls=N]    -> SimulatorStats (only the last N calls when given)
 *   POST /_sim/reset              -> forget calls and quota usage
 *   POST /_sim/faults  {rules}    -> replace the fault rules (faults-schema.ts)
 *   POST /_sim/keys    {invalidKeys?, forbiddenKeys?} -> replace the given key lists
 *   GET  /_sim/calls[?last=N][&withBodies=1] -> { totalCalls, droppedCalls, calls }
 *                                 (request bodies only with withBodies=1 and recordBodies on)
 *   GET  /_sim/limits?project=P&model=M -> { project, model, limits: {rpm, tpm, rpd} }
 *   POST /_sim/limits  {project, model, limits: {rpm?, tpm?, rpd?}}
 *                              -> { ok: true, project, model, limits } (the new full limits)
 *
 * Unauthenticated on purpose: the stand-in is a test double bound to
 * 127.0.0.1 by default.
 */
import { z } from 'zod';
import { ValidationError } from '../errors.js';
import type { SimulatorEngine } from './engine.js';
import { limitOverrideSchema } from './config-schema.js';
import { formatIssues, parseFaultConfig } from './faults-schema.js';

export interface ControlReply {
  status: number;
  body: unknown;
}

const setLimitsSchema = z.strictObject({
  project: z.string().min(1),
  model: z.string().min(1),
  limits: limitOverrideSchema,
});

const keyListsSchema = z.strictObject({
  invalidKeys: z.array(z.string().min(1)).optional(),
  forbiddenKeys: z.array(z.string().min(1)).optional(),
});

function invalid(err: ValidationError): ControlReply {
  return { status: 400, body: { error: { code: 400, message: err.message, status: 'INVALID_ARGUMENT', issues: err.issues } } };
}

function notFound(message: string): ControlReply {
  return { status: 404, body: { error: { code: 404, message, status: 'NOT_FOUND' } } };
}

/** A whole number >= 0 from the query, or undefined. */
function countParam(query: URLSearchParams | undefined, name: string): number | undefined {
  const n = Number(query?.get(name) ?? Number.NaN);
  return Number.isInteger(n) && n >= 0 ? n : undefined;
}

function getCalls(engine: SimulatorEngine, query: URLSearchParams | undefined): ControlReply {
  const withBodies = query?.get('withBodies') === '1' || query?.get('withBodies') === 'true';
  const last = countParam(query, 'last');
  const { totalCalls, droppedCalls } = engine.stats();
  return { status: 200, body: { totalCalls, droppedCalls, calls: engine.calls(last === undefined ? { withBodies } : { withBodies, last }) } };
}

function getLimits(engine: SimulatorEngine, query: URLSearchParams | undefined): ControlReply {
  const project = query?.get('project') ?? '';
  const model = query?.get('model') ?? '';
  const limits = engine.limitsOf(project, model);
  if (!limits) return notFound(`no limits for project "${project}" and model "${model}"`);
  return { status: 200, body: { project, model, limits } };
}

function postLimits(engine: SimulatorEngine, body: unknown): ControlReply {
  const parsed = setLimitsSchema.safeParse(body);
  if (!parsed.success) return invalid(new ValidationError('invalid limits change', formatIssues(parsed.error.issues)));
  const { project, model, limits } = parsed.data;
  try {
    return { status: 200, body: { ok: true, project, model, limits: engine.setLimits(project, model, limits) } };
  } catch (err) {
    if (err instanceof ValidationError) return invalid(err);
    throw err;
  }
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
      const limit = countParam(query, 'calls');
      if (limit !== undefined) stats.calls = limit === 0 ? [] : stats.calls.slice(-limit);
      return { status: 200, body: stats };
    }
    case 'GET /_sim/calls':
      return getCalls(engine, query);
    case 'GET /_sim/limits':
      return getLimits(engine, query);
    case 'POST /_sim/limits':
      return postLimits(engine, body);
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
      return notFound(`no control endpoint ${route}`);
  }
}

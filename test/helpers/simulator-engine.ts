/**
 * A stand-in engine on a fake clock, for the simulator's unit tests.
 */
import { parseSimulatorConfig } from '../../src/simulator/config.js';
import { SimulatorEngine, type SimReply, type SimRequest, type StreamReply } from '../../src/simulator/engine.js';

export const T0 = Date.UTC(2025, 0, 15, 12, 0, 0);

export function engineWith(extra: Record<string, unknown> = {}): { engine: SimulatorEngine; clock: { t: number } } {
  const config = parseSimulatorConfig({
    projects: [
      { id: 'proj-a', keys: [{ secret: 'k-a1', label: 'a-1' }] },
      { id: 'proj-b', tier: 'tier1', keys: [{ secret: 'k-b1', label: 'b-1' }] },
    ],
    models: { pro: { rpm: 5, tpm: 100_000, rpd: 100 }, flash: { rpm: 1000, tpm: 10_000_000, rpd: 100_000 } },
    dayLengthMs: 86_400_000,
    ...extra,
  });
  const clock = { t: T0 };
  return { engine: new SimulatorEngine(config, () => clock.t), clock };
}

export function generate(body: Record<string, unknown>, opts: { key?: string; model?: string; method?: SimRequest['method'] } = {}): SimRequest {
  return { method: opts.method ?? 'generateContent', model: opts.model ?? 'flash', apiKey: opts.key ?? 'k-a1', body };
}

export const userText = (text: string): Record<string, unknown> => ({ contents: [{ role: 'user', parts: [{ text }] }] });

/** The JSON body of a reply, which must be a JSON reply with `status`. */
export function jsonBody(reply: SimReply, status = 200): Record<string, unknown> {
  if (reply.kind !== 'json') throw new Error(`expected a JSON reply, got a stream`);
  if (reply.status !== status) throw new Error(`expected status ${status}, got ${reply.status}: ${JSON.stringify(reply.body)}`);
  if (typeof reply.body !== 'object' || reply.body === null) throw new Error('expected an object body');
  return { ...reply.body };
}

export function streamOf(reply: SimReply): StreamReply {
  if (reply.kind !== 'stream') throw new Error(`expected a stream, got ${reply.status}: ${JSON.stringify(reply.body)}`);
  return reply;
}

/** Reads a nested value by path, e.g. at(body, 'usageMetadata', 'promptTokenCount'). */
export function at(value: unknown, ...path: Array<string | number>): unknown {
  let v = value;
  for (const p of path) {
    if (typeof v !== 'object' || v === null) return undefined;
    v = Reflect.get(v, p);
  }
  return v;
}

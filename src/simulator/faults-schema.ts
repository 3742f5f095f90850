/**
 * Fault injection settings, settable at start (`faults` in the config) and at
 * runtime (POST /_sim/faults, SimulatorHandle.setFaults).
 *
 * { "rules": [
 *     { "model": "gemini-2.5-pro", "project": "proj-a",   // both optional: omitted = any
 *       "p503": 0.02, "p500": 0, "p429": 0, "pBadRequest": 0,
 *       "latencyMs": { "min": 20, "max": 80 },
 *       "stream": { "chunkChars": 4, "firstChunkDelayMs": 50, "chunkIntervalMs": 20 },
 *       "midStream": { "afterChunks": 2, "status": 503, "how": "error-event", "p": 1 },
 *       "forceStatus": "503-overloaded" } ] }
 *
 * Only the FIRST rule whose model/project match a call applies, so list the
 * specific rules before the general ones.
 * - p503 / p500: injected AFTER the limiter admitted the call, so the call
 *   counts toward RPM/TPM/RPD (Google bills capacity it already reserved).
 * - p429 (a 429 without details) and pBadRequest: injected BEFORE the limiter,
 *   and like every rejected call they do not count.
 * - forceStatus: always answer that kind for matching generation calls;
 *   5xx kinds count, 4xx kinds (429-spend-cap included) do not.
 * - stream: overrides the config's `stream` timing for matching calls.
 * - midStream: a streamed answer that was admitted (so it counts) sends
 *   `afterChunks` chunks (at most all but the last, so it never finishes) and
 *   then fails: "error-event" (default) sends one more SSE event
 *   `{"error":{code,message,status}}` and closes, as Google does when a model
 *   fails mid-answer; @google/genai turns that event into an ApiError with the
 *   event's code as `status`. "disconnect" destroys the connection instead,
 *   which the SDK surfaces as a plain network error ("terminated").
 *   `p` (default 1) is the probability per matching streamed call.
 */
import { z } from 'zod';
import { ValidationError } from '../errors.js';

export const FAULT_KINDS = [
  '429-per-minute',
  '429-per-day',
  '429-no-details',
  '429-spend-cap',
  '503-overloaded',
  '503-high-demand',
  '500-internal',
  '400-api-key-invalid',
  '400-bad-request',
  '403-key-leaked',
  '404-model-not-found',
] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];

const probability = z.number().min(0).max(1);
const nonNegativeInt = z.number().int().nonnegative();

export const latencyRangeSchema = z
  .strictObject({ min: nonNegativeInt, max: nonNegativeInt })
  .refine((l) => l.min <= l.max, { message: 'min must be <= max' });

export const streamOverrideSchema = z.strictObject({
  chunkChars: z.number().int().positive().optional(),
  firstChunkDelayMs: nonNegativeInt.optional(),
  chunkIntervalMs: nonNegativeInt.optional(),
});

const midStreamSchema = z.strictObject({
  afterChunks: nonNegativeInt,
  status: z.union([z.literal(503), z.literal(500)]).default(503),
  how: z.enum(['error-event', 'disconnect']).default('error-event'),
  p: probability.default(1),
});

const faultRuleSchema = z.strictObject({
  model: z.string().min(1).optional(),
  project: z.string().min(1).optional(),
  p503: probability.optional(),
  p500: probability.optional(),
  p429: probability.optional(),
  pBadRequest: probability.optional(),
  latencyMs: latencyRangeSchema.optional(),
  stream: streamOverrideSchema.optional(),
  midStream: midStreamSchema.optional(),
  forceStatus: z.enum(FAULT_KINDS).optional(),
});

export const faultConfigSchema = z.strictObject({ rules: z.array(faultRuleSchema).default([]) });

export type FaultRule = z.infer<typeof faultRuleSchema>;
export type MidStreamFault = z.infer<typeof midStreamSchema>;
export type StreamOverride = z.infer<typeof streamOverrideSchema>;
export type FaultConfig = z.infer<typeof faultConfigSchema>;
/** What callers may pass (defaults not yet filled in). */
export type FaultConfigInput = z.input<typeof faultConfigSchema>;

export function parseFaultConfig(doc: unknown): FaultConfig {
  const parsed = faultConfigSchema.safeParse(doc);
  if (parsed.success) return parsed.data;
  throw new ValidationError('invalid fault config', formatIssues(parsed.error.issues));
}

/** Zod path + message, e.g. `projects.0.keys.1.secret: Too small ...`. */
export function formatIssues(issues: readonly z.core.$ZodIssue[]): string[] {
  return issues.map((i) => `${i.path.length ? i.path.map(String).join('.') : '(root)'}: ${i.message}`);
}

/** The rule that governs a call: the first one matching model and project. */
export function matchFaultRule(faults: FaultConfig, model: string, project: string): FaultRule | undefined {
  for (const rule of faults.rules) {
    if ((rule.model === undefined || rule.model === model) && (rule.project === undefined || rule.project === project)) {
      return rule;
    }
  }
  return undefined;
}

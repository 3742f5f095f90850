/**
 * Fault injection settings, settable at start (`faults` in the config) and at
 * runtime (POST /_sim/faults, SimulatorHandle.setFaults).
 *
 * { "rules": [
 *     { "model": "gemini-2.5-pro", "project": "proj-a",   // both optional: omitted = any
 *       "p503": 0.02, "p500": 0, "p429": 0, "pBadRequest": 0,
 *       "latencyMs": { "min": 20, "max": 80 },
 *       "forceStatus": "503-overloaded" } ] }
 *
 * Only the FIRST rule whose model/project match a call applies, so list the
 * specific rules before the general ones.
 * - p503 / p500: injected AFTER the limiter admitted the call, so the call
 *   counts toward RPM/TPM/RPD (Google bills capacity it already reserved).
 * - p429 (a 429 without details) and pBadRequest: injected BEFORE the limiter,
 *   and like every rejected call they do not count.
 * - forceStatus: always answer that kind for matching generation calls;
 *   5xx kinds count, 4xx kinds do not.
 */
import { z } from 'zod';
import { ValidationError } from '../errors.js';

export const FAULT_KINDS = [
  '429-per-minute',
  '429-per-day',
  '429-no-details',
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

const faultRuleSchema = z.strictObject({
  model: z.string().min(1).optional(),
  project: z.string().min(1).optional(),
  p503: probability.optional(),
  p500: probability.optional(),
  p429: probability.optional(),
  pBadRequest: probability.optional(),
  latencyMs: z
    .strictObject({ min: z.number().int().nonnegative(), max: z.number().int().nonnegative() })
    .refine((l) => l.min <= l.max, { message: 'min must be <= max' })
    .optional(),
  forceStatus: z.enum(FAULT_KINDS).optional(),
});

export const faultConfigSchema = z.strictObject({ rules: z.array(faultRuleSchema).default([]) });

export type FaultRule = z.infer<typeof faultRuleSchema>;
export type FaultConfig = z.infer<typeof faultConfigSchema>;

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

/**
 * Configuration of the Gemini stand-in (`quotaflow simulate --config FILE`).
 *
 * Format (JSON; every field except `projects` and `models` is optional):
 * {
 *   "projects": [                       // Google Cloud projects = quota groups
 *     { "id": "proj-a",
 *       "tier": "free",                 // free | tier1 | tier2 | tier3 (default free)
 *       "keys": [ { "secret": "k-acme-1", "label": "acme-1" } ],   // label defaults to "<project>#<index>"
 *       "limits": { "gemini-2.5-pro": { "rpm": 2 } } }             // partial per-model overrides
 *   ],
 *   "models": {                         // the models that exist, with default limits
 *     "gemini-2.5-pro": { "rpm": 5, "tpm": 250000, "rpd": 100 }
 *   },
 *   "dayLengthMs": null,                // null: RPD resets at Pacific midnight; N: day = floor(now / N)
 *   "latencyMs": { "min": 0, "max": 0 },// added to every answer unless a fault rule overrides it
 *   "faults": { "rules": [ ... ] },     // see FaultRule in faults-schema.ts
 *   "seed": 1,                          // seeds the PRNG behind every random choice
 *   "maxCallLog": 100000,               // calls kept in the stats log; totals keep counting beyond it
 *   "invalidKeys": ["k-bad"],           // answer 400 API_KEY_INVALID
 *   "forbiddenKeys": ["k-leaked"]       // answer 403 PERMISSION_DENIED (leaked key)
 * }
 * Limits apply per (project, model): two keys of one project share one quota.
 * A key that appears nowhere answers 400 API_KEY_INVALID, like Google.
 */
import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import { ValidationError, errorMessage } from '../errors.js';
import { faultConfigSchema, formatIssues, type FaultConfig } from './faults-schema.js';

const positiveInt = z.number().int().positive();

const modelLimitsSchema = z.strictObject({ rpm: positiveInt, tpm: positiveInt, rpd: positiveInt });
const limitOverrideSchema = modelLimitsSchema.partial();

const keySchema = z.strictObject({
  secret: z.string().min(1),
  label: z.string().min(1).optional(),
});

const projectSchema = z.strictObject({
  id: z.string().min(1),
  tier: z.enum(['free', 'tier1', 'tier2', 'tier3']).default('free'),
  keys: z.array(keySchema).default([]),
  limits: z.record(z.string(), limitOverrideSchema).default({}),
});

const latencySchema = z
  .strictObject({ min: z.number().int().nonnegative(), max: z.number().int().nonnegative() })
  .refine((l) => l.min <= l.max, { message: 'min must be <= max' });

const configSchema = z.strictObject({
  projects: z.array(projectSchema),
  models: z.record(z.string().min(1), modelLimitsSchema),
  dayLengthMs: z.number().int().positive().nullable().default(null),
  latencyMs: latencySchema.default({ min: 0, max: 0 }),
  faults: faultConfigSchema.default({ rules: [] }),
  seed: z.number().int().default(1),
  maxCallLog: z.number().int().nonnegative().default(100_000),
  invalidKeys: z.array(z.string().min(1)).default([]),
  forbiddenKeys: z.array(z.string().min(1)).default([]),
});

export type ModelLimits = z.infer<typeof modelLimitsSchema>;
export type Tier = z.infer<typeof projectSchema>['tier'];
export type SimulatorConfig = z.infer<typeof configSchema>;
export type { FaultConfig };

/** Checks zod cannot express per field: uniqueness and references between fields. */
function crossCheck(cfg: SimulatorConfig): string[] {
  const issues: string[] = [];
  const projectIds = new Set<string>();
  const secrets = new Set<string>();
  const labels = new Set<string>();
  cfg.projects.forEach((p, pi) => {
    if (projectIds.has(p.id)) issues.push(`projects.${pi}.id: duplicate project id "${p.id}"`);
    projectIds.add(p.id);
    p.keys.forEach((k, ki) => {
      // Never echo a secret back, even in a validation error.
      if (secrets.has(k.secret)) issues.push(`projects.${pi}.keys.${ki}.secret: same secret used by another key`);
      secrets.add(k.secret);
      const label = k.label ?? `${p.id}#${ki}`;
      if (labels.has(label)) issues.push(`projects.${pi}.keys.${ki}.label: duplicate label "${label}"`);
      labels.add(label);
    });
    for (const model of Object.keys(p.limits)) {
      if (!(model in cfg.models)) issues.push(`projects.${pi}.limits.${model}: unknown model (not in "models")`);
    }
  });
  return issues;
}

/** Validates a parsed JSON document; throws ValidationError listing every problem. */
export function parseSimulatorConfig(doc: unknown): SimulatorConfig {
  const parsed = configSchema.safeParse(doc);
  if (!parsed.success) throw new ValidationError('invalid simulator config', formatIssues(parsed.error.issues));
  const issues = crossCheck(parsed.data);
  if (issues.length) throw new ValidationError('invalid simulator config', issues);
  return parsed.data;
}

export async function loadSimulatorConfigFile(path: string): Promise<SimulatorConfig> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new ValidationError(`cannot read simulator config ${path}: ${errorMessage(err)}`);
  }
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    throw new ValidationError(`simulator config ${path} is not valid JSON: ${errorMessage(err)}`);
  }
  return parseSimulatorConfig(doc);
}

/**
 * Configuration of the Gemini stand-in: `quotaflow simulate --config FILE`, or
 * `--fleet FLEET.json [--config OVERLAY.json]` (see fleet-source.ts).
 *
 * Format (JSON; every field except `projects` and `models` is optional):
 * {
 *   "projects": [                       // Google Cloud projects = quota groups
 *     { "id": "proj-a",
 *       "tier": "free",                 // free | tier1 | tier2 | tier3 (default free)
 *       "keys": [ { "secret": "k-acme-1", "label": "acme-1" } ],   // label defaults to "<project>#<index>"
 *       "limits": { "gemini-2.5-pro": { "rpm": 2 } },              // partial per-model overrides; 0 = no quota
 *       "quotaValueInErrors": false }   // optional: overrides the top-level setting for this project
 *   ],
 *   "models": {                         // the models that exist, with default limits (each >= 1)
 *     "gemini-2.5-pro": { "rpm": 5, "tpm": 250000, "rpd": 100 }
 *   },
 *   "dayLengthMs": null,                // null: RPD resets at Pacific midnight; N: day = floor(now / N)
 *   "windowMs": 60000,                  // length of the sliding RPM/TPM window (short in tests)
 *   "latencyMs": { "min": 0, "max": 0 },// added to every answer unless a fault rule overrides it
 *   "stream": {                         // how streamGenerateContent sends an answer
 *     "chunkChars": 12,                 //   answer characters per chunk (function calls: one chunk)
 *     "firstChunkDelayMs": 0,           //   after the headers (which follow latencyMs), before chunk 1
 *     "chunkIntervalMs": 0 },           //   between chunks; 0 writes the rest back to back
 *   "faults": { "rules": [              // the first rule matching (model, project) applies
 *     { "model": "m", "project": "p",   //   both optional
 *       "p503": 0, "p500": 0,           //   after admission: the call counts
 *       "p429": 0, "pBadRequest": 0,    //   before admission: the call does not count
 *       "latencyMs": { "min": 0, "max": 0 },
 *       "stream": { "chunkChars": 4 },  //   partial override of "stream"
 *       "midStream": { "afterChunks": 2, "status": 503, "how": "error-event", "p": 1 },
 *       "forceStatus": "429-spend-cap" } ] },  // kinds: FAULT_KINDS in faults-schema.ts
 *   "seed": 1,                          // seeds the PRNG behind every random choice
 *   "maxCallLog": 100000,               // calls kept in the call log; totals keep counting beyond it
 *   "recordBodies": false,              // keep each generation call's parsed body in the call log
 *   "quotaValueInErrors": true,         // false: 429 bodies name no limit (no quotaValue, no "limit: N")
 *   "echoKeyInErrors": false,           // true: every error message ends with the key the call used
 *   "invalidKeys": ["k-bad"],           // answer 400 API_KEY_INVALID
 *   "forbiddenKeys": ["k-leaked"]       // answer 403 PERMISSION_DENIED (leaked key)
 * }
 * Limits apply per (project, model): two keys of one project share one quota.
 * A key that appears nowhere answers 400 API_KEY_INVALID, like Google.
 * Limits can change at runtime: POST /_sim/limits, SimulatorHandle.setLimits.
 *
 * Requests: text, inlineData, fileData, functionCall/functionResponse parts
 * (with thoughtSignature), tools, toolConfig, safetySettings, labels,
 * cachedContent and generationConfig are accepted; the token rule is in
 * prompt-tokens.ts and the answers in answers.ts.
 */
import { readFile } from 'node:fs/promises';
import { ValidationError, errorMessage } from '../errors.js';
import { configSchema, overlaySchema, type Overlay, type SimulatorConfig } from './config-schema.js';
import { formatIssues, type FaultConfig } from './faults-schema.js';

export type { ModelLimits, LimitOverride, Tier, SimulatorConfig, StreamSettings, Overlay } from './config-schema.js';
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

/** Validates an overlay (`--config` next to `--fleet`); throws ValidationError listing every problem. */
export function parseOverlay(doc: unknown): Overlay {
  const parsed = overlaySchema.safeParse(doc);
  if (!parsed.success) throw new ValidationError('invalid simulator config overlay', formatIssues(parsed.error.issues));
  return parsed.data;
}

/** Reads and parses a JSON file; `what` names it in errors ("simulator config", "fleet file"). */
export async function readJsonFile(path: string, what: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new ValidationError(`cannot read ${what} ${path}: ${errorMessage(err)}`);
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw new ValidationError(`${what} ${path} is not valid JSON: ${errorMessage(err)}`);
  }
}

export async function loadSimulatorConfigFile(path: string): Promise<SimulatorConfig> {
  return parseSimulatorConfig(await readJsonFile(path, 'simulator config'));
}

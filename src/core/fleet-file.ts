import { z } from 'zod';
import { ValidationError } from '../errors.js';
import { catalogModelIds, crossProblems, forbiddenKeyProblems, FORBIDDEN_KEYS, sizeProblems, unknownModelWarnings } from './fleet-checks.js';
import { findJsonSyntaxError } from './fleet-json.js';
import { catalogSectionSchema, type CatalogDoc } from './catalog.js';
import { DIMENSIONS, KEY_MODES, TENANT_LIMITS, TIERS, type Dimension, type KeyMode, type Limits, type TenantSettings, type Tier } from './types.js';

/**
 * The fleet file: the declarative description of models, projects, tenants
 * and keys that `quotaflow apply` makes true. Parsing is pure; secrets and
 * tokens given by `secretEnv` / `tokenEnv` are resolved by the caller.
 */
export const ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.:@-]{0,127}$/;
export const MODEL_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$/;
/** Largest fleet file read, in characters. */
export const MAX_FLEET_TEXT = 64 * 1024 * 1024;
/** Problems listed in one error at most; the rest are counted. */
const MAX_LISTED = 100;

const id = z.string().regex(ID_PATTERN, 'ids are 1-128 characters: letters, digits and _ . : @ - (not first)');
const model = z.string().regex(MODEL_PATTERN, 'model ids are letters, digits and _ . -');
const envName = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'must be an environment variable name');
const limitValue = z.number().int('must be a whole number').nonnegative('must not be negative');
// one optional whole number per limit dimension: a new dimension needs no change here
const limits = z.strictObject(Object.fromEntries(DIMENSIONS.map((d) => [d, limitValue.optional()])) as Record<Dimension, z.ZodOptional<typeof limitValue>>);
const tenantLimits = z.strictObject(Object.fromEntries(TENANT_LIMITS.map((d) => [d, limitValue.optional()])) as Record<(typeof TENANT_LIMITS)[number], z.ZodOptional<typeof limitValue>>);
const budget = z.strictObject({
  monthly: z.number().nonnegative('must not be negative').max(1e9),
  currency: z.literal('USD', 'prices are in USD: the only currency is "USD"').default('USD'),
});

const fileSchema = z.strictObject({
  models: z.array(model).min(1, 'name at least one model (the default chain, best first)'),
  projects: z.array(z.strictObject({ id, tier: z.enum(TIERS).default('free'), limits: z.record(model, limits).default({}) })).default([]),
  tenants: z
    .array(
      z.strictObject({
        id,
        keyMode: z.enum(KEY_MODES).default('own-then-central'),
        models: z.array(model).min(1).optional(),
        token: z.string().min(1).optional(),
        tokenEnv: envName.optional(),
        weight: z.number().min(0.01, 'must be at least 0.01').max(100, 'must be at most 100').default(1),
        limits: tenantLimits.default({}),
        budget: budget.optional(),
        pinModel: z.boolean().default(false),
      }),
    )
    .default([]),
  keys: z
    .array(
      z.strictObject({
        id,
        tenant: id.nullable().default(null),
        project: id.optional(),
        secret: z.string().min(1).optional(),
        secretEnv: envName.optional(),
        priority: z.number().int().min(0).max(1000).default(1),
        enabled: z.boolean().default(true),
      }),
    )
    .default([]),
  /** overrides of the model catalog (limits per tier, prices, aliases): docs/catalog.md */
  catalog: catalogSectionSchema.optional(),
});

/** A value given in the file, or the name of the environment variable holding it. */
export type SecretRef = { value: string } | { env: string };

export interface FleetSpec {
  models: string[];
  projects: Array<{ id: string; tier: Tier; limits: Record<string, Partial<Limits>> }>;
  tenants: Array<{ id: string; keyMode: KeyMode; models: string[] | null; token: SecretRef | null; settings: TenantSettings }>;
  keys: Array<{
    id: string;
    tenant: string | null;
    /** a key whose project is unknown is its own project: `key:<id>` */
    project: string;
    secret: SecretRef;
    priority: number;
    enabled: boolean;
  }>;
  /** the fleet's catalog layer; null when the file has none */
  catalog: CatalogDoc | null;
}

/** A valid fleet and what looks wrong in it without being an error (e.g. a model nobody knows). */
export interface CheckedFleet {
  spec: FleetSpec;
  warnings: string[];
}

/** Parses and cross-checks a fleet document in one pass; throws ValidationError listing every problem. */
export function checkFleet(doc: unknown): CheckedFleet {
  const tooBig = sizeProblems(doc);
  if (tooBig.length) throw invalid([...tooBig, 'the file was not checked further']);
  const parsed = fileSchema.safeParse(doc);
  const schemaProblems = parsed.success ? [] : parsed.error.issues.filter((i) => !aboutForbiddenKey(i)).map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`);
  const problems = [...forbiddenKeyProblems(doc), ...schemaProblems, ...crossProblems(doc)];
  if (problems.length || !parsed.success) throw invalid(problems);
  const f = parsed.data;
  const spec: FleetSpec = {
    models: f.models,
    projects: f.projects.map((p) => ({ id: p.id, tier: p.tier, limits: p.limits })),
    tenants: f.tenants.map((t) => ({
      id: t.id,
      keyMode: t.keyMode,
      models: t.models ?? null,
      token: t.token !== undefined ? { value: t.token } : t.tokenEnv !== undefined ? { env: t.tokenEnv } : null,
      settings: { weight: t.weight, limits: t.limits, budget: t.budget ?? null, pinModel: t.pinModel },
    })),
    keys: f.keys.map((k) => ({
      id: k.id,
      tenant: k.tenant,
      project: k.project ?? `key:${k.id}`,
      secret: k.secret !== undefined ? { value: k.secret } : { env: k.secretEnv ?? '' },
      priority: k.priority,
      enabled: k.enabled,
    })),
    catalog: f.catalog ?? null,
  };
  return { spec, warnings: unknownModelWarnings(spec, catalogModelIds()) };
}

/** checkFleet without the warnings. */
export function parseFleet(doc: unknown): FleetSpec {
  return checkFleet(doc).spec;
}

/** Parses fleet file text (JSON); a syntax error names line and column, never the file's content. */
export function checkFleetText(text: string): CheckedFleet {
  if (text.length > MAX_FLEET_TEXT) throw new ValidationError(`fleet file is larger than ${MAX_FLEET_TEXT / 1024 / 1024} MiB`);
  const body = text.startsWith('\uFEFF') ? text.slice(1) : text;
  let doc: unknown;
  try {
    doc = JSON.parse(body);
  } catch {
    const where = findJsonSyntaxError(body);
    throw new ValidationError(where ? `fleet file is not valid JSON: line ${where.line}, column ${where.column}: ${where.problem}` : 'fleet file is not valid JSON');
  }
  return checkFleet(doc);
}

/** checkFleetText without the warnings. */
export function parseFleetText(text: string): FleetSpec {
  return checkFleetText(text).spec;
}

function aboutForbiddenKey(issue: z.core.$ZodIssue): boolean {
  if (issue.path.some((p) => typeof p === 'string' && FORBIDDEN_KEYS.includes(p))) return true;
  return issue.code === 'unrecognized_keys' && issue.keys.every((k) => FORBIDDEN_KEYS.includes(k));
}

function invalid(problems: string[]): ValidationError {
  const listed = problems.length > MAX_LISTED ? [...problems.slice(0, MAX_LISTED), `… and ${problems.length - MAX_LISTED} more problems`] : problems;
  return new ValidationError(`invalid fleet file (${problems.length} problem${problems.length === 1 ? '' : 's'})`, listed);
}

import { z } from 'zod';
import { ValidationError } from '../errors.js';
import { KEY_MODES, TIERS, type KeyMode, type Limits, type Tier } from './types.js';

/**
 * The fleet file: the declarative description of models, projects, tenants
 * and keys that `quotaflow apply` makes true. Parsing is pure; secrets given
 * by `secretEnv` are resolved by the caller.
 */
export const ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.:@-]{0,127}$/;
export const MODEL_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$/;

const id = z.string().regex(ID_PATTERN, 'ids are 1-128 characters: letters, digits and _ . : @ - (not first)');
const model = z.string().regex(MODEL_PATTERN, 'model ids are letters, digits and _ . -');
const limitValue = z.number().int('must be a whole number').nonnegative('must not be negative');
const limits = z.strictObject({ rpm: limitValue.optional(), tpm: limitValue.optional(), rpd: limitValue.optional() });

const fileSchema = z.strictObject({
  models: z.array(model).min(1, 'name at least one model (the default chain, best first)'),
  projects: z
    .array(
      z.strictObject({
        id,
        tier: z.enum(TIERS).default('free'),
        limits: z.record(model, limits).default({}),
      }),
    )
    .default([]),
  tenants: z
    .array(
      z.strictObject({
        id,
        keyMode: z.enum(KEY_MODES).default('own-then-central'),
        models: z.array(model).min(1).optional(),
        token: z.string().min(16, 'tenant tokens are at least 16 characters').optional(),
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
        secretEnv: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'must be an environment variable name').optional(),
        priority: z.number().int().min(0).max(1000).default(1),
        enabled: z.boolean().default(true),
      }),
    )
    .default([]),
});

export interface FleetSpec {
  models: string[];
  projects: Array<{ id: string; tier: Tier; limits: Record<string, Partial<Limits>> }>;
  tenants: Array<{ id: string; keyMode: KeyMode; models: string[] | null; token: string | null }>;
  keys: Array<{
    id: string;
    tenant: string | null;
    /** a key whose project is unknown is its own project: `key:<id>` */
    project: string;
    secret: { value: string } | { env: string };
    priority: number;
    enabled: boolean;
  }>;
}

/** Parses and cross-checks a fleet document; throws ValidationError listing every problem. */
export function parseFleet(doc: unknown): FleetSpec {
  const parsed = fileSchema.safeParse(doc);
  if (!parsed.success) {
    throw new ValidationError(
      'invalid fleet file',
      parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`),
    );
  }
  const f = parsed.data;
  const problems: string[] = [];
  const dupes = (kind: string, ids: string[]): void => {
    const seen = new Set<string>();
    for (const x of ids) {
      if (seen.has(x)) problems.push(`${kind}: duplicate id "${x}"`);
      seen.add(x);
    }
  };
  dupes('models', f.models);
  dupes('projects', f.projects.map((p) => p.id));
  dupes('tenants', f.tenants.map((t) => t.id));
  dupes('keys', f.keys.map((k) => k.id));

  const models = new Set(f.models);
  const projects = new Set(f.projects.map((p) => p.id));
  const tenants = new Set(f.tenants.map((t) => t.id));
  f.projects.forEach((p, i) => {
    for (const m of Object.keys(p.limits)) {
      if (!models.has(m)) problems.push(`projects.${i}.limits: model "${m}" is not in "models"`);
    }
  });
  f.tenants.forEach((t, i) => {
    for (const m of t.models ?? []) {
      if (!models.has(m)) problems.push(`tenants.${i}.models: model "${m}" is not in "models"`);
    }
  });
  const secrets = new Map<string, string>();
  f.keys.forEach((k, i) => {
    if (k.tenant !== null && !tenants.has(k.tenant)) problems.push(`keys.${i}: unknown tenant "${k.tenant}"`);
    if (k.project !== undefined && !projects.has(k.project)) problems.push(`keys.${i}: unknown project "${k.project}"`);
    if ((k.secret === undefined) === (k.secretEnv === undefined)) {
      problems.push(`keys.${i}: give exactly one of "secret" or "secretEnv"`);
    }
    const ref = k.secret !== undefined ? `value:${k.secret}` : `env:${k.secretEnv ?? ''}`;
    const other = secrets.get(ref);
    if (other !== undefined) problems.push(`keys.${i}: same secret as key "${other}" (a key belongs to one tenant)`);
    secrets.set(ref, k.id);
  });
  if (problems.length) throw new ValidationError('invalid fleet file', problems);

  return {
    models: f.models,
    projects: f.projects.map((p) => ({ id: p.id, tier: p.tier, limits: p.limits as Record<string, Partial<Limits>> })),
    tenants: f.tenants.map((t) => ({ id: t.id, keyMode: t.keyMode, models: t.models ?? null, token: t.token ?? null })),
    keys: f.keys.map((k) => ({
      id: k.id,
      tenant: k.tenant,
      project: k.project ?? `key:${k.id}`,
      secret: k.secret !== undefined ? { value: k.secret } : { env: k.secretEnv ?? '' },
      priority: k.priority,
      enabled: k.enabled,
    })),
  };
}

/** Parses fleet file text (JSON). */
export function parseFleetText(text: string): FleetSpec {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    throw new ValidationError(`fleet file is not valid JSON: ${err instanceof Error ? err.message : String(err)}`);
  }
  return parseFleet(doc);
}

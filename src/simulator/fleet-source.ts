/**
 * The stand-in's config derived from a quotaflow fleet file, so each key is
 * written once (`quotaflow simulate --fleet FLEET.json [--config OVERLAY]`):
 * - projects: the fleet's projects (id, tier), plus every project a key names
 *   without declaring it (tier free), plus `key:<id>` for a key without a
 *   project (its own quota group, as quotaflow treats it);
 * - keys: `secret`, or the environment variable named by `secretEnv`,
 *   labelled by the key's id;
 * - models: the fleet's `models`, every tenant chain, every model a project's
 *   limits name, and the overlay's models;
 * - limits per (project, model): quotaflow's catalog for the project's tier,
 *   overridden by the fleet project's `limits`, then by the overlay's
 *   `models`, then by the overlay project's `limits` (per dimension);
 * - the overlay's other settings (latency, faults, stream, ...) as given.
 * Only the fields above are read, loosely, so the fleet format can grow.
 */
import { z } from 'zod';
import { resolveLimits } from '../core/catalog.js';
import { ValidationError } from '../errors.js';
import { parseSimulatorConfig, type LimitOverride, type ModelLimits, type Overlay, type SimulatorConfig, type Tier } from './config.js';
import { TIER_NAMES } from './config-schema.js';
import { formatIssues } from './faults-schema.js';

const modelRef = z.union([z.string().min(1), z.looseObject({ id: z.string().min(1) })]);
const limitValue = z.number().int().nonnegative();
const limitsSchema = z.looseObject({ rpm: limitValue.optional(), tpm: limitValue.optional(), rpd: limitValue.optional() });

const fleetSchema = z.looseObject({
  models: z.array(modelRef).default([]),
  projects: z
    .array(z.looseObject({ id: z.string().min(1), tier: z.enum(TIER_NAMES).nullish(), limits: z.record(z.string(), limitsSchema).nullish() }))
    .default([]),
  tenants: z.array(z.looseObject({ models: z.array(modelRef).nullish() })).default([]),
  keys: z
    .array(
      z.looseObject({
        id: z.string().min(1),
        project: z.string().min(1).nullish(),
        secret: z.string().min(1).nullish(),
        secretEnv: z.string().min(1).nullish(),
      }),
    )
    .default([]),
});

type Fleet = z.infer<typeof fleetSchema>;
export type EnvLookup = (name: string) => string | undefined;

interface ProjectDraft {
  tier: Tier;
  keys: Array<{ secret: string; label: string }>;
  fleetLimits: Record<string, LimitOverride>;
}

const modelId = (m: z.infer<typeof modelRef>): string => (typeof m === 'string' ? m : m.id);

function modelsOf(fleet: Fleet, overlay: Overlay): string[] {
  const all = [
    ...fleet.models.map(modelId),
    ...fleet.tenants.flatMap((t) => (t.models ?? []).map(modelId)),
    ...fleet.projects.flatMap((p) => Object.keys(p.limits ?? {})),
    ...Object.keys(overlay.models ?? {}),
  ];
  return [...new Set(all)];
}

/** Projects with their keys; secrets resolved, every problem listed (never a secret's value). */
function projectsOf(fleet: Fleet, env: EnvLookup, problems: string[]): Map<string, ProjectDraft> {
  const projects = new Map<string, ProjectDraft>();
  for (const p of fleet.projects) projects.set(p.id, { tier: p.tier ?? 'free', keys: [], fleetLimits: p.limits ?? {} });
  const owners = new Map<string, string>();
  fleet.keys.forEach((k, i) => {
    const where = `keys.${i} ("${k.id}")`;
    const given = (k.secret ? 1 : 0) + (k.secretEnv ? 1 : 0);
    if (given !== 1) return void problems.push(`${where}: give exactly one of "secret" or "secretEnv"`);
    const secret = k.secret ?? env(k.secretEnv ?? '');
    if (!secret) return void problems.push(`${where}: environment variable ${k.secretEnv ?? ''} is not set or empty`);
    const other = owners.get(secret);
    if (other !== undefined) return void problems.push(`${where}: same secret as key "${other}"`);
    owners.set(secret, k.id);
    const id = k.project ?? `key:${k.id}`;
    const project = projects.get(id) ?? { tier: 'free', keys: [], fleetLimits: {} };
    project.keys.push({ secret, label: k.id });
    projects.set(id, project);
  });
  return projects;
}

function limitsFor(tier: Tier, model: string, configured: LimitOverride): ModelLimits {
  const { rpm, tpm, rpd } = resolveLimits({ tier, model, configured });
  return { rpm, tpm, rpd };
}

/** The config document: fleet projects merged with the overlay's, limits resolved per project. */
function configDocument(fleet: Fleet, overlay: Overlay, env: EnvLookup, problems: string[]): Record<string, unknown> {
  const drafts = projectsOf(fleet, env, problems);
  const models = modelsOf(fleet, overlay);
  if (models.length === 0) problems.push('models: the fleet names no model (give "models" or tenant chains)');
  if (drafts.size === 0) problems.push('the fleet names no project and no key: the stand-in would serve nobody');
  const extra = new Map((overlay.projects ?? []).map((p) => [p.id, p]));
  (overlay.projects ?? []).forEach((p, i) => {
    for (const m of Object.keys(p.limits ?? {})) if (!models.includes(m)) problems.push(`overlay projects.${i}.limits.${m}: unknown model (not in the fleet or the overlay's "models")`);
  });
  const projects = [...new Set([...drafts.keys(), ...extra.keys()])].map((id) => {
    const draft = drafts.get(id);
    const over = extra.get(id);
    const tier = over?.tier ?? draft?.tier ?? 'free';
    const limits = Object.fromEntries(
      models.map((m) => [m, limitsFor(tier, m, { ...draft?.fleetLimits[m], ...overlay.models?.[m], ...over?.limits?.[m] })]),
    );
    const project: Record<string, unknown> = { id, tier, keys: [...(draft?.keys ?? []), ...(over?.keys ?? [])], limits };
    if (over?.quotaValueInErrors !== undefined) project['quotaValueInErrors'] = over.quotaValueInErrors;
    return project;
  });
  // Every project carries all its limits; the defaults only list the models (and must be >= 1).
  const defaults = Object.fromEntries(
    models.map((m) => {
      const l = limitsFor('free', m, overlay.models?.[m] ?? {});
      return [m, { rpm: Math.max(1, l.rpm), tpm: Math.max(1, l.tpm), rpd: Math.max(1, l.rpd) }];
    }),
  );
  const { projects: _p, models: _m, ...settings } = overlay;
  return { ...settings, projects, models: defaults };
}

/** Builds the stand-in config from a parsed fleet document and overlay; throws ValidationError listing every problem. */
export function simulatorConfigFromFleet(fleetDoc: unknown, overlay: Overlay, env: EnvLookup): SimulatorConfig {
  const parsed = fleetSchema.safeParse(fleetDoc);
  if (!parsed.success) throw new ValidationError('invalid fleet file for the stand-in', formatIssues(parsed.error.issues));
  const problems: string[] = [];
  const doc = configDocument(parsed.data, overlay, env, problems);
  if (problems.length) throw new ValidationError('invalid fleet file for the stand-in', problems);
  return parseSimulatorConfig(doc);
}

/**
 * A benchmark scenario: one JSON document describing the fleet, the
 * stand-in's limits and faults, the workload, the workers and the day length.
 * The format is documented in bench/README.md; this is its only parser.
 */
import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { z } from 'zod';

const limits = z.strictObject({ rpm: z.number().int().positive(), tpm: z.number().int().positive(), rpd: z.number().int().positive() });
const limitTable = z.record(z.string(), limits);
const keyMode = z.enum(['own-then-central', 'central-only', 'own-only']);

const arrival = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('burst') }),
  z.strictObject({ kind: z.literal('uniform'), durationMs: z.number().int().positive() }),
  z.strictObject({ kind: z.literal('poisson'), ratePerSec: z.number().positive() }),
]);

const faultRule = z.strictObject({
  model: z.string().optional(),
  project: z.string().optional(),
  p503: z.number().min(0).max(1).optional(),
  p500: z.number().min(0).max(1).optional(),
  p429: z.number().min(0).max(1).optional(),
  latencyMs: z.strictObject({ min: z.number().int().nonnegative(), max: z.number().int().nonnegative() }).optional(),
});

export const scenarioSchema = z.strictObject({
  name: z.string().regex(/^[a-z0-9-]{1,60}$/),
  description: z.string().default(''),
  /** model chain, best first */
  models: z.array(z.string()).min(1),
  /** limits of a model in every project unless the project overrides it */
  defaultLimits: limitTable,
  /** project id -> per-model limits overriding defaultLimits (what BOTH quotaflow and the stand-in get) */
  projects: z.record(z.string(), limitTable),
  /** project id -> limits only the stand-in enforces (a mismatch on purpose); default none */
  standInOnlyLimits: z.record(z.string(), limitTable).default({}),
  tenants: z.array(z.strictObject({ id: z.string(), keyMode: keyMode.default('own-then-central'), models: z.array(z.string()).optional() })).default([]),
  /** `count` extra tenants named `<prefix><i>` (many-tenant scenarios) */
  generatedTenants: z.strictObject({ prefix: z.string(), count: z.number().int().positive(), keyMode: keyMode.default('central-only') }).optional(),
  keys: z.array(z.strictObject({ id: z.string(), tenant: z.string().nullable().default(null), project: z.string(), priority: z.number().int().min(0).default(1) })).min(1),
  standIn: z
    .strictObject({
      latencyMs: z.strictObject({ min: z.number().int().nonnegative(), max: z.number().int().nonnegative() }).default({ min: 0, max: 0 }),
      faults: z.array(faultRule).default([]),
      seed: z.number().int().default(1),
    })
    .default({ latencyMs: { min: 0, max: 0 }, faults: [], seed: 1 }),
  workload: z.strictObject({
    messages: z.number().int().positive(),
    arrival,
    /** tenant ids that send (round robin); default every tenant */
    tenants: z.array(z.string()).optional(),
    promptChars: z.number().int().positive().default(400),
    deadlineMs: z.number().int().positive().default(60_000),
  }),
  workers: z.strictObject({ count: z.number().int().positive().default(1), concurrency: z.number().int().positive().default(16) }).default({ count: 1, concurrency: 16 }),
  /** length of the simulated quota day (quotaflow and the stand-in alike) */
  dayLengthMs: z.number().int().min(1000).default(3_600_000),
  /** how long a breaker stays open (QUOTAFLOW_BREAKER_OPEN_MS); also the window that excuses a failing model in the violation count */
  breakerOpenMs: z.number().int().min(100).default(10_000),
  /** the run stops here; whatever has not finished by then is lost */
  maxRunMs: z.number().int().positive().default(40_000),
});

export type Scenario = z.infer<typeof scenarioSchema>;
export type LimitTable = z.infer<typeof limitTable>;

export function parseScenario(doc: unknown, source = 'scenario'): Scenario {
  const parsed = scenarioSchema.safeParse(doc);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join('.') || '(root)'}: ${i.message}`);
    throw new Error(`invalid scenario ${source}:\n${lines.join('\n')}`);
  }
  const s = parsed.data;
  const problems: string[] = [];
  for (const m of s.models) if (!s.defaultLimits[m]) problems.push(`defaultLimits: missing model "${m}"`);
  for (const k of s.keys) if (!(k.project in s.projects)) problems.push(`keys.${k.id}: unknown project "${k.project}"`);
  if (problems.length) throw new Error(`invalid scenario ${source}:\n  ${problems.join('\n  ')}`);
  return s;
}

export async function loadScenario(path: string): Promise<Scenario> {
  const doc: unknown = JSON.parse(await readFile(path, 'utf8'));
  return parseScenario(doc, basename(path));
}

/** Every tenant of the scenario, generated ones included. */
export function allTenants(s: Scenario): Array<{ id: string; keyMode: z.infer<typeof keyMode>; models?: string[] }> {
  const gen = s.generatedTenants;
  const extra = gen ? Array.from({ length: gen.count }, (_, i) => ({ id: `${gen.prefix}${i}`, keyMode: gen.keyMode })) : [];
  return [...s.tenants, ...extra];
}

/** Limits of (project, model) as quotaflow is told (`fleet`) or as the stand-in enforces them (`standIn`). */
export function limitsOf(s: Scenario, project: string, model: string, view: 'fleet' | 'standIn'): { rpm: number; tpm: number; rpd: number } {
  const base = s.defaultLimits[model] ?? { rpm: 1, tpm: 1, rpd: 1 };
  const configured = s.projects[project]?.[model] ?? base;
  return view === 'standIn' ? (s.standInOnlyLimits[project]?.[model] ?? configured) : configured;
}

export const secretOf = (keyId: string): string => `sk-bench-${keyId}-0123456789abcdef`;

import { z } from 'zod';
import { ValidationError } from '../errors.js';
import { TIERS } from './types.js';

/**
 * The catalog document: models with their limits per tier, prices, lifecycle
 * dates and aliases, each number with a note saying where it came from. The
 * same shape serves the package catalog, the QUOTAFLOW_CATALOG override file
 * and the fleet file's `catalog` section; every part is optional so a layer
 * names only what it changes.
 */
export const MODEL_STATUSES = ['preview', 'stable', 'deprecated', 'shut-down'] as const;
export type ModelStatus = (typeof MODEL_STATUSES)[number];

/** Same alphabet as the fleet file's model ids: no "models/" prefix, no slashes. */
const CATALOG_MODEL_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$/;

const modelId = z.string().regex(CATALOG_MODEL_PATTERN, 'model ids are letters, digits and _ . - (write them without "models/")');
const note = z
  .string()
  .trim()
  .min(3, 'say where the numbers came from: a doc URL and date, or "estimate: <reasoning>"');

const isCalendarDate = (s: string): boolean => {
  const d = new Date(`${s}T00:00:00Z`);
  return !Number.isNaN(d.getTime()) && d.toISOString().slice(0, 10) === s;
};
const isoDate = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'dates are YYYY-MM-DD').refine(isCalendarDate, 'not a calendar date');

const limitValue = z.number().int('must be a whole number').nonnegative('must not be negative');
const limitsRow = z
  .strictObject({
    rpm: limitValue.optional(),
    tpm: limitValue.optional(),
    /** "unlimited": Google publishes no daily cap for some paid rows */
    rpd: z.union([limitValue, z.literal('unlimited')]).optional(),
    source: note,
  })
  .refine((r) => r.rpm !== undefined || r.tpm !== undefined || r.rpd !== undefined, 'give at least one of rpm, tpm, rpd');

/** Costs are computed in whole picodollars per token (USD per 1M × 1e6): more decimals cannot be represented. */
const hasAtMostSixDecimals = (v: number): boolean => Math.abs(v * 1e6 - Math.round(v * 1e6)) < 1e-6;
const usd = z
  .number()
  .nonnegative('prices must not be negative')
  .max(1_000_000, 'USD per 1M tokens, not per token')
  .refine(hasAtMostSixDecimals, 'USD per 1M tokens with at most 6 decimal places');

const longContext = z.strictObject({
  /** the higher prices apply to a call whose prompt has MORE than this many tokens */
  aboveTokens: z.number().int().positive(),
  input: usd,
  output: usd,
  cachedInput: usd.optional(),
});
const priceFields = { input: usd, output: usd, cachedInput: usd.optional(), longContext: longContext.optional() };
const priceChange = z.strictObject({ from: isoDate, ...priceFields, source: note });
const prices = z
  .strictObject({ ...priceFields, source: note, changes: z.array(priceChange).optional() })
  .refine((p) => (p.changes ?? []).every((c, i, all) => i === 0 || (all[i - 1]?.from ?? '') < c.from), {
    message: 'list price changes by "from" date, oldest first, one per date',
    path: ['changes'],
  });

const lifecycle = z.strictObject({
  status: z.enum(MODEL_STATUSES),
  released: isoDate.optional(),
  /** announced shutdown (Google: "earliest" date); after it the model answers 404 or is routed elsewhere */
  shutdown: isoDate.optional(),
  replacement: modelId.optional(),
  source: note,
});

const model = z.strictObject({
  lifecycle: lifecycle.optional(),
  limits: z.partialRecord(z.enum(TIERS), limitsRow).optional(),
  prices: prices.optional(),
});

const alias = z.strictObject({ model: modelId, source: note });

/** The schema of a catalog document; the fleet file's `catalog` section uses it as is. */
export const catalogSectionSchema = z.strictObject({
  comment: z.string().optional(),
  asOf: isoDate.optional(),
  models: z.record(modelId, model).optional(),
  aliases: z.record(modelId, alias).optional(),
});

export type CatalogDoc = z.infer<typeof catalogSectionSchema>;
export type CatalogModel = z.infer<typeof model>;
export type LimitsRow = z.infer<typeof limitsRow>;
export type PriceEntry = z.infer<typeof prices>;
export type PriceChange = z.infer<typeof priceChange>;
export type Lifecycle = z.infer<typeof lifecycle>;

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Checks between parts of one document. Run on the raw input, not as a zod
 * refinement, so they are listed together with every shape problem (zod
 * skips refinements of an object that already failed).
 */
function aliasProblems(doc: unknown): string[] {
  if (!isRecord(doc) || !isRecord(doc['aliases'])) return [];
  const models = isRecord(doc['models']) ? doc['models'] : {};
  const out: string[] = [];
  for (const [name, a] of Object.entries(doc['aliases'])) {
    if (Object.hasOwn(models, name)) out.push(`aliases.${name}: "${name}" is also listed under "models": an id is either a model or an alias`);
    if (isRecord(a) && a['model'] === name) out.push(`aliases.${name}.model: an alias cannot point at itself`);
  }
  return out;
}

/** zod reports a bad record key as "Invalid key in record"; the key's own message says what is wrong. */
function issueText(issue: z.core.$ZodIssue): string {
  const path = issue.path.map(String).join('.') || '(root)';
  const inner = issue.code === 'invalid_key' ? issue.issues[0]?.message : undefined;
  return `${path}: ${inner ?? issue.message}`;
}

/** Validates a catalog document; throws ValidationError listing every problem with its path. */
export function parseCatalogDoc(doc: unknown, label: string): CatalogDoc {
  const parsed = catalogSectionSchema.safeParse(doc);
  const problems = [...(parsed.success ? [] : parsed.error.issues.map(issueText)), ...aliasProblems(doc)];
  if (parsed.success && problems.length === 0) return parsed.data;
  throw new ValidationError(`invalid ${label}`, problems);
}

/** Parses catalog file text (JSON); `label` names the file in error messages. */
export function parseCatalogText(text: string, label: string): CatalogDoc {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    throw new ValidationError(`${label} is not valid JSON: ${err instanceof Error ? err.message : String(err)}`);
  }
  return parseCatalogDoc(doc, label);
}

/**
 * Zod schemas of the stand-in's config (documented in config.ts). The
 * settings are declared once and used twice: with defaults for a full config,
 * and optional for an overlay on top of a fleet file.
 */
import { z } from 'zod';
import { faultConfigSchema, latencyRangeSchema } from './faults-schema.js';

const positiveInt = z.number().int().positive();
const nonNegativeInt = z.number().int().nonnegative();

export const TIER_NAMES = ['free', 'tier1', 'tier2', 'tier3'] as const;

export const modelLimitsSchema = z.strictObject({ rpm: positiveInt, tpm: positiveInt, rpd: positiveInt });
/** A project may have a quota of zero for a model (Google's "limit: 0"). */
export const limitOverrideSchema = z.strictObject({ rpm: nonNegativeInt, tpm: nonNegativeInt, rpd: nonNegativeInt }).partial();

const keySchema = z.strictObject({
  secret: z.string().min(1),
  label: z.string().min(1).optional(),
});

const projectFields = {
  id: z.string().min(1),
  tier: z.enum(TIER_NAMES),
  keys: z.array(keySchema),
  limits: z.record(z.string(), limitOverrideSchema),
  quotaValueInErrors: z.boolean().optional(),
};

const projectSchema = z.strictObject({
  ...projectFields,
  tier: projectFields.tier.default('free'),
  keys: projectFields.keys.default([]),
  limits: projectFields.limits.default({}),
});

export const STREAM_DEFAULTS = { chunkChars: 12, firstChunkDelayMs: 0, chunkIntervalMs: 0 } as const;

const streamSchema = z.strictObject({
  chunkChars: positiveInt.default(STREAM_DEFAULTS.chunkChars),
  firstChunkDelayMs: nonNegativeInt.default(STREAM_DEFAULTS.firstChunkDelayMs),
  chunkIntervalMs: nonNegativeInt.default(STREAM_DEFAULTS.chunkIntervalMs),
});

/** Every setting besides projects and models, without defaults. */
const settings = {
  dayLengthMs: positiveInt.nullable(),
  windowMs: positiveInt,
  latencyMs: latencyRangeSchema,
  stream: streamSchema,
  faults: faultConfigSchema,
  seed: z.number().int(),
  maxCallLog: nonNegativeInt,
  recordBodies: z.boolean(),
  quotaValueInErrors: z.boolean(),
  echoKeyInErrors: z.boolean(),
  invalidKeys: z.array(z.string().min(1)),
  forbiddenKeys: z.array(z.string().min(1)),
};

export const configSchema = z.strictObject({
  projects: z.array(projectSchema),
  models: z.record(z.string().min(1), modelLimitsSchema),
  dayLengthMs: settings.dayLengthMs.default(null),
  windowMs: settings.windowMs.default(60_000),
  latencyMs: settings.latencyMs.default({ min: 0, max: 0 }),
  stream: settings.stream.prefault({}),
  faults: settings.faults.default({ rules: [] }),
  seed: settings.seed.default(1),
  maxCallLog: settings.maxCallLog.default(100_000),
  recordBodies: settings.recordBodies.default(false),
  quotaValueInErrors: settings.quotaValueInErrors.default(true),
  echoKeyInErrors: settings.echoKeyInErrors.default(false),
  invalidKeys: settings.invalidKeys.default([]),
  forbiddenKeys: settings.forbiddenKeys.default([]),
});

/** `--config` next to `--fleet`: the same format with every field optional; models may be partial. */
export const overlaySchema = z.strictObject({
  projects: z
    .array(
      z.strictObject({
        id: projectFields.id,
        tier: projectFields.tier.optional(),
        keys: projectFields.keys.optional(),
        limits: projectFields.limits.optional(),
        quotaValueInErrors: projectFields.quotaValueInErrors,
      }),
    )
    .optional(),
  models: z.record(z.string().min(1), limitOverrideSchema).optional(),
  dayLengthMs: settings.dayLengthMs.optional(),
  windowMs: settings.windowMs.optional(),
  latencyMs: settings.latencyMs.optional(),
  stream: settings.stream.optional(),
  faults: settings.faults.optional(),
  seed: settings.seed.optional(),
  maxCallLog: settings.maxCallLog.optional(),
  recordBodies: settings.recordBodies.optional(),
  quotaValueInErrors: settings.quotaValueInErrors.optional(),
  echoKeyInErrors: settings.echoKeyInErrors.optional(),
  invalidKeys: settings.invalidKeys.optional(),
  forbiddenKeys: settings.forbiddenKeys.optional(),
});

export type ModelLimits = z.infer<typeof modelLimitsSchema>;
export type LimitOverride = z.infer<typeof limitOverrideSchema>;
export type Tier = (typeof TIER_NAMES)[number];
export type SimulatorConfig = z.infer<typeof configSchema>;
export type StreamSettings = SimulatorConfig['stream'];

export type Overlay = z.infer<typeof overlaySchema>;

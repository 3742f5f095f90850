import { sql } from 'drizzle-orm';
import type { TenantSettings } from '../../core/types.js';
import {
  bigint,
  bigserial,
  boolean,
  index,
  integer,
  jsonb,
  pgTable,
  primaryKey,
  text,
  timestamp,
  uniqueIndex,
} from 'drizzle-orm/pg-core';

/**
 * The durable state of quotaflow. Limits, ledger and exclusions are keyed by
 * project id without foreign keys on purpose: pruning a project from the
 * fleet must not erase what was learned or spent for it.
 */
const createdAt = () => timestamp('created_at', { withTimezone: true }).notNull().defaultNow();
const updatedAt = () => timestamp('updated_at', { withTimezone: true }).notNull().defaultNow();

/** Singleton values: the default model chain ('models'), the fleet's catalog layer ('catalog') and the fleet version ('fleet_version'). */
export const settings = pgTable('settings', {
  key: text('key').primaryKey(),
  value: jsonb('value').notNull(),
});

export const tenants = pgTable(
  'tenants',
  {
    id: text('id').primaryKey(),
    keyMode: text('key_mode').notNull(),
    models: jsonb('models').$type<string[]>(),
    tokenHash: text('token_hash'),
    /** weight, limits, budget, pinModel (TenantSettings); {} = the defaults */
    settings: jsonb('settings').$type<Partial<TenantSettings>>().notNull().default({}),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  // A token must identify one tenant; NULLs (no token) do not collide.
  (t) => [uniqueIndex('tenants_token_hash_idx').on(t.tokenHash)],
);

export const projects = pgTable('projects', {
  id: text('id').primaryKey(),
  tier: text('tier').notNull(),
  createdAt: createdAt(),
  updatedAt: updatedAt(),
});

export const apiKeys = pgTable('api_keys', {
  id: text('id').primaryKey(),
  tenantId: text('tenant_id').references(() => tenants.id),
  projectId: text('project_id')
    .notNull()
    .references(() => projects.id),
  secretEnc: text('secret_enc').notNull(),
  fingerprint: text('fingerprint').notNull(),
  priority: integer('priority').notNull(),
  enabled: boolean('enabled').notNull().default(true),
  disabledReason: text('disabled_reason'),
  /** 'fleet' | 'system' | 'admin': decides whether a re-apply may re-enable the key */
  disabledBy: text('disabled_by').$type<DisabledBy>(),
  createdAt: createdAt(),
  updatedAt: updatedAt(),
});

export type DisabledBy = 'fleet' | 'system' | 'admin';

export const modelLimits = pgTable(
  'model_limits',
  {
    projectId: text('project_id').notNull(),
    model: text('model').notNull(),
    dimension: text('dimension').$type<'rpm' | 'tpm' | 'rpd'>().notNull(),
    source: text('source').$type<'configured' | 'learned'>().notNull(),
    value: integer('value').notNull(),
    updatedAt: updatedAt(),
  },
  (t) => [primaryKey({ columns: [t.projectId, t.model, t.dimension, t.source] })],
);

/**
 * Discovery state of limits nobody configured, per (project, model,
 * dimension): Redis holds the live copy all workers share, this one survives
 * a Redis restart. `state` is core/discovery.ts's DiscoveryState.
 */
export const discoveredLimits = pgTable(
  'discovered_limits',
  {
    projectId: text('project_id').notNull(),
    model: text('model').notNull(),
    dimension: text('dimension').notNull(),
    state: jsonb('state').notNull(),
    updatedAt: updatedAt(),
  },
  (t) => [primaryKey({ columns: [t.projectId, t.model, t.dimension] })],
);

export const rpdLedger = pgTable(
  'rpd_ledger',
  {
    projectId: text('project_id').notNull(),
    model: text('model').notNull(),
    /** the quota day (Pacific date or simulated day id) */
    day: text('day').notNull(),
    /** requests reserved for the day: spent, or held in a worker pool (see ledger-repo.ts); never above the limit */
    used: integer('used').notNull(),
    /** how many the latest reservation granted (a reservation takes a block of requests at once) */
    lastGrant: integer('last_grant').notNull().default(0),
    updatedAt: updatedAt(),
  },
  (t) => [primaryKey({ columns: [t.projectId, t.model, t.day] })],
);

export const scopeExclusions = pgTable(
  'scope_exclusions',
  {
    projectId: text('project_id').notNull(),
    model: text('model').notNull(),
    /** 'rate_day' | 'model_not_found' | ... */
    reason: text('reason').notNull(),
    /** null = forever */
    until: timestamp('until', { withTimezone: true }),
    detail: text('detail').notNull().default(''),
    createdAt: createdAt(),
  },
  (t) => [primaryKey({ columns: [t.projectId, t.model, t.reason] })],
);

export const usageEvents = pgTable(
  'usage_events',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    at: timestamp('at', { withTimezone: true }).notNull().default(sql`now()`),
    jobId: text('job_id').notNull(),
    tenantId: text('tenant_id').notNull(),
    keyId: text('key_id').notNull(),
    projectId: text('project_id').notNull(),
    model: text('model').notNull(),
    outcome: text('outcome').notNull(),
    status: integer('status'),
    promptTokens: integer('prompt_tokens').notNull().default(0),
    candidatesTokens: integer('candidates_tokens').notNull().default(0),
    totalTokens: integer('total_tokens').notNull().default(0),
    latencyMs: integer('latency_ms').notNull().default(0),
    central: boolean('central').notNull().default(false),
    thoughtsTokens: integer('thoughts_tokens').notNull().default(0),
    cachedTokens: integer('cached_tokens').notNull().default(0),
    /** the quota day of the call (Pacific date, or a simulated day id) */
    day: text('day').notNull().default(''),
    /** what the call cost, in picodollars (1e-12 USD): exact, summed without rounding */
    costPico: bigint('cost_pico', { mode: 'bigint' }).notNull().default(sql`0`),
  },
  (t) => [index('usage_events_at_idx').on(t.at), index('usage_events_scope_at_idx').on(t.projectId, t.model, t.at)],
);

/**
 * Per tenant, quota day, model and key kind (own or central): what was
 * called, spent and cost. Kept as aggregated rows, written with each batch of
 * usage events, so usage and billing queries never scan the events.
 */
export const tenantUsageDaily = pgTable(
  'tenant_usage_daily',
  {
    tenantId: text('tenant_id').notNull(),
    day: text('day').notNull(),
    model: text('model').notNull(),
    central: boolean('central').notNull(),
    requests: bigint('requests', { mode: 'number' }).notNull().default(0),
    successes: bigint('successes', { mode: 'number' }).notNull().default(0),
    promptTokens: bigint('prompt_tokens', { mode: 'number' }).notNull().default(0),
    candidatesTokens: bigint('candidates_tokens', { mode: 'number' }).notNull().default(0),
    thoughtsTokens: bigint('thoughts_tokens', { mode: 'number' }).notNull().default(0),
    cachedTokens: bigint('cached_tokens', { mode: 'number' }).notNull().default(0),
    totalTokens: bigint('total_tokens', { mode: 'number' }).notNull().default(0),
    costPico: bigint('cost_pico', { mode: 'bigint' }).notNull().default(sql`0`),
    updatedAt: updatedAt(),
  },
  (t) => [primaryKey({ columns: [t.tenantId, t.day, t.model, t.central] }), index('tenant_usage_daily_day_idx').on(t.day)],
);

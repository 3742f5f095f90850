/**
 * The durable stores behind the operator surface (Postgres), as ports. The
 * admin use cases, the maintenance jobs and the API's readers take these,
 * never a database handle; src/adapters/postgres/stores.ts implements them.
 */
import type { ApplyOptions, ApplySummary, FleetPlan } from '../adapters/postgres/fleet-apply.js';
import type { FleetSpec } from '../core/fleet-file.js';
import type { OutcomeBucket } from '../core/key-health.js';
import type { Tenant } from '../core/types.js';
import type { UsageEvent } from './ports.js';

export type { ApplyOptions, ApplySummary, FleetPlan };

export type DisabledBy = 'fleet' | 'system' | 'admin';

/** A key as operators see it: a fingerprint, never the secret. */
export interface KeyListing {
  id: string;
  tenantId: string | null;
  projectId: string;
  fingerprint: string;
  priority: number;
  enabled: boolean;
  disabledReason: string | null;
  disabledBy: DisabledBy | null;
}

export interface NewKey {
  id: string;
  tenantId: string | null;
  /** undefined: its own project `key:<id>` (free tier), as in the fleet file */
  projectId?: string;
  secret: string;
  priority: number;
}

export interface TenantListing {
  id: string;
  keyMode: string;
  models: string[] | null;
  hasToken: boolean;
}

export interface StoredLimit {
  projectId: string;
  model: string;
  dimension: string;
  source: string;
  value: number;
  updatedAt: Date;
}

export interface Exclusion {
  projectId: string;
  model: string;
  reason: string;
  /** null = forever */
  until: Date | null;
  detail: string;
}

export interface TenantUsage {
  tenantId: string;
  central: boolean;
  requests: number;
  successes: number;
  totalTokens: number;
}

export interface RekeyOptions {
  /** decide and count everything, write nothing */
  dryRun: boolean;
  /** key rows read, and written in one transaction, at a time */
  batch: number;
  /** after each batch: rows examined so far, of the rows there were at the start */
  onProgress?: (p: { done: number; total: number }) => void;
}

/** What a rekey did (or, in a dry run, would do); key ids only, never a secret or a key. */
export interface RekeyReport {
  dryRun: boolean;
  /** id of the current key (QUOTAFLOW_SECRET), which every rewritten value is now under */
  keyId: string;
  /** key rows examined */
  total: number;
  /** rewritten under the current key (dry run: would be) */
  rekeyed: number;
  /** already under the current key */
  current: number;
  /** rows the keyring cannot open, with the key id each is stored under ('v1': an old value without one) */
  failed: Array<{ id: string; storedUnder: string }>;
  /** rows another writer kept changing while they were being rewritten: run rekey again */
  skipped: string[];
}
/** A tenant's usage on one quota day, for one model and kind of key (own or central). */
export interface TenantDayUsage {
  tenantId: string;
  day: string;
  model: string;
  central: boolean;
  requests: number;
  successes: number;
  promptTokens: number;
  candidatesTokens: number;
  thoughtsTokens: number;
  cachedTokens: number;
  totalTokens: number;
  /** picodollars (1e-12 USD), exact */
  costPico: bigint;
}

/** A tenant's usage over several days, own or central keys. */
export type TenantUsageTotal = Omit<TenantDayUsage, 'day' | 'model'>;

/** Which quota days a usage query covers: an inclusive range of 'YYYY-MM-DD' days, or named day ids (simulated days). */
export type DaySelection = { from: string; to: string } | { days: readonly string[] };

/** The stored fleet: every change bumps the fleet version (workers reload when it moves). */
export interface FleetStore {
  apply(spec: FleetSpec, opts: ApplyOptions): Promise<ApplySummary>;
  /** what apply would change, writing nothing */
  plan(spec: FleetSpec, opts: ApplyOptions): Promise<FleetPlan>;
  keys(): Promise<KeyListing[]>;
  key(id: string): Promise<KeyListing | null>;
  /** ValidationError when the id or secret is taken; NotFoundError for an unknown tenant or project */
  addKey(secretKey: Buffer, k: NewKey): Promise<KeyListing>;
  /**
   * Rewrites every stored secret under the current key, in batches; a row is
   * written only if its value is still the one read (a concurrent apply or
   * key add wins). Changes no secret, so the fleet version stays.
   */
  rekey(opts: RekeyOptions): Promise<RekeyReport>;
  disableKey(id: string, reason: string, by: 'system' | 'admin'): Promise<void>;
  /** true when it changed */
  enableKey(id: string): Promise<boolean>;
  tenants(): Promise<TenantListing[]>;
  projects(): Promise<Array<{ id: string; tier: string }>>;
  storedLimits(): Promise<StoredLimit[]>;
  tenantByTokenHash(hash: string): Promise<Tenant | null>;
}

/** Day exclusions and unsupported models, kept across restarts. */
export interface ExclusionStore {
  active(now: Date): Promise<Array<Exclusion & { createdAt: Date }>>;
  /** clears a scope's exclusions (one reason, or all); returns how many */
  clear(scope: { projectId: string; model: string; reason?: string }): Promise<number>;
  deleteExpired(now: Date): Promise<number>;
}

/** Usage events: written in batches by workers, read for dashboards and dynamic priority. */
export interface UsageStore {
  write(events: readonly UsageEvent[]): Promise<void>;
  byTenant(since: Date): Promise<TenantUsage[]>;
  deleteBefore(before: Date): Promise<number>;
  keyOutcomeBuckets(since: Date): Promise<OutcomeBucket[]>;
  /** per-tenant daily totals (one tenant, or all) per day, model and key kind, oldest day first */
  tenantDays(query: { tenantId?: string; days: DaySelection }): Promise<TenantDayUsage[]>;
  /** every tenant's totals over the selected days, own and central keys apart */
  tenantTotals(days: DaySelection): Promise<TenantUsageTotal[]>;
  /** what each tenant has cost to date (the daily totals are kept when usage events are trimmed) */
  tenantCosts(): Promise<Array<{ tenantId: string; costPico: bigint }>>;
}

/** Keys demoted by dynamic priority. */
export interface DemotionStore {
  load(): Promise<string[]>;
  /** true when the set changed */
  save(ids: readonly string[]): Promise<boolean>;
}

/** Domain types shared by the core, the adapters and the public API. */
import type { CatalogDoc } from './catalog-schema.js';

export const KEY_MODES = ['own-then-central', 'central-only', 'own-only'] as const;
export type KeyMode = (typeof KEY_MODES)[number];

export const TIERS = ['free', 'tier1', 'tier2', 'tier3'] as const;
export type Tier = (typeof TIERS)[number];

export const DIMENSIONS = ['rpm', 'tpm', 'rpd'] as const;
export type Dimension = (typeof DIMENSIONS)[number];

export interface Limits {
  /** requests per sliding minute */
  rpm: number;
  /** input tokens per sliding minute */
  tpm: number;
  /** requests per Pacific day */
  rpd: number;
}

/** Where a limit came from; later sources win: default < catalog < catalog-file < fleet-catalog < configured < learned / discovered. */
export type LimitSource = 'default' | 'catalog' | 'catalog-file' | 'fleet-catalog' | 'configured' | 'learned' | 'discovered';

export interface ResolvedLimits extends Limits {
  sources: Record<Dimension, LimitSource>;
  /** per dimension: the value is a guess (nobody configured it, or the catalog only estimates it): discovery may raise it */
  guess?: Record<Dimension, boolean>;
}

export interface Project {
  id: string;
  tier: Tier;
  /** configured per-model overrides of the catalog */
  limits: Record<string, Partial<Limits>>;
}

/**
 * A tenant's own limits, each optional: requests and tokens for the tenant
 * as a whole (all its keys and the central keys it uses), a separate daily
 * allowance on central keys, and its producer-side caps.
 */
export const TENANT_LIMITS = ['rpm', 'tpm', 'rpd', 'tokensPerDay', 'centralRpd', 'centralTokensPerDay', 'queuedJobs', 'queuedBytes'] as const;
export type TenantLimitName = (typeof TENANT_LIMITS)[number];
export type TenantLimits = Partial<Record<TenantLimitName, number>>;

export interface TenantSettings {
  /** share of the workers relative to other tenants (default 1) */
  weight: number;
  limits: TenantLimits;
  /** monthly spend cap; null = none */
  budget: { monthly: number; currency: 'USD' } | null;
  /** drop-in endpoints: serve only the model a request names, no fallback */
  pinModel: boolean;
}

export const DEFAULT_TENANT_SETTINGS: TenantSettings = Object.freeze({ weight: 1, limits: Object.freeze({}), budget: null, pinModel: false });

export interface Tenant {
  id: string;
  keyMode: KeyMode;
  /** the tenant's model chain; null = the fleet's default chain */
  models: string[] | null;
  /** weight, limits, budget; absent = the defaults */
  settings?: TenantSettings;
}

/** An API key as the engine sees it: never the secret. */
export interface ApiKey {
  id: string;
  /** null = central key (the operator's), serving tenants by their key mode */
  tenantId: string | null;
  projectId: string;
  /** lower = preferred */
  priority: number;
  enabled: boolean;
  disabledReason: string | null;
}

export interface LearnedLimit {
  projectId: string;
  model: string;
  dimension: Dimension;
  value: number;
}

/** Everything a worker needs to choose leases, loaded once and refreshed on change. */
export interface Fleet {
  /** changes whenever anything below changes */
  version: string;
  /** the default model chain, best first */
  models: string[];
  projects: Project[];
  tenants: Tenant[];
  keys: ApiKey[];
  learned: LearnedLimit[];
  /** (project, model) pairs that answered 404: never leased again for that project */
  unsupported: Array<{ projectId: string; model: string }>;
  /** keys demoted by dynamic priority: served after the healthy keys of each model */
  demoted?: string[];
  /** the fleet file's catalog layer (limits per tier, prices, aliases); absent or null = none */
  catalog?: CatalogDoc | null;
  /** the operator's catalog file (QUOTAFLOW_CATALOG), under the fleet's layer; absent or null = none */
  catalogFile?: CatalogDoc | null;
}

/** Gemini's usageMetadata; a count Gemini did not report is 0. */
export interface Usage {
  /** promptTokenCount: what TPM counts (cached tokens included) */
  promptTokens: number;
  candidatesTokens: number;
  totalTokens: number;
  /** thoughtsTokenCount: thinking, billed as output */
  thoughtsTokens: number;
  /** cachedContentTokenCount: the part of promptTokens served from a context cache */
  cachedTokens: number;
}

/**
 * Machine-readable reason a job failed, for the chatbot to pick its own
 * fallback: `exhausted` (attempts or model switches spent), `deadline`,
 * `invalid_request`, `blocked` (safety), `no_keys` (nothing could ever serve
 * the tenant), `budget` (the tenant is over a daily limit or its monthly
 * budget; the message names the limit), `internal` (a bug in quotaflow,
 * logged with its stack).
 */
export const FAILURE_REASONS = ['exhausted', 'deadline', 'invalid_request', 'blocked', 'no_keys', 'budget', 'internal'] as const;
export type FailureReason = (typeof FAILURE_REASONS)[number];

/** Domain types shared by the core, the adapters and the public API. */

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
}

export interface Project {
  id: string;
  tier: Tier;
  /** configured per-model overrides of the catalog */
  limits: Record<string, Partial<Limits>>;
}

export interface Tenant {
  id: string;
  keyMode: KeyMode;
  /** the tenant's model chain; null = the fleet's default chain */
  models: string[] | null;
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
 * the tenant), `internal` (a bug in quotaflow, logged with its stack).
 */
export const FAILURE_REASONS = ['exhausted', 'deadline', 'invalid_request', 'blocked', 'no_keys', 'internal'] as const;
export type FailureReason = (typeof FAILURE_REASONS)[number];

/**
 * The ports of quotaflow: what the use cases in src/app need from the world,
 * named by capability. Adapters implement them (src/adapters/*); each
 * entrypoint wires them together once (src/system.ts). Contracts are stated
 * here; test/contract runs one suite against every implementation.
 */
import type { BreakerConfig, BreakerReport } from '../core/breaker.js';
import type { WindowDimension, WindowValues } from '../core/dimensions.js';
import type { GenerationResult } from '../core/job.js';
import type { Outcome, StreamChunk } from '../core/outcome.js';
import type { GenerationRequest } from '../core/request.js';
import type { ScopeId } from '../core/scope.js';
import type { Dimension, FailureReason, Fleet } from '../core/types.js';

// ------------------------------------------------------------ admission

export interface ScopeCandidate {
  scope: ScopeId;
  /** the scope's limits in the sliding-minute dimensions (for a discovered dimension: its floor) */
  limits: WindowValues;
  /** dimensions whose limit is discovered: admission uses what discovery admits now, never less than the floor */
  discover?: Partial<Record<WindowDimension, boolean>>;
}

/** What a finished call tells limit discovery (see core/discovery.ts). */
export interface DiscoveryReport {
  event: 'success' | 'quota429' | 'other429' | 'none';
  /** the dimension a quota 429 was about, and the limit Google named (null: it named none) */
  dimension?: WindowDimension;
  quotaValue?: number | null;
  /** the dimensions discovered for this scope, and their floors */
  discover: Partial<Record<WindowDimension, boolean>>;
  floors: WindowValues;
}

/** A discovered limit as operators see it. */
export interface DiscoveredLimit {
  limit: number;
  phase: 'slow-start' | 'additive' | 'exact';
}

export interface CandidateGroupRef {
  /** stable id of the group, for round robin among its ties */
  id: string;
  /** the group holds central (operator) keys: a tenant's central allowance applies */
  central?: boolean;
  candidates: readonly ScopeCandidate[];
}

/** What the earliest candidate of a wait is waiting for. */
export type WaitReason = 'window' | 'cool' | 'day' | 'breaker' | 'model' | 'global' | 'interactive' | 'tenant';

/** A tenant's daily limits and budget that end a job instead of delaying it. */
export type RefusedLimit = 'rpd' | 'tokensPerDay' | 'centralRpd' | 'centralTokensPerDay' | 'budget';

/**
 * The tenant's own limits, checked and counted in the same admission step
 * as the scope's: a sliding window across all its scopes, daily requests and
 * tokens (with a separate allowance on central keys) and its monthly budget.
 * 0 (or null for the budget) = no limit.
 */
export interface TenantGate {
  tenantId: string;
  window: WindowValues;
  rpd: number;
  tokensPerDay: number;
  centralRpd: number;
  centralTokensPerDay: number;
  budgetMicros: number | null;
  /** this request's estimated input tokens, counted against the day until the call settles */
  estTokens: number;
  dayId: string;
  monthId: string;
  /** the job: it leaves its tenant's waiting count at its first admission */
  jobId?: string;
}

/**
 * A job this call answered: it leaves its tenant's outstanding jobs in the
 * settle step, before BullMQ records the end, so a caller that learns of the
 * answer and sends its next message at once finds the slot free.
 */
export interface AnsweredJob {
  tenantId: string;
  jobId: string;
}

/** How a settled call corrects its tenant's counters. */
export interface TenantSettle {
  tenantId: string;
  central: boolean;
  dayId: string;
  monthId: string;
  /** real tokens minus those counted at admission */
  tokenDelta: number;
  /** what the call cost, in micro-USD (rounded up) */
  costMicros: number;
}

export type Admission =
  /**
   * probe: this lease is the one request a half-open breaker lets through;
   * rpd: the request of the day was taken from the scope's pool (AdmitOptions.rpd)
   */
  | { admitted: true; group: number; candidate: number; nowMs: number; probe: boolean; rpd: boolean }
  /**
   * earliestFreeMs null: nothing frees by itself (only a fleet change or a day
   * rollover would help); centralSkipped: central keys were left out because
   * the tenant's central allowance for the day is spent
   */
  | { admitted: false; earliestFreeMs: number | null; nowMs: number; why: WaitReason; centralSkipped: boolean; refused?: undefined }
  /** the tenant is over a daily limit or its budget: the job ends with `budget` */
  | { admitted: false; refused: { limit: RefusedLimit; value: number }; earliestFreeMs: null; nowMs: number };

export interface AdmitOptions {
  /** batch work never takes a scope interactive jobs wait for */
  lane?: 'interactive' | 'batch';
  tenant?: TenantGate;
  /** take the request of `day` from the admitted scope's RPD pool in the same step, when it holds one */
  rpd?: RpdPoolRef;
  /** a worker's first pass over a job: it leaves its tenant's waiting count in this step, whatever the outcome */
  started?: { tenantId: string; jobId: string };
}

/** A day's RPD pool of a scope: requests reserved in the ledger, not spent yet. */
export interface RpdPoolRef {
  day: string;
  /** how long the pool may live (until its day is over) */
  ttlMs: number;
}

export type BlockKind = 'cool' | 'day';


export interface BreakerView {
  state: 'closed' | 'open' | 'half_open';
  /** consecutive failures while closed */
  fails: number;
  /** ms until a probe may go (open), null otherwise */
  openMs: number | null;
}

/**
 * Exact sliding-window admission shared by all workers, plus the
 * availability state admission reads (blocks, breakers). `admit` walks the
 * groups in order and reserves on the least utilised scope with room in the
 * first group that has one; it never admits over a limit, whatever the
 * concurrency.
 */
export interface Limiter {
  admit(reservationId: string, costs: WindowValues, groups: readonly CandidateGroupRef[], opts?: AdmitOptions): Promise<Admission>;
  /**
   * After the call: costs become what upstream counted and the entry is
   * re-stamped to now (conservative); the call is reported to the scope's
   * breaker, and the tenant's counters corrected, in the same step.
   */
  settle(scope: ScopeId, reservationId: string, costs: WindowValues, report: BreakerReport, tenant?: TenantSettle, discovery?: DiscoveryReport, answered?: AnsweredJob): Promise<{ breakerOpened: boolean; monthCostMicros: number }>;
  /** The discovered limits of a scope (dimensions discovery has moved), for status and metrics. */
  discovered(scope: ScopeId): Promise<Partial<Record<WindowDimension, DiscoveredLimit>>>;
  /**
   * Drops a reservation whose call was never made (and gives the tenant back
   * what it counted); with `rpd`, its request of the day goes back to the pool.
   */
  release(scope: ScopeId, reservationId: string, tenant?: { tenantId: string; central: boolean; dayId: string; monthId: string; estTokens: number }, rpd?: RpdPoolRef): Promise<void>;
  /**
   * A block of `granted` requests the ledger just reserved goes to the
   * scope's pool, one of them taken for the caller; with granted 0 (the
   * ledger's day is full) one is taken from what the pool still holds.
   * Answers whether the caller has its request.
   */
  fillPool(scope: ScopeId, pool: RpdPoolRef, granted: number): Promise<boolean>;
  /** Requests the scope's pool holds for `day` (reserved, not spent). */
  pooled(scope: ScopeId, day: string): Promise<number>;
  breaker(scope: ScopeId): Promise<BreakerView>;
  /** Notes a failure under `topic`; returns the distinct members seen within windowMs (this one included). */
  note(topic: string, member: string, windowMs: number): Promise<number>;
  /** Blocks a scope for ttlMs (<= 0: until cleared); never shortens an existing block. */
  block(scope: ScopeId, kind: BlockKind, ttlMs: number, reason: string): Promise<boolean>;
  clearBlock(scope: ScopeId, kind: BlockKind): Promise<void>;
  /** Blocks a model for every project (several projects failing together). */
  blockModel(model: string, ttlMs: number, reason: string): Promise<boolean>;
  /** Blocks every scope for ttlMs (a correlated failure storm: back off globally). */
  blockGlobal(ttlMs: number, reason: string): Promise<boolean>;
  /** Current use of a scope in the window, per window dimension. */
  usage(scope: ScopeId): Promise<WindowValues>;
  /** ms left on the scope's blocks; null when none, Infinity when until cleared */
  blocks(scope: ScopeId): Promise<{ coolMs: number | null; dayMs: number | null }>;
  /** ms left on a model-wide block; null when none */
  modelBlock(model: string): Promise<number | null>;
}

export type { BreakerConfig, BreakerReport };

// ------------------------------------------------------------ ledger and upstream

/** Daily request ledger (RPD), shared by all workers and kept across restarts. */
export interface Ledger {
  /** Reserves one request for the day; null when the day's limit is reached. Never exceeds limit. */
  reserve(scope: { projectId: string; model: string; day: string; limit: number }): Promise<number | null>;
  /**
   * Reserves a block of the day's requests at once (size: core/rpd-block.ts)
   * and says how many it granted (0: the day is full). Never exceeds limit.
   */
  reserveBlock(scope: { projectId: string; model: string; day: string; limit: number }): Promise<{ granted: number; used: number }>;
  /** Returns a reservation whose call was never made; never goes below zero. */
  refund(scope: { projectId: string; model: string; day: string }): Promise<void>;
  /** Requests reserved on `day`, per scope (spent, or still in a pool). */
  used(day: string): Promise<ReadonlyMap<ScopeId, number>>;
}

/** Gemini client port (see adapters/gemini); never throws: failures are outcomes. */
export interface Upstream {
  generate(call: { keyId: string; model: string; request: GenerationRequest }): Promise<{ outcome: Outcome; latencyMs: number }>;
  /**
   * streamGenerateContent: `onChunk` gets each chunk in order (awaited); the
   * outcome is the whole answer. A failure after chunks went out carries
   * `chunksDelivered`.
   */
  generateStream(call: { keyId: string; model: string; request: GenerationRequest }, onChunk: (chunk: StreamChunk) => Promise<void>): Promise<{ outcome: Outcome; latencyMs: number }>;
}

/** Which project served a conversation's last turn, so the next turn can go back to it (implicit prompt caching). */
export interface ConversationMemory {
  lastProject(tenantId: string, conversationId: string): Promise<string | null>;
  remember(tenantId: string, conversationId: string, projectId: string): Promise<void>;
}

/** Where a streamed job's events go (chunks as they arrive, a reset, the end): readers follow them. */
export interface JobEvents {
  chunk(jobId: string, chunk: StreamChunk): Promise<void>;
  reset(jobId: string, reason: string): Promise<void>;
  done(jobId: string, result: GenerationResult): Promise<void>;
  error(jobId: string, reason: FailureReason, message: string): Promise<void>;
  /**
   * A pass over the job starts: when the last event is a chunk, an earlier
   * attempt was cut off mid-answer (crash, shutdown hand-back) and a reset
   * is written, so readers drop it; otherwise nothing. Atomic: called by
   * every pass, it never writes two resets in a row.
   */
  restart(jobId: string, reason: string): Promise<void>;
}

// ------------------------------------------------------------ fleet

/** Where workers load the fleet from, and how they hear that it changed. */
export interface FleetSource {
  load(): Promise<Fleet>;
  loadSecrets(): Promise<Map<string, string>>;
  /** cheap: the version everyone agrees on (a Redis key), or null when unknown */
  announcedVersion(): Promise<string | null>;
  /** the authoritative version (Postgres) */
  storedVersion(): Promise<string>;
  /** calls back when a change is announced; returns a function that unsubscribes */
  subscribe?(onChange: () => void): Promise<() => Promise<void>>;
}

/** Durable records of what failures taught us (Postgres), announced to all workers. */
export interface FleetRecords {
  excludeScope(e: { projectId: string; model: string; reason: string; until: Date | null; detail: string }): Promise<void>;
  disableKey(keyId: string, reason: string): Promise<void>;
  /** true when the value changed */
  learnLimit(l: { projectId: string; model: string; dimension: Dimension; value: number }): Promise<boolean>;
}

// ------------------------------------------------------------ records and signals

export interface UsageEvent {
  at: Date;
  jobId: string;
  tenantId: string;
  keyId: string;
  projectId: string;
  model: string;
  outcome: string;
  status: number | null;
  promptTokens: number;
  candidatesTokens: number;
  totalTokens: number;
  thoughtsTokens: number;
  cachedTokens: number;
  latencyMs: number;
  central: boolean;
  /** the quota day of the call */
  day: string;
  /** what the call cost, in picodollars (1e-12 USD) */
  costPico: bigint;
}

/** Where usage events go; writes are batched, so record() never blocks a job. */
export interface UsageSink {
  record(event: UsageEvent): void;
  flush(): Promise<void>;
}

export type AlertKind = 'key_disabled' | 'breaker_open' | 'no_capacity' | 'internal_error' | 'budget';

/** Operator alerts (webhook); never throws, never carries a secret. */
export interface Alerts {
  send(event: { kind: AlertKind; subject: string; detail: string }): void;
}

/**
 * What a worker reports for metrics. Implementations aggregate across
 * workers (the API's /metrics shows the whole system); calls never block
 * or throw.
 */
export interface JobMetrics {
  upstream(e: { model: string; keyId: string; projectId: string; outcome: string; latencyMs: number; promptTokens: number; candidatesTokens: number; central: boolean }): void;
  switched(e: { from: string; to: string }): void;
  finished(e: { tenantId: string; outcome: 'completed' | 'failed'; reason?: string; central?: boolean }): void;
}

export const NO_METRICS: JobMetrics = { upstream: () => undefined, switched: () => undefined, finished: () => undefined };

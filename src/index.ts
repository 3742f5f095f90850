/** quotaflow's public API for producers and tooling. */
export {
  createClient,
  messageJobId,
  GenerationFailedError,
  GenerationTimeoutError,
  type ClientOptions,
  type JobStatus,
  type QuotaflowClient,
} from './adapters/queue/client.js';
export type { AttemptRecord, GenerationFailure, GenerationResult } from './adapters/queue/job-contract.js';
export { parseGenerationRequest, type Content, type GenerationRequest, type GenerationRequestInput, type Part } from './core/request.js';
export type { StreamEvent } from './core/job.js';
export { parseFleet, parseFleetText, type FleetSpec } from './core/fleet-file.js';
export { FAILURE_REASONS, KEY_MODES, TIERS, type FailureReason, type KeyMode, type Tier, type Usage } from './core/types.js';
export { QuotaflowError, ValidationError, NotFoundError, DependencyError, TenantLimitError, UnknownTenantError, ERROR_CODES, type ErrorCode } from './errors.js';

/**
 * Turning a fault rule into an answer. Split in two because Google answers
 * some failures before spending quota (429 without details, bad requests,
 * key/model errors) and others after (5xx): see faults-schema.ts.
 */
import type { ModelLimits, Tier } from './config.js';
import { shortRetrySeconds } from './day.js';
import * as bodies from './error-bodies.js';
import type { FaultKind, FaultRule, MidStreamFault } from './faults-schema.js';
import type { Random } from './prng.js';

export interface FaultContext {
  model: string;
  tier: Tier;
  limits: ModelLimits;
  now: number;
  random: Random;
  /** Whether 429 bodies name the limit's value; default true. */
  showQuotaValue?: boolean;
}

function chance(random: Random, p: number | undefined): boolean {
  // No draw at probability 0, so adding a disabled rule does not shift the sequence.
  return p !== undefined && p > 0 && random() < p;
}

function quotaOf(ctx: FaultContext): Pick<bodies.QuotaExceeded, 'tier' | 'model' | 'showValue'> {
  return { tier: ctx.tier, model: ctx.model, showValue: ctx.showQuotaValue ?? true };
}

/** The answer for a forced kind, built from the call's own model and limits. */
export function answerForKind(kind: FaultKind, ctx: FaultContext): bodies.ErrorAnswer {
  switch (kind) {
    case '429-per-minute':
      return bodies.quotaExceeded({ ...quotaOf(ctx), dimension: 'rpm', limit: ctx.limits.rpm, retryAfterSec: 30 });
    case '429-per-day':
      return bodies.quotaExceeded({ ...quotaOf(ctx), dimension: 'rpd', limit: ctx.limits.rpd, retryAfterSec: shortRetrySeconds(ctx.now) });
    case '429-no-details':
      return bodies.resourceExhaustedNoDetails();
    case '429-spend-cap':
      return bodies.spendCapExceeded();
    case '503-overloaded':
      return bodies.overloaded();
    case '503-high-demand':
      return bodies.highDemand();
    case '500-internal':
      return bodies.internalError();
    case '400-api-key-invalid':
      return bodies.apiKeyInvalid();
    case '400-bad-request':
      return bodies.badRequest();
    case '403-key-leaked':
      return bodies.keyLeaked();
    case '404-model-not-found':
      return bodies.modelNotFound(ctx.model);
  }
}

function isServerKind(kind: FaultKind): boolean {
  return kind === '503-overloaded' || kind === '503-high-demand' || kind === '500-internal';
}

/** A failure Google answers before the limiter (never counted), or undefined. */
export function preAdmissionFault(rule: FaultRule | undefined, ctx: FaultContext): bodies.ErrorAnswer | undefined {
  if (!rule) return undefined;
  if (rule.forceStatus !== undefined && !isServerKind(rule.forceStatus)) return answerForKind(rule.forceStatus, ctx);
  if (chance(ctx.random, rule.pBadRequest)) return bodies.badRequest();
  if (chance(ctx.random, rule.p429)) return bodies.resourceExhaustedNoDetails();
  return undefined;
}

/** A 5xx injected after admission (the call counts), or undefined. */
export function postAdmissionFault(rule: FaultRule | undefined, ctx: FaultContext): bodies.ErrorAnswer | undefined {
  if (!rule) return undefined;
  if (rule.forceStatus !== undefined && isServerKind(rule.forceStatus)) return answerForKind(rule.forceStatus, ctx);
  if (chance(ctx.random, rule.p503)) return ctx.random() < 0.5 ? bodies.overloaded() : bodies.highDemand();
  if (chance(ctx.random, rule.p500)) return bodies.internalError();
  return undefined;
}

/** Whether this streamed call fails part way, and how. */
export function midStreamFault(rule: FaultRule | undefined, random: Random): MidStreamFault | undefined {
  const fault = rule?.midStream;
  if (!fault) return undefined;
  return fault.p >= 1 || chance(random, fault.p) ? fault : undefined;
}

/** The error a failed stream ends with. */
export function midStreamError(fault: MidStreamFault): bodies.ErrorAnswer {
  return fault.status === 500 ? bodies.internalError() : bodies.overloaded();
}

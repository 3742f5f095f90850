/**
 * Gemini error bodies, copied from the real ones in
 * test/fixtures/gemini-errors/ (the stand-in must not read test files at runtime).
 * Detail order mirrors each fixture, since clients must not depend on it and
 * tests should see the same variety Google sends.
 */
import type { Tier } from './config.js';

export interface GoogleErrorBody {
  error: { code: number; message: string; status: string; details?: readonly Record<string, unknown>[] };
}

export interface ErrorAnswer {
  status: number;
  body: GoogleErrorBody;
}

const RATE_LIMIT_DOCS = 'https://ai.google.dev/gemini-api/docs/rate-limits';
const QUOTA_MESSAGE =
  'You exceeded your current quota, please check your plan and billing details. For more information on this error, head to: https://ai.google.dev/gemini-api/docs/rate-limits.';
const HELP = {
  '@type': 'type.googleapis.com/google.rpc.Help',
  links: [{ description: 'Learn more about Gemini API quotas', url: RATE_LIMIT_DOCS }],
};

function simple(code: number, status: string, message: string): ErrorAnswer {
  return { status: code, body: { error: { code, message, status } } };
}

export function apiKeyInvalid(): ErrorAnswer {
  const message = 'API key not valid. Please pass a valid API key.';
  return {
    status: 400,
    body: {
      error: {
        code: 400,
        message,
        status: 'INVALID_ARGUMENT',
        details: [
          {
            '@type': 'type.googleapis.com/google.rpc.ErrorInfo',
            reason: 'API_KEY_INVALID',
            domain: 'googleapis.com',
            metadata: { service: 'generativelanguage.googleapis.com' },
          },
          { '@type': 'type.googleapis.com/google.rpc.LocalizedMessage', locale: 'en-US', message },
        ],
      },
    },
  };
}

export const keyLeaked = (): ErrorAnswer =>
  simple(403, 'PERMISSION_DENIED', 'Your API key was reported as leaked. Please use another API key.');

export const missingKey = (): ErrorAnswer =>
  simple(
    403,
    'PERMISSION_DENIED',
    "Method doesn't allow unregistered callers (callers without established identity). Please use API Key or other form of API consumer identity to call this API.",
  );

export const modelNotFound = (model: string): ErrorAnswer =>
  simple(
    404,
    'NOT_FOUND',
    `models/${model} is not found for API version v1beta, or is not supported for generateContent. Call ListModels to see the list of available models and their supported methods.`,
  );

export const badRequest = (message = 'Request contains an invalid argument.'): ErrorAnswer =>
  simple(400, 'INVALID_ARGUMENT', message);

export const notFoundPath = (): ErrorAnswer => simple(404, 'NOT_FOUND', 'Requested entity was not found.');

export const resourceExhaustedNoDetails = (): ErrorAnswer =>
  simple(429, 'RESOURCE_EXHAUSTED', 'Resource has been exhausted (e.g. check quota).');

/**
 * A paid project past its spend cap: RESOURCE_EXHAUSTED like a quota 429, but
 * about money, not a per-minute or per-day quota (no QuotaFailure, no
 * RetryInfo), so clients must not cool the model down for a minute.
 */
export function spendCapExceeded(): ErrorAnswer {
  return {
    status: 429,
    body: {
      error: {
        code: 429,
        message:
          "Your project has exceeded its monthly spending cap. Please go to AI Studio at https://aistudio.google.com to manage your project's spend cap. Learn more at https://ai.google.dev/gemini-api/docs/billing.",
        status: 'RESOURCE_EXHAUSTED',
        details: [
          {
            '@type': 'type.googleapis.com/google.rpc.Help',
            links: [{ description: 'Learn more about Gemini API billing', url: 'https://ai.google.dev/gemini-api/docs/billing' }],
          },
        ],
      },
    },
  };
}

/** The same answer whose message ends with the key the call used, as some proxies and upstreams write it. */
export function withKeyEcho(answer: ErrorAnswer, apiKey: string | undefined): ErrorAnswer {
  if (apiKey === undefined || apiKey === '') return answer;
  const error = { ...answer.body.error, message: `${answer.body.error.message} (API key: ${apiKey})` };
  return { status: answer.status, body: { error } };
}

export const internalError = (): ErrorAnswer =>
  simple(
    500,
    'INTERNAL',
    'An internal error has occurred. Please retry or report in https://developers.generativeai.google/guide/troubleshooting',
  );

export const overloaded = (): ErrorAnswer => simple(503, 'UNAVAILABLE', 'The model is overloaded. Please try again later.');

export const highDemand = (): ErrorAnswer =>
  simple(
    503,
    'UNAVAILABLE',
    'This model is currently experiencing high demand. Spikes in demand are usually temporary. Please try again later.',
  );

/** Which quota a 429 names; ids and metrics follow Google's naming. */
export type QuotaDimension = 'rpm' | 'tpm' | 'rpd';

function quotaNames(dimension: QuotaDimension, tier: Tier): { quotaId: string; quotaMetric: string } {
  const free = tier === 'free';
  const suffix = free ? '-FreeTier' : '';
  const metricTier = free ? 'free_tier' : 'paid_tier';
  switch (dimension) {
    case 'rpm':
      return {
        quotaId: `GenerateRequestsPerMinutePerProjectPerModel${suffix}`,
        quotaMetric: `generativelanguage.googleapis.com/generate_content_${metricTier}_requests`,
      };
    case 'tpm':
      return {
        quotaId: `GenerateContentInputTokensPerModelPerMinute${suffix}`,
        quotaMetric: `generativelanguage.googleapis.com/generate_content_${metricTier}_input_token_count`,
      };
    case 'rpd':
      return {
        quotaId: `GenerateRequestsPerDayPerProjectPerModel${suffix}`,
        quotaMetric: `generativelanguage.googleapis.com/generate_content_${metricTier}_requests`,
      };
  }
}

export interface QuotaExceeded {
  dimension: QuotaDimension;
  tier: Tier;
  model: string;
  limit: number;
  retryAfterSec: number;
  /** false: name the quota but not its value (no quotaValue, no "limit: N"); default true. */
  showValue?: boolean;
}

/** 429 with QuotaFailure + Help + RetryInfo, shaped like 429-tpm-per-minute.json / 429-rpd-per-day.json. */
export function quotaExceeded(q: QuotaExceeded): ErrorAnswer {
  const { quotaId, quotaMetric } = quotaNames(q.dimension, q.tier);
  const showValue = q.showValue ?? true;
  const violation: Record<string, unknown> = { quotaMetric, quotaId, quotaDimensions: { location: 'global', model: q.model } };
  if (showValue) violation['quotaValue'] = String(q.limit);
  const failure = { '@type': 'type.googleapis.com/google.rpc.QuotaFailure', violations: [violation] };
  const retry = { '@type': 'type.googleapis.com/google.rpc.RetryInfo', retryDelay: `${q.retryAfterSec}s` };
  if (q.dimension === 'rpd') {
    const limit = showValue ? `, limit: ${q.limit}` : '';
    const message = `${QUOTA_MESSAGE} To monitor your current usage, head to: https://ai.dev/rate-limit. \n* Quota exceeded for metric: ${quotaMetric}${limit}, model: ${q.model}\nPlease retry in ${q.retryAfterSec}s.`;
    return { status: 429, body: { error: { code: 429, message, status: 'RESOURCE_EXHAUSTED', details: [HELP, failure, retry] } } };
  }
  return {
    status: 429,
    body: { error: { code: 429, message: QUOTA_MESSAGE, status: 'RESOURCE_EXHAUSTED', details: [failure, HELP, retry] } },
  };
}

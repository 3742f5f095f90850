import { describe, expect, it } from 'vitest';
import { GenerationFailedError, GenerationTimeoutError } from '../../src/adapters/queue/client.js';
import { geminiError, openaiError } from '../../src/api/compat/error-shapes.js';
import { CompatError, PROBLEM_KINDS, failureProblem, paramError, problemOf, type Problem, type ProblemKind } from '../../src/api/compat/problems.js';
import { FAILURE_REASONS, type FailureReason } from '../../src/core/types.js';
import { DependencyError, NotFoundError, TenantLimitError, UnknownTenantError, ValidationError } from '../../src/errors.js';

const problem = (kind: ProblemKind, extra: Partial<Problem> = {}): Problem => ({ kind, message: `about ${kind}`, ...extra });

describe('each problem in both dialects', () => {
  const expected: Record<ProblemKind, { gemini: [number, string]; openai: [number, string, string | null] }> = {
    invalid_argument: { gemini: [400, 'INVALID_ARGUMENT'], openai: [400, 'invalid_request_error', null] },
    unauthenticated: { gemini: [401, 'UNAUTHENTICATED'], openai: [401, 'authentication_error', 'missing_api_key'] },
    invalid_token: { gemini: [400, 'INVALID_ARGUMENT'], openai: [401, 'authentication_error', 'invalid_api_key'] },
    permission_denied: { gemini: [403, 'PERMISSION_DENIED'], openai: [403, 'permission_error', 'permission_denied'] },
    not_found: { gemini: [404, 'NOT_FOUND'], openai: [404, 'not_found_error', 'not_found'] },
    rate_limited: { gemini: [429, 'RESOURCE_EXHAUSTED'], openai: [429, 'rate_limit_error', 'rate_limit_exceeded'] },
    over_budget: { gemini: [429, 'RESOURCE_EXHAUSTED'], openai: [429, 'rate_limit_error', 'insufficient_quota'] },
    unavailable: { gemini: [503, 'UNAVAILABLE'], openai: [503, 'server_error', 'service_unavailable'] },
    deadline: { gemini: [504, 'DEADLINE_EXCEEDED'], openai: [504, 'server_error', 'timeout'] },
    internal: { gemini: [500, 'INTERNAL'], openai: [500, 'api_error', 'internal_error'] },
    interrupted: { gemini: [503, 'UNAVAILABLE'], openai: [503, 'server_error', 'stream_interrupted'] },
  };

  it.each(PROBLEM_KINDS)('%s', (kind) => {
    const g = geminiError(problem(kind));
    expect([g.status, g.body.error.status, g.body.error.code]).toEqual([...expected[kind].gemini, expected[kind].gemini[0]]);
    expect(g.body.error.message).toBe(`about ${kind}`);
    const o = openaiError(problem(kind));
    expect([o.status, o.body.error.type, o.body.error.code]).toEqual(expected[kind].openai);
    expect(o.body.error).toMatchObject({ message: `about ${kind}`, param: null });
  });

  it('answers a bad key with Google’s API_KEY_INVALID details', () => {
    expect(JSON.stringify(geminiError(problem('invalid_token')).body.error.details)).toContain('"reason":"API_KEY_INVALID"');
  });

  it('sends Retry-After (and RetryInfo to Gemini clients) when it is known', () => {
    const g = geminiError(problem('rate_limited', { retryAfterSec: 7 }));
    expect(g.headers['retry-after']).toBe('7');
    expect(g.body.error.details).toEqual([{ '@type': 'type.googleapis.com/google.rpc.RetryInfo', retryDelay: '7s' }]);
    expect(openaiError(problem('rate_limited', { retryAfterSec: 7 })).headers['retry-after']).toBe('7');
  });

  it('tells the openai SDK not to retry what cannot succeed', () => {
    expect(openaiError(problem('over_budget', { retryable: false })).headers['x-should-retry']).toBe('false');
    expect(openaiError(problem('unavailable')).headers['x-should-retry']).toBeUndefined();
  });

  it('names the parameter and the model', () => {
    expect(openaiError(paramError('messages[1].content', 'bad').problem).body.error).toMatchObject({ param: 'messages[1].content', code: 'invalid_value' });
    expect(openaiError(problem('not_found', { param: 'model' })).body.error.code).toBe('model_not_found');
  });

  it('keeps Fastify’s 4xx status for OpenAI and answers 400 to Gemini clients', () => {
    const tooLarge = problem('invalid_argument', { status: 413 });
    expect(openaiError(tooLarge).status).toBe(413);
    expect(geminiError(tooLarge).status).toBe(400);
  });
});

describe('problemOf', () => {
  it('maps the quotaflow errors', () => {
    expect(problemOf(new ValidationError('invalid generation request', ['contents: bad']))).toMatchObject({ kind: 'invalid_argument', message: expect.stringContaining('contents: bad') as string });
    expect(problemOf(new TenantLimitError('too many jobs', 1_200, 'jobs'))).toMatchObject({ kind: 'rate_limited', retryAfterSec: 2 });
    expect(problemOf(new DependencyError('ECONNREFUSED 127.0.0.1:6379'))).toMatchObject({ kind: 'unavailable', retryAfterSec: 5 });
    expect(problemOf(new DependencyError('ECONNREFUSED 127.0.0.1:6379')).message).not.toContain('6379');
    expect(problemOf(new GenerationTimeoutError('job-1', 5_000))).toMatchObject({ kind: 'deadline' });
    expect(problemOf(new NotFoundError('no generation job-1'))).toMatchObject({ kind: 'not_found' });
    expect(problemOf(new CompatError(problem('permission_denied')))).toMatchObject({ kind: 'permission_denied' });
    expect(problemOf(new Error('secret driver detail'))).toEqual({ kind: 'internal', message: 'internal error (see the server log)' });
  });

  it('answers a token’s tenant the queue does not know yet (a fleet change being applied) 503 with Retry-After 2 in each dialect', () => {
    const p = problemOf(new UnknownTenantError('acme'));
    expect(p).toMatchObject({ kind: 'unavailable', retryAfterSec: 2 });
    expect(geminiError(p)).toMatchObject({ status: 503, headers: { 'retry-after': '2' }, body: { error: { status: 'UNAVAILABLE', details: [{ '@type': 'type.googleapis.com/google.rpc.RetryInfo', retryDelay: '2s' }] } } });
    expect(openaiError(p)).toMatchObject({ status: 503, headers: { 'retry-after': '2' }, body: { error: { type: 'server_error', code: 'fleet_changing' } } });
  });

  it('maps a Fastify 4xx (bad JSON, body too large) to invalid input with its status', () => {
    const err = Object.assign(new Error('Body is too large'), { statusCode: 413 });
    expect(problemOf(err)).toMatchObject({ kind: 'invalid_argument', status: 413 });
  });

  const byReason: Record<FailureReason | 'budget', ProblemKind> = {
    exhausted: 'unavailable',
    deadline: 'deadline',
    invalid_request: 'invalid_argument',
    blocked: 'invalid_argument',
    no_keys: 'unavailable',
    internal: 'internal',
    budget: 'over_budget',
  };
  it.each([...FAILURE_REASONS, 'budget' as const])('maps a job failed for %s', (reason) => {
    const p = failureProblem(reason, `the message for ${reason}`);
    expect(p.kind).toBe(byReason[reason]);
    if (reason !== 'internal') expect(p.message).toContain(`the message for ${reason}`);
  });

  it('maps a failed generation through its reason; no_keys and budget are not worth retrying', () => {
    expect(problemOf(new GenerationFailedError('job-2', 'no_keys', 'no key', []))).toMatchObject({ kind: 'unavailable', retryable: false });
    expect(failureProblem('budget', 'daily budget of 5 USD reached')).toMatchObject({ kind: 'over_budget', retryable: false });
    expect(failureProblem('deadline', 'too late')).toMatchObject({ kind: 'deadline', retryable: false });
    expect(problemOf(new GenerationTimeoutError('job-3', 1_000))).toMatchObject({ retryable: false });
    expect(failureProblem('exhausted', 'spent').retryable).toBeUndefined();
    expect(failureProblem('some_future_reason', 'x').kind).toBe('internal');
  });
});

import { GEMINI_ERRORS_DIR } from '../helpers/fixtures.js';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { classifyHttpError, classifyResponse, classifyTransportError, parseRetryDelay, scrubSecrets } from '../../src/core/classify.js';
import type { FailureOutcome } from '../../src/core/outcome.js';

const FIXTURES = GEMINI_ERRORS_DIR;
const fixture = (name: string): string => readFileSync(`${FIXTURES}${name}`, 'utf8');
const statusOf = (name: string): number => Number(name.slice(0, 3));

type Expected = Pick<FailureOutcome, 'failure' | 'retryAfterMs'> & { quotaValue?: number; dimension?: string };
const EXPECTED: Record<string, Expected> = {
  '400-api-key-invalid.json': { failure: 'key_invalid', retryAfterMs: null },
  '403-key-leaked.json': { failure: 'key_forbidden', retryAfterMs: null },
  '404-model-not-found.json': { failure: 'model_not_found', retryAfterMs: null },
  '429-no-details.json': { failure: 'rate_unknown', retryAfterMs: null },
  '429-rpd-per-day.json': { failure: 'rate_day', retryAfterMs: 58_000, quotaValue: 20, dimension: 'rpd' },
  '429-tpm-per-minute.json': { failure: 'rate_minute', retryAfterMs: 26_000, quotaValue: 250_000, dimension: 'tpm' },
  '500-internal.json': { failure: 'internal', retryAfterMs: null },
  '503-high-demand.json': { failure: 'overloaded', retryAfterMs: null },
  '503-overloaded.json': { failure: 'overloaded', retryAfterMs: null },
};

const reversedDetails = (text: string): string => {
  const body = JSON.parse(text) as { error: { details?: unknown[] } };
  body.error.details?.reverse();
  return JSON.stringify(body);
};

describe('classifyHttpError on the real fixtures', () => {
  const files = readdirSync(FIXTURES).filter((f) => f.endsWith('.json'));

  it('covers every fixture file in the folder', () => {
    expect(files.sort()).toEqual(Object.keys(EXPECTED).sort());
  });

  for (const file of files) {
    it(`${file} => ${EXPECTED[file]?.failure ?? '?'}`, () => {
      const want = EXPECTED[file];
      if (!want) throw new Error(`no expectation for ${file}`);
      const out = classifyHttpError(statusOf(file), fixture(file));
      expect(out.kind).toBe('failure');
      expect(out.failure).toBe(want.failure);
      expect(out.status).toBe(statusOf(file));
      expect(out.retryAfterMs).toBe(want.retryAfterMs);
      expect(out.violation?.quotaValue ?? undefined).toBe(want.quotaValue);
      expect(out.violation?.dimension ?? undefined).toBe(want.dimension);
      expect(out.message.length).toBeGreaterThan(0);
      expect(out.message.length).toBeLessThanOrEqual(200);
      // the order of details never matters
      expect(classifyHttpError(statusOf(file), reversedDetails(fixture(file)))).toEqual(out);
    });
  }

  it('keeps the quotaId and metric of a violation', () => {
    const out = classifyHttpError(429, fixture('429-rpd-per-day.json'));
    expect(out.violation).toEqual({
      quotaId: 'GenerateRequestsPerDayPerProjectPerModel-FreeTier',
      quotaMetric: 'generativelanguage.googleapis.com/generate_content_free_tier_requests',
      quotaValue: 20,
      dimension: 'rpd',
    });
  });
});

const quota429 = (violations: unknown[], retryDelay?: string): string =>
  JSON.stringify({
    error: {
      code: 429,
      message: 'quota',
      status: 'RESOURCE_EXHAUSTED',
      details: [
        { '@type': 'type.googleapis.com/google.rpc.QuotaFailure', violations },
        ...(retryDelay ? [{ '@type': 'type.googleapis.com/google.rpc.RetryInfo', retryDelay }] : []),
      ],
    },
  });

describe('classifyHttpError on synthetic shapes', () => {
  it('requests per minute => rate_minute / rpm, fractional retry delays', () => {
    const out = classifyHttpError(429, quota429([{ quotaId: 'GenerateRequestsPerMinutePerProjectPerModel-FreeTier', quotaValue: '10' }], '0.5s'));
    expect(out).toMatchObject({ failure: 'rate_minute', retryAfterMs: 500, violation: { dimension: 'rpm', quotaValue: 10 } });
    expect(classifyHttpError(429, quota429([{ quotaId: 'X-PerMinute' }], '1.234s')).retryAfterMs).toBe(1234);
  });

  it('a per-day violation wins over a per-minute one in the same body', () => {
    const out = classifyHttpError(429, quota429([{ quotaId: 'GenerateRequestsPerMinutePerProjectPerModel' }, { quotaId: 'GenerateRequestsPerDayPerProjectPerModel' }], '30s'));
    expect(out.failure).toBe('rate_day');
  });

  it('tokens per day is a day limit with no dimension we keep', () => {
    const out = classifyHttpError(429, quota429([{ quotaId: 'GenerateContentInputTokensPerModelPerDay', quotaValue: '1000000' }]));
    expect(out.failure).toBe('rate_day');
    expect(out.violation?.dimension).toBeNull();
  });

  it('a 429 whose QuotaFailure is unreadable is rate_unknown', () => {
    expect(classifyHttpError(429, quota429([{ quotaId: 'SomethingElse', quotaValue: 'lots' }])).failure).toBe('rate_unknown');
    expect(classifyHttpError(429, quota429([])).failure).toBe('rate_unknown');
    expect(classifyHttpError(429, '<html>Too Many Requests</html>').failure).toBe('rate_unknown');
  });

  it('falls back to the retry hint in prose when RetryInfo is absent', () => {
    const body = JSON.stringify({ error: { code: 429, message: 'Please retry in 12.5s.' } });
    expect(classifyHttpError(429, body)).toMatchObject({ failure: 'rate_unknown', retryAfterMs: 12_500 });
  });

  it('classifies by status alone when the body is not JSON', () => {
    const cases: Array<[number, string]> = [
      [400, 'bad_request'],
      [401, 'key_invalid'],
      [403, 'key_forbidden'],
      [404, 'model_not_found'],
      [408, 'timeout'],
      [413, 'bad_request'],
      [500, 'internal'],
      [502, 'internal'],
      [503, 'overloaded'],
      [504, 'timeout'],
    ];
    for (const [status, cls] of cases) expect(classifyHttpError(status, 'not json {').failure, String(status)).toBe(cls);
    expect(classifyHttpError(500, '').message).toBe('HTTP 500');
  });

  it('other 400s are bad requests; API_KEY_INVALID only via ErrorInfo or its wording', () => {
    const body = JSON.stringify({ error: { code: 400, message: 'Invalid JSON payload received.', status: 'INVALID_ARGUMENT', details: [{ '@type': 'type.googleapis.com/google.rpc.BadRequest' }] } });
    expect(classifyHttpError(400, body).failure).toBe('bad_request');
    expect(classifyHttpError(400, JSON.stringify({ error: { code: 400, message: 'API key expired. Please renew the API key.' } })).failure).toBe('key_invalid');
    expect(classifyHttpError(400, JSON.stringify([{ error: { code: 400, message: 'x', details: [{ '@type': 'type.googleapis.com/google.rpc.ErrorInfo', reason: 'API_KEY_INVALID' }] } }])).failure).toBe('key_invalid');
  });

  it('403 variants are all key_forbidden', () => {
    for (const status of ['PERMISSION_DENIED', 'SERVICE_DISABLED']) {
      const body = JSON.stringify({ error: { code: 403, message: `Consumer has been suspended (${status})`, status } });
      expect(classifyHttpError(403, body).failure).toBe('key_forbidden');
    }
  });

  it('never keeps a key in the message', () => {
    const secret = ['AIza', 'SyA1234567890abcdefghijklmnopqrstu'].join('');
    const body = JSON.stringify({ error: { code: 400, message: `API key ${secret} bad; see https://x.test/v1?key=${secret}&alt=json and ?key=hunter2` } });
    const out = classifyHttpError(400, body);
    expect(out.message).not.toContain(secret);
    expect(out.message).not.toContain('hunter2');
    expect(out.message).toContain('[redacted]');
    expect(classifyHttpError(502, `<html>${secret}</html>`).message).not.toContain(secret);
    expect(scrubSecrets(`apikey=${secret.slice(4)}`)).not.toContain(secret.slice(4));
  });
});

describe('parseRetryDelay', () => {
  it('reads JSON and proto durations, rejects garbage', () => {
    expect(parseRetryDelay('37s')).toBe(37_000);
    expect(parseRetryDelay({ seconds: '2', nanos: 500_000_000 })).toBe(2_500);
    expect(parseRetryDelay('soon')).toBeNull();
    expect(parseRetryDelay(undefined)).toBeNull();
  });
});

describe('classifyTransportError', () => {
  const withCause = (message: string, cause: unknown): Error => new Error(message, { cause });
  const coded = (code: string): Error => Object.assign(new Error(`connect ${code} 127.0.0.1:1`), { code });

  it('aborts and timeouts => timeout', () => {
    expect(classifyTransportError(new DOMException('This operation was aborted', 'AbortError')).failure).toBe('timeout');
    expect(classifyTransportError(new DOMException('The operation timed out.', 'TimeoutError')).failure).toBe('timeout');
    expect(classifyTransportError(new Error('request timed out after 200ms')).failure).toBe('timeout');
    expect(classifyTransportError(withCause('fetch failed', coded('UND_ERR_HEADERS_TIMEOUT'))).failure).toBe('timeout');
  });

  it('connection failures, including in err.cause => network with the code', () => {
    for (const code of ['ECONNREFUSED', 'ECONNRESET', 'ENOTFOUND', 'EAI_AGAIN', 'EPIPE', 'UND_ERR_SOCKET']) {
      const out = classifyTransportError(new TypeError('fetch failed', { cause: coded(code) }));
      expect(out).toMatchObject({ failure: 'network', status: null });
      expect(out.message).toContain(code);
    }
    expect(classifyTransportError(new TypeError('fetch failed')).failure).toBe('network');
  });

  it('anything else => network with a generic message', () => {
    for (const weird of [undefined, null, 42, 'boom', { weird: true }, new Error('key=AIzaSyA1234567890abcdefghijkl leaked')]) {
      const out = classifyTransportError(weird);
      expect(out.failure).toBe('network');
      expect(out.message).not.toContain('AIza');
    }
  });

  it('survives a cyclic cause chain', () => {
    const a = new Error('a') as Error & { cause?: unknown };
    a.cause = a;
    expect(classifyTransportError(a).failure).toBe('network');
  });
});

describe('classifyResponse', () => {
  const usageMetadata = { promptTokenCount: 7, candidatesTokenCount: 3, totalTokenCount: 40, thoughtsTokenCount: 30, cachedContentTokenCount: 5 };
  const ok = {
    candidates: [
      {
        content: { role: 'model', parts: [{ text: 'hmm', thought: true }, { text: 'Hello, ' }, { text: 'world', thoughtSignature: 'c2ln' }] },
        finishReason: 'STOP',
        safetyRatings: [{ category: 'HARM_CATEGORY_HARASSMENT', probability: 'NEGLIGIBLE' }],
      },
    ],
    usageMetadata,
    modelVersion: 'gemini-3-flash',
    responseId: 'resp-1',
  };

  it('success: text joined without thoughts; parts as given; usage with thoughts and cache; ids kept', () => {
    expect(classifyResponse(ok)).toEqual({
      kind: 'success',
      text: 'Hello, world',
      parts: ok.candidates[0]?.content.parts,
      usage: { promptTokens: 7, candidatesTokens: 3, totalTokens: 40, thoughtsTokens: 30, cachedTokens: 5 },
      finishReason: 'STOP',
      safetyRatings: ok.candidates[0]?.safetyRatings,
      modelVersion: 'gemini-3-flash',
      responseId: 'resp-1',
    });
  });

  it('a function call with no text is a success; its id, args and thought signature are kept', () => {
    const call = { functionCall: { name: 'get_weather', args: { city: 'Paris' }, id: 'fc-1' }, thoughtSignature: 'c2lnbmF0dXJl' };
    const out = classifyResponse({ candidates: [{ content: { role: 'model', parts: [call] }, finishReason: 'STOP' }] });
    expect(out).toMatchObject({ kind: 'success', text: '', parts: [call] });
  });

  it('code execution parts pass through; fields quotaflow does not know are kept', () => {
    const parts = [{ executableCode: { language: 'PYTHON', code: 'print(2)' } }, { codeExecutionResult: { outcome: 'OUTCOME_OK', output: '2' }, partMetadata: { k: 1 } }, { text: '2' }];
    expect(classifyResponse({ candidates: [{ content: { parts } }] })).toMatchObject({ kind: 'success', text: '2', parts });
  });

  it('grounding and citation metadata are passed on when present, absent otherwise', () => {
    const groundingMetadata = { webSearchQueries: ['weather paris'], groundingChunks: [{ web: { uri: 'https://example.test', title: 'x' } }] };
    const citationMetadata = { citations: [{ startIndex: 0, endIndex: 5, uri: 'https://example.test' }] };
    const out = classifyResponse({ candidates: [{ content: { parts: [{ text: 'x' }] }, groundingMetadata, citationMetadata }] });
    expect(out).toMatchObject({ kind: 'success', groundingMetadata, citationMetadata });
    const plain = classifyResponse({ candidates: [{ content: { parts: [{ text: 'x' }] } }] });
    expect(plain).not.toHaveProperty('groundingMetadata');
    expect(plain).not.toHaveProperty('citationMetadata');
  });

  it('missing counts are 0; no candidates is an empty success', () => {
    expect(classifyResponse({ candidates: [{ content: { parts: [{ text: 'x' }] } }] })).toMatchObject({
      text: 'x',
      usage: { promptTokens: 0, candidatesTokens: 0, totalTokens: 0, thoughtsTokens: 0, cachedTokens: 0 },
      finishReason: null,
      modelVersion: null,
      responseId: null,
      safetyRatings: [],
    });
    expect(classifyResponse({})).toMatchObject({ kind: 'success', text: '', parts: [] });
  });

  it('prompt blocks and withheld answers => blocked; other finish reasons are answers', () => {
    for (const reason of ['SAFETY', 'OTHER', 'BLOCKLIST', 'PROHIBITED_CONTENT', 'JAILBREAK']) {
      expect(classifyResponse({ promptFeedback: { blockReason: reason } }), reason).toMatchObject({ kind: 'failure', failure: 'blocked', status: 200, message: `prompt blocked: ${reason}` });
    }
    for (const reason of ['SAFETY', 'PROHIBITED_CONTENT', 'BLOCKLIST', 'SPII', 'RECITATION', 'IMAGE_SAFETY']) {
      const out = classifyResponse({ candidates: [{ finishReason: reason, content: { parts: [{ text: 'partial' }] } }] });
      expect(out, reason).toMatchObject({ kind: 'failure', failure: 'blocked', message: `response blocked: ${reason}` });
    }
    for (const reason of ['STOP', 'MAX_TOKENS', 'MALFORMED_FUNCTION_CALL', 'LANGUAGE']) {
      expect(classifyResponse({ candidates: [{ finishReason: reason, content: { parts: [{ text: 'cut' }] } }] }), reason).toMatchObject({ kind: 'success', finishReason: reason });
    }
  });

  it('a non-object response is a failure, not a throw; a part that is not an object is skipped', () => {
    expect(classifyResponse(null)).toMatchObject({ kind: 'failure', failure: 'internal' });
    expect(classifyResponse('text')).toMatchObject({ kind: 'failure', failure: 'internal' });
    expect(classifyResponse({ candidates: [{ content: { parts: ['x', { text: 'y' }] } }] })).toMatchObject({ text: 'y', parts: [{ text: 'y' }] });
  });
});

import { describe, expect, it } from 'vitest';
import type { AnswerEvent } from '../../src/api/compat/answer-events.js';
import { countTokensRequest, geminiGenerationRequest } from '../../src/api/compat/gemini-request.js';
import { blockedResponse, chunkResponse, finalChunkResponse, generateContentResponse, usageMetadata } from '../../src/api/compat/gemini-response.js';
import { modelAction } from '../../src/api/compat/gemini-routes.js';
import { geminiStreamEncoder } from '../../src/api/compat/gemini-stream.js';
import type { GenerationResult } from '../../src/core/job.js';
import type { Tenant } from '../../src/core/types.js';
import { ValidationError } from '../../src/errors.js';

const tenant: Tenant = { id: 'acme', keyMode: 'central-only', models: null };
const route = { models: ['gemini-2.5-flash', 'gemini-2.5-pro'], deadlineMs: 30_000, stream: false };

function result(over: Partial<GenerationResult> = {}): GenerationResult {
  return {
    jobId: 'job-7',
    text: 'hello',
    parts: [{ text: 'hello', thoughtSignature: 'c2ln' }],
    model: 'gemini-2.5-pro',
    keyId: 'k1',
    project: 'p1',
    central: false,
    usage: { promptTokens: 10, candidatesTokens: 4, thoughtsTokens: 6, cachedTokens: 2, totalTokens: 20 },
    finishReason: 'STOP',
    safetyRatings: [{ category: 'HARM_CATEGORY_HARASSMENT', probability: 'NEGLIGIBLE' }],
    groundingMetadata: { webSearchQueries: ['q'] },
    modelVersion: 'gemini-2.5-pro-002',
    responseId: 'r-1',
    attempts: [],
    ...over,
  };
}

function errorOf(fn: () => unknown): ValidationError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(ValidationError);
    return err as ValidationError;
  }
  throw new Error('expected a ValidationError');
}

describe('model and method from the path', () => {
  it.each([
    ['gemini-2.5-flash:generateContent', { model: 'gemini-2.5-flash', action: 'generateContent' }],
    ['models/gemini-2.5-flash:streamGenerateContent', { model: 'gemini-2.5-flash', action: 'streamGenerateContent' }],
    ['auto:countTokens', { model: 'auto', action: 'countTokens' }],
  ])('%s', (rest, want) => expect(modelAction(rest)).toEqual(want));

  it.each(['gemini-2.5-flash', 'gemini-2.5-flash:embedContent', ':generateContent'])('refuses %s', (rest) => expect(modelAction(rest)).toBeNull());
});

describe('GenerateContentRequest → quotaflow request', () => {
  it('keeps every Gemini field and adds the routing', () => {
    const body = {
      contents: [{ role: 'user', parts: [{ text: 'hi' }] }],
      systemInstruction: { parts: [{ text: 'sys' }] },
      tools: [{ functionDeclarations: [{ name: 'f', parameters: { type: 'object', properties: { a: { type: 'string' } } } }] }],
      toolConfig: { functionCallingConfig: { mode: 'AUTO' } },
      safetySettings: [{ category: 'HARM_CATEGORY_HARASSMENT', threshold: 'BLOCK_ONLY_HIGH' }],
      generationConfig: { temperature: 0.5, thinkingConfig: { thinkingBudget: 128 } },
      labels: { team: 'support' },
    };
    const req = geminiGenerationRequest(body, tenant, route);
    const { tools: _tools, ...rest } = body;
    expect(req).toMatchObject({ ...rest, tenantId: 'acme', models: route.models, deadlineMs: 30_000, stream: false, lane: 'interactive' });
    // the request schema normalises Schema types to Gemini's upper case
    expect(req.tools).toEqual([{ functionDeclarations: [{ name: 'f', parameters: { type: 'OBJECT', properties: { a: { type: 'STRING' } } } }] }]);
  });

  it('refuses unknown fields, quotaflow’s own included, and project-bound resources', () => {
    const err = errorOf(() =>
      geminiGenerationRequest(
        { contents: [{ parts: [{ fileData: { fileUri: 'https://generativelanguage.googleapis.com/v1beta/files/abc', mimeType: 'application/pdf' } }] }], affinity: 'conversation', cachedContent: 'cachedContents/x', serviceTier: 'flex' },
        tenant,
        route,
      ),
    );
    expect(err.issues).toEqual([
      'Invalid JSON payload received. Unknown name "affinity": Cannot find field.',
      expect.stringContaining('cachedContent: not supported through quotaflow'),
      expect.stringContaining('serviceTier: not supported'),
      expect.stringContaining('contents: Files API uploads'),
    ]);
  });

  it('names the field of a bad value', () => {
    expect(errorOf(() => geminiGenerationRequest({ contents: [{ parts: [{ text: 'x' }] }], generationConfig: { topP: 3 } }, tenant, route)).message).toContain('generationConfig.topP');
    expect(errorOf(() => geminiGenerationRequest([1, 2], tenant, route)).message).toContain('JSON object');
  });

  it('reads a CountTokensRequest in both forms', () => {
    const plain = countTokensRequest({ contents: [{ parts: [{ text: 'count me' }] }] }, tenant);
    const whole = countTokensRequest({ generateContentRequest: { model: 'models/x', contents: [{ parts: [{ text: 'count me' }] }], systemInstruction: { parts: [{ text: 's' }] } } }, tenant);
    expect(plain.contents).toEqual(whole.contents);
    expect(whole.systemInstruction).toEqual({ parts: [{ text: 's' }] });
    expect(errorOf(() => countTokensRequest({ contents: [], generateContentRequest: {} }, tenant)).issues).toEqual(['give contents or generateContentRequest, not both']);
  });
});

describe('result → GenerateContentResponse', () => {
  it('carries parts, finish reason, ratings, grounding, usage, the serving model and the response id', () => {
    expect(generateContentResponse(result())).toEqual({
      candidates: [
        {
          content: { role: 'model', parts: [{ text: 'hello', thoughtSignature: 'c2ln' }] },
          finishReason: 'STOP',
          index: 0,
          safetyRatings: [{ category: 'HARM_CATEGORY_HARASSMENT', probability: 'NEGLIGIBLE' }],
          groundingMetadata: { webSearchQueries: ['q'] },
        },
      ],
      usageMetadata: { promptTokenCount: 10, candidatesTokenCount: 4, totalTokenCount: 20, thoughtsTokenCount: 6, cachedContentTokenCount: 2 },
      modelVersion: 'gemini-2.5-pro',
      responseId: 'r-1',
    });
  });

  it('leaves out zero counts and fills a missing total and response id', () => {
    expect(usageMetadata({ promptTokens: 3, candidatesTokens: 2, thoughtsTokens: 0, cachedTokens: 0, totalTokens: 0 })).toEqual({ promptTokenCount: 3, candidatesTokenCount: 2, totalTokenCount: 5 });
    expect(generateContentResponse(result({ responseId: null })).responseId).toBe('job-7');
  });

  it('ends a stream with finish, usage and model, on an empty text part', () => {
    const final = finalChunkResponse(result());
    expect(final).toMatchObject({ candidates: [{ content: { role: 'model', parts: [{ text: '' }] }, finishReason: 'STOP' }], modelVersion: 'gemini-2.5-pro' });
    expect(chunkResponse([{ text: 'he' }])).toEqual({ candidates: [{ content: { role: 'model', parts: [{ text: 'he' }] }, index: 0 }] });
  });

  it('shows blocks as Gemini does', () => {
    expect(blockedResponse({ scope: 'prompt', reason: 'SAFETY' }, 'job-1')).toEqual({ promptFeedback: { blockReason: 'SAFETY' }, responseId: 'job-1' });
    expect(blockedResponse({ scope: 'response', reason: 'RECITATION' }, 'job-1')).toEqual({ candidates: [{ finishReason: 'RECITATION', index: 0 }], responseId: 'job-1' });
  });
});

describe('the stream encoder', () => {
  const run = (form: 'sse' | 'array', events: AnswerEvent[]): string => {
    const enc = geminiStreamEncoder(form, 'job-7');
    return [...enc.start(), ...events.flatMap((e) => enc.event(e)), ...enc.end()].join('');
  };
  const chunks: AnswerEvent[] = [
    { type: 'chunk', parts: [{ text: 'hel' }] },
    { type: 'chunk', parts: [{ text: 'lo' }] },
  ];

  it('writes SSE events and a final one with usage', () => {
    const events = run('sse', [...chunks, { type: 'done', result: result() }]).split('\r\n\r\n').filter(Boolean);
    expect(events).toHaveLength(3);
    const last = JSON.parse(events[2]?.slice('data: '.length) ?? '') as { usageMetadata: unknown };
    expect(last.usageMetadata).toMatchObject({ totalTokenCount: 20 });
  });

  it('writes a JSON array, and the whole answer when nothing was streamed before it', () => {
    const whole = JSON.parse(run('array', [{ type: 'done', result: result() }])) as unknown[];
    expect(whole).toEqual([generateContentResponse(result())]);
    expect(JSON.parse(run('array', [...chunks, { type: 'done', result: result() }]))).toHaveLength(3);
  });

  it('ends with an error body when the answer failed after chunks', () => {
    const items = JSON.parse(run('array', [...chunks, { type: 'failed', problem: { kind: 'interrupted', message: 'interrupted' } }])) as Array<{ error?: unknown }>;
    expect(items.at(-1)).toEqual({ error: { code: 503, message: 'interrupted', status: 'UNAVAILABLE' } });
  });
});

import { describe, expect, it } from 'vitest';
import { MIN_DEADLINE_MS, parseGenerationRequest, toContents, usesProjectResources, type GenerationRequest } from '../../src/core/request.js';
import { ValidationError } from '../../src/errors.js';

const b64 = (bytes: number): string => Buffer.alloc(bytes, 7).toString('base64');
const FILES_URI = 'https://generativelanguage.googleapis.com/v1beta/files/abc123';

/** The issues a rejected request lists; fails the test when the request is accepted. */
function issuesOf(input: unknown, caps?: Parameters<typeof parseGenerationRequest>[1]): readonly string[] {
  try {
    parseGenerationRequest(input, caps);
  } catch (err) {
    expect(err).toBeInstanceOf(ValidationError);
    if (err instanceof ValidationError) return err.issues;
  }
  throw new Error('expected the request to be refused');
}

const base = { tenantId: 'acme' };

/** One request using every part kind, in a multi-turn tool-calling conversation. */
const everyKind = {
  ...base,
  conversationId: 'conv-1',
  contents: [
    {
      role: 'user',
      parts: [
        { text: 'What is in these?' },
        { text: '' },
        { inlineData: { mimeType: 'image/png', data: b64(30) } },
        { inlineData: { mimeType: 'application/pdf', data: b64(12) } },
        { fileData: { mimeType: 'video/mp4', fileUri: 'https://www.youtube.com/watch?v=abc' }, videoMetadata: { startOffset: '10s', endOffset: '40.5s', fps: 2 } },
        { fileData: { fileUri: 'gs://bucket/report.pdf' } },
      ],
    },
    {
      role: 'model',
      parts: [
        { text: 'Let me think.', thought: true },
        { functionCall: { name: 'get_weather', args: { city: 'Paris' }, id: 'call-1' }, thoughtSignature: 'c2lnbmF0dXJl' },
        { executableCode: { language: 'PYTHON', code: 'print(1)' } },
        { codeExecutionResult: { outcome: 'OUTCOME_OK', output: '1\n' } },
      ],
    },
    { role: 'user', parts: [{ functionResponse: { name: 'get_weather', response: { output: { tempC: 21 } }, id: 'call-1' } }] },
  ],
  systemInstruction: { parts: [{ text: 'Be brief.' }] },
  tools: [
    {
      functionDeclarations: [
        {
          name: 'get_weather',
          description: 'Weather for a city',
          parameters: { type: 'object', properties: { city: { type: 'string' }, days: { type: 'integer', minimum: 1 } }, required: ['city'] },
        },
        { name: 'lookup', parametersJsonSchema: { type: 'object', properties: { q: { type: 'string' } } } },
      ],
    },
    { googleSearch: {} },
    { codeExecution: {} },
    { urlContext: {} },
  ],
  toolConfig: { functionCallingConfig: { mode: 'ANY', allowedFunctionNames: ['get_weather'] } },
  safetySettings: [{ category: 'HARM_CATEGORY_HARASSMENT', threshold: 'BLOCK_ONLY_HIGH' }],
  generationConfig: {
    temperature: 0.4,
    topP: 0.9,
    topK: 40,
    maxOutputTokens: 512,
    stopSequences: ['END'],
    candidateCount: 1,
    responseMimeType: 'application/json',
    responseSchema: { type: 'ARRAY', items: { type: 'OBJECT', properties: { name: { type: 'STRING' } }, propertyOrdering: ['name'] }, minItems: '1' },
    thinkingConfig: { includeThoughts: true, thinkingLevel: 'LOW' },
    seed: 7,
    presencePenalty: 0.5,
    frequencyPenalty: -0.5,
    responseLogprobs: true,
    logprobs: 3,
    mediaResolution: 'MEDIA_RESOLUTION_MEDIUM',
    responseModalities: ['TEXT'],
  },
  labels: { team: 'support', 'cost-centre': 'eu_1' },
  models: ['gemini-2.5-flash'],
  deadlineMs: 30_000,
  priority: 3,
  maxWaitForPreferredMs: 1_000,
  lane: 'batch',
  stream: true,
  affinity: 'conversation',
};

describe('parseGenerationRequest: accepted', () => {
  it('takes every part kind and every request field, and reads them back unchanged', () => {
    const req = parseGenerationRequest(everyKind);
    expect(req.contents).toEqual(everyKind.contents);
    expect(req.tools).toHaveLength(4);
    expect(req.lane).toBe('batch');
    expect(req.stream).toBe(true);
    expect(req.affinity).toBe('conversation');
    // schema types are normalised to Gemini's upper case; int64 counts read as numbers
    expect(req.tools?.[0]?.functionDeclarations?.[0]?.parameters).toMatchObject({ type: 'OBJECT', properties: { city: { type: 'STRING' } } });
    expect(req.generationConfig?.responseSchema).toMatchObject({ type: 'ARRAY', minItems: 1 });
  });

  it('fills lane and stream defaults; a string is one user turn', () => {
    const req: GenerationRequest = parseGenerationRequest({ ...base, contents: 'hi' });
    expect(req).toMatchObject({ lane: 'interactive', stream: false });
    expect(toContents(req.contents)).toEqual([{ role: 'user', parts: [{ text: 'hi' }] }]);
  });

  it('accepts affinity by project or key, and a context cache served by its project', () => {
    expect(parseGenerationRequest({ ...base, contents: 'x', affinity: { keyId: 'k-1' } }).affinity).toEqual({ keyId: 'k-1' });
    const cached = parseGenerationRequest({ ...base, contents: 'x', cachedContent: 'cachedContents/abc-123', affinity: { project: 'proj-a' } });
    expect(usesProjectResources(cached)).toBe(true);
    const uploaded = parseGenerationRequest({ ...base, contents: [{ parts: [{ fileData: { mimeType: 'application/pdf', fileUri: FILES_URI } }] }], affinity: { project: 'proj-a' } });
    expect(usesProjectResources(uploaded)).toBe(true);
    expect(usesProjectResources(parseGenerationRequest({ ...base, contents: 'x' }))).toBe(false);
  });

  it('allows a few empty text parts', () => {
    const parts = Array.from({ length: 50 }, () => ({ text: '' }));
    expect(parseGenerationRequest({ ...base, contents: [{ parts }] }).contents).toHaveLength(1);
  });
});

describe('parseGenerationRequest: refused, naming the field', () => {
  const cases: Array<[string, unknown, RegExp]> = [
    ['an unknown part kind', { ...base, contents: [{ parts: [{ text: 'x' }, { image: 'cat.png' }] }] }, /^contents\.0\.parts\.1\.image: unknown part field/],
    ['a malformed responseSchema', { ...base, contents: 'x', generationConfig: { responseMimeType: 'application/json', responseSchema: { type: 'OBJECT', properties: { a: { type: 'strnig' } } } } }, /^generationConfig\.responseSchema\.properties\.a\.type: unknown type "strnig"/],
    ['an ARRAY schema without items', { ...base, contents: 'x', generationConfig: { responseMimeType: 'application/json', responseSchema: { type: 'ARRAY' } } }, /^generationConfig\.responseSchema\.items: /],
    ['required naming no property', { ...base, contents: 'x', generationConfig: { responseMimeType: 'application/json', responseSchema: { type: 'OBJECT', properties: { a: { type: 'STRING' } }, required: ['b'] } } }, /^generationConfig\.responseSchema\.required\.0: "b"/],
    ['a schema with type and anyOf', { ...base, contents: 'x', generationConfig: { responseMimeType: 'application/json', responseSchema: { type: 'STRING', anyOf: [{ type: 'STRING' }] } } }, /^generationConfig\.responseSchema\.anyOf: /],
    ['a schema without a JSON MIME type', { ...base, contents: 'x', generationConfig: { responseSchema: { type: 'STRING' } } }, /^generationConfig\.responseMimeType: /],
    ['candidateCount 2', { ...base, contents: 'x', generationConfig: { candidateCount: 2 } }, /^generationConfig\.candidateCount: .*one candidate/],
    ["affinity 'conversation' without a conversationId", { ...base, contents: 'x', affinity: 'conversation' }, /^affinity: .*conversationId/],
    ['affinity in two forms at once', { ...base, contents: 'x', affinity: { project: 'p', keyId: 'k' } }, /^affinity: .*one form only/],
    ['a deadline below the minimum', { ...base, contents: 'x', deadlineMs: MIN_DEADLINE_MS - 1 }, new RegExp(`^deadlineMs: .*at least ${MIN_DEADLINE_MS}`)],
    ['an unsupported MIME type', { ...base, contents: [{ parts: [{ inlineData: { mimeType: 'image/bmp', data: b64(3) } }] }] }, /^contents\.0\.parts\.0\.inlineData\.mimeType: unsupported MIME type "image\/bmp"/],
    ['data that is not base64', { ...base, contents: [{ parts: [{ inlineData: { mimeType: 'image/png', data: 'data:image/png;base64,AAAA' } }] }] }, /^contents\.0\.parts\.0\.inlineData\.data: data must be base64/],
    ['a part with two kinds of data', { ...base, contents: [{ parts: [{ text: 'x', functionCall: { name: 'f' } }] }] }, /^contents\.0\.parts\.0: .*found text and functionCall/],
    ['a part with no data', { ...base, contents: [{ parts: [{ thought: true }] }] }, /^contents\.0\.parts\.0: a part needs one of/],
    ['the old function role', { ...base, contents: [{ role: 'function', parts: [{ text: 'x' }] }] }, /^contents\.0\.role: .*'user' turn/],
    ['videoMetadata on a text part', { ...base, contents: [{ parts: [{ text: 'x', videoMetadata: { fps: 1 } }] }] }, /^contents\.0\.parts\.0\.videoMetadata: /],
    ['media in the system instruction', { ...base, contents: 'x', systemInstruction: { parts: [{ inlineData: { mimeType: 'image/png', data: b64(3) } }] } }, /^systemInstruction\.parts\.0: /],
    ['six stop sequences', { ...base, contents: 'x', generationConfig: { stopSequences: ['a', 'b', 'c', 'd', 'e', 'f'] } }, /^generationConfig\.stopSequences: at most 5/],
    ['an IMAGE response modality', { ...base, contents: 'x', generationConfig: { responseModalities: ['TEXT', 'IMAGE'] } }, /^generationConfig\.responseModalities\.1: .*text only/],
    ['thinkingBudget with thinkingLevel', { ...base, contents: 'x', generationConfig: { thinkingConfig: { thinkingBudget: 100, thinkingLevel: 'LOW' } } }, /^generationConfig\.thinkingConfig: /],
    ['an unknown generationConfig field', { ...base, contents: 'x', generationConfig: { temprature: 1 } }, /^generationConfig\.temprature: unknown field/],
    ['a label key with upper case', { ...base, contents: 'x', labels: { Team: 'a' } }, /^labels\.Team: label keys/],
    ['a cache name that is not a resource name', { ...base, contents: 'x', cachedContent: 'my-cache', affinity: { project: 'p' } }, /^cachedContent: /],
    ['a context cache without project affinity', { ...base, contents: 'x', cachedContent: 'cachedContents/c1' }, /^affinity: .*project/],
    ['a Files API upload without project affinity', { ...base, contents: [{ parts: [{ fileData: { fileUri: FILES_URI } }] }], affinity: 'conversation', conversationId: 'c' }, /^affinity: .*project/],
    ['tools next to a context cache', { ...base, contents: 'x', cachedContent: 'cachedContents/c1', affinity: { project: 'p' }, tools: [{ codeExecution: {} }] }, /^tools: .*cachedContent/],
    ['an allowed function nobody declared', { ...base, contents: 'x', tools: [{ functionDeclarations: [{ name: 'f' }] }], toolConfig: { functionCallingConfig: { mode: 'ANY', allowedFunctionNames: ['g'] } } }, /^toolConfig\.functionCallingConfig\.allowedFunctionNames\.0: "g"/],
    ['a function declared twice', { ...base, contents: 'x', tools: [{ functionDeclarations: [{ name: 'f' }] }, { functionDeclarations: [{ name: 'f' }] }] }, /^tools\.1\.functionDeclarations\.0\.name: .*twice/],
    ['a function name with a space', { ...base, contents: 'x', tools: [{ functionDeclarations: [{ name: 'get weather' }] }] }, /^tools\.0\.functionDeclarations\.0\.name: /],
    ['a file URI that is not a URL', { ...base, contents: [{ parts: [{ fileData: { fileUri: 'files/abc' } }] }] }, /^contents\.0\.parts\.0\.fileData\.fileUri: /],
  ];
  for (const [what, input, expected] of cases) {
    it(what, () => {
      const issues = issuesOf(input);
      expect(issues.some((i) => expected.test(i)), issues.join('\n')).toBe(true);
    });
  }

  it('lists every problem, each with its path', () => {
    const issues = issuesOf({ tenantId: 'acme', contents: [{ parts: [{ blob: 1 }] }], deadlineMs: 5, generationConfig: { candidateCount: 3 }, lane: 'fast' });
    expect(issues.length).toBeGreaterThanOrEqual(4);
    for (const path of ['contents.0.parts.0.blob', 'deadlineMs', 'generationConfig.candidateCount', 'lane']) expect(issues.some((i) => i.startsWith(`${path}: `)), path).toBe(true);
  });

  it('inline data over the per-job cap names the part and says to send fileData', () => {
    const half = { inlineData: { mimeType: 'image/png', data: b64(600) } };
    const issues = issuesOf({ ...base, contents: [{ parts: [half] }, { parts: [{ text: 'and' }, half] }] }, { maxInlineBytes: 1_000 });
    expect(issues).toHaveLength(1);
    expect(issues[0]).toMatch(/^contents\.1\.parts\.1\.inlineData\.data: inline data adds up to 1200 bytes, over the limit of 1000 bytes/);
    expect(issues[0]).toMatch(/Files API .*fileData/);
  });

  it('the default inline cap is 4 MiB of decoded bytes', () => {
    const part = (bytes: number): unknown => ({ ...base, contents: [{ parts: [{ inlineData: { mimeType: 'application/pdf', data: b64(bytes) } }] }] });
    expect(() => parseGenerationRequest(part(4 * 1024 * 1024))).not.toThrow();
    expect(issuesOf(part(4 * 1024 * 1024 + 3))[0]).toMatch(/over the limit of 4\.0 MiB/);
  });

  it('850,000 empty parts are refused by the parts cap', () => {
    const parts = Array.from({ length: 850_000 }, () => ({ text: '' }));
    expect(issuesOf({ ...base, contents: [{ parts }] })).toEqual(['contents: 850000 parts in all, over the limit of 2000']);
  });

  it('caps contents and nesting before validating', () => {
    const turns = Array.from({ length: 11 }, () => ({ parts: [{ text: 'x' }] }));
    expect(issuesOf({ ...base, contents: turns }, { maxContents: 10 })).toEqual(['contents: 11 contents, over the limit of 10']);
    let args: Record<string, unknown> = {};
    for (let i = 0; i < 100; i++) args = { a: args };
    const [issue] = issuesOf({ ...base, contents: [{ parts: [{ functionCall: { name: 'f', args } }] }] });
    expect(issue).toMatch(/^contents\.0\.parts\.0\.functionCall\.args(\.a)+: nested more than 64 levels deep$/);
  });
});

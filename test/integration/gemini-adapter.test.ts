import { GEMINI_ERRORS_DIR } from '../helpers/fixtures.js';
import { readFileSync, readdirSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createGeminiPool, type GeminiPort } from '../../src/adapters/gemini/index.js';
import type { FailureClass, Outcome } from '../../src/core/outcome.js';
import { parseGenerationRequest, type GenerationRequest } from '../../src/core/request.js';

/**
 * The real @google/genai SDK against a tiny local server that answers each
 * model name with a canned status and body: proves the adapter's mapping,
 * that SDK retries are off, and that secrets stay out of outcomes.
 */
const FIXTURES = GEMINI_ERRORS_DIR;
// assembled at runtime so no key-shaped literal sits in the repository
const SECRET = ['AIza', 'SyTEST0123456789abcdefghijklmnopq'].join('');
const ROTATED = ['AIza', 'SyROTATED0123456789abcdefghijklmn'].join('');

const SUCCESS = {
  candidates: [{ content: { role: 'model', parts: [{ text: 'Hello ' }, { text: 'there' }] }, finishReason: 'STOP', index: 0 }],
  usageMetadata: { promptTokenCount: 11, candidatesTokenCount: 2, totalTokenCount: 13 },
  modelVersion: 'ok',
};
const SAFETY = { candidates: [{ finishReason: 'SAFETY', index: 0 }], usageMetadata: { promptTokenCount: 5, totalTokenCount: 5 } };
const PROMPT_BLOCKED = { promptFeedback: { blockReason: 'PROHIBITED_CONTENT' }, usageMetadata: { promptTokenCount: 5 } };
const LEAKY = { error: { code: 400, message: `Bad key ${SECRET} in https://x.test/v1?key=${SECRET}`, status: 'INVALID_ARGUMENT' } };

interface Canned {
  status: number;
  body: string;
}
const canned = new Map<string, Canned>([
  ['ok', { status: 200, body: JSON.stringify(SUCCESS) }],
  ['safety', { status: 200, body: JSON.stringify(SAFETY) }],
  ['prompt-blocked', { status: 200, body: JSON.stringify(PROMPT_BLOCKED) }],
  ['leaky', { status: 400, body: JSON.stringify(LEAKY) }],
  ['html-502', { status: 502, body: '<html><body>Bad Gateway</body></html>' }],
]);
const fixtureFiles = readdirSync(FIXTURES).filter((f) => f.endsWith('.json'));
for (const f of fixtureFiles) canned.set(`fx-${f.replace(/\.json$/, '')}`, { status: Number(f.slice(0, 3)), body: readFileSync(`${FIXTURES}${f}`, 'utf8') });

const EXPECTED: Record<string, FailureClass> = {
  '400-api-key-invalid': 'key_invalid',
  '403-key-leaked': 'key_forbidden',
  '404-model-not-found': 'model_not_found',
  '429-no-details': 'rate_unknown',
  '429-rpd-per-day': 'rate_day',
  '429-tpm-per-minute': 'rate_minute',
  '500-internal': 'internal',
  '503-high-demand': 'overloaded',
  '503-overloaded': 'overloaded',
};

interface Seen {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: string;
}
let seen: Seen[] = [];
let server: Server;
let baseUrl: string;
let closedPortUrl: string;
const secrets = new Map<string, string>([['k1', SECRET]]);

function listen(s: Server): Promise<number> {
  return new Promise((resolve) => s.listen(0, '127.0.0.1', () => resolve((s.address() as AddressInfo).port)));
}

beforeAll(async () => {
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
    req.on('end', () => {
      seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body });
      // /v1beta/models/<model>:generateContent  or  /v1beta/models/<model> (models.get)
      const m = /\/models\/([^/:?]+)(:generateContent)?/.exec(req.url ?? '');
      const model = m?.[1] ?? '';
      if (model === 'hang') return; // never answers: the client's timeout must fire
      if (!m?.[2] && req.method === 'GET' && !model.startsWith('fx-')) {
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ name: `models/${model}`, displayName: model }));
        return;
      }
      const answer = canned.get(model) ?? { status: 404, body: JSON.stringify({ error: { code: 404, message: `no canned model ${model}`, status: 'NOT_FOUND' } }) };
      const type = answer.body.startsWith('<') ? 'text/html' : 'application/json; charset=UTF-8';
      res.writeHead(answer.status, { 'content-type': type }).end(answer.body);
    });
  });
  baseUrl = `http://127.0.0.1:${await listen(server)}`;
  const closed = createServer();
  closedPortUrl = `http://127.0.0.1:${await listen(closed)}`;
  await new Promise<void>((resolve) => closed.close(() => resolve()));
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

beforeEach(() => {
  seen = [];
  secrets.set('k1', SECRET);
});

const pool = (overrides: { baseUrl?: string; timeoutMs?: number } = {}): GeminiPort =>
  createGeminiPool({ baseUrl: overrides.baseUrl ?? baseUrl, timeoutMs: overrides.timeoutMs ?? 5_000, secretOf: (id) => secrets.get(id) });
const request: GenerationRequest = { tenantId: 't1', contents: 'Say hello', lane: 'interactive', stream: false };

function expectNoSecret(outcome: Outcome): void {
  if (outcome.kind === 'failure') {
    expect(outcome.message).not.toContain(SECRET);
    expect(outcome.message).not.toContain(SECRET.slice(4));
  }
}

describe('gemini adapter through the real SDK', () => {
  it('maps a success: text, usage, finish reason; the key travels in x-goog-api-key; one request', async () => {
    const { outcome, latencyMs } = await pool().generate({ keyId: 'k1', model: 'ok', request });
    expect(outcome).toEqual({
      kind: 'success',
      text: 'Hello there',
      parts: [{ text: 'Hello ' }, { text: 'there' }],
      usage: { promptTokens: 11, candidatesTokens: 2, totalTokens: 13, thoughtsTokens: 0, cachedTokens: 0 },
      finishReason: 'STOP',
      safetyRatings: [],
      modelVersion: 'ok',
      responseId: null,
    });
    expect(latencyMs).toBeGreaterThanOrEqual(0);
    expect(seen).toHaveLength(1);
    expect(seen[0]?.headers['x-goog-api-key']).toBe(SECRET);
    expect(seen[0]?.url).toContain('/models/ok:generateContent');
    expect(seen[0]?.url).not.toContain(SECRET);
  });

  it('passes systemInstruction and generationConfig through to the request body', async () => {
    await pool().generate({
      keyId: 'k1',
      model: 'ok',
      request: { ...request, systemInstruction: 'Be brief.', generationConfig: { temperature: 0.2, maxOutputTokens: 64 } },
    });
    const body = JSON.parse(seen[0]?.body ?? '{}') as { systemInstruction?: { parts?: Array<{ text?: string }> }; generationConfig?: Record<string, unknown>; contents?: unknown };
    expect(body.systemInstruction?.parts?.[0]?.text).toBe('Be brief.');
    expect(body.generationConfig).toMatchObject({ temperature: 0.2, maxOutputTokens: 64 });
    expect(body.contents).toEqual([{ role: 'user', parts: [{ text: 'Say hello' }] }]);
  });

  it('maps the whole request: contents unchanged, tools, tool config, safety, labels and generation config in Gemini form', async () => {
    const contents = [
      { role: 'user', parts: [{ text: 'Weather?' }, { inlineData: { mimeType: 'image/png', data: 'iVBORw0KGgo=' } }, { fileData: { mimeType: 'video/mp4', fileUri: 'https://www.youtube.com/watch?v=x' }, videoMetadata: { startOffset: '1s', fps: 2 } }] },
      {
        role: 'model',
        parts: [
          { text: 'thinking', thought: true },
          { functionCall: { name: 'get_weather', args: { city: 'Paris' }, id: 'fc-1' }, thoughtSignature: 'c2lnbmF0dXJl' },
          { executableCode: { language: 'PYTHON', code: 'print(1)' } },
          { codeExecutionResult: { outcome: 'OUTCOME_OK', output: '1' } },
        ],
      },
      { role: 'user', parts: [{ functionResponse: { name: 'get_weather', response: { tempC: 21 }, id: 'fc-1' } }] },
    ];
    const full = parseGenerationRequest({
      tenantId: 't1',
      contents,
      systemInstruction: 'Be brief.',
      tools: [{ functionDeclarations: [{ name: 'get_weather', parameters: { type: 'object', properties: { city: { type: 'string' }, days: { type: 'array', items: { type: 'integer' }, maxItems: 7 } } } }] }, { googleSearch: {} }, { urlContext: {} }],
      toolConfig: { functionCallingConfig: { mode: 'ANY', allowedFunctionNames: ['get_weather'] } },
      safetySettings: [{ category: 'HARM_CATEGORY_DANGEROUS_CONTENT', threshold: 'BLOCK_NONE' }],
      labels: { team: 'support' },
      generationConfig: {
        temperature: 0.3,
        stopSequences: ['END'],
        responseMimeType: 'application/json',
        responseSchema: { type: 'object', properties: { answer: { type: 'string' } }, required: ['answer'] },
        thinkingConfig: { includeThoughts: true, thinkingLevel: 'LOW' },
        mediaResolution: 'MEDIA_RESOLUTION_LOW',
        seed: 3,
      },
    });
    expect((await pool().generate({ keyId: 'k1', model: 'ok', request: full })).outcome.kind).toBe('success');
    const body = JSON.parse(seen[0]?.body ?? '{}') as Record<string, unknown>;
    expect(body.contents).toEqual(contents);
    expect(body.systemInstruction).toMatchObject({ parts: [{ text: 'Be brief.' }] });
    expect(body.tools).toEqual([
      { functionDeclarations: [{ name: 'get_weather', parameters: { type: 'OBJECT', properties: { city: { type: 'STRING' }, days: { type: 'ARRAY', items: { type: 'INTEGER' }, maxItems: '7' } } } }] },
      { googleSearch: {} },
      { urlContext: {} },
    ]);
    expect(body.toolConfig).toEqual({ functionCallingConfig: { mode: 'ANY', allowedFunctionNames: ['get_weather'] } });
    expect(body.safetySettings).toEqual([{ category: 'HARM_CATEGORY_DANGEROUS_CONTENT', threshold: 'BLOCK_NONE' }]);
    expect(body.labels).toEqual({ team: 'support' });
    expect(body.generationConfig).toEqual({
      temperature: 0.3,
      stopSequences: ['END'],
      responseMimeType: 'application/json',
      responseSchema: { type: 'OBJECT', properties: { answer: { type: 'STRING' } }, required: ['answer'] },
      thinkingConfig: { includeThoughts: true, thinkingLevel: 'LOW' },
      mediaResolution: 'MEDIA_RESOLUTION_LOW',
      seed: 3,
    });
    // the SDK's own follow-up calls are off and are not sent upstream
    expect(seen[0]?.body).not.toMatch(/automaticFunctionCalling|automaticContinuation|abortSignal/);
  });

  it('sends a context cache by its resource name', async () => {
    const cached = parseGenerationRequest({ tenantId: 't1', contents: 'hi', cachedContent: 'cachedContents/abc-1', affinity: { project: 'p1' } });
    await pool().generate({ keyId: 'k1', model: 'ok', request: cached });
    expect(JSON.parse(seen[0]?.body ?? '{}')).toMatchObject({ cachedContent: 'cachedContents/abc-1' });
  });

  it('safety blocks become blocked outcomes', async () => {
    const p = pool();
    expect((await p.generate({ keyId: 'k1', model: 'safety', request })).outcome).toMatchObject({ kind: 'failure', failure: 'blocked' });
    expect((await p.generate({ keyId: 'k1', model: 'prompt-blocked', request })).outcome).toMatchObject({ kind: 'failure', failure: 'blocked' });
  });

  for (const f of fixtureFiles) {
    const name = f.replace(/\.json$/, '');
    it(`fixture ${name} => ${EXPECTED[name] ?? '?'}, with exactly one HTTP request`, async () => {
      const { outcome } = await pool().generate({ keyId: 'k1', model: `fx-${name}`, request });
      expect(outcome.kind).toBe('failure');
      if (outcome.kind !== 'failure') return;
      expect(outcome.failure).toBe(EXPECTED[name]);
      expect(outcome.status).toBe(Number(name.slice(0, 3)));
      expect(seen).toHaveLength(1); // 429/5xx are retryable by SDK default: retries must really be off
      expectNoSecret(outcome);
    });
  }

  it('carries RetryInfo and quota values through the SDK error', async () => {
    const { outcome } = await pool().generate({ keyId: 'k1', model: 'fx-429-tpm-per-minute', request });
    expect(outcome).toMatchObject({ failure: 'rate_minute', retryAfterMs: 26_000, violation: { dimension: 'tpm', quotaValue: 250_000 } });
  });

  it('a non-JSON 502 is internal', async () => {
    const { outcome } = await pool().generate({ keyId: 'k1', model: 'html-502', request });
    expect(outcome).toMatchObject({ kind: 'failure', failure: 'internal', status: 502 });
    expect(seen).toHaveLength(1);
  });

  it('scrubs a key the server echoes back', async () => {
    const { outcome } = await pool().generate({ keyId: 'k1', model: 'leaky', request });
    expect(outcome).toMatchObject({ kind: 'failure', failure: 'bad_request' });
    expectNoSecret(outcome);
  });

  it('a server that never answers => timeout', async () => {
    const { outcome } = await pool({ timeoutMs: 200 }).generate({ keyId: 'k1', model: 'hang', request });
    expect(outcome).toMatchObject({ kind: 'failure', failure: 'timeout', status: null });
    expect(seen).toHaveLength(1);
    expectNoSecret(outcome);
  });

  it("the caller's abort signal ends the call as a timeout", async () => {
    const ctrl = new AbortController();
    const pending = pool().generate({ keyId: 'k1', model: 'hang', request, signal: ctrl.signal });
    setTimeout(() => ctrl.abort(), 50);
    expect((await pending).outcome).toMatchObject({ kind: 'failure', failure: 'timeout' });
  });

  it('a closed port => network', async () => {
    const { outcome } = await pool({ baseUrl: closedPortUrl }).generate({ keyId: 'k1', model: 'ok', request });
    expect(outcome).toMatchObject({ kind: 'failure', failure: 'network', status: null, message: 'network error (ECONNREFUSED)' });
    expectNoSecret(outcome);
  });

  it('an unknown key id is a key_invalid outcome, not a throw, and sends nothing', async () => {
    const { outcome } = await pool().generate({ keyId: 'nobody', model: 'ok', request });
    expect(outcome).toMatchObject({ kind: 'failure', failure: 'key_invalid', message: 'no secret for key nobody' });
    expect(seen).toHaveLength(0);
  });

  it('a rotated secret is used at once, and forget() is safe', async () => {
    const p = pool();
    await p.generate({ keyId: 'k1', model: 'ok', request });
    secrets.set('k1', ROTATED);
    await p.generate({ keyId: 'k1', model: 'ok', request });
    p.forget('k1');
    p.forget('never-seen');
    await p.generate({ keyId: 'k1', model: 'ok', request });
    expect(seen.map((s) => s.headers['x-goog-api-key'])).toEqual([SECRET, ROTATED, ROTATED]);
  });

  it('stays correct when the client cache is smaller than the fleet', async () => {
    secrets.set('k2', ROTATED);
    const p = createGeminiPool({ baseUrl, timeoutMs: 5_000, secretOf: (id) => secrets.get(id), maxClients: 1 });
    for (const keyId of ['k1', 'k2', 'k1']) expect((await p.generate({ keyId, model: 'ok', request })).outcome.kind).toBe('success');
    expect(seen.map((s) => s.headers['x-goog-api-key'])).toEqual([SECRET, ROTATED, SECRET]);
  });
});

describe('probe (models.get)', () => {
  it('succeeds with a GET and no generation call', async () => {
    const { outcome } = await pool().probe({ keyId: 'k1', model: 'gemini-2.5-flash' });
    expect(outcome.kind).toBe('success');
    expect(seen).toHaveLength(1);
    expect(seen[0]?.method).toBe('GET');
    expect(seen[0]?.url).not.toContain(':generateContent');
    expect(seen[0]?.headers['x-goog-api-key']).toBe(SECRET);
  });

  it('maps errors the same way as generate', async () => {
    expect((await pool().probe({ keyId: 'k1', model: 'fx-403-key-leaked' })).outcome).toMatchObject({ failure: 'key_forbidden' });
    expect((await pool().probe({ keyId: 'k1', model: 'fx-400-api-key-invalid' })).outcome).toMatchObject({ failure: 'key_invalid' });
    expect((await pool().probe({ keyId: 'nobody', model: 'ok' })).outcome).toMatchObject({ failure: 'key_invalid' });
  });
});

/**
 * The compatible endpoints at the HTTP level: what the SDKs do not show
 * (the array form of streamGenerateContent, headers, a caller hanging up).
 */
import { request as httpRequest } from 'node:http';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { CHAINS, TOKENS, startCompatServer, type CompatServer } from '../helpers/compat-server.js';

let server: CompatServer;
let pinned: CompatServer;

const post = (path: string, body: unknown, headers: Record<string, string> = {}): Promise<Response> =>
  fetch(`${server.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
const gemini = { 'x-goog-api-key': TOKENS.acme };
const bearer = { authorization: `Bearer ${TOKENS.acme}` };
const hi = { contents: [{ role: 'user', parts: [{ text: 'hi' }] }] };
const chat = { model: 'gemini-2.5-flash', messages: [{ role: 'user', content: 'hi' }] };

beforeAll(async () => {
  server = await startCompatServer();
  pinned = await startCompatServer({ pinned: ['acme'], bodyLimit: 2_048 });
});
afterAll(async () => {
  await server.close();
  await pinned.close();
});

describe('a caller that goes away', () => {
  it('takes its queued job with it', async () => {
    server.service.plan({ kind: 'hold' });
    const before = server.service.submitted.length;
    const req = httpRequest(`${server.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json', ...bearer } });
    req.on('error', () => undefined);
    req.end(JSON.stringify(chat));
    await vi.waitFor(() => expect(server.service.submitted.length).toBe(before + 1));
    const { jobId } = server.service.last();
    req.destroy();
    await vi.waitFor(() => expect(server.service.cancelled).toContainEqual({ jobId, removed: true }));
  });

  it('is not mistaken for one when the answer was sent', async () => {
    const res = await post('/v1beta/models/gemini-2.5-flash:generateContent', hi, gemini);
    expect(res.status).toBe(200);
    await res.json();
    const { jobId } = server.service.last();
    const streamed = await post('/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse', hi, gemini);
    await streamed.text();
    const streamedJob = server.service.last().jobId;
    await new Promise((r) => setTimeout(r, 50));
    expect(server.service.cancelled.map((c) => c.jobId)).not.toContain(jobId);
    expect(server.service.cancelled.map((c) => c.jobId)).not.toContain(streamedJob);
  });
});

describe('streamGenerateContent without alt=sse', () => {
  it('writes one JSON array, element by element', async () => {
    const res = await post('/v1beta/models/gemini-2.5-flash:streamGenerateContent', { contents: [{ parts: [{ text: 'array form' }] }] }, gemini);
    expect(res.headers.get('content-type')).toContain('application/json');
    const items = (await res.json()) as Array<{ candidates: Array<{ content: { parts: Array<{ text: string }> }; finishReason?: string }>; usageMetadata?: unknown }>;
    expect(items).toHaveLength(4);
    expect(items.map((i) => i.candidates[0]?.content.parts[0]?.text).join('')).toBe('echo: array form');
    expect(items.at(-1)?.candidates[0]?.finishReason).toBe('STOP');
    expect(items.at(-1)?.usageMetadata).toBeDefined();
  });

  it('closes the array with an error element when the answer is interrupted', async () => {
    server.service.plan({ kind: 'reset', resetAfter: 1 });
    const res = await post('/v1beta/models/gemini-2.5-flash:streamGenerateContent', hi, gemini);
    const items = (await res.json()) as Array<{ error?: { code: number; status: string } }>;
    expect(items.at(-1)?.error).toMatchObject({ code: 503, status: 'UNAVAILABLE' });
  });
});

describe('tokens', () => {
  it('answers 401 in each dialect when no token is sent', async () => {
    const g = await post('/v1beta/models/gemini-2.5-flash:generateContent', hi);
    expect(g.status).toBe(401);
    expect(((await g.json()) as { error: { status: string } }).error.status).toBe('UNAUTHENTICATED');
    const o = await post('/v1/chat/completions', chat);
    expect(o.status).toBe(401);
    expect(((await o.json()) as { error: { type: string } }).error.type).toBe('authentication_error');
  });

  it('checks the token before reading the body', async () => {
    const res = await fetch(`${server.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{not json' });
    expect(res.status).toBe(401);
    const bad = await fetch(`${server.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json', ...bearer }, body: '{not json' });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: { type: string } }).error.type).toBe('invalid_request_error');
  });

  it('takes ?key= and keeps the token out of answers and logs', async () => {
    const ok = await post(`/v1beta/models/gemini-2.5-flash:generateContent?key=${TOKENS.acme}`, hi);
    expect(ok.status).toBe(200);
    server.service.plan({ kind: 'fail', reason: 'internal', message: 'boom' });
    const failed = await post(`/v1beta/models/gemini-2.5-flash:generateContent?key=${TOKENS.acme}`, hi);
    expect(failed.status).toBe(500);
    const text = await failed.text();
    await post('/v1beta/models/gemini-2.5-flash:generateContent?key=qf-unknown-secret-9', hi);
    expect(text).not.toContain(TOKENS.acme);
    expect(server.logs.join('\n')).not.toContain(TOKENS.acme);
    expect(server.logs.join('\n')).not.toContain('qf-unknown-secret-9');
  });
});

describe('routing and call options', () => {
  it('sends each dialect its own list at GET /v1/models', async () => {
    const g = (await (await fetch(`${server.url}/v1/models`, { headers: gemini })).json()) as { models: Array<{ name: string }> };
    expect(g.models.map((m) => m.name)).toEqual(CHAINS.acme?.map((m) => `models/${m}`));
    const o = (await (await fetch(`${server.url}/v1/models`, { headers: bearer })).json()) as { object: string; data: Array<{ id: string }> };
    expect([o.object, o.data.map((m) => m.id)]).toEqual(['list', CHAINS.acme]);
  });

  it('answers a body over the limit in the dialect’s shape', async () => {
    const big = { ...chat, messages: [{ role: 'user', content: 'x'.repeat(4_096) }] };
    const res = await fetch(`${pinned.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json', ...bearer }, body: JSON.stringify(big) });
    expect(res.status).toBe(413);
    expect(((await res.json()) as { error: { type: string } }).error.type).toBe('invalid_request_error');
    const g = await fetch(`${pinned.url}/v1beta/models/gemini-2.5-flash:generateContent`, { method: 'POST', headers: { 'content-type': 'application/json', ...gemini }, body: JSON.stringify({ contents: [{ parts: [{ text: 'x'.repeat(4_096) }] }] }) });
    expect(g.status).toBe(400);
    expect(((await g.json()) as { error: { status: string } }).error.status).toBe('INVALID_ARGUMENT');
  });

  it('pins a pinned tenant to the model it names', async () => {
    const res = await fetch(`${pinned.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json', ...bearer }, body: JSON.stringify(chat) });
    expect(res.status).toBe(200);
    expect(pinned.service.last().request.models).toEqual(['gemini-2.5-flash']);
  });

  it('shortens the job’s deadline to the client’s timeout and passes the Idempotency-Key', async () => {
    await post('/v1/chat/completions', chat, { ...bearer, 'x-stainless-timeout': '5', 'idempotency-key': 'msg-42' });
    const first = server.service.last();
    expect(first.request.deadlineMs).toBe(5_000);
    expect(first.idempotencyKey).toBe('msg-42');
    const again = await post('/v1/chat/completions', { ...chat, stream: true }, { ...bearer, 'idempotency-key': 'msg-42' });
    const events = (await again.text()).split('\n\n').filter((e) => e.startsWith('data: {'));
    const content = events.map((e) => JSON.parse(e.slice(6)) as { choices: Array<{ delta: { content?: string } }> }).map((c) => c.choices[0]?.delta.content ?? '');
    expect(server.service.last().jobId).toBe(first.jobId);
    expect(content.join('')).toBe('echo: hi');
  });

  it('gives a caller whose stream was interrupted the job’s answer on a repeat with the same Idempotency-Key', async () => {
    server.service.plan({ kind: 'reset', resetAfter: 1 });
    const path = '/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse';
    const headers = { ...gemini, 'idempotency-key': 'msg-reset' };
    const cut = (await (await post(path, hi, headers)).text()).split('\r\n\r\n').filter(Boolean);
    expect(cut.at(-1)).toContain('"status":"UNAVAILABLE"');
    const { jobId } = server.service.last();
    const whole = (await (await post('/v1beta/models/gemini-2.5-flash:generateContent', hi, headers)).json()) as { candidates: Array<{ content: { parts: Array<{ text: string }> } }> };
    expect(whole.candidates[0]?.content.parts[0]?.text).toBe('echo: hi');
    const again = (await (await post(path, hi, headers)).text()).split('\r\n\r\n').filter(Boolean);
    expect(again).toHaveLength(1);
    expect(again[0]).toContain('"text":"echo: hi"');
    expect(server.service.submitted.filter((s) => s.jobId === jobId)).toHaveLength(1);
  });

  it('answers 503 with Retry-After when the queue is unavailable', async () => {
    server.service.plan({ kind: 'dependency' });
    const res = await post('/v1beta/models/gemini-2.5-flash:generateContent', hi, gemini);
    expect(res.status).toBe(503);
    expect(res.headers.get('retry-after')).toBe('5');
    expect(await res.text()).not.toContain('redis');
  });

  it('refuses fields Gemini does not define and caches it cannot pin', async () => {
    const res = await post('/v1beta/models/gemini-2.5-flash:generateContent', { ...hi, models: ['x'], cachedContent: 'cachedContents/abc' }, gemini);
    expect(res.status).toBe(400);
    const { error } = (await res.json()) as { error: { message: string } };
    expect(error.message).toContain('Unknown name "models"');
    expect(error.message).toContain('cachedContent: not supported');
  });

  it('counts a whole generateContentRequest, and 404s an unknown method', async () => {
    const res = await post('/v1beta/models/gemini-2.5-flash:countTokens', { generateContentRequest: { model: 'models/gemini-2.5-flash', ...hi, systemInstruction: { parts: [{ text: 'sys' }] } } }, gemini);
    expect(res.headers.get('x-quotaflow-token-count')).toBe('estimate');
    expect((await res.json()) as unknown).toMatchObject({ estimated: true, totalTokens: expect.any(Number) as number });
    expect((await post('/v1beta/models/gemini-2.5-flash:embedContent', hi, gemini)).status).toBe(404);
  });
});

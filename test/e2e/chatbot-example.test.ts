import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHistory } from '../../examples/chatbot/history.js';
import { matchedConfigs } from '../helpers/fleets.js';
import { TEST_REDIS_URL } from '../helpers/redis.js';
import { allSse } from '../helpers/sse.js';
import { ROOT, startStack, type Stack } from '../helpers/stack.js';

/**
 * examples/chatbot against a real worker and the stand-in: history per
 * conversation, a 404 for an unknown tenant, and the page's streamed chat
 * with a get_order_status function-call round trip.
 */
const FLASH = 'gemini-2.5-flash';
const m = matchedConfigs({
  models: [FLASH],
  projects: { 'p-1': { [FLASH]: { rpm: 100, tpm: 1_000_000, rpd: 1000 } } },
  tenants: [{ id: 'acme', keyMode: 'central-only' }],
  keys: [{ id: 'central-1', tenant: null, project: 'p-1' }],
  sim: { recordBodies: true },
});

let stack: Stack;
let bot: ChildProcess | undefined;
let url = '';

beforeAll(async () => {
  stack = await startStack({ name: 'chatbot-example', sim: m.sim });
  await stack.applyFleet(m.fleet);
  await stack.startWorker();
  // run from the repository root: tsx maps `quotaflow` to src/ through tsconfig.json's paths
  bot = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'examples/chatbot/server.ts')], {
    cwd: ROOT,
    env: { ...process.env, REDIS_URL: TEST_REDIS_URL, QUOTAFLOW_PREFIX: stack.prefix, PORT: '0', CHAT_WAIT_MS: '30000' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  bot.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  bot.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  for (let i = 0; i < 300 && !/http:\/\/\S+\/chat/.test(out); i++) {
    if (bot.exitCode !== null) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  const found = /(http:\/\/\S+\/chat)/.exec(out)?.[1];
  if (!found) throw new Error(`the chatbot did not start:\n${out}`);
  url = found;
});

afterAll(async () => {
  if (bot?.pid !== undefined && bot.exitCode === null && bot.signalCode === null) {
    const exited = new Promise((r) => bot?.on('exit', r));
    process.kill(bot.pid, 'SIGTERM');
    await Promise.race([exited, new Promise((r) => setTimeout(r, 10_000).unref())]);
    if (bot.exitCode === null && bot.signalCode === null) process.kill(bot.pid, 'SIGKILL');
  }
  await stack?.stop();
});

async function say(body: Record<string, string>): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

describe('examples/chatbot', () => {
  it('answers with the conversation history, counting a re-delivered message once', async () => {
    const first = await say({ tenantId: 'acme', conversationId: 'c-1', messageId: 'm-1', text: 'Hello, I ordered a lamp.' });
    expect(first).toMatchObject({ status: 200, body: { source: 'model', earlierTurns: 0 } });
    expect(String(first.body.reply)).toContain('I ordered a lamp');
    const again = await say({ tenantId: 'acme', conversationId: 'c-1', messageId: 'm-1', text: 'Hello, I ordered a lamp.' });
    expect(again.body.reply).toBe(first.body.reply);
    const second = await say({ tenantId: 'acme', conversationId: 'c-1', messageId: 'm-2', text: 'Where is it?' });
    expect(second).toMatchObject({ status: 200, body: { source: 'model', earlierTurns: 1 } });
    const other = await say({ tenantId: 'acme', conversationId: 'c-2', text: 'A new question' });
    expect(other.body.earlierTurns).toBe(0);
  });

  it('answers a tenant the fleet does not know with 404, and a malformed body with 400', async () => {
    expect(await say({ tenantId: 'nobody', conversationId: 'c-1', text: 'hi' })).toEqual({ status: 404, body: { error: { code: 'unknown_tenant', message: 'tenant "nobody" is not in quotaflow\'s fleet' } } });
    expect((await say({ tenantId: 'acme' })).status).toBe(400);
  });
});

describe('examples/chatbot streaming page', () => {
  const base = (): string => url.replace(/\/chat$/, '');

  it('serves a page that talks to /chat/stream', async () => {
    const res = await fetch(`${base()}/`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/html');
    expect(await res.text()).toContain("fetch('/chat/stream'");
  });

  it('streams the answer after a get_order_status round trip, sending the model turn back unchanged', async () => {
    const before = stack.sim.calls({ withBodies: true }).length;
    const events = await allSse(`${base()}/chat/stream`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ tenantId: 'acme', conversationId: 'c-9', text: 'Where is my order 4711?' }) });
    const types = events.map((e) => e.event);
    expect(types[0]).toBe('tool');
    expect(types.at(-1)).toBe('done');
    expect(types.slice(1, -1).every((t) => t === 'chunk')).toBe(true);
    expect(types.length).toBeGreaterThan(3);
    const tool = JSON.parse(events[0]?.data ?? '{}') as { name: string; args: { orderId?: string }; response: { status?: string } };
    expect(tool).toMatchObject({ name: 'get_order_status', response: { status: 'shipped', eta: 'tomorrow' } });
    const chunks = events.slice(1, -1).map((e) => (JSON.parse(e.data) as { text: string }).text).join('');
    const done = JSON.parse(events.at(-1)?.data ?? '{}') as { reply: string; source: string };
    expect(done.source).toBe('model');
    expect(chunks).toBe(done.reply);
    expect(done.reply).toContain('get_order_status returned {"status":"shipped"');
    // two streamed calls: the function call, then the answer with the model's turn (thought signature included) and the function's response
    const calls = stack.sim.calls({ withBodies: true }).slice(before);
    expect(calls.map((c) => c.method)).toEqual(['streamGenerateContent', 'streamGenerateContent']);
    const second = calls[1]?.body as { contents: Array<{ role: string; parts: Array<Record<string, unknown>> }> };
    const modelTurn = second.contents.at(-2);
    expect(modelTurn?.role).toBe('model');
    expect(modelTurn?.parts[0]).toMatchObject({ functionCall: { name: 'get_order_status' }, thoughtSignature: expect.any(String) });
    expect(second.contents.at(-1)?.parts[0]).toMatchObject({ functionResponse: { name: 'get_order_status', response: { status: 'shipped' } } });
  });

  it('answers an unknown tenant with 404 before streaming', async () => {
    const res = await fetch(`${base()}/chat/stream`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ tenantId: 'nobody', text: 'hi' }) });
    expect(res.status).toBe(404);
    expect(await res.json()).toMatchObject({ error: { code: 'unknown_tenant' } });
  });
});

describe('the chatbot history', () => {
  it('keeps the last turns of each conversation and forgets the least recently used conversations', () => {
    const h = createHistory({ maxTurns: 2, maxConversations: 2 });
    for (const i of [1, 2, 3]) h.add('a', { user: `u${i}`, model: `m${i}` });
    expect(h.get('a').map((c) => c.parts[0]?.text)).toEqual(['u2', 'm2', 'u3', 'm3']);
    h.add('b', { user: 'x', model: 'y' });
    h.add('a', { user: 'u4', model: 'm4' });
    h.add('c', { user: 'x', model: 'y' });
    expect(h.size()).toBe(2);
    expect(h.get('b')).toEqual([]);
    expect(h.get('a')).toHaveLength(4);
  });
});

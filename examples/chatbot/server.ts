/**
 * A minimal chatbot backend: POST /chat {tenantId, conversationId, messageId, text}
 * enqueues one generation per incoming message with quotaflow's client and
 * replies with the answer, or with a fallback message chosen by the failure
 * reason. node:http only, no framework.
 *
 *   REDIS_URL=redis://127.0.0.1:6379 QUOTAFLOW_PREFIX=quotaflow PORT=3000 npx tsx examples/chatbot/server.ts
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createClient, GenerationFailedError, GenerationTimeoutError } from '../../src/adapters/queue/client.js';
import type { FailureReason } from '../../src/core/types.js';
import { ValidationError } from '../../src/errors.js';

const FALLBACKS: Record<FailureReason, string> = {
  exhausted: 'Our assistant is very busy right now. Please try again in a minute.',
  deadline: 'That took too long to answer. Please ask again.',
  invalid_request: 'Sorry, I could not understand that message.',
  blocked: 'Sorry, I cannot help with that request.',
  no_keys: 'The assistant is not available for your account right now. A human will get back to you.',
  internal: 'Something went wrong on our side. Please try again.',
};
const WAIT_MS = Number(process.env.CHAT_WAIT_MS ?? 60_000);

const client = createClient({ redisUrl: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379', prefix: process.env.QUOTAFLOW_PREFIX ?? 'quotaflow' });

async function readJson(req: IncomingMessage): Promise<unknown> {
  let body = '';
  for await (const chunk of req) {
    body += String(chunk);
    if (body.length > 1_000_000) throw new ValidationError('message too large');
  }
  try {
    return JSON.parse(body);
  } catch {
    throw new ValidationError('body is not JSON');
  }
}

function send(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
}

/** One chat message in, one reply out: the model's answer, or a fallback for the reason it failed. */
async function chat(input: unknown): Promise<{ reply: string; source: 'model' | 'fallback'; reason?: string; model?: string }> {
  const m = (input ?? {}) as { tenantId?: unknown; conversationId?: unknown; messageId?: unknown; text?: unknown };
  if (typeof m.tenantId !== 'string' || typeof m.text !== 'string' || m.text === '') throw new ValidationError('send {tenantId, text, conversationId?, messageId?}');
  try {
    const r = await client.generate(
      {
        tenantId: m.tenantId,
        contents: m.text,
        systemInstruction: 'You are a friendly support assistant. Answer briefly.',
        ...(typeof m.conversationId === 'string' ? { conversationId: m.conversationId } : {}),
        // the chat platform's message id: a re-delivered message is answered once
        ...(typeof m.messageId === 'string' ? { messageId: m.messageId } : {}),
      },
      { timeoutMs: WAIT_MS },
    );
    return { reply: r.text, source: 'model', model: r.model };
  } catch (err) {
    if (err instanceof GenerationFailedError) return { reply: FALLBACKS[err.reason], source: 'fallback', reason: err.reason };
    if (err instanceof GenerationTimeoutError) return { reply: FALLBACKS.deadline, source: 'fallback', reason: 'deadline' };
    throw err;
  }
}

const server = createServer((req, res) => {
  if (req.method !== 'POST' || req.url !== '/chat') return send(res, 404, { error: 'POST /chat' });
  readJson(req)
    .then(chat)
    .then((out) => send(res, 200, out))
    .catch((err: unknown) => send(res, err instanceof ValidationError ? 400 : 500, { error: err instanceof Error ? err.message : String(err) }));
});

const port = Number(process.env.PORT ?? 3000);
server.listen(port, () => console.log(`chatbot backend on http://localhost:${port}/chat`));
const stop = (): void => {
  server.close();
  void client.close().then(() => process.exit(0));
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);

/**
 * A minimal chatbot backend on quotaflow's client: POST /chat
 * {tenantId, conversationId?, messageId?, text} enqueues one generation per
 * message, with the conversation's earlier turns, and replies with the
 * answer or with a fallback chosen by the failure reason. GET / is a chat
 * page that talks to POST /chat/stream: the same message, answered as
 * server-sent events while the model writes, with the get_order_status
 * function answered by this backend (stream-chat.ts). node:http only.
 *
 *   REDIS_URL=redis://127.0.0.1:6379 QUOTAFLOW_PREFIX=quotaflow PORT=3000 npm start
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createClient, GenerationFailedError, GenerationTimeoutError, UnknownTenantError, ValidationError, type FailureReason } from 'quotaflow';
import { createHistory } from './history.js';
import { PAGE } from './page.js';
import { createStreamChat, type ChatMessage } from './stream-chat.js';

const FALLBACKS: Record<FailureReason, string> = {
  exhausted: 'Our assistant is very busy right now. Please try again in a minute.',
  deadline: 'That took too long to answer. Please ask again.',
  invalid_request: 'Sorry, I could not understand that message.',
  blocked: 'Sorry, I cannot help with that request.',
  no_keys: 'The assistant is not available for your account right now. A human will get back to you.',
  budget: 'Your account has used its assistant allowance for now. Please try again later.',
  internal: 'Something went wrong on our side. Please try again.',
};
const WAIT_MS = Number(process.env.CHAT_WAIT_MS ?? 60_000);
const MAX_BODY = 100_000;
const SYSTEM_INSTRUCTION = 'You are a friendly support assistant. Answer briefly.';

const client = createClient({ redisUrl: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379', prefix: process.env.QUOTAFLOW_PREFIX ?? 'quotaflow' });
// 10 exchanges per conversation, 10,000 conversations: memory stays bounded however many users write
const history = createHistory({ maxTurns: 10, maxConversations: 10_000 });

/** An answer for the chat platform: 200 with a reply, or a 4xx/5xx with a reason. */
type Answer = { status: number; body: Record<string, unknown> };
const problem = (status: number, code: string, message: string): Answer => ({ status, body: { error: { code, message } } });

async function readJson(req: IncomingMessage): Promise<unknown> {
  let body = '';
  for await (const chunk of req) {
    body += String(chunk);
    if (body.length > MAX_BODY) throw new ValidationError(`message larger than ${MAX_BODY} characters`);
  }
  try {
    return JSON.parse(body);
  } catch {
    throw new ValidationError('body is not JSON');
  }
}

const str = (o: object, k: string): string | undefined => {
  const v: unknown = Reflect.get(o, k);
  return typeof v === 'string' && v !== '' ? v : undefined;
};

/** The message of a request body, or null when it lacks tenantId or text. */
function messageOf(input: unknown): ChatMessage | null {
  const m = typeof input === 'object' && input !== null ? input : {};
  const tenantId = str(m, 'tenantId');
  const text = str(m, 'text');
  return tenantId && text ? { tenantId, text, conversationId: str(m, 'conversationId'), messageId: str(m, 'messageId') } : null;
}
const NO_MESSAGE = problem(400, 'invalid_body', 'send {tenantId, text, conversationId?, messageId?}');

/** One chat message in, one answer out. */
async function chat(input: unknown): Promise<Answer> {
  const m = messageOf(input);
  if (!m) return NO_MESSAGE;
  const { tenantId, text, conversationId, messageId } = m;
  const key = conversationId ? `${tenantId}\u0000${conversationId}` : undefined;
  const earlier = key ? history.get(key) : [];
  try {
    const r = await client.generate(
      {
        tenantId,
        contents: [...earlier, { role: 'user', parts: [{ text }] }],
        systemInstruction: SYSTEM_INSTRUCTION,
        ...(conversationId ? { conversationId } : {}),
        // the chat platform's message id: a re-delivered message is answered once
        ...(messageId ? { messageId } : {}),
      },
      { timeoutMs: WAIT_MS },
    );
    if (key) history.add(key, { ...(messageId ? { messageId } : {}), user: text, model: r.text });
    return { status: 200, body: { reply: r.text, source: 'model', model: r.model, earlierTurns: earlier.length / 2 } };
  } catch (err) {
    return failure(err, tenantId);
  }
}

function failure(err: unknown, tenantId: string): Answer {
  // quotaflow knows the fleet: a tenant it does not name is a mistake of the caller, not a reply to show a user
  if (err instanceof UnknownTenantError) return problem(404, 'unknown_tenant', `tenant "${tenantId}" is not in quotaflow's fleet`);
  if (err instanceof ValidationError) return problem(400, 'invalid_request', err.message);
  if (err instanceof GenerationTimeoutError) return { status: 200, body: { reply: FALLBACKS.deadline, source: 'fallback', reason: 'deadline' } };
  if (!(err instanceof GenerationFailedError)) throw err;
  return { status: 200, body: { reply: FALLBACKS[err.reason], source: 'fallback', reason: err.reason } };
}

function send(res: ServerResponse, a: Answer): void {
  res.writeHead(a.status, { 'content-type': 'application/json' }).end(JSON.stringify(a.body));
}

const streamChat = createStreamChat({
  client,
  history,
  fallbacks: FALLBACKS,
  systemInstruction: SYSTEM_INSTRUCTION,
  refuse: (res, err, m) => send(res, failure(err, m.tenantId)),
});

/** POST /chat/stream: the answer as server-sent events (stream-chat.ts). */
async function chatStream(input: unknown, res: ServerResponse): Promise<void> {
  const m = messageOf(input);
  if (!m) return send(res, NO_MESSAGE);
  await streamChat(m, res);
}

const server = createServer((req, res) => {
  const failed = (err: unknown): void => {
    if (res.headersSent) return void res.end();
    send(res, err instanceof ValidationError ? problem(400, 'invalid_body', err.message) : problem(500, 'internal', 'the chatbot failed; see its log'));
  };
  if (req.method === 'GET' && req.url === '/') return void res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(PAGE);
  if (req.method === 'POST' && req.url === '/chat/stream') return void readJson(req).then((body) => chatStream(body, res)).catch(failed);
  if (req.method !== 'POST' || req.url !== '/chat') return send(res, problem(404, 'not_found', 'POST /chat, POST /chat/stream or GET /'));
  readJson(req)
    .then(chat)
    .then((a) => send(res, a))
    .catch(failed);
});

const port = Number(process.env.PORT ?? 3000);
server.listen(port, '127.0.0.1', () => {
  const a = server.address();
  console.log(`chatbot backend on http://127.0.0.1:${typeof a === 'object' && a !== null ? a.port : port}/chat`);
});
const stop = (): void => {
  server.close();
  void client.close().then(() => process.exit(0));
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);

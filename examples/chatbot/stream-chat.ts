import type { ServerResponse } from 'node:http';
import { GenerationFailedError, type Content, type FailureReason, type GenerationResult, type QuotaflowClient } from 'quotaflow';
import type { History } from './history.js';
import { ORDER_TOOLS, functionCallOf, runFunction } from './orders.js';

/** A chat message as the page sends it. */
export interface ChatMessage {
  tenantId: string;
  text: string;
  conversationId?: string | undefined;
  messageId?: string | undefined;
}

export interface StreamChatDeps {
  client: QuotaflowClient;
  history: History;
  fallbacks: Record<FailureReason, string>;
  systemInstruction: string;
  /** answers a request that cannot start (unknown tenant, invalid message) before any event is sent */
  refuse: (res: ServerResponse, err: unknown, m: ChatMessage) => void;
}

/** Function-call rounds per message before the bot gives up (a model that keeps calling). */
const MAX_ROUNDS = 3;

const event = (res: ServerResponse, type: string, data: unknown): void => void res.write(`event: ${type}\ndata: ${JSON.stringify(data)}\n\n`);

/**
 * POST /chat/stream: the answer as server-sent events for the page —
 * `chunk` {text} as the model writes, `reset` (drop what was shown: the
 * answer starts over), `tool` {name, args, response} when the model called
 * get_order_status and the backend answered it, then `done` {reply, model}
 * or `fallback` {reply, reason}. Each round is one streamed quotaflow job;
 * a function call is answered with a functionResponse turn and the next
 * round streams the final answer.
 */
export function createStreamChat(deps: StreamChatDeps) {
  return async function streamChat(m: ChatMessage, res: ServerResponse): Promise<void> {
    const key = m.conversationId ? `${m.tenantId}\u0000${m.conversationId}` : undefined;
    const earlier = key ? deps.history.get(key) : [];
    let contents: Content[] = [...earlier, { role: 'user', parts: [{ text: m.text }] }];
    const enqueue = (round: number) =>
      deps.client.enqueue({
        tenantId: m.tenantId,
        contents,
        systemInstruction: deps.systemInstruction,
        tools: ORDER_TOOLS,
        stream: true,
        ...(m.conversationId ? { conversationId: m.conversationId } : {}),
        // one job per round of a message: a re-delivered message replays the same answers
        ...(m.messageId ? { messageId: round === 0 ? m.messageId : `${m.messageId}:${round}` } : {}),
      });
    let jobId: string;
    try {
      ({ jobId } = await enqueue(0));
    } catch (err) {
      return deps.refuse(res, err, m);
    }
    const abort = new AbortController();
    res.on('close', () => abort.abort());
    res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache' });
    try {
      for (let round = 0; round < MAX_ROUNDS; round++) {
        const result = await relay(deps.client, jobId, res, abort.signal);
        if (!result) return;
        const call = functionCallOf(result.parts);
        if (!call) {
          if (key) deps.history.add(key, { ...(m.messageId ? { messageId: m.messageId } : {}), user: m.text, model: result.text });
          event(res, 'done', { reply: result.text, model: result.model, source: 'model' });
          return;
        }
        const answer = runFunction(call);
        event(res, 'tool', { name: call.name, args: call.args ?? {}, response: answer.functionResponse?.response });
        // the model's turn goes back unchanged (its thought signature included), then the function's answer
        contents = [...contents, { role: 'model', parts: result.parts }, { role: 'user', parts: [answer] }];
        ({ jobId } = await enqueue(round + 1));
      }
      event(res, 'fallback', { reply: deps.fallbacks.internal, reason: 'internal', source: 'fallback' });
    } catch (err) {
      if (!(err instanceof GenerationFailedError)) throw err;
      event(res, 'fallback', { reply: deps.fallbacks[err.reason], reason: err.reason, source: 'fallback' });
    } finally {
      res.end();
    }
  };
}

/** Forwards one job's chunks and resets to the page; the result, or null when the page went away. */
async function relay(client: QuotaflowClient, jobId: string, res: ServerResponse, signal: AbortSignal): Promise<GenerationResult | null> {
  for await (const e of client.streamJob(jobId, { signal })) {
    if (e.type === 'chunk' && e.text) event(res, 'chunk', { text: e.text });
    if (e.type === 'reset') event(res, 'reset', {});
    if (e.type === 'done') return e.result;
  }
  return null;
}

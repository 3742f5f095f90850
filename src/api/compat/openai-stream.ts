import type { Part } from '../../core/request.js';
import type { AnswerEvent } from './answer-events.js';
import { openaiError } from './error-shapes.js';
import { completionChunk, finishReasonOf, textOf, textSignatureOf, toolCallsOf, usageChunk, type CompletionMeta } from './openai-response.js';
import { sseData, type StreamEncoder } from './stream-reply.js';

/**
 * A streamed Chat Completion: `chat.completion.chunk` events, the role in
 * the first delta, content and tool-call deltas (each call whole, with its
 * index), a last chunk with the finish reason, a usage chunk when
 * stream_options.include_usage asked for it, then `data: [DONE]`. A failure
 * after the first chunk is an `error` event, which the openai SDK raises.
 * Chunks name the preferred model until the answer says which one served.
 */
const DONE = 'data: [DONE]\n\n';

export function openaiStreamEncoder(first: CompletionMeta, jobId: string, includeUsage: boolean): StreamEncoder {
  let meta = first;
  let roleSent = false;
  let calls = 0;
  const withRole = (delta: Record<string, unknown>): Record<string, unknown> => {
    if (roleSent) return delta;
    roleSent = true;
    return { role: 'assistant', ...delta };
  };
  const frame = (delta: Record<string, unknown>, finish: Parameters<typeof completionChunk>[2]): string => sseData(completionChunk(meta, withRole(delta), finish, includeUsage));

  const partsDelta = (parts: readonly Part[]): string[] => {
    const text = textOf(parts);
    const toolCalls = toolCallsOf(parts, jobId, calls).map((c, i) => ({ index: calls + i, ...c }));
    calls += toolCalls.length;
    const signature = textSignatureOf(parts);
    // a chunk of thought summaries only adds nothing an OpenAI client can show
    if (text === '' && toolCalls.length === 0 && signature === undefined && roleSent) return [];
    return [
      frame(
        {
          content: text === '' && toolCalls.length > 0 ? null : text,
          ...(toolCalls.length > 0 ? { tool_calls: toolCalls } : {}),
          ...(signature !== undefined ? { extra_content: { google: { thought_signature: signature } } } : {}),
        },
        null,
      ),
    ];
  };

  return {
    contentType: 'text/event-stream',
    start: () => [],
    event(ev: AnswerEvent): string[] {
      switch (ev.type) {
        case 'chunk':
          return partsDelta(ev.parts);
        case 'done': {
          // nothing streamed yet (a finished job read again): the whole answer as one delta
          const body = roleSent ? [] : partsDelta(ev.result.parts);
          meta = { ...meta, model: ev.result.model };
          const finish = finishReasonOf(ev.result.finishReason, calls > 0);
          const usage = includeUsage ? [sseData(usageChunk(meta, ev.result.usage))] : [];
          return [...body, frame({}, finish), ...usage, DONE];
        }
        case 'blocked':
          return [frame({}, 'content_filter'), DONE];
        case 'failed':
          return [sseData(openaiError(ev.problem).body)];
      }
    },
    end: () => [],
  };
}

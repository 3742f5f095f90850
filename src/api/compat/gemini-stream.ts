import type { AnswerEvent } from './answer-events.js';
import { geminiError } from './error-shapes.js';
import { blockedResponse, chunkResponse, finalChunkResponse, generateContentResponse } from './gemini-response.js';
import { sseData, type StreamEncoder } from './stream-reply.js';

/**
 * streamGenerateContent's two forms: `?alt=sse` (one `data:` event per
 * GenerateContentResponse, what @google/genai asks for) and, without it, one
 * JSON array written element by element as the chunks come.
 */
export type GeminiStreamForm = 'sse' | 'array';

function bodyOf(ev: AnswerEvent, chunksSent: number, jobId: string): unknown {
  switch (ev.type) {
    case 'chunk':
      return chunkResponse(ev.parts);
    case 'done':
      // nothing streamed yet (a finished job read again): the answer whole, in one piece
      return chunksSent === 0 ? generateContentResponse(ev.result) : finalChunkResponse(ev.result);
    case 'blocked':
      return blockedResponse(ev.block, jobId);
    case 'failed':
      // @google/genai raises an ApiError with this status when a chunk is an error body
      return geminiError(ev.problem).body;
  }
}

export function geminiStreamEncoder(form: GeminiStreamForm, jobId: string): StreamEncoder {
  let chunks = 0;
  let items = 0;
  const frame = (json: unknown): string => (form === 'sse' ? sseData(json, '\r\n') : `${items++ === 0 ? '' : ',\r\n'}${JSON.stringify(json)}`);
  return {
    contentType: form === 'sse' ? 'text/event-stream' : 'application/json; charset=UTF-8',
    start: () => (form === 'array' ? ['['] : []),
    event(ev) {
      const out = frame(bodyOf(ev, chunks, jobId));
      if (ev.type === 'chunk') chunks++;
      return [out];
    },
    end: () => (form === 'array' ? [']'] : []),
  };
}

/**
 * Writing an engine reply to the socket on its schedule: latency before the
 * headers, then stream chunks on timers, so a client really receives the
 * first chunk while the later ones do not exist yet. A client that goes away
 * cancels the pending timer, so an aborted call holds no memory.
 *
 * Stream framing: `?alt=sse` gives one `data: <json>\r\n\r\n` event per chunk;
 * without it, the REST API's JSON array (`[chunk,\r\nchunk]`) arrives piece
 * by piece. A mid-stream failure is one more element, `{"error":{...}}`, then
 * the end; or the connection is destroyed.
 */
import type { ServerResponse } from 'node:http';
import type { SimReply, StreamReply } from './replies.js';

export const JSON_TYPE = 'application/json; charset=UTF-8';

export interface WriterHooks {
  /** Called right after chunk `index` of a stream (its JSON body, `chunk`) was handed to the socket. */
  onChunkWritten?: (responseId: string, index: number, chunk: unknown) => void;
}

export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': JSON_TYPE, 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

/** One pending step per response, dropped when the response closes. */
class Schedule {
  private timer: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(res: ServerResponse) {
    // A reply may be produced after its client already left.
    this.closed = res.destroyed;
    res.once('close', () => {
      this.closed = true;
      clearTimeout(this.timer);
    });
  }

  after(ms: number, step: () => void): void {
    if (this.closed) return;
    if (ms <= 0) return step();
    this.timer = setTimeout(() => {
      this.timer = undefined;
      if (!this.closed) step();
    }, ms);
  }
}

interface Framing {
  item(json: string, index: number): string;
  end(count: number): string;
}

const SSE: Framing = { item: (json) => `data: ${json}\r\n\r\n`, end: () => '' };
const JSON_ARRAY: Framing = {
  item: (json, index) => `${index === 0 ? '[' : ',\r\n'}${json}`,
  end: (count) => (count === 0 ? '[]' : ']'),
};

function writeStream(res: ServerResponse, reply: StreamReply, framing: Framing, schedule: Schedule, hooks: WriterHooks): void {
  const sse = framing === SSE;
  res.writeHead(200, { 'content-type': sse ? 'text/event-stream' : JSON_TYPE, 'cache-control': 'no-cache' });
  res.flushHeaders();
  const { chunks, failure } = reply;
  let next = 0;
  const finish = (): void => {
    if (failure?.how === 'disconnect') return void res.destroy();
    if (failure) return void res.end(`${framing.item(JSON.stringify(failure.body), next)}${sse ? '' : ']'}`);
    res.end(framing.end(next));
  };
  // A failure takes the slot of one more chunk; a clean stream ends with its last chunk.
  const step = (): void => {
    do {
      if (next >= chunks.length) return finish();
      res.write(framing.item(JSON.stringify(chunks[next]), next));
      hooks.onChunkWritten?.(reply.responseId, next, chunks[next]);
      next += 1;
      if (next === chunks.length && !failure) return finish();
    } while (reply.chunkIntervalMs <= 0);
    schedule.after(reply.chunkIntervalMs, step);
  };
  schedule.after(reply.firstChunkDelayMs, step);
}

export function sendReply(res: ServerResponse, reply: SimReply, sse: boolean, hooks: WriterHooks): void {
  const schedule = new Schedule(res);
  schedule.after(reply.delayMs, () => {
    if (reply.kind === 'json') sendJson(res, reply.status, reply.body);
    else writeStream(res, reply, sse ? SSE : JSON_ARRAY, schedule, hooks);
  });
}

import type { StreamEvent } from '../../core/job.js';
import type { RedisClient as Redis } from './connection.js';
import { viaRedis } from './errors.js';
import type { RedisKeys } from './keys.js';
import { compareIds, toStreamEvent } from './job-events.js';

export interface FollowOptions {
  /** resume after this event id (exclusive); default: from the first event */
  after?: string;
  signal?: AbortSignal;
  /** how long to wait for an event before asking onIdle */
  idleMs?: number;
  /** nothing arrived for idleMs: an event to yield (e.g. built from the finished job), keep waiting, or end */
  onIdle?: () => Promise<StreamEvent | 'wait' | 'end'>;
}

/**
 * Follows streamed jobs' events for one process: one subscriber connection
 * for every job followed (a channel per job, announced by the writer), and
 * a plain read of the stream for what was written before (or missed). An
 * event is yielded once, in id order, whichever way it arrived.
 */
export function createEventReader(opts: { redis: Redis; subscriber: () => Redis; keys: RedisKeys }) {
  let sub: Redis | undefined;
  let ready: Promise<Redis> | undefined;
  const channels = new Map<string, { listeners: Set<(message: string) => void>; subscribed: Promise<void> }>();
  // SUBSCRIBE only once the connection is ready: sent during the handshake it
  // turns the connection into subscriber mode before ioredis's ready check,
  // which then fails (and the subscription with it)
  const connection = (): Promise<Redis> => {
    if (!ready) {
      const s = opts.subscriber();
      sub = s;
      s.on('error', () => undefined);
      s.on('message', (channel: string, message: string) => {
        for (const l of channels.get(channel)?.listeners ?? []) l(message);
      });
      ready = new Promise<Redis>((resolve, reject) => {
        if (s.status === 'ready') return resolve(s);
        const fail = (err?: Error): void => {
          s.off('ready', ok);
          if (sub === s) {
            sub = undefined;
            ready = undefined;
          }
          s.disconnect();
          reject(err ?? new Error('subscriber connection closed'));
        };
        const ok = (): void => {
          s.off('error', fail);
          s.off('end', fail);
          resolve(s);
        };
        s.once('ready', ok);
        s.once('error', fail);
        s.once('end', fail);
      });
    }
    return ready;
  };
  /** Adds a listener; resolves once the channel's subscription is in effect (shared by every listener of the channel). */
  const listen = async (channel: string, l: (message: string) => void): Promise<() => Promise<void>> => {
    let ch = channels.get(channel);
    if (!ch) {
      const entry = {
        listeners: new Set<(message: string) => void>(),
        subscribed: viaRedis('event subscription', async () => {
          await (await connection()).subscribe(channel);
        }),
      };
      entry.subscribed.catch(() => {
        // a failed SUBSCRIBE is not kept: the next follower tries again
        if (channels.get(channel) === entry) channels.delete(channel);
      });
      channels.set(channel, entry);
      ch = entry;
    }
    const mine = ch;
    mine.listeners.add(l);
    try {
      await mine.subscribed;
    } catch (err) {
      mine.listeners.delete(l);
      throw err;
    }
    return async () => {
      mine.listeners.delete(l);
      if (mine.listeners.size === 0 && channels.get(channel) === mine) {
        channels.delete(channel);
        await sub?.unsubscribe(channel).catch(() => undefined);
      }
    };
  };

  /** Whether the stream's last event is its end (done, error) at or before `seen`. */
  const endedBy = async (key: string, seen: string): Promise<boolean> => {
    const [tail] = await viaRedis('event read', () => opts.redis.xrevrange(key, '+', '-', 'COUNT', 1));
    if (!tail) return false;
    const [id, fields] = tail;
    const type = fields[1];
    return (type === 'done' || type === 'error') && compareIds(id, seen) <= 0;
  };

  async function* follow(jobId: string, o: FollowOptions = {}): AsyncGenerator<StreamEvent> {
    const key = opts.keys.jobEvents(jobId);
    const pending: StreamEvent[] = [];
    let wake: (() => void) | null = null;
    const stop = await listen(key, (message) => {
      const [id = '', type = ''] = message.split(' ', 2);
      const e = toStreamEvent(id, type, message.slice(id.length + type.length + 2));
      if (e) pending.push(e);
      wake?.();
    });
    const onAbort = (): void => wake?.();
    o.signal?.addEventListener('abort', onAbort);
    try {
      let last = o.after ?? '0-0';
      // after subscribing: anything written before is in the stream, anything after arrives on the channel
      const backlog = await viaRedis('event read', () => opts.redis.xrange(key, `(${last}`, '+'));
      for (const [id, fields] of backlog) {
        const e = toStreamEvent(id, fields[1] ?? '', fields[3] ?? '');
        if (!e) continue;
        last = id;
        yield e;
        if (e.type === 'done' || e.type === 'error') return;
      }
      // resumed at (or past) the end: the stream's last event ends it and was already seen
      if (await endedBy(key, last)) return;
      for (;;) {
        if (o.signal?.aborted) return;
        const next = pending.shift();
        if (next) {
          if (compareIds(next.id, last) <= 0) continue;
          last = next.id;
          yield next;
          if (next.type === 'done' || next.type === 'error') return;
          continue;
        }
        const arrived = await new Promise<boolean>((resolve) => {
          const timer = setTimeout(() => resolve(false), o.idleMs ?? 5_000);
          wake = () => {
            clearTimeout(timer);
            resolve(true);
          };
        });
        wake = null;
        if (arrived || !o.onIdle) continue;
        const idle = await o.onIdle();
        if (idle === 'end') return;
        if (idle !== 'wait') {
          yield idle;
          return;
        }
      }
    } finally {
      o.signal?.removeEventListener('abort', onAbort);
      await stop();
    }
  }

  return {
    follow,
    async close(): Promise<void> {
      channels.clear();
      const s = sub;
      sub = undefined;
      ready = undefined;
      if (s) await s.quit().catch(() => s.disconnect());
    },
  };
}

export type EventReader = ReturnType<typeof createEventReader>;

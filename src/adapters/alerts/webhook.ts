import { createHmac } from 'node:crypto';
import type { Alerts } from '../../app/ports.js';
import type { Config } from '../../config.js';
import { errorMessage } from '../../errors.js';
import type { Logger } from '../../logger.js';

export type AlertEvent = Parameters<Alerts['send']>[0];

export interface WebhookAlertOptions {
  /** per delivery; default 5000 ms */
  timeoutMs?: number;
  /** most alerts waiting to be sent; older ones are dropped first; default 100 */
  maxQueue?: number;
  /** the same (kind, subject) is sent at most once per window; default 10 min */
  dedupeMs?: number;
  /** a source name put in every payload; default 'quotaflow' */
  source?: string;
  fetch?: typeof fetch;
  now?: () => number;
}

export type WebhookAlerts = Alerts & {
  /** resolves when every queued alert was delivered or given up */
  drain(): Promise<void>;
};

/** `sha256=<hex HMAC-SHA256 of body>`: what receivers compare against x-quotaflow-signature. */
export function signBody(secret: string, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(body, 'utf8').digest('hex')}`;
}

/**
 * The Alerts port over a webhook: send() only queues (never blocks, never
 * throws); one delivery at a time POSTs signed JSON with a timeout. Without
 * QUOTAFLOW_ALERT_WEBHOOK_URL alerts are only logged. Payloads carry ids and
 * the event's detail, which callers keep secret-free (port contract).
 */
export function createWebhookAlerts(config: Pick<Config, 'alertWebhookUrl' | 'alertWebhookSecret'>, logger: Logger, opts: WebhookAlertOptions = {}): WebhookAlerts {
  const url = config.alertWebhookUrl;
  const max = opts.maxQueue ?? 100;
  const dedupeMs = opts.dedupeMs ?? 600_000;
  const now = opts.now ?? Date.now;
  const doFetch = opts.fetch ?? fetch;
  const queue: AlertEvent[] = [];
  const lastSent = new Map<string, number>();
  let running: Promise<void> | null = null;

  const deliver = async (e: AlertEvent): Promise<void> => {
    if (!url) return;
    const body = JSON.stringify({ source: opts.source ?? 'quotaflow', kind: e.kind, subject: e.subject, detail: e.detail, at: new Date(now()).toISOString() });
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (config.alertWebhookSecret) headers['x-quotaflow-signature'] = signBody(config.alertWebhookSecret, body);
    try {
      const res = await doFetch(url, { method: 'POST', headers, body, signal: AbortSignal.timeout(opts.timeoutMs ?? 5_000) });
      if (!res.ok) logger.warn({ alert: e.kind, status: res.status }, 'alert webhook answered an error');
    } catch (err) {
      logger.warn({ alert: e.kind, err: errorMessage(err) }, 'alert webhook delivery failed');
    }
  };

  const pump = (): void => {
    running ??= (async () => {
      for (let e = queue.shift(); e; e = queue.shift()) await deliver(e);
    })().finally(() => {
      running = null;
    });
  };

  return {
    send(e) {
      try {
        const id = `${e.kind}\u0000${e.subject}`;
        const t = now();
        const last = lastSent.get(id);
        if (last !== undefined && t - last < dedupeMs) return;
        lastSent.delete(id);
        lastSent.set(id, t);
        // bounded: forget the oldest dedupe entries
        if (lastSent.size > 1_000) for (const k of [...lastSent.keys()].slice(0, lastSent.size - 1_000)) lastSent.delete(k);
        logger.warn({ alert: e.kind, subject: e.subject }, e.detail);
        if (!url) return;
        queue.push(e);
        if (queue.length > max) {
          queue.splice(0, queue.length - max);
          logger.warn({ max }, 'alert queue full: dropped the oldest alerts');
        }
        pump();
      } catch {
        // the port promises never to throw
      }
    },
    async drain() {
      while (running) await running;
    },
  };
}

import { createClient, GenerationFailedError } from '../../adapters/queue/client.js';
import { loadConfig } from '../../config.js';
import { ValidationError, errorMessage } from '../../errors.js';
import { intFlag, parseFlags, type Command } from '../args.js';

export const enqueue: Command = {
  summary: 'enqueue messages (and optionally wait for the answers)',
  usage:
    'quotaflow enqueue --tenant T --text "..." [--models a,b] [--count N] [--message-id ID] [--deadline-ms N] [--wait] [--timeout-ms N] [--json]',
  async run(args) {
    const f = parseFlags(args, {
      tenant: { type: 'string', short: 't' },
      text: { type: 'string' },
      models: { type: 'string' },
      count: { type: 'string', short: 'n' },
      'message-id': { type: 'string' },
      'deadline-ms': { type: 'string' },
      'timeout-ms': { type: 'string' },
      wait: { type: 'boolean', short: 'w' },
      json: { type: 'boolean' },
    });
    if (!f.tenant) throw new ValidationError('enqueue needs --tenant');
    if (!f.text) throw new ValidationError('enqueue needs --text');
    const count = intFlag(f.count, 'count', { min: 1, max: 100_000 }) ?? 1;
    const deadlineMs = intFlag(f['deadline-ms'], 'deadline-ms', { min: 1 });
    const timeoutMs = intFlag(f['timeout-ms'], 'timeout-ms', { min: 1 }) ?? 300_000;
    if (f['message-id'] && count > 1) throw new ValidationError('--message-id names one message; use it without --count');
    const config = loadConfig();
    const client = createClient({ redisUrl: config.redisUrl, prefix: config.prefix });
    const out = (line: string): void => console.log(line);
    let failures = 0;
    try {
      const ids: string[] = [];
      for (let i = 0; i < count; i++) {
        const { jobId } = await client.enqueue({
          tenantId: f.tenant,
          contents: count > 1 ? `${f.text} (#${i + 1})` : f.text,
          ...(f.models ? { models: f.models.split(',').map((m) => m.trim()).filter(Boolean) } : {}),
          ...(f['message-id'] ? { messageId: f['message-id'] } : {}),
          ...(deadlineMs ? { deadlineMs } : {}),
        });
        ids.push(jobId);
        if (!f.wait) out(f.json ? JSON.stringify({ jobId }) : jobId);
      }
      if (!f.wait) return 0;
      await Promise.all(
        ids.map(async (jobId) => {
          try {
            const r = await client.wait(jobId, { timeoutMs });
            out(f.json ? JSON.stringify({ ok: true, ...r }) : `${jobId} ${r.model} via ${r.keyId}${r.central ? ' (central)' : ''}: ${r.text}`);
          } catch (err) {
            failures++;
            if (err instanceof GenerationFailedError) {
              out(f.json ? JSON.stringify({ ok: false, jobId, reason: err.reason, message: err.message, attempts: err.attempts }) : `${jobId} FAILED ${err.reason}: ${err.message}`);
            } else {
              out(f.json ? JSON.stringify({ ok: false, jobId, reason: 'wait_failed', message: errorMessage(err) }) : `${jobId} ${errorMessage(err)}`);
            }
          }
        }),
      );
      return failures ? 1 : 0;
    } finally {
      await client.close();
    }
  },
};

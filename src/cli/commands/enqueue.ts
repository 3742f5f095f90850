import { createClient, GenerationFailedError } from '../../adapters/queue/client.js';
import { loadConfig } from '../../config.js';
import { ValidationError, errorMessage } from '../../errors.js';
import { defineCommand } from '../args.js';

export const enqueue = defineCommand({
  name: 'enqueue',
  summary: 'enqueue messages (and optionally wait for the answers)',
  flags: {
    tenant: { type: 'string', short: 't', value: 'T', required: true, description: 'the tenant the messages come from' },
    text: { type: 'string', value: 'TEXT', required: true, description: 'the message' },
    models: { type: 'string', value: 'a,b', description: "this message's model chain, best first", defaultText: "the tenant's chain" },
    count: { type: 'int', short: 'n', min: 1, max: 100_000, default: 1, description: 'how many messages (numbered "(#i)")' },
    'message-id': { type: 'string', value: 'ID', description: 'the message id: sending the same one twice yields one job', defaultText: 'none (every call is a new job)' },
    'deadline-ms': { type: 'int', min: 1, description: 'the job fails with reason "deadline" this long after enqueue', defaultText: '120000' },
    wait: { type: 'boolean', short: 'w', description: 'wait for each answer and print it' },
    'timeout-ms': { type: 'int', min: 1, default: 300_000, description: 'how long --wait waits' },
    json: { type: 'boolean', description: 'one JSON object per job per line' },
  },
  async run(f) {
    const count = f.count;
    const deadlineMs = f['deadline-ms'];
    const timeoutMs = f['timeout-ms'];
    if (f['message-id'] && count > 1) throw new ValidationError('--message-id names one message; use it without --count');
    const config = loadConfig();
    const client = createClient({ redis: config.redis, prefix: config.prefix });
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
});

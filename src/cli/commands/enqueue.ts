import { createClient, GenerationFailedError, type QuotaflowClient } from '../../adapters/queue/client.js';
import { connectRedis, hashTagPrefix } from '../../adapters/redis/connection.js';
import { liveWorkers } from '../../adapters/redis/heartbeat.js';
import { redisKeys } from '../../adapters/redis/keys.js';
import { loadConfig, type Config } from '../../config.js';
import { errorMessage } from '../../errors.js';
import { defineCommand } from '../args.js';
import { baseRequest, nthRequest } from './enqueue-request.js';
import { printStream } from './enqueue-stream.js';

export const enqueue = defineCommand({
  name: 'enqueue',
  summary: 'enqueue messages (and optionally wait for the answers, or stream them)',
  flags: {
    tenant: { type: 'string', short: 't', value: 'T', description: 'the tenant the messages come from', defaultText: 'required, unless the --file request names it' },
    text: { type: 'string', value: 'TEXT', description: 'the message (or --file)' },
    file: { type: 'string', short: 'f', value: 'FILE', description: 'a whole request as JSON (contents, systemInstruction, tools, generationConfig…) instead of --text' },
    models: { type: 'string', value: 'a,b', description: "this message's model chain, best first", defaultText: "the tenant's chain" },
    count: { type: 'int', short: 'n', min: 1, max: 100_000, default: 1, description: 'how many messages (--text ones numbered "(#i)")' },
    'message-id': { type: 'string', value: 'ID', description: 'the message id: sending the same one twice yields one job', defaultText: 'none (every call is a new job)' },
    'deadline-ms': { type: 'int', min: 1, description: 'the job fails with reason "deadline" this long after enqueue', defaultText: '120000' },
    wait: { type: 'boolean', short: 'w', description: 'wait for each answer and print it' },
    stream: { type: 'boolean', short: 's', description: 'print each answer as it arrives (several messages: one after another)' },
    'timeout-ms': { type: 'int', min: 1, default: 300_000, description: 'how long --wait / --stream waits' },
    json: { type: 'boolean', description: 'one JSON object per job per line (with --stream: per event)' },
  },
  async run(f) {
    const base = await baseRequest(f);
    const config = loadConfig();
    const client = createClient({ redis: config.redis, prefix: config.prefix });
    const out = (line: string): void => console.log(line);
    try {
      const ids: string[] = [];
      for (let i = 0; i < f.count; i++) {
        const { jobId } = await client.enqueue({ ...nthRequest(base, f, i), ...(f.stream ? { stream: true } : {}) });
        ids.push(jobId);
        if (!f.wait && !f.stream) out(f.json ? JSON.stringify({ jobId }) : jobId);
      }
      if (!f.wait && !f.stream) return 0;
      await warnWithoutWorkers(config);
      const ok = f.stream ? await streamAll(client, ids, { json: Boolean(f.json), timeoutMs: f['timeout-ms'] }) : await waitAll(client, ids, { json: Boolean(f.json), timeoutMs: f['timeout-ms'], out });
      return ok ? 0 : 1;
    } finally {
      await client.close();
    }
  },
});

/** Waiting with no worker alive would look like a hang: say so at once on stderr (and wait all the same). */
async function warnWithoutWorkers(config: Config): Promise<void> {
  const redis = connectRedis(config.redis);
  redis.on('error', () => undefined);
  try {
    const workers = await liveWorkers(redis, redisKeys(hashTagPrefix(config.prefix, config.redis.mode)));
    if (workers.length === 0) {
      process.stderr.write(`warning: no worker is running for prefix "${config.prefix}": the jobs wait in the queue until one starts (start one with \`quotaflow worker\`)\n`);
    }
  } catch {
    // only a hint: a failed look-up must not stop the waiting
  } finally {
    redis.disconnect();
  }
}

async function streamAll(client: QuotaflowClient, ids: readonly string[], opts: { json: boolean; timeoutMs: number }): Promise<boolean> {
  let ok = true;
  const stream = { write: (text: string) => void process.stdout.write(text), note: (line: string) => void process.stderr.write(`${line}\n`) };
  for (const jobId of ids) {
    if (!(await printStream(client, jobId, { json: opts.json, prefix: ids.length > 1, out: stream, timeoutMs: opts.timeoutMs }))) ok = false;
  }
  return ok;
}

async function waitAll(client: QuotaflowClient, ids: readonly string[], opts: { json: boolean; timeoutMs: number; out: (line: string) => void }): Promise<boolean> {
  const { out } = opts;
  let failures = 0;
  await Promise.all(
    ids.map(async (jobId) => {
      try {
        const r = await client.wait(jobId, { timeoutMs: opts.timeoutMs });
        out(opts.json ? JSON.stringify({ ok: true, ...r }) : `${jobId} ${r.model} via ${r.keyId}${r.central ? ' (central)' : ''}: ${r.text}`);
      } catch (err) {
        failures++;
        if (err instanceof GenerationFailedError) {
          out(opts.json ? JSON.stringify({ ok: false, jobId, reason: err.reason, message: err.message, attempts: err.attempts }) : `${jobId} FAILED ${err.reason}: ${err.message}`);
        } else {
          out(opts.json ? JSON.stringify({ ok: false, jobId, reason: 'wait_failed', message: errorMessage(err) }) : `${jobId} ${errorMessage(err)}`);
        }
      }
    }),
  );
  return failures === 0;
}

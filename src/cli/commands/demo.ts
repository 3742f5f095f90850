import { randomBytes } from 'node:crypto';
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { startGenerationWorker } from '../../../workers/generation.js';
import { createClient, GenerationFailedError } from '../../adapters/queue/client.js';
import type { GenerationResult } from '../../adapters/queue/job-contract.js';
import { redisAnswers } from '../../adapters/redis/connection.js';
import { loadConfig } from '../../config.js';
import { parseFleet } from '../../core/fleet-file.js';
import { DependencyError, errorMessage } from '../../errors.js';
import { createLogger } from '../../logger.js';
import { demoSimulatorConfig, startSimulator } from '../../simulator/index.js';
import { openSystem } from '../../system.js';
import { defineCommand } from '../args.js';
import { demoFleet, demoMessage } from '../demo/demo-fleet.js';
import { hasRedisServer, startPrivateRedis } from '../demo/private-redis.js';
import { printSummary } from '../demo/summary.js';

export const demo = defineCommand({
  name: 'demo',
  summary: 'run the whole system on embedded defaults against the Gemini stand-in, then print a summary',
  flags: {
    messages: { type: 'int', short: 'n', min: 1, max: 100_000, default: 200, description: 'messages to enqueue' },
    concurrency: { type: 'int', min: 1, max: 1000, default: 16, description: "the worker's concurrency" },
  },
  async run(f) {
    const total = f.messages;
    const concurrency = f.concurrency;
    const base = loadConfig();
    const cleanups: Array<() => Promise<unknown>> = [];
    const say = (s: string): void => console.log(s);
    try {
      // a single server that does not answer is replaced by a private one; a cluster or Sentinel group is used as configured
      let redisUrl: string | undefined;
      if (base.redis.mode === 'single' && !(await redisAnswers(base.redis.url))) {
        if (!hasRedisServer()) {
          throw new DependencyError(`no Redis answers at ${base.redis.display} and no redis-server binary was found.\n  Install one (Debian/Ubuntu: apt-get install redis-server; macOS: brew install redis) or set REDIS_URL.`);
        }
        const r = await startPrivateRedis();
        cleanups.push(() => r.stop());
        redisUrl = r.url;
        say(`· started a private redis-server at ${redisUrl} (none answered at ${base.redis.display})`);
      } else say(`· using Redis at ${base.redis.display}`);

      const simConfig = demoSimulatorConfig();
      const sim = await startSimulator(simConfig, { port: 0 });
      cleanups.push(() => sim.close());
      say(`· Gemini stand-in listening at ${sim.url} (${simConfig.projects.length} projects, ${Object.keys(simConfig.models).length} models)`);

      const dataDir = join(base.dataDir, 'demo');
      await rm(dataDir, { recursive: true, force: true });
      await mkdir(dataDir, { recursive: true });
      const config = loadConfig({
        ...(redisUrl ? { REDIS_URL: redisUrl } : {}),
        DATABASE_URL: '',
        QUOTAFLOW_DATA_DIR: dataDir,
        QUOTAFLOW_PREFIX: `demo-${randomBytes(4).toString('hex')}`,
        QUOTAFLOW_SECRET: base.secretKey?.toString('hex') ?? randomBytes(32).toString('hex'),
        GEMINI_BASE_URL: sim.url,
        LOG_LEVEL: process.env.LOG_LEVEL ?? 'error',
      });
      const logger = createLogger({ level: config.logLevel, name: 'demo', destination: process.stderr, format: config.logFormat ?? 'pretty' });
      const sys = await openSystem(config, logger);
      cleanups.push(() => sys.close());
      say(`· embedded PGlite database in ${dataDir} (demo only: one process)`);

      const summary = await sys.admin.applyFleet(parseFleet(demoFleet(simConfig)), { prune: true });
      say(`· fleet applied: ${summary.keys.created} keys, ${summary.tenants.created} tenants, version ${summary.version}`);

      const worker = await startGenerationWorker(sys, { concurrency });
      cleanups.push(() => worker.close(5_000));
      const client = createClient({ redis: config.redis, prefix: config.prefix });
      cleanups.push(() => client.close());
      say(`· worker running (concurrency ${concurrency}); enqueuing ${total} messages from tenants acme, globex, initech\n`);

      const tenants = ['acme', 'globex', 'initech'];
      const started = Date.now();
      const results: GenerationResult[] = [];
      const failures: Array<{ reason: string; message: string }> = [];
      const progress = createProgress(total);
      await Promise.all(
        Array.from({ length: total }, async (_, i) => {
          try {
            results.push(await client.generate({ tenantId: tenants[i % tenants.length] ?? 'acme', messageId: `demo-${i}`, contents: demoMessage(i) }, { timeoutMs: 300_000 }));
          } catch (err) {
            failures.push(err instanceof GenerationFailedError ? { reason: err.reason, message: err.message } : { reason: 'error', message: errorMessage(err) });
          }
          progress.tick(results.length, failures.length);
        }),
      );
      progress.done();
      const st = sim.stats();
      printSummary({ results, failures, elapsedMs: Date.now() - started, upstream: { calls: st.totalCalls, byStatus: st.byStatus }, out: say });
      return failures.length === 0 ? 0 : 1;
    } finally {
      for (const c of cleanups.reverse()) await c().catch(() => undefined);
    }
  },
});

function createProgress(total: number): { tick(ok: number, failed: number): void; done(): void } {
  const tty = process.stdout.isTTY;
  let last = -1;
  const render = (ok: number, failed: number): string => {
    const done = ok + failed;
    const width = 30;
    const fill = Math.round((done / total) * width);
    return `  [${'#'.repeat(fill)}${'.'.repeat(width - fill)}] ${done}/${total} answered ${ok}, failed ${failed}`;
  };
  return {
    tick(ok, failed) {
      const done = ok + failed;
      if (tty) process.stdout.write(`\r${render(ok, failed)}`);
      else if (Math.floor((done / total) * 10) !== last || done === total) {
        last = Math.floor((done / total) * 10);
        console.log(render(ok, failed));
      }
    },
    done() {
      if (tty) process.stdout.write('\n');
    },
  };
}

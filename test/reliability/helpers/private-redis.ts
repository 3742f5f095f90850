import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startPrivateRedis } from '../../../src/cli/demo/private-redis.js';

export interface AofRedis {
  url: string;
  port: number;
  dir: string;
  /** graceful stop (SIGTERM: redis-server fsyncs the AOF and exits) */
  stop(): Promise<void>;
  /** starts redis-server again on the same port and directory (the AOF is replayed) */
  start(): Promise<void>;
  /** stop, stay down for downMs, start */
  restart(downMs?: number): Promise<void>;
  /** stops it for good and removes its directory */
  destroy(): Promise<void>;
}

/** A private redis-server with appendonly on, loopback only: ours to restart. */
export async function startAofRedis(): Promise<AofRedis> {
  const dir = await mkdtemp(join(tmpdir(), 'qf-rel-redis-'));
  let handle = await startPrivateRedis({ appendOnly: true, dir });
  const port = handle.port;
  const self: AofRedis = {
    url: handle.url,
    port,
    dir,
    stop: () => handle.stop(),
    async start() {
      handle = await startPrivateRedis({ appendOnly: true, dir, port });
    },
    async restart(downMs = 2_000) {
      await self.stop();
      await new Promise((r) => setTimeout(r, downMs));
      await self.start();
    },
    async destroy() {
      await handle.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
  return self;
}

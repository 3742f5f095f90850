import { execFile } from 'node:child_process';
import { chown, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freePort } from '../../../src/cli/demo/private-redis.js';

const run = promisify(execFile);
const BIN = process.env.PG_BIN ?? '/usr/lib/postgresql/15/bin';

export interface PrivatePostgres {
  /** URL of the cluster's `postgres` database */
  url: string;
  port: number;
  stop(): Promise<void>;
  start(): Promise<void>;
  /** fast stop, stay down for downMs, start */
  restart(downMs?: number): Promise<void>;
  destroy(): Promise<void>;
}

/** Runs a PostgreSQL binary as the `postgres` OS user (initdb and pg_ctl refuse root). */
async function asPostgres(bin: string, args: string[]): Promise<string> {
  const r = await run('runuser', ['-u', 'postgres', '--', join(BIN, bin), ...args], { timeout: 60_000 });
  return r.stdout + r.stderr;
}

/** A throw-away Postgres cluster on a free loopback port, ours to stop and restart. */
export async function startPrivatePostgres(): Promise<PrivatePostgres> {
  const root = await mkdtemp(join(tmpdir(), 'qf-rel-pg-'));
  await chown(root, ...(await pgIds()));
  const data = join(root, 'data');
  const port = await freePort();
  await asPostgres('initdb', ['-D', data, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--no-sync']);
  const opts = `-p ${port} -k ${root} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200`;
  const ctl = (action: string, extra: string[] = []): Promise<string> => asPostgres('pg_ctl', ['-D', data, '-o', opts, '-l', join(root, 'log'), '-w', ...extra, action]);
  await ctl('start');
  const self: PrivatePostgres = {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    port,
    stop: async () => void (await ctl('stop', ['-m', 'fast'])),
    start: async () => void (await ctl('start')),
    async restart(downMs = 3_000) {
      await self.stop();
      await new Promise((r) => setTimeout(r, downMs));
      await self.start();
    },
    async destroy() {
      await ctl('stop', ['-m', 'immediate']).catch(() => undefined);
      await rm(root, { recursive: true, force: true });
    },
  };
  return self;
}

async function pgIds(): Promise<[number, number]> {
  const uid = Number((await run('id', ['-u', 'postgres'])).stdout.trim());
  const gid = Number((await run('id', ['-g', 'postgres'])).stdout.trim());
  return [uid, gid];
}

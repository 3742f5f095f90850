import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Redis, type RedisOptions } from 'ioredis';
import type { TestCerts } from './tls-certs.js';

/**
 * A throw-away Redis Cluster for tests: three masters (no replicas) on free
 * loopback ports, from the redis-server and redis-cli on PATH (Redis 7 or
 * later: the cluster bus gets its own free port through --cluster-port).
 * Nothing is persisted; stop() kills every process and removes the files,
 * and so does a failed start.
 */
export interface LocalCluster {
  /** `127.0.0.1:<port>` of each master */
  nodes: string[];
  /** the redis-server processes, to check that stop() ended them */
  pids: number[];
  /** the temporary directory holding the nodes' cluster files and logs */
  dir: string;
  /** how long the start took, from spawning to every node reporting cluster_state:ok */
  startedInMs: number;
  stop(): Promise<void>;
}

const MASTERS = 3;
const ATTEMPTS = 4;
const GRACE_MS = 3_000;
const READY_MS = 30_000;
/** the system's own Redis (and its bus and sentinel ports): never ours */
const RESERVED = new Set([6379, 16379, 26379]);
const run = promisify(execFile);

export interface ClusterOptions {
  /** more redis-server arguments for every node (e.g. `--cluster-node-timeout 2000`) */
  serverArgs?: string[];
  /** TLS only, for clients and the cluster bus alike (clients need no certificate) */
  tls?: TestCerts;
}

export async function startRedisCluster(opts: ClusterOptions = {}): Promise<LocalCluster> {
  const dir = await mkdtemp(join(tmpdir(), 'qf-cluster-'));
  const started = Date.now();
  let lastError: unknown;
  for (let attempt = 1; attempt <= ATTEMPTS; attempt++) {
    const procs: ChildProcess[] = [];
    const stop = once(async () => {
      process.off('exit', killNow);
      await Promise.all(procs.map(terminate));
      await rm(dir, { recursive: true, force: true });
    });
    // a test process that dies without its afterAll still takes its servers along
    const killNow = (): void => procs.forEach((p) => p.exitCode === null && p.signalCode === null && p.kill('SIGKILL'));
    process.on('exit', killNow);
    try {
      const ports = await freePorts(MASTERS * 2);
      const masters = ports.slice(0, MASTERS);
      masters.forEach((port, i) => procs.push(spawnNode(dir, port, ports[MASTERS + i] ?? 0, [...portArgs(port, opts.tls), ...(opts.serverArgs ?? [])])));
      const client = clientOptions(opts.tls);
      await Promise.all(masters.map((port, i) => untilAnswers(port, procs[i], dir, client)));
      const nodes = masters.map((p) => `127.0.0.1:${p}`);
      const cliTls = opts.tls ? ['--tls', '--cacert', opts.tls.caFile] : [];
      await run('redis-cli', [...cliTls, '--cluster', 'create', ...nodes, '--cluster-replicas', '0', '--cluster-yes'], { timeout: READY_MS });
      await Promise.all(masters.map((port) => untilClusterOk(port, client)));
      return { nodes, pids: procs.flatMap((p) => (p.pid === undefined ? [] : [p.pid])), dir, startedInMs: Date.now() - started, stop };
    } catch (err) {
      lastError = err;
      await Promise.all(procs.map(terminate));
      process.off('exit', killNow);
    }
  }
  await rm(dir, { recursive: true, force: true });
  throw new Error(`could not start a local Redis Cluster in ${ATTEMPTS} attempts: ${lastError instanceof Error ? lastError.message : String(lastError)}`);
}

/** The client port; with TLS the plain port stays closed and clients, redis-cli and the cluster bus all speak TLS. */
const portArgs = (port: number, tls: TestCerts | undefined): string[] =>
  tls
    ? ['--port', '0', '--tls-port', String(port), '--tls-cluster', 'yes', '--tls-cert-file', tls.certFile, '--tls-key-file', tls.keyFile, '--tls-ca-cert-file', tls.caFile, '--tls-auth-clients', 'no']
    : ['--port', String(port)];

/** The harness's own checks connect by address; the certificate names localhost. */
const clientOptions = (tls: TestCerts | undefined): RedisOptions => (tls ? { tls: { ca: readFileSync(tls.caFile), servername: 'localhost' } } : {});

function spawnNode(dir: string, port: number, busPort: number, extra: string[]): ChildProcess {
  const args = ['--bind', '127.0.0.1', '--cluster-enabled', 'yes', '--cluster-port', busPort, '--cluster-config-file', join(dir, `nodes-${port}.conf`), '--save', '', '--appendonly', 'no', '--dir', dir, '--logfile', join(dir, `redis-${port}.log`)];
  // startup errors (a bad argument) go to stderr before the log file opens
  const stderr = openSync(join(dir, `stderr-${port}.log`), 'w');
  const child = spawn('redis-server', [...args.map(String), ...extra], { stdio: ['ignore', 'ignore', stderr] });
  closeSync(stderr);
  child.on('error', () => undefined);
  return child;
}

/** Ports the kernel just handed out on loopback, distinct and never the system Redis's. Another process may still take one: the caller retries. */
async function freePorts(n: number): Promise<number[]> {
  const ports = new Set<number>();
  while (ports.size < n) {
    const port = await new Promise<number>((resolve, reject) => {
      const srv = createServer();
      srv.once('error', reject);
      srv.listen(0, '127.0.0.1', () => {
        const addr = srv.address();
        srv.close(() => resolve(typeof addr === 'object' && addr ? addr.port : 0));
      });
    });
    if (port > 0 && !RESERVED.has(port)) ports.add(port);
  }
  return [...ports];
}

/** Waits until the server on port answers, and checks that it is the process we started (not one that took the port first). */
async function untilAnswers(port: number, child: ChildProcess | undefined, dir: string, client: RedisOptions): Promise<void> {
  const deadline = Date.now() + READY_MS;
  for (;;) {
    if (!child || child.exitCode !== null || child.signalCode !== null) {
      const logs = await Promise.all([`stderr-${port}.log`, `redis-${port}.log`].map((f) => readFile(join(dir, f), 'utf8').catch(() => '')));
      const tail = logs.join('\n').trim().split('\n').filter((l) => l.trim() !== '').slice(-3);
      throw new Error(`redis-server on port ${port} exited: ${tail.join(' | ') || 'no output'}`);
    }
    const pid = await serverPid(port, client);
    if (pid !== undefined && pid !== child.pid) throw new Error(`port ${port} answers for another process (${pid})`);
    if (pid !== undefined) return;
    if (Date.now() > deadline) throw new Error(`redis-server on port ${port} did not answer within ${READY_MS} ms`);
    await sleep(50);
  }
}

/** The process id the server on port reports, or undefined while nothing answers there. */
async function serverPid(port: number, client: RedisOptions): Promise<number | undefined> {
  const r = new Redis(port, '127.0.0.1', { ...client, lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, connectTimeout: 200 });
  r.on('error', () => undefined);
  try {
    await r.connect();
    const pid = /^process_id:(\d+)/m.exec(await r.info('server'))?.[1];
    return pid === undefined ? undefined : Number(pid);
  } catch {
    return undefined;
  } finally {
    r.disconnect();
  }
}

async function untilClusterOk(port: number, client: RedisOptions): Promise<void> {
  const r = new Redis(port, '127.0.0.1', { ...client, maxRetriesPerRequest: 1, retryStrategy: () => null });
  r.on('error', () => undefined);
  try {
    const deadline = Date.now() + READY_MS;
    for (;;) {
      const info = await r.cluster('INFO');
      if (/^cluster_state:ok\r?$/m.test(info) && /^cluster_slots_assigned:16384\r?$/m.test(info)) return;
      if (Date.now() > deadline) throw new Error(`node ${port} not ok within ${READY_MS} ms:\n${info}`);
      await sleep(100);
    }
  } finally {
    r.disconnect();
  }
}

/** SIGTERM, then SIGKILL after a grace period; resolves when the process has exited. */
async function terminate(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), GRACE_MS);
  await exited;
  clearTimeout(timer);
}

function once(f: () => Promise<void>): () => Promise<void> {
  let p: Promise<void> | undefined;
  return () => (p ??= f());
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

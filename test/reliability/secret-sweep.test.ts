import type { FastifyInstance } from 'fastify';
import { Writable } from 'node:stream';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApiServer } from '../../src/api/server.js';
import { parseConfig } from '../../src/config.js';
import { createLogger } from '../../src/logger.js';
import type { FaultKind } from '../../src/simulator/faults-schema.js';
import { FAIL_FAST, openSystem, type System } from '../../src/system.js';
import { matchedConfigs } from '../helpers/fleets.js';
import { SECRET_SHAPES, secretForms, secretOfShape, startAlertReceiver, withSecrets } from '../helpers/secret-shapes.js';
import { startAofRedis, type AofRedis } from './helpers/private-redis.js';
import { startRelStack, until, type RelStack } from './helpers/rel-stack.js';

/**
 * A sweep for secrets after every error path ran with the stand-in echoing
 * the calling key in each error: many keys in five shapes (sk-, UUID,
 * base64 with + / =, AIza, hex), on tenants' own projects and on central
 * ones, answered with 400, API_KEY_INVALID, 403, 404, each kind of 429, 500,
 * both 503s and a stream failing midway; then `maintenance --once
 * health-check`. No secret, plain or URL-encoded, in any process log, any
 * Redis key or value, any Postgres table, the producer and admin API
 * answers, /metrics, the dashboard data, `status --json` or an alert body.
 * The detector itself is checked on the stand-in's raw answer, which does
 * carry the key.
 */
const FLASH = 'gemini-2.5-flash';
const LIM = { [FLASH]: { rpm: 1000, tpm: 10_000_000, rpd: 100_000 } };
const ADMIN = 'admin-token-secret-sweep-0123456789';
const KINDS: Array<FaultKind | 'mid-stream'> = ['400-bad-request', '400-api-key-invalid', '403-key-leaked', '404-model-not-found', '429-per-minute', '429-per-day', '429-no-details', '429-spend-cap', '500-internal', '503-overloaded', '503-high-demand', 'mid-stream'];
const slug = (k: string): string => k.replace(/[^a-z0-9]+/gi, '');
// per kind: a tenant's own project with two keys, a central project with one
const own = KINDS.map((k) => ({ kind: k, tenant: `t${slug(k)}`, project: `o${slug(k)}`, keys: [`o${slug(k)}-1`, `o${slug(k)}-2`] }));
const central = KINDS.map((k) => ({ kind: k, project: `c${slug(k)}`, key: `c${slug(k)}-1` }));
const ruleFor = (kind: string, project: string): Record<string, unknown> =>
  kind === 'mid-stream' ? { project, midStream: { afterChunks: 1, p: 1 }, stream: { chunkChars: 4 } } : { project, forceStatus: kind };
const base = matchedConfigs({
  models: [FLASH],
  projects: Object.fromEntries([...own.map((o) => [o.project, LIM]), ...central.map((c) => [c.project, LIM])]),
  tenants: [...own.map((o) => ({ id: o.tenant, keyMode: 'own-only' })), { id: 'shared', keyMode: 'central-only' }],
  keys: [...own.flatMap((o) => o.keys.map((id) => ({ id, tenant: o.tenant, project: o.project }))), ...central.map((c) => ({ id: c.key, tenant: null, project: c.project }))],
  sim: { echoKeyInErrors: true, faults: { rules: [...own.map((o) => ruleFor(o.kind, o.project)), ...central.map((c) => ruleFor(c.kind, c.project))] } },
});
const KEY_IDS = [...own.flatMap((o) => o.keys), ...central.map((c) => c.key)];
const SECRETS = Object.fromEntries(KEY_IDS.map((id, i) => [id, secretOfShape(SECRET_SHAPES[i % SECRET_SHAPES.length] ?? 'sk')]));
const cfg = withSecrets(base, SECRETS);
const TOKEN = (t: string): string => `tenant-token-${t}-sweep-5Nf8Qw2Xk7Lp`;
const fleet = cfg.fleet as { tenants: Array<Record<string, unknown>> };
fleet.tenants = fleet.tenants.map((t) => ({ ...t, token: TOKEN(String(t.id)) }));
const FORMS = Object.values(SECRETS).flatMap(secretForms);
const leaks = (text: string): string[] => FORMS.filter((f) => text.includes(f));

let redis: AofRedis;
let stack: RelStack;
let sys: System;
let app: FastifyInstance;
let alerts: Awaited<ReturnType<typeof startAlertReceiver>>;
let apiLog = '';
const seen: Array<{ what: string; text: string }> = [];

async function dumpAllRedis(): Promise<string> {
  const parts: string[] = [];
  let cursor = '0';
  do {
    const [next, keys] = await stack.redis.scan(cursor, 'COUNT', 1000);
    cursor = next;
    for (const k of keys) {
      parts.push(k);
      const type = await stack.redis.type(k);
      if (type === 'string') parts.push((await stack.redis.get(k)) ?? '');
      else if (type === 'hash') parts.push(JSON.stringify(await stack.redis.hgetall(k)));
      else if (type === 'list') parts.push(JSON.stringify(await stack.redis.lrange(k, 0, -1)));
      else if (type === 'set') parts.push(JSON.stringify(await stack.redis.smembers(k)));
      else if (type === 'zset') parts.push(JSON.stringify(await stack.redis.zrange(k, 0, -1)));
      else if (type === 'stream') parts.push(JSON.stringify(await stack.redis.xrange(k, '-', '+')));
    }
  } while (cursor !== '0');
  return parts.join('\n');
}

async function dumpAllPostgres(): Promise<string> {
  const sql = postgres(stack.env.DATABASE_URL ?? '', { max: 1, onnotice: () => undefined });
  try {
    const tables = await sql<Array<{ table_name: string }>>`select table_name from information_schema.tables where table_schema = 'public' order by 1`;
    const parts: string[] = [];
    for (const t of tables) {
      const rows = await sql.unsafe(`select * from "${t.table_name}"`);
      parts.push(t.table_name, JSON.stringify(rows, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : Buffer.isBuffer(v) ? v.toString('latin1') : v)));
    }
    return parts.join('\n');
  } finally {
    await sql.end({ timeout: 5 });
  }
}

beforeAll(async () => {
  alerts = await startAlertReceiver();
  redis = await startAofRedis();
  stack = await startRelStack({ name: 'secret-sweep', sim: cfg.sim, redisUrl: redis.url, env: { QUOTAFLOW_ADMIN_TOKEN: ADMIN, QUOTAFLOW_ALERT_WEBHOOK_URL: alerts.url, LOG_LEVEL: 'debug' } });
  await stack.applyFleet(fleet);
  await stack.startWorker(['--concurrency', '8']);
  await stack.startWorker(['--concurrency', '8']);
  const sink = new Writable({ write: (chunk: Buffer, _enc, cb) => ((apiLog += chunk.toString()), cb()) });
  sys = await openSystem(parseConfig({ ...stack.env, LOG_LEVEL: 'debug' }), createLogger({ level: 'debug', destination: sink }), { profile: FAIL_FAST });
  app = await buildApiServer(sys, { adminToken: ADMIN });
  await until(async () => (await app.inject({ method: 'GET', url: '/readyz' })).statusCode === 200, 60_000, 100);
  const request = async (tenant: string, stream: boolean, i: number): Promise<void> => {
    const url = stream ? '/v1/generations?stream=true' : '/v1/generations?wait=60';
    const r = await app.inject({ method: 'POST', url, headers: { authorization: `Bearer ${TOKEN(tenant)}` }, payload: { contents: `sweep ${tenant} ${i} with a longer text to stream`, deadlineMs: 10_000 } });
    seen.push({ what: `POST ${url} of ${tenant} (${r.statusCode})`, text: r.body });
    const jobId = r.headers['x-quotaflow-job-id'] ?? (r.statusCode < 300 ? r.json<{ jobId?: string }>().jobId : undefined);
    if (typeof jobId !== 'string') return;
    for (const path of [`/v1/generations/${jobId}`, `/v1/generations/${jobId}/events`]) {
      const g = await app.inject({ method: 'GET', url: path, headers: { authorization: `Bearer ${TOKEN(tenant)}` } });
      seen.push({ what: `GET ${path} of ${tenant} (${g.statusCode})`, text: g.body });
    }
  };
  await Promise.all([
    ...own.flatMap((o) => [0, 1].map((i) => request(o.tenant, o.kind === 'mid-stream', i))),
    ...Array.from({ length: 12 }, (_, i) => request('shared', i % 3 === 0, i)),
  ]);
  const health = await stack.cli(['maintenance', '--once', 'health-check']);
  seen.push({ what: 'health-check result', text: health.stdout + health.stderr });
  const status = await stack.cli(['status', '--json']);
  seen.push({ what: 'status --json', text: status.stdout + status.stderr });
  for (const url of ['/admin/api/fleet', '/admin/api/keys', '/admin/api/tenants', '/admin/api/projects', '/admin/api/limits', '/admin/api/exclusions', '/admin/api/cooldowns', '/dashboard/data.json', '/metrics', '/readyz']) {
    const r = await app.inject({ method: 'GET', url, headers: { authorization: `Bearer ${ADMIN}` } });
    seen.push({ what: `${url} (${r.statusCode})`, text: r.body });
  }
  seen.push({ what: 'redis', text: await dumpAllRedis() });
  seen.push({ what: 'postgres', text: await dumpAllPostgres() });
  seen.push({ what: 'alert bodies', text: alerts.bodies.join('\n') });
  seen.push({ what: 'process logs', text: stack.logs() });
  seen.push({ what: 'api log', text: apiLog });
}, 600_000);

afterAll(async () => {
  await app?.close();
  await sys?.close();
  await stack?.stop();
  await redis?.destroy();
  await alerts?.close();
});

describe('every error kind echoing the key', () => {
  it('the stand-in answered every kind, and its raw answer does carry the key (the detector finds it)', async () => {
    const byStatus = stack.sim.stats().byStatus;
    for (const s of ['400', '403', '404', '429', '500', '503']) expect(byStatus[s] ?? 0, `HTTP ${s}`).toBeGreaterThan(0);
    const key = SECRETS[own[0]?.keys[0] ?? ''] ?? '';
    const raw = await fetch(`${stack.sim.url}/v1beta/models/${FLASH}:generateContent`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-goog-api-key': key }, body: JSON.stringify({ contents: [{ role: 'user', parts: [{ text: 'raw' }] }] }) });
    expect(leaks(await raw.text())).toContain(key);
    expect(alerts.bodies.length).toBeGreaterThan(0);
  });

  it.each(['process logs', 'api log', 'redis', 'postgres', 'alert bodies', 'health-check result', 'status --json'])('%s: no secret, plain or URL-encoded', (what) => {
    const part = seen.find((s) => s.what === what);
    expect(part?.text.length ?? 0, `${what} is empty`).toBeGreaterThan(what === 'alert bodies' ? 0 : 10);
    expect(leaks(part?.text ?? '')).toEqual([]);
  });

  it('the logs show the echo was there and was redacted', () => {
    expect(stack.logs()).toContain('[redacted]');
  });

  it('no producer or admin API answer, /metrics or dashboard data holds a secret', () => {
    const pages = seen.filter((s) => s.what.startsWith('/') || s.what.startsWith('GET') || s.what.startsWith('POST'));
    expect(pages.length).toBeGreaterThan(60);
    for (const p of pages) expect(leaks(p.text), p.what).toEqual([]);
  });
});

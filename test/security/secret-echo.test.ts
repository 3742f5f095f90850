import { Writable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApiServer } from '../../src/api/server.js';
import { parseConfig } from '../../src/config.js';
import { createLogger } from '../../src/logger.js';
import { FAIL_FAST, openSystem, type System } from '../../src/system.js';
import { matchedConfigs } from '../helpers/fleets.js';
import { secretForms, secretOfShape, startAlertReceiver, withSecrets } from '../helpers/secret-shapes.js';
import { startStack, type Stack } from '../helpers/stack.js';
import { until } from '../helpers/tenants.js';

/**
 * The stand-in echoes the calling key at the end of every error message.
 * Keys shaped like `sk-…`, a UUID and base64 (with + / =), on tenants' own
 * projects and on an operator (central) project, answered with 400, an
 * invalid key, a leaked key, 503: no secret reaches the producer API's
 * answers, `api_keys.disabled_reason`, the admin API, the alert webhook,
 * the health-check probe results or any log; the operator key's 400 reaches
 * the tenant as a generic message, not Google's text.
 */
const FLASH = 'gemini-2.5-flash';
const LIM = { [FLASH]: { rpm: 1000, tpm: 10_000_000, rpd: 100_000 } };
const ADMIN = 'admin-token-secret-echo-0123456789';
// tenant -> its project (and the fault that project answers with), its key and the key's shape
const SETUP = [
  { tenant: 'tsk', project: 'p400', key: 'k-sk', shape: 'sk', fault: '400-bad-request' },
  { tenant: 'tuu', project: 'pinv', key: 'k-uu', shape: 'uuid', fault: '400-api-key-invalid' },
  { tenant: 'tb6', project: 'p403', key: 'k-b6', shape: 'base64', fault: '403-key-leaked' },
  { tenant: 't53', project: 'p503', key: 'k-53', shape: 'uuid', fault: '503-overloaded' },
  { tenant: 'top', project: 'pc', key: 'k-op', shape: 'sk', fault: '400-bad-request', central: true },
] as const;
const TOKEN = (t: string): string => `tenant-token-${t}-secret-echo-9Xk2`;
const base = matchedConfigs({
  models: [FLASH],
  projects: Object.fromEntries(SETUP.map((s) => [s.project, LIM])),
  tenants: SETUP.map((s) => ({ id: s.tenant, keyMode: 'central' in s ? 'central-only' : 'own-only' })),
  keys: SETUP.map((s) => ({ id: s.key, tenant: 'central' in s ? null : s.tenant, project: s.project })),
  sim: { echoKeyInErrors: true, faults: { rules: SETUP.map((s) => ({ project: s.project, forceStatus: s.fault })) } },
});
const SECRETS = Object.fromEntries(SETUP.map((s) => [s.key, secretOfShape(s.shape)]));
const cfg = withSecrets(base, SECRETS);
const fleet = cfg.fleet as { tenants: Array<Record<string, unknown>> };
fleet.tenants = fleet.tenants.map((t) => ({ ...t, token: TOKEN(String(t.id)) }));
const FORMS = Object.values(SECRETS).flatMap(secretForms);

let stack: Stack;
let sys: System;
let app: FastifyInstance;
let alerts: Awaited<ReturnType<typeof startAlertReceiver>>;
let apiLog = '';
const answers = new Map<string, { status: number; body: string }>();
const seen: Array<{ what: string; text: string }> = [];

const leaks = (text: string): string[] => FORMS.filter((f) => text.includes(f));

beforeAll(async () => {
  alerts = await startAlertReceiver();
  stack = await startStack({ name: 'secret-echo', sim: cfg.sim, env: { QUOTAFLOW_ALERT_WEBHOOK_URL: alerts.url, LOG_LEVEL: 'debug' } });
  await stack.applyFleet(fleet);
  await stack.startWorker(['--concurrency', '4']);
  const sink = new Writable({ write: (chunk: Buffer, _enc, cb) => ((apiLog += chunk.toString()), cb()) });
  sys = await openSystem(parseConfig({ ...stack.env, LOG_LEVEL: 'debug' }), createLogger({ level: 'debug', destination: sink }), { profile: FAIL_FAST });
  app = await buildApiServer(sys, { adminToken: ADMIN });
  await until(async () => (await app.inject({ method: 'GET', url: '/readyz' })).statusCode === 200, 'the API to be ready');
  await Promise.all(
    SETUP.map(async (s) => {
      const r = await app.inject({ method: 'POST', url: '/v1/generations?wait=60', headers: { authorization: `Bearer ${TOKEN(s.tenant)}` }, payload: { contents: `echo ${s.tenant}`, deadlineMs: 8_000 } });
      answers.set(s.tenant, { status: r.statusCode, body: r.body });
      const jobId = r.json<{ jobId?: string }>().jobId;
      if (jobId) {
        const g = await app.inject({ method: 'GET', url: `/v1/generations/${jobId}`, headers: { authorization: `Bearer ${TOKEN(s.tenant)}` } });
        seen.push({ what: `GET job of ${s.tenant}`, text: g.body });
      }
    }),
  );
  // read before the health check: its probes are not generation calls, so it finds the keys working again and re-enables them
  const sql = postgres(stack.env.DATABASE_URL ?? '', { max: 1, onnotice: () => undefined });
  const rows = await sql<Array<{ id: string; disabled_reason: string | null }>>`select id, disabled_reason from api_keys order by id`;
  await sql.end({ timeout: 5 });
  seen.push({ what: 'api_keys.disabled_reason', text: JSON.stringify(rows) });
  const health = await stack.cli(['maintenance', '--once', 'health-check']);
  seen.push({ what: 'health-check result', text: health.stdout + health.stderr });
  for (const url of ['/admin/api/fleet', '/admin/api/keys', '/admin/api/tenants', '/admin/api/projects', '/admin/api/exclusions', '/admin/api/cooldowns', '/dashboard/data.json', '/metrics']) {
    const r = await app.inject({ method: 'GET', url, headers: { authorization: `Bearer ${ADMIN}` } });
    seen.push({ what: `${url} (${r.statusCode})`, text: r.body });
  }
}, 240_000);

afterAll(async () => {
  await app?.close();
  await sys?.close();
  await stack?.stop();
  await alerts?.close();
});

describe('keys echoed by the upstream in its errors', () => {
  it('the runs went through each error (the stand-in answered each fault, keys were disabled, alerts sent)', () => {
    const byStatus = stack.sim.stats().byStatus;
    for (const s of ['400', '403', '503']) expect(byStatus[s] ?? 0, s).toBeGreaterThan(0);
    const disabled = seen.find((s) => s.what === 'api_keys.disabled_reason')?.text ?? '';
    expect(disabled).toMatch(/"k-uu","disabled_reason":"[^"]+"/);
    expect(disabled).toMatch(/"k-b6","disabled_reason":"[^"]+"/);
    expect(alerts.bodies.length).toBeGreaterThan(0);
    for (const s of SETUP) expect(answers.get(s.tenant)?.status, s.tenant).toBe(200);
  });

  it("the tenant's own key: its failure answer carries the upstream text with the key redacted", () => {
    const a = answers.get('tsk')?.body ?? '';
    expect(a).toMatch(/"state":"failed"/);
    expect(a).toContain('[redacted]');
  });

  it("an operator key's 400 reaches the tenant as a generic message", () => {
    const a = JSON.parse(answers.get('top')?.body ?? '{}') as { state?: string; reason?: string; message?: string };
    expect(a.state).toBe('failed');
    expect(a.message).toMatch(/on an operator key; the operator's log has the details/);
    expect(a.message).not.toMatch(/API key|redacted|INVALID_ARGUMENT/i);
  });

  it('no answer, stored reason, admin page, metric or health-check result holds a secret (plain or URL-encoded)', () => {
    const all = [...[...answers].map(([t, a]) => ({ what: `POST of ${t}`, text: a.body })), ...seen];
    expect(all.length).toBeGreaterThan(15);
    for (const p of all) expect(leaks(p.text), p.what).toEqual([]);
  });

  it('no alert body holds a secret', () => {
    for (const b of alerts.bodies) expect(leaks(b)).toEqual([]);
  });

  it('no log line holds a secret', () => {
    const logs = stack.logs() + apiLog;
    expect(logs).toContain('[redacted]');
    expect(leaks(logs)).toEqual([]);
  });
});

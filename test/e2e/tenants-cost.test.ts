import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GenerationFailedError } from '../../src/adapters/queue/client.js';
import { buildApiServer } from '../../src/api/server.js';
import { parseConfig } from '../../src/config.js';
import { createLogger } from '../../src/logger.js';
import type { SimCall } from '../../src/simulator/index.js';
import { openSystem, type System } from '../../src/system.js';
import { startStack, type Stack } from '../helpers/stack.js';
import { tenantConfigs, until } from '../helpers/tenants.js';

/**
 * What tenants cost, checked against the stand-in: every counted call's
 * tokens (prompt, candidates, thoughts) times the model's price, computed
 * here independently, equals what quotaflow stored per tenant and what its
 * usage report, HTTP API, metrics and dashboard show; a tenant's monthly
 * budget raises alerts at 80 % and 100 % through the webhook and then ends
 * its jobs with `budget`.
 */
const PRO = 'gemini-2.5-pro';
const FLASH = 'gemini-2.5-flash';
const AMPLE = { [PRO]: { rpm: 10_000, tpm: 100_000_000, rpd: 100_000 }, [FLASH]: { rpm: 10_000, tpm: 100_000_000, rpd: 100_000 } };
/** The fleet overrides pro's price; flash keeps the package catalog's. */
const PRO_PRICE = { input: 2, output: 8 };
const catalogJson = JSON.parse(readFileSync(new URL('../../src/core/catalog-gemini.json', import.meta.url), 'utf8')) as { models: Record<string, { prices: { input: number; output: number } }> };
const FLASH_PRICE = catalogJson.models[FLASH]?.prices ?? { input: NaN, output: NaN };
const THINKING_BUDGET = 64;
const TOKENS = { gamma: randomBytes(24).toString('hex') };
const ADMIN = randomBytes(24).toString('hex');
const BUDGET_USD = 0.001;

const cfg = tenantConfigs({
  models: [PRO, FLASH],
  projects: { pa: AMPLE, pg: AMPLE, pc: AMPLE },
  tenants: [
    { id: 'alpha', keyMode: 'own-then-central' },
    { id: 'beta', keyMode: 'central-only' },
    { id: 'gamma', keyMode: 'own-only', models: [FLASH], budget: { monthly: BUDGET_USD }, token: TOKENS.gamma },
  ],
  keys: [
    { id: 'a1', tenant: 'alpha', project: 'pa' },
    { id: 'g1', tenant: 'gamma', project: 'pg' },
    { id: 'c1', tenant: null, project: 'pc' },
  ],
  catalog: { models: { [PRO]: { prices: { ...PRO_PRICE, source: 'estimate: a price of this test' } } } },
});
/** Each key serves one tenant here, so the stand-in's record says whose call it was. */
const TENANT_OF_KEY: Record<string, string> = { a1: 'alpha', c1: 'beta', g1: 'gamma' };

let stack: Stack;
let sys: System;
let app: FastifyInstance;
let hook: Server;
const alerts: Array<{ kind: string; subject: string; detail: string }> = [];

beforeAll(async () => {
  hook = createServer((req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString()));
    req.on('end', () => {
      alerts.push(JSON.parse(body) as (typeof alerts)[number]);
      res.end();
    });
  });
  await new Promise<void>((r) => hook.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(hook.address() as AddressInfo).port}/alerts`;
  stack = await startStack({ name: 'tenants-cost', sim: cfg.sim, env: { QUOTAFLOW_ALERT_WEBHOOK_URL: url } });
  await stack.applyFleet(cfg.fleet);
  await stack.startWorker(['--concurrency', '8']);
  sys = await openSystem(parseConfig({ ...stack.env, QUOTAFLOW_ADMIN_TOKEN: ADMIN, LOG_LEVEL: 'warn' }), createLogger({ level: 'warn' }));
  app = await buildApiServer(sys);
}, 60_000);
afterAll(async () => {
  await app?.close();
  await sys?.close();
  await stack?.stop();
  await new Promise((r) => hook?.close(r));
});

/** USD per 1M tokens -> picodollars per token. */
const perToken = (usdPerMillion: number): bigint => BigInt(Math.round(usdPerMillion * 1e6));

/** A counted call's cost from the stand-in's record alone: prompt at the input price, candidates and thoughts at the output price. */
function callCost(c: SimCall, thinking: boolean): bigint {
  const price = c.model === PRO ? PRO_PRICE : FLASH_PRICE;
  // the stand-in thinks min(budget, 16 + 2 x answer tokens) when asked to (src/simulator/answers.ts)
  const thoughts = thinking ? Math.min(THINKING_BUDGET, 16 + 2 * c.candidatesTokens) : 0;
  return BigInt(c.promptTokens) * perToken(price.input) + BigInt(c.candidatesTokens + thoughts) * perToken(price.output);
}

function expectedCosts(): Map<string, { requests: number; costPico: bigint }> {
  const out = new Map<string, { requests: number; costPico: bigint }>();
  for (const c of stack.sim.stats().calls.filter((x) => x.counted && x.method === 'generateContent')) {
    const tenant = TENANT_OF_KEY[c.keyLabel] ?? '?';
    const t = out.get(tenant) ?? { requests: 0, costPico: 0n };
    out.set(tenant, { requests: t.requests + 1, costPico: t.costPico + callCost(c, tenant === 'beta') });
  }
  return out;
}

const usd = (pico: bigint): string => {
  const whole = pico / 1_000_000_000_000n;
  const frac = (pico % 1_000_000_000_000n).toString().padStart(12, '0').replace(/0+$/, '').padEnd(2, '0');
  return `${whole}.${frac}`;
};
const cents = (pico: bigint): number => Number((pico + 5_000_000_000n) / 10_000_000_000n);
const longPrompt = (tag: string): string => `${tag} `.concat('please summarise the order history of this customer in detail. '.repeat(30));

describe('cost per tenant', () => {
  it('sends traffic: alpha on pro and flash (own key), beta on flash with thinking (central key)', async () => {
    await Promise.all([
      ...Array.from({ length: 12 }, (_, i) => stack.client.generate({ tenantId: 'alpha', contents: longPrompt(`alpha pro ${i}`) }, { timeoutMs: 30_000 })),
      ...Array.from({ length: 12 }, (_, i) => stack.client.generate({ tenantId: 'alpha', models: [FLASH], contents: longPrompt(`alpha flash ${i}`) }, { timeoutMs: 30_000 })),
      ...Array.from({ length: 16 }, (_, i) => stack.client.generate({ tenantId: 'beta', models: [FLASH], contents: longPrompt(`beta ${i}`), generationConfig: { thinkingConfig: { thinkingBudget: THINKING_BUDGET } } }, { timeoutMs: 30_000 })),
    ]);
    expect(expectedCosts().get('alpha')?.requests).toBe(24);
    expect(expectedCosts().get('beta')?.requests).toBe(16);
  });

  it("gamma's budget: alerts at 80 % and 100 % through the webhook, then `budget` failures with no upstream call", async () => {
    const outcomes: string[] = [];
    for (let i = 0; i < 40 && !outcomes.includes('budget'); i++) {
      outcomes.push(await stack.client.generate({ tenantId: 'gamma', contents: longPrompt(`gamma ${i}`) }, { timeoutMs: 30_000 }).then(() => 'ok', (e: unknown) => (e instanceof GenerationFailedError ? e.reason : String(e))));
    }
    expect(outcomes.at(-1)).toBe('budget');
    const served = outcomes.filter((o) => o === 'ok').length;
    expect(served).toBeGreaterThan(2);
    const gammaCalls = stack.sim.stats().calls.filter((c) => c.keyLabel === 'g1');
    expect(gammaCalls).toHaveLength(served);
    // the calls before the last were all under the budget, the last crossed it
    const spent = gammaCalls.map((c) => callCost(c, false));
    const budgetPico = BigInt(BUDGET_USD * 1e6) * 1_000_000n;
    expect(spent.slice(0, -1).reduce((a, b) => a + b, 0n)).toBeLessThan(budgetPico);
    expect(spent.reduce((a, b) => a + b, 0n)).toBeGreaterThanOrEqual(budgetPico);

    await until(() => alerts.filter((a) => a.kind === 'budget').length >= 2, 'two budget alerts', 10_000);
    const budgetAlerts = alerts.filter((a) => a.kind === 'budget');
    expect(budgetAlerts).toHaveLength(2);
    expect(budgetAlerts.map((a) => a.subject)).toEqual(['gamma/80%', 'gamma/100%']);
    expect(budgetAlerts[0]?.detail).toMatch(/tenant gamma has spent 80% of its monthly budget \(0\.000[89]\d* of 0\.001 USD\)/);
    expect(budgetAlerts[1]?.detail).toContain('tenant gamma has spent 100% of its monthly budget');
    const again = await stack.client.generate({ tenantId: 'gamma', contents: 'one more' }, { timeoutMs: 30_000 }).catch((e: unknown) => e);
    expect((again as GenerationFailedError).reason).toBe('budget');
    expect((again as GenerationFailedError).message).toContain('has reached its monthly budget');
    expect(stack.sim.stats().calls.filter((c) => c.keyLabel === 'g1')).toHaveLength(served);
  });

  it('the stored daily totals equal the stand-in usage times the price table, to the picodollar', async () => {
    const expected = expectedCosts();
    const day = sys.usage.today().day;
    // usage rows are written in batches: wait until every call is stored
    await until(async () => (await sys.stores.usage.tenantTotals({ days: [day] })).reduce((n, r) => n + r.requests, 0) >= [...expected.values()].reduce((n, e) => n + e.requests, 0), 'the usage rows');
    const stored = await sys.stores.usage.tenantTotals({ days: [day] });
    for (const [tenant, e] of expected) {
      const rows = stored.filter((r) => r.tenantId === tenant);
      expect(rows.reduce((n, r) => n + r.requests, 0), tenant).toBe(e.requests);
      expect(rows.reduce((n, r) => n + r.costPico, 0n), tenant).toBe(e.costPico);
    }
    // alpha used its own key, beta only central keys
    expect(stored.filter((r) => r.tenantId === 'alpha').map((r) => r.central)).toEqual([false]);
    expect(stored.filter((r) => r.tenantId === 'beta').map((r) => r.central)).toEqual([true]);
    expect(stored.find((r) => r.tenantId === 'beta')?.thoughtsTokens).toBeGreaterThan(0);
  });

  it('`quotaflow usage` reports the same totals to the cent, per day and model, as a table, CSV and JSON', async () => {
    const expected = expectedCosts();
    const day = sys.usage.today().day;
    const json = await stack.cli(['usage', '--tenant', 'alpha', '--from', day, '--to', day, '--json']);
    expect(json.code).toBe(0);
    const report = JSON.parse(json.stdout) as { rows: Array<{ model: string; keys: string; requests: number; costUsd: string }>; total: { requests: number; costUsd: string; costCents: number }; own: { costUsd: string }; central: { requests: number } };
    const alpha = expected.get('alpha') ?? { requests: -1, costPico: -1n };
    expect(report.total).toMatchObject({ requests: alpha.requests, costUsd: usd(alpha.costPico), costCents: cents(alpha.costPico) });
    expect(report.own.costUsd).toBe(usd(alpha.costPico));
    expect(report.central.requests).toBe(0);
    expect(report.rows.map((r) => [r.model, r.keys, r.requests])).toEqual([
      [PRO, 'own', 12],
      [FLASH, 'own', 12],
    ].sort((a, b) => String(a[0]).localeCompare(String(b[0]))));

    const csv = await stack.cli(['usage', '--tenant', 'alpha', '--from', day, '--to', day, '--csv']);
    const lines = csv.stdout.trim().split('\n');
    expect(lines[0]).toBe('tenant,day,model,keys,requests,successes,prompt_tokens,candidates_tokens,thoughts_tokens,total_tokens,cost_usd');
    expect(lines).toHaveLength(3);
    const table = await stack.cli(['usage', '--from', day, '--to', day]);
    expect(table.code).toBe(0);
    const total = [...expected.values()].reduce((n, e) => n + e.costPico, 0n);
    expect(table.stdout).toMatch(new RegExp(`^total .* ${usd(total).replace('.', '\\.')}$`, 'm'));
  });

  it('the admin API and the tenant\'s own /v1/usage show the same figures, with the budget left', async () => {
    const expected = expectedCosts();
    const day = sys.usage.today().day;
    const beta = expected.get('beta') ?? { requests: -1, costPico: -1n };
    const admin = await app.inject({ method: 'GET', url: `/admin/api/usage?tenant=beta&from=${day}&to=${day}`, headers: { authorization: `Bearer ${ADMIN}` } });
    expect(admin.statusCode).toBe(200);
    expect(admin.json().total).toMatchObject({ requests: beta.requests, costUsd: usd(beta.costPico) });
    expect(admin.json().central).toMatchObject({ requests: beta.requests, costUsd: usd(beta.costPico) });
    const bad = await app.inject({ method: 'GET', url: '/admin/api/usage?from=2026-13-01&to=yesterday', headers: { authorization: `Bearer ${ADMIN}` } });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error.issues).toHaveLength(2);

    const gamma = expected.get('gamma') ?? { requests: -1, costPico: -1n };
    const own = await app.inject({ method: 'GET', url: '/v1/usage', headers: { authorization: `Bearer ${TOKENS.gamma}` } });
    expect(own.statusCode).toBe(200);
    const body = own.json();
    expect(body).toMatchObject({ tenantId: 'gamma', day, today: { requests: gamma.requests, costUsd: usd(gamma.costPico) }, thisMonth: { costUsd: usd(gamma.costPico) } });
    expect(body.budget.monthlyUsd).toBe(BUDGET_USD);
    expect(body.budget.leftUsd).toBe(0);
    expect(body.budget.spentUsd).toBeGreaterThanOrEqual(BUDGET_USD);
    expect((await app.inject({ method: 'GET', url: '/v1/usage' })).statusCode).toBe(401);
  });

  it('metrics and the dashboard show each tenant\'s cost, its limits and the top tenants', async () => {
    const expected = expectedCosts();
    const metrics = (await app.inject({ method: 'GET', url: '/metrics' })).body;
    for (const [tenant, e] of expected) {
      const m = new RegExp(`^quotaflow_tenant_cost_total\\{tenant="${tenant}"\\} (\\S+)$`, 'm').exec(metrics);
      expect(Number(m?.[1]), tenant).toBeCloseTo(Number(e.costPico) / 1e12, 6);
    }
    expect(metrics).toContain(`quotaflow_tenant_limit{tenant="gamma",limit="budget"} ${BUDGET_USD}`);
    expect(metrics).toMatch(/^quotaflow_tenant_limit_used\{tenant="gamma",limit="budget"\} 0\.001\d*$/m);

    const data = (await app.inject({ method: 'GET', url: '/dashboard/data.json', headers: { authorization: `Bearer ${ADMIN}` } })).json();
    const byCost = [...expected].sort((a, b) => (b[1].costPico > a[1].costPico ? 1 : -1)).map(([t]) => t);
    expect(data.topTenants.map((t: { tenantId: string }) => t.tenantId)).toEqual(byCost);
    const alphaRow = data.tenantCosts.find((t: { tenantId: string }) => t.tenantId === 'alpha');
    expect(alphaRow.month.costUsd).toBe(usd(expected.get('alpha')?.costPico ?? -1n));

    const status = await stack.cli(['status']);
    expect(status.stdout).toMatch(/gamma[^\n]*\n\s+weight 1; no limits; budget [\d.]+\/0\.001 USD spent this month \(\d+(\.\d)?%\)/);
  });
});

import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGenerationWorker, type GenerationWorker } from '../../workers/generation.js';
import { buildApiServer } from '../../src/api/server.js';
import { parseConfig } from '../../src/config.js';
import { createLogger } from '../../src/logger.js';
import { scopeOf } from '../../src/core/scope.js';
import { openSystem, type System } from '../../src/system.js';
import { matchedConfigs } from '../helpers/fleets.js';
import { ROOT, startStack, type Stack } from '../helpers/stack.js';

const CHROMIUM = '/usr/bin/chromium';
const HAVE_CHROMIUM = existsSync(CHROMIUM);
if (!HAVE_CHROMIUM && process.env.CI) throw new Error(`${CHROMIUM} is missing: CI must install it (apt-get install -y chromium)`);
if (!HAVE_CHROMIUM) console.warn(`dashboard browser test SKIPPED: ${CHROMIUM} is missing (apt-get install -y chromium)`);

const ADMIN = 'admin-token-dashboard-0123456789';
const MODEL = 'gemini-2.5-flash';
const m = matchedConfigs({
  models: [MODEL],
  projects: { 'p-own': { [MODEL]: { rpm: 90, tpm: 900_000, rpd: 900 } }, 'p-central': { [MODEL]: { rpm: 80, tpm: 800_000, rpd: 800 } } },
  tenants: [{ id: 'acme', keyMode: 'own-then-central' }, { id: 'solo', keyMode: 'central-only' }],
  keys: [{ id: 'acme-1', tenant: 'acme', project: 'p-own' }, { id: 'central-1', tenant: null, project: 'p-central' }],
});

let stack: Stack;
let sys: System;
let worker: GenerationWorker;
let app: FastifyInstance;
let base = '';

describe.skipIf(!HAVE_CHROMIUM)('quota dashboard in a real browser', () => {
  beforeAll(async () => {
    stack = await startStack({ name: 'dashboard-browser', sim: m.sim, env: { QUOTAFLOW_ADMIN_TOKEN: ADMIN } });
    await stack.applyFleet(m.fleet);
    sys = await openSystem(parseConfig(stack.env), createLogger({ level: 'warn' }));
    worker = await startGenerationWorker(sys, { concurrency: 4 });
    app = await buildApiServer(sys);
    await app.listen({ port: 0, host: '127.0.0.1' });
    base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
    await Promise.all([
      ...Array.from({ length: 5 }, (_, i) => stack.client.generate({ tenantId: 'acme', contents: `hello ${i}` }, { timeoutMs: 30_000 })),
      ...Array.from({ length: 3 }, (_, i) => stack.client.generate({ tenantId: 'solo', contents: `hi ${i}` }, { timeoutMs: 30_000 })),
    ]);
    // usage rows are written in batches: wait until the run's 8 calls are stored
    for (let i = 0; i < 200; i++) {
      const rows = await sys.stores.usage.byTenant(new Date(Date.now() - 3_600_000));
      if (rows.reduce((n, r) => n + r.requests, 0) >= 8) break;
      await new Promise((r) => setTimeout(r, 50));
    }
  });

  afterAll(async () => {
    await app?.close();
    await worker?.close(1_000);
    await sys?.close();
    await stack?.stop();
  });

  it('shows the real numbers of the run', async () => {
    const { chromium } = await import('playwright-core');
    const browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
    });
    try {
      const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
      await page.goto(`${base}/dashboard?token=${ADMIN}`);
      expect(page.url()).toBe(`${base}/dashboard/`);
      const own = page.locator('tr[data-scope="p-own|gemini-2.5-flash"]');
      await own.waitFor();
      // spent = what the ledger reserved minus what the day's pool still holds
      const day = sys.day.dayId(Date.now());
      const reserved = await sys.ledger.used(day);
      const spent = async (project: string): Promise<number> =>
        (reserved.get(`${project}|gemini-2.5-flash`) ?? 0) - Number((await sys.redis.get(sys.keys.scope(scopeOf(project, 'gemini-2.5-flash')).rpdPool(day))) ?? 0);
      expect(await spent('p-own')).toBe(5);
      expect(await spent('p-central')).toBe(3);
      const bars = own.locator('.bar');
      expect(await bars.nth(0).textContent()).toBe('5 / 90');
      expect(await bars.nth(2).textContent()).toBe('5 / 900');
      const central = page.locator('tr[data-scope="p-central|gemini-2.5-flash"] .bar');
      expect(await central.nth(0).textContent()).toBe('3 / 80');
      expect(await central.nth(2).textContent()).toBe('3 / 800');
      const acme = await page.locator('tr[data-tenant="acme"] td').allTextContents();
      expect(acme.slice(0, 3)).toEqual(['acme', '5', '0']);
      const solo = await page.locator('tr[data-tenant="solo"] td').allTextContents();
      expect(solo.slice(0, 3)).toEqual(['solo', '0', '3']);
      expect(await page.locator('tr[data-key="acme-1"]').textContent()).toContain('enabled');
      const html = await page.content();
      for (const id of ['acme-1', 'central-1']) expect(html).not.toContain(m.secretOf(id));
      await mkdir(join(ROOT, 'test-artifacts'), { recursive: true });
      await page.screenshot({ path: join(ROOT, 'test-artifacts', 'dashboard.png'), fullPage: true });
    } finally {
      await browser.close();
    }
  });
});

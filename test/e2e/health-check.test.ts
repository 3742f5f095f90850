import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startMaintenanceWorker, type MaintenanceWorker } from '../../workers/maintenance.js';
import type { Alerts } from '../../src/app/ports.js';
import type { HealthReport } from '../../src/app/health-check.js';
import { MAINTENANCE_JOBS } from '../../src/app/maintenance.js';
import { parseConfig } from '../../src/config.js';
import { createLogger } from '../../src/logger.js';
import { openSystem, type System } from '../../src/system.js';
import { matchedConfigs } from '../helpers/fleets.js';
import { startStack, type Stack } from '../helpers/stack.js';

const MODEL = 'gemini-2.5-flash';
const m = matchedConfigs({
  models: [MODEL],
  projects: { p1: { [MODEL]: { rpm: 100, tpm: 1_000_000, rpd: 1000 } }, p2: { [MODEL]: { rpm: 100, tpm: 1_000_000, rpd: 1000 } } },
  tenants: [{ id: 'acme', keyMode: 'own-only' }],
  keys: [
    { id: 'good', tenant: null, project: 'p1' },
    { id: 'flaky', tenant: 'acme', project: 'p2' },
    { id: 'parked', tenant: null, project: 'p2' },
  ],
});

let stack: Stack;
let sys: System;
let maint: MaintenanceWorker;
const alerts: Array<Parameters<Alerts['send']>[0]> = [];

async function setKeyLists(lists: { invalidKeys?: string[]; forbiddenKeys?: string[] }): Promise<void> {
  const r = await fetch(`${stack.sim.url}/_sim/keys`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(lists) });
  expect(r.status).toBe(200);
}

const keyState = async (id: string): Promise<{ enabled: boolean; disabledBy: string | null } | undefined> => (await sys.stores.fleet.keys()).find((k) => k.id === id);

beforeAll(async () => {
  stack = await startStack({ name: 'health-check', sim: m.sim });
  await stack.applyFleet(m.fleet);
  sys = await openSystem(parseConfig(stack.env), createLogger({ level: 'warn' }));
  // an operator parked this key: the health check must leave it alone even though upstream accepts it
  await sys.stores.fleet.disableKey('parked', 'parked by ops', 'admin');
  maint = await startMaintenanceWorker(sys, { alerts: { send: (e) => alerts.push(e) }, healthCheckEveryMs: 3_600_000 });
  // the scheduler's first run starts at once: let it finish so the runs below are the only ones
  for (let i = 0; i < 400; i++) {
    const done = await maint.queue.getJobs(['completed', 'failed']);
    if (done.some((j) => j.name === 'health-check')) break;
    await new Promise((r) => setTimeout(r, 25));
  }
  expect(alerts).toEqual([]);
});

afterAll(async () => {
  await maint?.close();
  await sys?.close();
  await stack?.stop();
});

describe('key health checks', () => {
  it('registers one job scheduler per maintenance job', async () => {
    const schedulers = await maint.queue.getJobSchedulers();
    expect(schedulers.map((s) => s.key).sort()).toEqual([...MAINTENANCE_JOBS].sort());
  });

  it('disables a key the stand-in rejects, with an alert and without any generation call', async () => {
    stack.sim.reset();
    await setKeyLists({ invalidKeys: [m.secretOf('flaky')] });
    const report = (await maint.run('health-check')) as HealthReport;
    expect(report.disabled).toEqual(['flaky']);
    expect(await keyState('flaky')).toMatchObject({ enabled: false, disabledBy: 'system' });
    expect(await keyState('good')).toMatchObject({ enabled: true });
    expect(alerts).toEqual([expect.objectContaining({ kind: 'key_disabled', subject: 'flaky' })]);
    const calls = stack.sim.stats().calls;
    expect(calls.length).toBeGreaterThanOrEqual(2);
    expect(calls.every((c) => c.method === 'models.get')).toBe(true);
    expect(stack.sim.stats().totals.every((t) => t.requests === 0)).toBe(true);
    expect(await stack.redis.get(`${stack.prefix}:fleet:version`)).toBe(await sys.fleetSource.storedVersion());
  });

  it('re-enables it once the stand-in accepts it again, and never touches an operator-disabled key', async () => {
    await setKeyLists({ invalidKeys: [] });
    const report = (await maint.run('health-check')) as HealthReport;
    expect(report.enabled).toEqual(['flaky']);
    expect(await keyState('flaky')).toMatchObject({ enabled: true, disabledBy: null });
    expect(await keyState('parked')).toMatchObject({ enabled: false, disabledBy: 'admin' });
    expect(stack.sim.stats().calls.some((c) => c.keyLabel === 'parked')).toBe(false);
  });

  it('alerts when a tenant has no capacity left', async () => {
    await sys.stores.fleet.disableKey('flaky', 'test', 'admin');
    const stuck = await maint.run('capacity-check');
    expect(stuck).toEqual(['acme']);
    expect(alerts.at(-1)).toMatchObject({ kind: 'no_capacity', subject: 'acme' });
  });

  it('never logged a secret', () => {
    for (const id of ['good', 'flaky', 'parked']) expect(stack.logs()).not.toContain(m.secretOf(id));
  });
});

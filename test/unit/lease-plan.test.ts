import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { buildFleetIndex } from '../../src/core/fleet-index.js';
import { planLease, type Plan } from '../../src/core/lease-plan.js';
import { KEY_MODES, type ApiKey, type Fleet, type KeyMode } from '../../src/core/types.js';

const PRO = 'gemini-2.5-pro';
const FLASH = 'gemini-2.5-flash';

function key(id: string, tenantId: string | null, projectId: string, priority = 1, enabled = true): ApiKey {
  return { id, tenantId, projectId, priority, enabled, disabledReason: enabled ? null : 'test' };
}

function fleet(keys: ApiKey[], keyMode: KeyMode = 'own-then-central', extra: Partial<Fleet> = {}): Fleet {
  const projects = [...new Set(keys.map((k) => k.projectId))].map((id) => ({ id, tier: 'free' as const, limits: {} }));
  return { version: '1', models: [PRO, FLASH], projects, tenants: [{ id: 'acme', keyMode, models: null }], keys, learned: [], unsupported: [], ...extra };
}

const order = (p: Plan): string[] => (p.kind === 'plan' ? p.groups.map((g) => `${g.central ? 'C' : 'O'}:${g.model}:p${g.priority}:${g.candidates.map((c) => c.keyId).join(',')}`) : [p.kind]);

describe('planLease', () => {
  it('own-then-central: every own key of each model in chain order, then central keys', () => {
    const f = buildFleetIndex(fleet([key('a1', 'acme', 'pa'), key('a2', 'acme', 'pb', 2), key('c1', null, 'pc')]));
    expect(order(planLease(f, { tenantId: 'acme', chain: [PRO, FLASH] }))).toEqual([
      `O:${PRO}:p1:a1`,
      `O:${PRO}:p2:a2`,
      `O:${FLASH}:p1:a1`,
      `O:${FLASH}:p2:a2`,
      `C:${PRO}:p1:c1`,
      `C:${FLASH}:p1:c1`,
    ]);
  });

  it('central-only uses central keys only; own-only never central', () => {
    const keys = [key('a1', 'acme', 'pa'), key('c1', null, 'pc')];
    expect(order(planLease(buildFleetIndex(fleet(keys, 'central-only')), { tenantId: 'acme', chain: [PRO] }))).toEqual([`C:${PRO}:p1:c1`]);
    expect(order(planLease(buildFleetIndex(fleet(keys, 'own-only')), { tenantId: 'acme', chain: [PRO] }))).toEqual([`O:${PRO}:p1:a1`]);
  });

  it('a tenant without keys goes to central keys', () => {
    const f = buildFleetIndex(fleet([key('c1', null, 'pc')]));
    expect(order(planLease(f, { tenantId: 'acme', chain: [PRO] }))).toEqual([`C:${PRO}:p1:c1`]);
  });

  it('skips disabled keys, unsupported (project, model) and pairs the job already tried', () => {
    const f = buildFleetIndex(
      fleet([key('a1', 'acme', 'pa'), key('a2', 'acme', 'pb'), key('a3', 'acme', 'pc', 1, false)], 'own-only', {
        unsupported: [{ projectId: 'pb', model: PRO }],
      }),
    );
    const plan = planLease(f, { tenantId: 'acme', chain: [PRO, FLASH], skip: (k, m) => k === 'a1' && m === FLASH });
    expect(order(plan)).toEqual([`O:${PRO}:p1:a1`, `O:${FLASH}:p1:a2`]);
  });

  it('a demoted key is served after the healthy keys of its model, still before the next model', () => {
    const f = buildFleetIndex(fleet([key('a1', 'acme', 'pa'), key('a2', 'acme', 'pb', 2)], 'own-only', { demoted: ['a1'] }));
    const plan = order(planLease(f, { tenantId: 'acme', chain: [PRO, FLASH] }));
    expect(plan.map((g) => g.split(':p')[0] + ':' + g.split(':').at(-1))).toEqual([`O:${PRO}:a2`, `O:${PRO}:a1`, `O:${FLASH}:a2`, `O:${FLASH}:a1`]);
  });

  it('keys of one project share one scope (project, model)', () => {
    const f = buildFleetIndex(fleet([key('a1', 'acme', 'pa'), key('a2', 'acme', 'pa')]));
    const plan = planLease(f, { tenantId: 'acme', chain: [PRO] });
    if (plan.kind !== 'plan') throw new Error('no plan');
    expect(new Set(plan.groups[0]?.candidates.map((c) => c.scope))).toEqual(new Set([`pa|${PRO}`]));
  });

  it('says no_keys when nothing could ever serve, and for an unknown tenant', () => {
    expect(planLease(buildFleetIndex(fleet([key('c1', null, 'pc')], 'own-only')), { tenantId: 'acme', chain: [PRO] }).kind).toBe('no_keys');
    expect(planLease(buildFleetIndex(fleet([])), { tenantId: 'nobody', chain: [PRO] }).kind).toBe('no_keys');
  });

  it('property: a plan never offers another tenant\'s key, and central keys only when the key mode allows', () => {
    const arbKey = fc.record({
      tenant: fc.option(fc.constantFrom('t0', 't1', 't2', 't3'), { nil: null }),
      project: fc.constantFrom('p0', 'p1', 'p2'),
      priority: fc.integer({ min: 0, max: 3 }),
      enabled: fc.boolean(),
    });
    fc.assert(
      fc.property(
        fc.array(arbKey, { maxLength: 25 }),
        fc.array(fc.constantFrom(...KEY_MODES), { minLength: 4, maxLength: 4 }),
        fc.constantFrom('t0', 't1', 't2', 't3'),
        (ks, modes, tenantId) => {
          const keys = ks.map((k, i) => key(`k${i}`, k.tenant, k.project, k.priority, k.enabled));
          const f: Fleet = {
            ...fleet(keys),
            tenants: ['t0', 't1', 't2', 't3'].map((id, i) => ({ id, keyMode: modes[i] ?? 'own-then-central', models: null })),
          };
          const index = buildFleetIndex(f);
          const mode = index.tenant(tenantId)?.keyMode;
          const plan = planLease(index, { tenantId, chain: [PRO, FLASH] });
          if (plan.kind !== 'plan') return;
          for (const c of plan.groups.flatMap((g) => g.candidates)) {
            const k = index.key(c.keyId);
            expect(k?.enabled).toBe(true);
            if (k?.tenantId === null) expect(mode).not.toBe('own-only');
            else expect(k?.tenantId).toBe(tenantId);
            if (k?.tenantId !== null) expect(mode).not.toBe('central-only');
          }
        },
      ),
      { numRuns: 500 },
    );
  });
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GenerationFailedError } from '../../src/adapters/queue/client.js';
import { countBy, matchedConfigs } from '../helpers/fleets.js';
import { startStack, type Stack } from '../helpers/stack.js';

const PRO = 'gemini-2.5-pro';
const FLASH = 'gemini-2.5-flash';
const TIGHT = { [PRO]: { rpm: 2, tpm: 1_000_000, rpd: 1000 }, [FLASH]: { rpm: 100, tpm: 1_000_000, rpd: 1000 } };
const ONE_EACH = { [PRO]: { rpm: 1, tpm: 1_000_000, rpd: 1000 }, [FLASH]: { rpm: 1, tpm: 1_000_000, rpd: 1000 } };

const cfg = matchedConfigs({
  models: [PRO, FLASH],
  projects: { p1: TIGHT, p2: TIGHT, p3: TIGHT, q1: TIGHT, pc: TIGHT, pe: ONE_EACH, po: ONE_EACH },
  tenants: [
    { id: 'three', keyMode: 'own-only' },
    { id: 'onep', keyMode: 'own-only' },
    { id: 'nokeys', keyMode: 'own-then-central' },
    { id: 'exhaust', keyMode: 'own-then-central' },
    { id: 'conly', keyMode: 'central-only' },
    { id: 'oonly', keyMode: 'own-only' },
  ],
  keys: [
    { id: 'k1', tenant: 'three', project: 'p1' },
    { id: 'k2', tenant: 'three', project: 'p2' },
    { id: 'k3', tenant: 'three', project: 'p3' },
    { id: 'j1', tenant: 'onep', project: 'q1' },
    { id: 'j2', tenant: 'onep', project: 'q1' },
    { id: 'j3', tenant: 'onep', project: 'q1' },
    { id: 'e1', tenant: 'exhaust', project: 'pe' },
    { id: 'o1', tenant: 'oonly', project: 'po' },
    { id: 'c1', tenant: null, project: 'pc' },
  ],
});

let stack: Stack;

beforeAll(async () => {
  stack = await startStack({ name: 'lease', sim: cfg.sim });
  await stack.applyFleet(cfg.fleet);
  await stack.startWorker(['--concurrency', '8']);
});
afterAll(async () => {
  await stack?.stop();
});

const servedFor: Array<{ tenantId: string; keyId: string; central: boolean }> = [];
const burst = (tenantId: string, n: number, extra: Record<string, unknown> = {}) =>
  Promise.allSettled(
    Array.from({ length: n }, async (_, i) => {
      const r = await stack.client.generate({ tenantId, contents: `message ${i} for ${tenantId}`, ...extra }, { timeoutMs: 60_000 });
      servedFor.push({ tenantId, keyId: r.keyId, central: r.central });
      return r;
    }),
  );

const served = <T>(rs: Array<PromiseSettledResult<T>>): T[] => rs.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));

describe('lease engine', () => {
  it('3 keys in 3 projects with pro RPM 2: 8 messages -> 6 by pro (2 per project), 2 by flash, no 429', async () => {
    const rs = served(await burst('three', 8));
    expect(rs).toHaveLength(8);
    expect(countBy(rs, (r) => r.model)).toEqual({ [PRO]: 6, [FLASH]: 2 });
    expect(countBy(rs.filter((r) => r.model === PRO), (r) => r.project)).toEqual({ p1: 2, p2: 2, p3: 2 });
    expect(stack.sim.stats().calls.filter((c) => c.status === 429)).toHaveLength(0);
  });

  it('the same 3 keys in ONE project share its quota: 2 by pro, 6 by flash, no 429', async () => {
    const rs = served(await burst('onep', 8));
    expect(rs).toHaveLength(8);
    expect(countBy(rs, (r) => r.model)).toEqual({ [PRO]: 2, [FLASH]: 6 });
    expect(stack.sim.stats().calls.filter((c) => c.status === 429)).toHaveLength(0);
  });

  it('a tenant without keys is served by central keys', async () => {
    const [r] = served(await burst('nokeys', 1));
    expect(r).toMatchObject({ keyId: 'c1', central: true });
  });

  it('own keys exhausted for every model of the chain -> central, and the result says so', async () => {
    const rs = served(await burst('exhaust', 3));
    expect(rs).toHaveLength(3);
    const own = rs.filter((r) => !r.central);
    expect(own.map((r) => r.model).sort()).toEqual([PRO, FLASH].sort());
    expect(own.every((r) => r.keyId === 'e1')).toBe(true);
    expect(rs.filter((r) => r.central).map((r) => r.keyId)).toEqual(['c1']);
  });

  it('central-only never uses own keys', async () => {
    const rs = served(await burst('conly', 2));
    expect(rs.map((r) => [r.keyId, r.central])).toEqual([
      ['c1', true],
      ['c1', true],
    ]);
  });

  it('own-only with exhausted keys waits, then fails at its deadline with a clear reason', async () => {
    const rs = await burst('oonly', 3, { deadlineMs: 3_000 });
    const ok = served(rs);
    expect(ok).toHaveLength(2);
    expect(ok.every((r) => r.keyId === 'o1' && !r.central)).toBe(true);
    const failed = rs.flatMap((r) => (r.status === 'rejected' ? [r.reason as unknown] : []));
    expect(failed).toHaveLength(1);
    expect(failed[0]).toBeInstanceOf(GenerationFailedError);
    const f = failed[0] as GenerationFailedError;
    expect(f.reason).toBe('deadline');
    expect(f.attempts).toHaveLength(0);
    expect(f.message).toMatch(/no capacity/);
  });

  it('no message was served by another tenant\'s key', () => {
    const owner: Record<string, string | null> = { k1: 'three', k2: 'three', k3: 'three', j1: 'onep', j2: 'onep', j3: 'onep', e1: 'exhaust', o1: 'oonly', c1: null };
    expect(servedFor.length).toBeGreaterThanOrEqual(24);
    for (const s of servedFor) {
      const o = owner[s.keyId];
      expect(o === null || o === s.tenantId, `${s.keyId} served ${s.tenantId}`).toBe(true);
      expect(s.central).toBe(o === null);
    }
  });

  it('picks up a fleet change within about a second, without a restart', async () => {
    const fleet = cfg.fleet as { keys: Array<{ id: string; enabled?: boolean }> };
    await stack.applyFleet({ ...fleet, keys: fleet.keys.map((k) => (k.id === 'c1' ? { ...k, enabled: false } : k)) });
    await new Promise((r) => setTimeout(r, 1_500));
    const err = await stack.client.generate({ tenantId: 'conly', contents: 'after the change' }, { timeoutMs: 30_000 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(GenerationFailedError);
    expect((err as GenerationFailedError).reason).toBe('no_keys');
  });
});

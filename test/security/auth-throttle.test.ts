import { describe, expect, it } from 'vitest';
import { createAuthThrottle, type ThrottleStore, type WindowCount } from '../../src/api/security/auth-throttle.js';
import { throttleSubject } from '../../src/api/security/client-address.js';

const WINDOW = 60_000;

/** A store with fixed windows on a fake clock, counting the calls made to it. */
function fakeStore(clock: () => number) {
  const windows = new Map<string, { count: number; until: number }>();
  const calls = { read: 0, add: 0, giveBack: 0 };
  let failing = false;
  const open = (subject: string): { count: number; until: number } => {
    const w = windows.get(subject);
    if (w && w.until > clock()) return w;
    const fresh = { count: 0, until: clock() + WINDOW };
    windows.set(subject, fresh);
    return fresh;
  };
  const view = (w: { count: number; until: number }): WindowCount => ({ count: w.count, msLeft: w.until - clock() });
  const store: ThrottleStore = {
    async read(subject) {
      calls.read++;
      if (failing) throw new Error('store down');
      return view(open(subject));
    },
    async add(subject) {
      calls.add++;
      if (failing) throw new Error('store down');
      const w = open(subject);
      w.count++;
      return view(w);
    },
    async giveBack(subject) {
      calls.giveBack++;
      if (failing) throw new Error('store down');
      open(subject).count--;
    },
  };
  return { store, calls, fail: (on: boolean) => (failing = on) };
}

function setup(opts: { limit?: number; maxLocalEntries?: number } = {}) {
  let now = 1_000_000;
  const clock = (): number => now;
  const fake = fakeStore(clock);
  const errors: unknown[] = [];
  const throttle = createAuthThrottle(fake.store, { limit: opts.limit ?? 3, windowMs: WINDOW }, { clock, onStoreError: (e) => errors.push(e), ...(opts.maxLocalEntries ? { maxLocalEntries: opts.maxLocalEntries } : {}) });
  return { throttle, fake, errors, advance: (ms: number) => (now += ms) };
}

describe('auth throttle', () => {
  it('lets `limit` attempts through, then refuses until the window ends', async () => {
    const { throttle, advance } = setup();
    for (let i = 0; i < 3; i++) expect(await throttle.attempt('a')).toBe(0);
    expect(await throttle.wait('a')).toBe(WINDOW);
    advance(10_000);
    expect(await throttle.attempt('a')).toBe(WINDOW - 10_000);
    advance(WINDOW - 10_000);
    expect(await throttle.wait('a')).toBe(0);
    expect(await throttle.attempt('a')).toBe(0);
  });

  it('refuses a subject it knows is blocked without asking the store again', async () => {
    const { throttle, fake } = setup();
    for (let i = 0; i < 4; i++) await throttle.attempt('a');
    const before = { ...fake.calls };
    for (let i = 0; i < 50; i++) {
      expect(await throttle.attempt('a')).toBeGreaterThan(0);
      expect(await throttle.wait('a')).toBeGreaterThan(0);
    }
    expect(fake.calls).toEqual(before);
  });

  it('never counts successes, and one subject never blocks another', async () => {
    const { throttle } = setup();
    for (let i = 0; i < 20; i++) {
      expect(await throttle.attempt('a')).toBe(0);
      await throttle.giveBack('a');
    }
    for (let i = 0; i < 5; i++) await throttle.attempt('b');
    expect(await throttle.wait('b')).toBeGreaterThan(0);
    expect(await throttle.wait('a')).toBe(0);
    expect(await throttle.attempt('a')).toBe(0);
  });

  it('asks the store again after a give-back lowered a count it had seen at the limit', async () => {
    const { throttle } = setup();
    for (let i = 0; i < 3; i++) await throttle.attempt('a');
    expect(await throttle.wait('a')).toBeGreaterThan(0);
    await throttle.giveBack('a');
    expect(await throttle.wait('a')).toBe(0);
  });

  it('counts in process while the store fails, and says so', async () => {
    const { throttle, fake, errors } = setup();
    fake.fail(true);
    for (let i = 0; i < 3; i++) expect(await throttle.attempt('a')).toBe(0);
    expect(await throttle.attempt('a')).toBeGreaterThan(0);
    expect(await throttle.wait('a')).toBeGreaterThan(0);
    expect(await throttle.wait('b')).toBe(0);
    expect(errors.length).toBeGreaterThan(0);
  });

  it('keeps a bounded memory and still throttles every subject through the store', async () => {
    const { throttle } = setup({ maxLocalEntries: 2 });
    const subjects = Array.from({ length: 10 }, (_, i) => `10.0.0.${i}`);
    for (const s of subjects) for (let i = 0; i < 4; i++) await throttle.attempt(s);
    for (const s of subjects) expect(await throttle.wait(s)).toBeGreaterThan(0);
  });
});

describe('throttle subject', () => {
  it('is the IPv4 address, also when IPv4-mapped', () => {
    expect(throttleSubject('203.0.113.7')).toBe('203.0.113.7');
    expect(throttleSubject('::ffff:203.0.113.7')).toBe('203.0.113.7');
  });

  it('is the /64 network of an IPv6 address, however it is written', () => {
    const net = '2001:db8:0:1::/64';
    for (const ip of ['2001:db8:0:1::1', '2001:0db8:0000:0001:ffff:ffff:ffff:ffff', '2001:DB8:0:1:0:0:0:2', '2001:db8:0:1::3%eth0']) {
      expect(throttleSubject(ip)).toBe(net);
    }
    expect(throttleSubject('2001:db8:0:2::1')).not.toBe(net);
    expect(throttleSubject('::1')).toBe('0:0:0:0::/64');
  });
});

import { describe, expect, it } from 'vitest';
import { ConfigError, parseConfig } from '../../src/config.js';

describe('security configuration', () => {
  it('defaults: 12 h sessions, Bull Board read-only, no trusted proxy, 10 failures a minute per address, 50 for the admin surface', () => {
    const c = parseConfig({});
    expect(c.adminSessionTtlMs).toBe(12 * 3_600_000);
    expect(c.bullBoardActions).toBe(false);
    expect(c.trustProxy).toBe(false);
    expect(c.authThrottle).toEqual({ limit: 10, windowMs: 60_000, adminLimitAll: 50 });
  });

  it('reads every variable', () => {
    const c = parseConfig({
      QUOTAFLOW_ADMIN_SESSION_TTL_MS: '600000',
      QUOTAFLOW_BULL_BOARD_ACTIONS: 'true',
      QUOTAFLOW_TRUST_PROXY: ' 10.0.0.0/8, loopback ,2001:db8::/32,192.0.2.1',
      QUOTAFLOW_AUTH_FAILURE_LIMIT: '3',
      QUOTAFLOW_AUTH_FAILURE_WINDOW_MS: '30000',
      QUOTAFLOW_ADMIN_AUTH_FAILURE_LIMIT_ALL: '20',
    });
    expect(c.adminSessionTtlMs).toBe(600_000);
    expect(c.bullBoardActions).toBe(true);
    expect(c.trustProxy).toBe('10.0.0.0/8,loopback,2001:db8::/32,192.0.2.1');
    expect(c.authThrottle).toEqual({ limit: 3, windowMs: 30_000, adminLimitAll: 20 });
    expect(parseConfig({ QUOTAFLOW_BULL_BOARD_ACTIONS: '0' }).bullBoardActions).toBe(false);
  });

  it('rejects what it cannot use, naming every variable', () => {
    let err: unknown;
    try {
      parseConfig({ QUOTAFLOW_TRUST_PROXY: 'true', QUOTAFLOW_BULL_BOARD_ACTIONS: 'maybe', QUOTAFLOW_AUTH_FAILURE_LIMIT: '0', QUOTAFLOW_ADMIN_SESSION_TTL_MS: 'soon' });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    const msg = (err as Error).message;
    for (const name of ['QUOTAFLOW_TRUST_PROXY', 'QUOTAFLOW_BULL_BOARD_ACTIONS', 'QUOTAFLOW_AUTH_FAILURE_LIMIT', 'QUOTAFLOW_ADMIN_SESSION_TTL_MS']) expect(msg).toContain(name);
    for (const bad of ['10.0.0.0/33', '::1/129', 'proxy.example.com', '10.0.0.1/8/8']) expect(() => parseConfig({ QUOTAFLOW_TRUST_PROXY: bad })).toThrow(/QUOTAFLOW_TRUST_PROXY/);
  });
});

import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { redisKeys } from '../../src/adapters/redis/keys.js';
import { redisThrottleStore } from '../../src/api/security/redis-throttle-store.js';
import { TEST_REDIS_URL, dropPrefix, testPrefix } from '../helpers/redis.js';

const WINDOW = 60_000;
const prefix = testPrefix('throttle-store');
const keys = redisKeys(prefix);
let redis: Redis;

beforeAll(() => {
  redis = new Redis(TEST_REDIS_URL);
});

afterAll(async () => {
  redis?.disconnect();
  await dropPrefix(prefix);
});

describe('Redis throttle store', () => {
  it('counts attempts in a window that expires by itself', async () => {
    const store = redisThrottleStore(redis, keys, 'tenant', WINDOW);
    expect(await store.read('203.0.113.1')).toEqual({ count: 0, msLeft: WINDOW });
    expect((await store.add('203.0.113.1')).count).toBe(1);
    const second = await store.add('203.0.113.1');
    expect(second.count).toBe(2);
    expect(second.msLeft).toBeGreaterThan(0);
    expect(second.msLeft).toBeLessThanOrEqual(WINDOW);
    const key = keys.authFailures('tenant', '203.0.113.1');
    expect(key.startsWith(`${prefix}:`)).toBe(true);
    expect(await redis.pttl(key)).toBeGreaterThan(0);
    await store.giveBack('203.0.113.1');
    expect((await store.read('203.0.113.1')).count).toBe(1);
  });

  it('keeps surfaces and subjects apart', async () => {
    const tenant = redisThrottleStore(redis, keys, 'tenant', WINDOW);
    const admin = redisThrottleStore(redis, keys, 'admin', WINDOW);
    await admin.add('203.0.113.2');
    expect((await tenant.read('203.0.113.2')).count).toBe(0);
    expect((await admin.read('203.0.113.9')).count).toBe(0);
  });

  it('never leaves a counter without an expiry, even for a give-back after its window ended', async () => {
    const store = redisThrottleStore(redis, keys, 'tenant', WINDOW);
    await store.giveBack('203.0.113.3');
    expect(await redis.pttl(keys.authFailures('tenant', '203.0.113.3'))).toBeGreaterThan(0);
  });
});

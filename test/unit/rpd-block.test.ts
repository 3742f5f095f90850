import { describe, expect, it } from 'vitest';
import { RPD_BLOCK, rpdBlockSize } from '../../src/core/rpd-block.js';

describe('RPD block size', () => {
  it('is the largest block while the day has room, and shrinks near the limit', () => {
    expect(rpdBlockSize(10_000_000, 0)).toBe(RPD_BLOCK.max);
    expect(rpdBlockSize(1000, 0)).toBe(50);
    expect(rpdBlockSize(1000, 500)).toBe(25);
    expect(rpdBlockSize(1000, 990)).toBe(1);
    expect(rpdBlockSize(1000, 999)).toBe(1);
  });

  it('goes one request at a time for small limits, and is 0 once full (or over)', () => {
    for (const limit of [1, 2, 10, 39]) expect(rpdBlockSize(limit, 0)).toBe(1);
    expect(rpdBlockSize(5, 5)).toBe(0);
    expect(rpdBlockSize(5, 7)).toBe(0);
    expect(rpdBlockSize(0, 0)).toBe(0);
  });

  it('never grants past the limit, and grants the whole day in a bounded number of blocks', () => {
    for (const limit of [1, 7, 40, 41, 999, 1500, 100_000]) {
      let used = 0;
      let blocks = 0;
      for (let b = rpdBlockSize(limit, used); b > 0; b = rpdBlockSize(limit, used)) {
        used += b;
        blocks++;
        expect(used).toBeLessThanOrEqual(limit);
      }
      expect(used).toBe(limit);
      // about limit / max blocks while the day has room, and at most ~spread·ln(limit) more for its end
      expect(blocks).toBeLessThanOrEqual(Math.ceil(limit / RPD_BLOCK.max) + RPD_BLOCK.spread * (1 + Math.log(limit)));
    }
  });
});

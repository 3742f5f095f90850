import { describe, expect, it } from 'vitest';
import { keyHealth, nextDemotions, type OutcomeBucket } from '../../src/core/key-health.js';

const NOW = 1_000_000_000;
const b = (keyId: string, outcome: string, count: number, agoMin = 0): OutcomeBucket => ({ keyId, at: NOW - agoMin * 60_000, outcome, count });

describe('key health', () => {
  it('computes a success rate from the failures that concern the key only', () => {
    const [h] = keyHealth([b('k', 'success', 15), b('k', 'overloaded', 5), b('k', 'rate_minute', 50), b('k', 'bad_request', 9)], NOW);
    expect(h?.rate).toBeCloseTo(0.75);
  });

  it('weighs recent calls more: old failures fade with the half-life', () => {
    const [h] = keyHealth([b('k', 'network', 20, 60), b('k', 'success', 20, 0)], NOW, 10 * 60_000);
    expect(h?.rate).toBeGreaterThan(0.95);
  });

  it('gives no verdict below the minimum sample', () => {
    expect(keyHealth([b('k', 'network', 5)], NOW)[0]?.rate).toBeNull();
  });

  it('demotes below 80 %, restores above 95 %, and holds in between (no flapping)', () => {
    const at = (rate: number) => [{ keyId: 'k', rate, samples: 100 }];
    expect([...nextDemotions(new Set(), at(0.7))]).toEqual(['k']);
    expect([...nextDemotions(new Set(['k']), at(0.9))]).toEqual(['k']);
    expect([...nextDemotions(new Set(), at(0.9))]).toEqual([]);
    expect([...nextDemotions(new Set(['k']), at(0.97))]).toEqual([]);
    expect([...nextDemotions(new Set(['k']), [{ keyId: 'k', rate: null, samples: 2 }])]).toEqual(['k']);
  });
});

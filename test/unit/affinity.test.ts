import { describe, expect, it } from 'vitest';
import { preferProject } from '../../src/core/affinity.js';
import { buildFleetIndex } from '../../src/core/fleet-index.js';
import { emptyState } from '../../src/core/job.js';
import { DEFAULT_BUDGET, planStep, type JobContext } from '../../src/core/job-step.js';
import type { Fleet } from '../../src/core/types.js';

/** Requests pinned to a project or key (caches and files live in one project), and conversations kept on their last project. */
const PRO = 'gemini-2.5-pro';
const fleet = buildFleetIndex({
  version: '1',
  models: [PRO],
  projects: ['p1', 'p2', 'p3'].map((id) => ({ id, tier: 'free' as const, limits: {} })),
  tenants: [{ id: 'acme', keyMode: 'own-then-central', models: null }],
  keys: [
    { id: 'a1', tenantId: 'acme', projectId: 'p1', priority: 1, enabled: true, disabledReason: null },
    { id: 'a2', tenantId: 'acme', projectId: 'p2', priority: 1, enabled: true, disabledReason: null },
    { id: 'c3', tenantId: null, projectId: 'p3', priority: 1, enabled: true, disabledReason: null },
    { id: 'other', tenantId: 'beta', projectId: 'p1', priority: 1, enabled: true, disabledReason: null },
  ],
  learned: [],
  unsupported: [],
} satisfies Fleet);
const NOW = 1_000_000;
const ctx = (extra: Partial<JobContext['request']> = {}): JobContext => ({ request: { tenantId: 'acme', contents: 'hi', lane: 'interactive', stream: false, conversationId: 'c-1', ...extra }, enqueuedAt: NOW, budget: DEFAULT_BUDGET });
const keysOf = (r: ReturnType<typeof planStep>): string[][] => (r.kind === 'lease' ? r.groups.map((g) => g.candidates.map((c) => c.keyId)) : []);

describe('affinity', () => {
  it('a project pin offers only that project\'s keys the tenant may use', () => {
    expect(keysOf(planStep(ctx({ affinity: { project: 'p2' } }), emptyState(), fleet, NOW, { preferredGrace: false }))).toEqual([['a2']]);
    expect(keysOf(planStep(ctx({ affinity: { project: 'p3' } }), emptyState(), fleet, NOW, { preferredGrace: false }))).toEqual([['c3']]);
  });

  it('a key pin offers that key alone; another tenant\'s key or an unknown project is no_keys with the reason', () => {
    expect(keysOf(planStep(ctx({ affinity: { keyId: 'a1' } }), emptyState(), fleet, NOW, { preferredGrace: false }))).toEqual([['a1']]);
    expect(planStep(ctx({ affinity: { keyId: 'other' } }), emptyState(), fleet, NOW, { preferredGrace: false })).toMatchObject({ kind: 'failed', reason: 'no_keys', message: expect.stringContaining('"other"') });
    expect(planStep(ctx({ affinity: { project: 'nowhere' } }), emptyState(), fleet, NOW, { preferredGrace: false })).toMatchObject({ kind: 'failed', reason: 'no_keys' });
  });

  it('a conversation goes back to the project of its last turn first, the others stay behind it', () => {
    const plan = planStep(ctx({ affinity: 'conversation' }), emptyState(), fleet, NOW, { preferredGrace: false, conversationProject: 'p2' });
    expect(keysOf(plan)).toEqual([['a2'], ['a1'], ['c3']]);
    // without a remembered project: the plain order, and the memoized plan was not changed by the earlier call
    expect(keysOf(planStep(ctx({ affinity: 'conversation' }), emptyState(), fleet, NOW, { preferredGrace: false }))).toEqual([['a1', 'a2'], ['c3']]);
  });

  it('preferProject leaves groups without that project untouched', () => {
    const plan = planStep(ctx(), emptyState(), fleet, NOW, { preferredGrace: false });
    if (plan.kind !== 'lease') throw new Error('expected a plan');
    expect(preferProject(plan.groups, 'p9')).toEqual(plan.groups);
  });
});

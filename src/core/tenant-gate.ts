import type { Failed } from './job-step.js';
import { DEFAULT_TENANT_SETTINGS, type Tenant, type TenantLimits } from './types.js';

/** The tenant limits the admission step enforces, as the leaser takes them (0 = none). */
export interface TenantLimitsGate {
  tenantId: string;
  window: { rpm: number; tpm: number };
  rpd: number;
  tokensPerDay: number;
  centralRpd: number;
  centralTokensPerDay: number;
  budgetMicros: number | null;
}

/** The tenant's limits for the admission step, or undefined when it has none (the step then skips them). */
export function tenantGate(tenant: Tenant): TenantLimitsGate | undefined {
  const s = tenant.settings ?? DEFAULT_TENANT_SETTINGS;
  const l: TenantLimits = s.limits;
  const gated = l.rpm !== undefined || l.tpm !== undefined || l.rpd !== undefined || l.tokensPerDay !== undefined || l.centralRpd !== undefined || l.centralTokensPerDay !== undefined || s.budget !== null;
  if (!gated) return undefined;
  return {
    tenantId: tenant.id,
    window: { rpm: l.rpm ?? 0, tpm: l.tpm ?? 0 },
    rpd: l.rpd ?? 0,
    tokensPerDay: l.tokensPerDay ?? 0,
    centralRpd: l.centralRpd ?? 0,
    centralTokensPerDay: l.centralTokensPerDay ?? 0,
    budgetMicros: s.budget ? Math.round(s.budget.monthly * 1_000_000) : null,
  };
}

const LIMIT_WORDS: Record<string, string> = {
  rpd: 'requests per day (rpd)',
  tokensPerDay: 'tokens per day (tokensPerDay)',
  centralRpd: 'requests per day on central keys (centralRpd)',
  centralTokensPerDay: 'tokens per day on central keys (centralTokensPerDay)',
  budget: 'monthly budget',
};

/** The tenant is over a daily limit or its monthly budget: the job ends with `budget`, naming the limit. */
export function budgetFailure(tenantId: string, limit: string, value: number): Failed {
  const shown = limit === 'budget' ? `${(value / 1_000_000).toFixed(2)} USD` : String(value);
  return { kind: 'failed', reason: 'budget', message: `tenant "${tenantId}" has reached its ${LIMIT_WORDS[limit] ?? limit} of ${shown}; it resets with the next quota day${limit === 'budget' ? ' (the budget: next month)' : ''}` };
}


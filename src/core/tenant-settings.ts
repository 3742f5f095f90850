import { DEFAULT_TENANT_SETTINGS, TENANT_LIMITS, type TenantLimits, type TenantSettings } from './types.js';

const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) && v >= 0 ? v : undefined);
const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** A tenant's settings as stored (a partial JSON record) made whole; what is missing or malformed takes its default. */
export function tenantSettings(raw: unknown): TenantSettings {
  if (!isRecord(raw)) return DEFAULT_TENANT_SETTINGS;
  const limits: TenantLimits = {};
  const rawLimits = isRecord(raw.limits) ? raw.limits : {};
  for (const name of TENANT_LIMITS) {
    const v = num(rawLimits[name]);
    if (v !== undefined) limits[name] = v;
  }
  const b = isRecord(raw.budget) ? num(raw.budget.monthly) : undefined;
  const weight = num(raw.weight);
  return {
    weight: weight !== undefined && weight > 0 ? weight : DEFAULT_TENANT_SETTINGS.weight,
    limits,
    budget: b === undefined ? null : { monthly: b, currency: 'USD' },
    pinModel: raw.pinModel === true,
  };
}

export function sameSettings(a: TenantSettings, b: TenantSettings): boolean {
  const key = (s: TenantSettings): string => JSON.stringify([s.weight, TENANT_LIMITS.map((n) => s.limits[n] ?? null), s.budget?.monthly ?? null, s.pinModel]);
  return key(a) === key(b);
}

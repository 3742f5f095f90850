import type { Tenant } from '../../core/types.js';
import type { CompatDeps, Dialect } from './deps.js';
import { CompatError } from './problems.js';

/** Names that mean "the tenant's chain as it is". */
const AUTO = 'auto';
/** A job names at most this many models. */
const MAX_CHAIN = 10;

/** `models/gemini-2.5-flash` and `gemini-2.5-flash` name the same model. */
export function bareModel(name: string): string {
  return name.startsWith('models/') ? name.slice('models/'.length) : name;
}

/** The dialect's own answer for a model the tenant cannot use. */
export function modelNotFound(model: string, dialect: Dialect): CompatError {
  const message =
    dialect === 'gemini'
      ? `models/${model} is not found for API version v1beta, or is not supported for generateContent. Call ListModels to see the list of available models and their supported methods.`
      : `The model \`${model}\` does not exist or you do not have access to it.`;
  return new CompatError({ kind: 'not_found', message, param: 'model', ...(dialect === 'openai' ? { code: 'model_not_found' } : {}) });
}

/**
 * The job's model chain for a request naming `name`: the named model first,
 * then the rest of the tenant's chain as fallback (or the named model alone
 * for a tenant pinned to it); `auto` is the tenant's chain unchanged. A
 * model outside the tenant's chain is not found.
 */
export async function resolveModels(deps: Pick<CompatDeps, 'service' | 'pinModel'>, tenant: Tenant, name: string, dialect: Dialect): Promise<string[]> {
  const model = bareModel(name);
  const chain = await deps.service.models(tenant);
  if (model === AUTO) {
    if (chain.length === 0) throw modelNotFound(model, dialect);
    return chain.slice(0, MAX_CHAIN);
  }
  if (!chain.includes(model)) throw modelNotFound(model, dialect);
  if (deps.pinModel?.(tenant) === true) return [model];
  return [model, ...chain.filter((m) => m !== model)].slice(0, MAX_CHAIN);
}

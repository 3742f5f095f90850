import { scopeCooldownMs } from '../core/backoff.js';
import { STORM, type BlameAction } from '../core/failure-policy.js';
import type { DayClock } from '../core/pacific-day.js';
import { scopeOf } from '../core/scope.js';
import type { Logger } from '../logger.js';
import type { Alerts, FleetRecords, Limiter } from './ports.js';

export interface BlameDeps {
  limiter: Limiter;
  records: FleetRecords;
  alerts: Alerts;
  day: DayClock;
  clock: () => number;
  logger: Logger;
  /** tells every worker the fleet changed (key disabled, model unsupported, limit learned) */
  announce: () => Promise<void>;
  /** how long an opened breaker blocks its scope: also the window in which several opening together block the model */
  breakerOpenMs: number;
}

/**
 * Carries out blame: Redis blocks take effect for every worker at once;
 * Postgres keeps what must survive a restart (day exclusions, disabled keys,
 * unsupported models, learned limits). When several projects fail alike at
 * once (an IP-level 429 storm, every key refused) it is not their fault: the
 * whole system backs off instead of cooling or disabling each of them. A
 * breaker is per (project, model), so one tenant's broken project cannot
 * switch a model off for everyone; only when several projects' breakers open
 * together is the model blocked for all.
 */
export function createBlamer(deps: BlameDeps): (actions: readonly BlameAction[]) => Promise<void> {
  const { limiter, records, logger } = deps;
  /** true when this failure is part of a storm across projects: the system backs off globally instead */
  const storm = async (kind: string, member: string): Promise<boolean> => {
    const seen = await limiter.note(`storm:${kind}`, member, STORM.windowMs);
    if (seen < STORM.projects) return false;
    if (await limiter.blockGlobal(STORM.backoffMs, `storm:${kind}`)) {
      logger.warn({ kind, distinct: seen }, `correlated ${kind} failures across ${seen} projects/keys: backing off globally for ${STORM.backoffMs} ms`);
    }
    return true;
  };

  return async (actions) => {
    let changed = false;
    for (const a of actions) {
      switch (a.kind) {
        case 'cool-scope': {
          let repeats = 0;
          if (a.failure === 'rate_unknown') {
            if (await storm('rate', a.projectId)) break;
            // earlier unexplained 429s of this scope in the last two minutes: the cooldown doubles with each
            repeats = (await limiter.note(`repeat:${a.scope}`, `${deps.clock()}:${Math.random()}`, 120_000)) - 1;
          }
          await limiter.block(a.scope, 'cool', scopeCooldownMs(a, repeats), a.failure);
          break;
        }
        case 'exclude-day': {
          const now = deps.clock();
          const until = deps.day.nextDayStartMs(now);
          await limiter.block(a.scope, 'day', until - now, 'rate_day');
          await records.excludeScope({ projectId: a.projectId, model: a.model, reason: 'rate_day', until: new Date(until), detail: 'per-day quota exhausted (429 PerDay)' });
          break;
        }
        case 'breaker-opened': {
          logger.warn({ projectId: a.projectId, model: a.model }, 'circuit breaker opened');
          const together = await limiter.note(`breaker:${a.model}`, a.projectId, deps.breakerOpenMs);
          if (together >= STORM.projects && (await limiter.blockModel(a.model, deps.breakerOpenMs, 'breakers of several projects open'))) {
            logger.warn({ model: a.model, projects: together }, `breakers of ${together} projects opened for ${a.model}: the model is blocked for every project`);
            deps.alerts.send({ kind: 'breaker_open', subject: a.model, detail: `breakers of ${together} projects opened for ${a.model}; the model is blocked for ${deps.breakerOpenMs} ms` });
          } else deps.alerts.send({ kind: 'breaker_open', subject: a.scope, detail: `breaker opened for ${a.model} on project ${a.projectId} after consecutive 5xx` });
          break;
        }
        case 'disable-key':
          if (await storm('auth', a.keyId)) break;
          await records.disableKey(a.keyId, a.reason);
          deps.alerts.send({ kind: 'key_disabled', subject: a.keyId, detail: a.reason });
          logger.error({ keyId: a.keyId }, `key disabled: ${a.reason}`);
          changed = true;
          break;
        case 'model-unsupported':
          await limiter.block(scopeOf(a.projectId, a.model), 'day', 0, 'model_not_found');
          await records.excludeScope({ projectId: a.projectId, model: a.model, reason: 'model_not_found', until: null, detail: 'model answered 404 for this project' });
          logger.warn({ projectId: a.projectId, model: a.model }, 'model not found for project: marked unsupported');
          changed = true;
          break;
        case 'learn-limit':
          if (await records.learnLimit(a)) {
            logger.info({ projectId: a.projectId, model: a.model, dimension: a.dimension, value: a.value }, 'learned a limit from a 429');
            changed = true;
          }
          break;
      }
    }
    if (changed) await deps.announce();
  };
}

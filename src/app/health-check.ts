import type { Outcome } from '../core/outcome.js';
import type { Fleet } from '../core/types.js';
import { errorMessage } from '../errors.js';
import type { Logger } from '../logger.js';
import type { Alerts } from './ports.js';

/** A key as the health check sees it: who disabled it decides whether a recovery may re-enable it. */
export interface CheckedKey {
  id: string;
  projectId: string;
  enabled: boolean;
  disabledBy: 'fleet' | 'system' | 'admin' | null;
}

export interface HealthCheckDeps {
  keys(): Promise<CheckedKey[]>;
  fleet(): Promise<Fleet>;
  /** models.get with the key: spends no generation quota */
  probe(call: { keyId: string; model: string }): Promise<{ outcome: Outcome }>;
  /** disables a key as 'system' */
  disable(keyId: string, reason: string): Promise<void>;
  /** true when the key was disabled and is now enabled */
  enable(keyId: string): Promise<boolean>;
  announce(): Promise<void>;
  alerts: Alerts;
  logger: Logger;
}

export interface HealthReport {
  probed: number;
  disabled: string[];
  enabled: string[];
  /** keys whose probe failed for another reason (network, 5xx, 429): left as they are */
  inconclusive: Array<{ keyId: string; failure: string }>;
}

const REJECTED = new Set(['key_invalid', 'key_forbidden']);

/** The model to probe a key with: the first of the chain its project serves. */
function probeModel(fleet: Fleet, projectId: string): string | undefined {
  const unsupported = new Set(fleet.unsupported.filter((u) => u.projectId === projectId).map((u) => u.model));
  return fleet.models.find((m) => !unsupported.has(m)) ?? fleet.models[0];
}

/**
 * Probes every enabled key, and every key the system disabled, with a
 * call that spends no generation quota. A key upstream rejects (invalid,
 * forbidden) is disabled by 'system' with an alert; a key disabled by
 * 'system' that is accepted again is re-enabled. Keys an operator or the
 * fleet file disabled are never probed: that was a decision, not a symptom.
 */
export async function runHealthCheck(deps: HealthCheckDeps, opts: { concurrency?: number } = {}): Promise<HealthReport> {
  const [keys, fleet] = await Promise.all([deps.keys(), deps.fleet()]);
  const todo = keys.filter((k) => k.enabled || k.disabledBy === 'system');
  const report: HealthReport = { probed: 0, disabled: [], enabled: [], inconclusive: [] };

  const checkOne = async (k: CheckedKey): Promise<void> => {
    const model = probeModel(fleet, k.projectId);
    if (!model) return;
    let outcome: Outcome;
    try {
      ({ outcome } = await deps.probe({ keyId: k.id, model }));
    } catch (err) {
      report.inconclusive.push({ keyId: k.id, failure: errorMessage(err) });
      return;
    }
    report.probed += 1;
    // a 404 for the model still means upstream accepted the key
    const accepted = outcome.kind === 'success' || outcome.failure === 'model_not_found';
    if (outcome.kind === 'failure' && REJECTED.has(outcome.failure)) {
      if (!k.enabled) return;
      const reason = `health check: ${outcome.failure} (${outcome.message})`;
      await deps.disable(k.id, reason);
      report.disabled.push(k.id);
      deps.logger.warn({ keyId: k.id, failure: outcome.failure }, 'health check disabled a key');
      deps.alerts.send({ kind: 'key_disabled', subject: k.id, detail: reason });
    } else if (accepted) {
      if (!k.enabled && k.disabledBy === 'system' && (await deps.enable(k.id))) {
        report.enabled.push(k.id);
        deps.logger.info({ keyId: k.id }, 'health check re-enabled a recovered key');
      }
    } else if (outcome.kind === 'failure') {
      report.inconclusive.push({ keyId: k.id, failure: outcome.failure });
    }
  };

  const width = Math.max(1, opts.concurrency ?? 8);
  for (let i = 0; i < todo.length; i += width) await Promise.all(todo.slice(i, i + width).map(checkOne));
  if (report.disabled.length || report.enabled.length) await deps.announce();
  return report;
}

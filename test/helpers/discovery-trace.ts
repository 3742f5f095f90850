import { storedAdmittedLimit, storedDiscoveryStep, type DiscoveryParams, type DiscoveryState } from '../../src/core/discovery.js';
import type { Step } from './discovery-harness.js';

const MIN = 60_000;
const FLOOR = 5;

/** A simulated run and the steps it fed discovery, to replay elsewhere. */
export interface Trace {
  steps: Step[];
  state: DiscoveryState | null;
  now: number;
  quota429s: number;
  /** send times of the calls in the sliding window: as we admitted them, and as upstream counted them */
  ours: number[];
  upstream: number[];
}

export const emptyTrace = (): Trace => ({ steps: [], state: null, now: 0, quota429s: 0, ours: [], upstream: [] });

/**
 * The unit tests' ramp, recorded: calls second by second at the admitted rate
 * against an upstream with a hidden per-minute limit (sliding window), every
 * outcome fed back into discovery of the `rpm` dimension (floor 5), and the
 * admitted limit read at the end of every minute. `hidden(now)` may change
 * mid-run (a tier upgrade). Extends `trace` in place.
 */
export function simulateTrace(
  trace: Trace,
  opts: { hidden: (now: number) => number; withQuotaValue: boolean; minutes: number; params: DiscoveryParams; demandPerSecond?: number },
): Trace {
  const { ours, upstream, steps } = trace;
  const end = trace.now + opts.minutes * MIN;
  for (; trace.now < end; trace.now += 1000) {
    const now = trace.now;
    while (ours.length && (ours[0] ?? 0) <= now - MIN) ours.shift();
    while (upstream.length && (upstream[0] ?? 0) <= now - MIN) upstream.shift();
    for (let sent = 0; sent < (opts.demandPerSecond ?? 20) && ours.length < storedAdmittedLimit(trace.state, FLOOR, now, opts.params); sent++) {
      ours.push(now);
      const hidden = opts.hidden(now);
      const refused = upstream.length >= hidden;
      if (refused) trace.quota429s++;
      else upstream.push(now);
      const event = refused
        ? { kind: 'quota429' as const, quotaValue: opts.withQuotaValue ? hidden : null, used: ours.length }
        : { kind: 'success' as const, used: ours.length };
      steps.push({ dim: 'rpm', floor: FLOOR, now, event });
      trace.state = storedDiscoveryStep(trace.state, FLOOR, event, now, opts.params);
    }
    if ((now + 1000) % MIN === 0) steps.push({ dim: 'rpm', floor: FLOOR, now, event: 'admit' });
  }
  return trace;
}

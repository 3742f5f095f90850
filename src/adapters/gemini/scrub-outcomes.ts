import type { Upstream } from '../../app/ports.js';
import type { Outcome } from '../../core/outcome.js';
import type { Scrubber } from '../../core/scrub.js';

/**
 * The Gemini port with every failure message scrubbed of the fleet's secret
 * values: failure messages become job failure reasons, disabled-key reasons
 * and alerts, so an upstream that echoes a key (any key, any format) must
 * not carry it any further.
 */
export function scrubOutcomes(upstream: Upstream, scrubber: Scrubber): Upstream {
  const clean = <T extends { outcome: Outcome }>(r: T): T => (r.outcome.kind === 'failure' ? { ...r, outcome: { ...r.outcome, message: scrubber.scrub(r.outcome.message) } } : r);
  return {
    generate: async (call) => clean(await upstream.generate(call)),
    generateStream: async (call, onChunk) => clean(await upstream.generateStream(call, onChunk)),
  };
}

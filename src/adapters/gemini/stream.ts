import type { GenerateContentResponse } from '@google/genai';
import { failure } from '../../core/classify.js';
import type { Outcome, StreamChunk } from '../../core/outcome.js';
import { createStreamMerge } from '../../core/stream-merge.js';
import { outcomeOfError } from './map-error.js';

export type OnChunk = (chunk: StreamChunk) => void | Promise<void>;

/** A failure after chunks went out says how many, so the consumer can take them back. */
function afterChunks(outcome: Outcome, delivered: number): Outcome {
  return outcome.kind === 'failure' && delivered > 0 ? { ...outcome, chunksDelivered: delivered } : outcome;
}

/**
 * Reads a generateContentStream to its end, handing each chunk that carries
 * parts to `onChunk` in order, and returns the outcome of the whole answer.
 * Never throws. `stop` aborts the upstream request when the consumer fails,
 * so an unread answer is not left streaming in.
 */
export async function readStream(open: () => Promise<AsyncGenerator<GenerateContentResponse>>, onChunk: OnChunk, stop: () => void): Promise<Outcome> {
  const merge = createStreamMerge();
  let delivered = 0;
  try {
    for await (const response of await open()) {
      const chunk = merge.add(response);
      if (chunk === null) continue;
      delivered++;
      try {
        await onChunk(chunk);
      } catch {
        stop();
        // Not the upstream's fault: a class that blames no key and no model.
        return failure('network', null, 'the stream consumer failed; the upstream call was abandoned', { chunksDelivered: delivered });
      }
    }
  } catch (err) {
    return afterChunks(outcomeOfError(err), delivered);
  }
  return afterChunks(merge.outcome(), delivered);
}

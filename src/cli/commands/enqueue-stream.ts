import { GenerationFailedError, type QuotaflowClient } from '../../adapters/queue/client.js';
import type { StreamEvent } from '../../core/job.js';
import { errorMessage } from '../../errors.js';

export interface StreamOutput {
  /** stdout, as it is (no newline added) */
  write(text: string): void;
  /** a line on stderr */
  note(line: string): void;
}

/** One event as one JSON line: `{"jobId","type","id",…}` (`result` for done; reason and message for error). */
function jsonLine(jobId: string, e: StreamEvent): string {
  const { type, id, ...data } = e;
  return `${JSON.stringify({ jobId, type, id, ...data })}\n`;
}

/**
 * Prints a job's answer as it arrives: the text of each chunk as it comes
 * (prefixed with the job id when several are streamed), a new line and a
 * note on stderr when an attempt was cut off and the answer starts over;
 * with `json`, one JSON line per event. Returns whether the job completed.
 */
export async function printStream(client: QuotaflowClient, jobId: string, opts: { json: boolean; prefix: boolean; out: StreamOutput; timeoutMs: number }): Promise<boolean> {
  const { out } = opts;
  const head = opts.prefix ? `${jobId}: ` : '';
  let open = false;
  const start = (): void => {
    if (!open) out.write(head);
    open = true;
  };
  try {
    const signal = AbortSignal.timeout(opts.timeoutMs);
    for await (const e of client.streamJob(jobId, { signal })) {
      if (opts.json) out.write(jsonLine(jobId, e));
      else if (e.type === 'chunk') {
        start();
        out.write(e.text);
      } else if (e.type === 'reset') {
        if (open) out.write('\n');
        open = false;
        out.note(`${jobId}: the answer starts over (${e.reason})`);
      }
      if (e.type === 'done') {
        if (!opts.json) {
          start();
          out.write('\n');
        }
        return true;
      }
    }
    // the reading stopped before the end: the timeout
    throw new Error(`no answer within ${opts.timeoutMs} ms (the job is still queued or running)`);
  } catch (err) {
    if (open) out.write('\n');
    if (err instanceof GenerationFailedError) {
      out.write(
        opts.json
          ? `${JSON.stringify({ jobId, type: 'error', id: err.eventId ?? null, reason: err.reason, message: err.message, attempts: err.attempts })}\n`
          : `${jobId} FAILED ${err.reason}: ${err.message}\n`,
      );
    } else {
      out.write(opts.json ? `${JSON.stringify({ jobId, type: 'error', id: null, reason: 'wait_failed', message: errorMessage(err) })}\n` : `${jobId} ${errorMessage(err)}\n`);
    }
    return false;
  }
}

/**
 * An in-memory GenerationService for the compatible endpoints' tests:
 * deterministic answers shaped like real ones (a function call when tools
 * are declared and the last turn is not a function response, JSON text when
 * a schema is asked, otherwise an echo), three streamed chunks with small
 * delays, and scripted plans: a reset then a whole second attempt, a failure
 * with any reason, a safety block, a job that stays queued. It records what
 * it was asked.
 */
import { GenerationFailedError, GenerationTimeoutError } from '../../src/adapters/queue/client.js';
import type { GenerationService } from '../../src/api/generation-service.js';
import type { GenerationResult, StreamEvent } from '../../src/core/job.js';
import { parseGenerationRequest, toContents, type GenerationRequest, type Part } from '../../src/core/request.js';
import { estimateInputTokens } from '../../src/core/tokens.js';
import type { FailureReason, Tenant } from '../../src/core/types.js';
import { DependencyError, TenantLimitError } from '../../src/errors.js';

export type Plan =
  | { kind: 'answer' }
  /** `resetAfter` chunks of a first attempt, a reset, then the whole answer */
  | { kind: 'reset'; resetAfter: number }
  /** `afterChunks` chunks, then the job fails ('budget' is a reason being added to the union) */
  | { kind: 'fail'; reason: FailureReason | 'budget'; message: string; afterChunks?: number }
  | { kind: 'blocked'; message: string }
  /** stays queued until cancelled */
  | { kind: 'hold' }
  | { kind: 'tenant-limit'; retryAfterMs: number }
  | { kind: 'dependency' };

interface Job {
  id: string;
  request: GenerationRequest;
  events: StreamEvent[];
  state: 'waiting' | 'active' | 'completed' | 'failed' | 'cancelled';
  result?: GenerationResult;
  failure?: { reason: FailureReason; message: string };
  changed: Set<() => void>;
}

type EventBody = StreamEvent extends infer E ? (E extends StreamEvent ? Omit<E, 'id'> : never) : never;

export interface Submission {
  tenantId: string;
  request: GenerationRequest;
  idempotencyKey?: string;
  jobId: string;
}

const CHUNK_DELAY_MS = 5;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Reads a JSON Schema loosely and makes a value that fits it. */
function valueFor(schema: unknown): unknown {
  if (typeof schema !== 'object' || schema === null) return null;
  const s = new Map(Object.entries(schema));
  const type = String(s.get('type') ?? '').toLowerCase();
  const enumValues = s.get('enum');
  if (Array.isArray(enumValues) && enumValues.length > 0) return enumValues[0];
  if (type === 'object') {
    const props = s.get('properties');
    return Object.fromEntries(Object.entries(typeof props === 'object' && props !== null ? props : {}).map(([k, v]) => [k, valueFor(v)]));
  }
  if (type === 'array') return [valueFor(s.get('items'))];
  if (type === 'integer' || type === 'number') return 7;
  if (type === 'boolean') return true;
  return 'text';
}

/** The parts a model would answer `req` with. */
export function answerParts(req: GenerationRequest): Part[] {
  const contents = toContents(req.contents);
  const last = contents.at(-1);
  const response = last?.parts.find((p) => p.functionResponse)?.functionResponse;
  const declared = (req.tools ?? []).flatMap((t) => t.functionDeclarations ?? []);
  const mode = req.toolConfig?.functionCallingConfig?.mode;
  if (declared.length > 0 && response === undefined && mode !== 'NONE') {
    const allowed = req.toolConfig?.functionCallingConfig?.allowedFunctionNames;
    const fn = declared.find((d) => allowed === undefined || allowed.includes(d.name)) ?? declared[0];
    const name = fn?.name ?? 'none';
    return [{ functionCall: { name, args: { city: 'Paris' } }, thoughtSignature: `sig-${name}` }];
  }
  const schema = req.generationConfig?.responseJsonSchema ?? req.generationConfig?.responseSchema;
  if (schema !== undefined) return [{ text: JSON.stringify(valueFor(schema)) }];
  if (response !== undefined) return [{ text: `the tool said ${JSON.stringify(response.response)}` }];
  const said = last?.parts.map((p) => p.text ?? (p.inlineData ? `[${p.inlineData.mimeType}]` : '')).join(' ') ?? '';
  return [{ text: `echo: ${said}` }];
}

/** Text answers stream in three pieces; other parts in one chunk each. */
function chunksOf(parts: Part[]): Part[][] {
  return parts.flatMap((p): Part[][] => {
    if (p.text === undefined || p.text.length < 3) return [[p]];
    const size = Math.ceil(p.text.length / 3);
    return [0, 1, 2].map((i) => [{ text: p.text?.slice(i * size, (i + 1) * size) ?? '' }]);
  });
}

export class FakeGenerationService implements GenerationService {
  readonly submitted: Submission[] = [];
  readonly cancelled: Array<{ jobId: string; removed: boolean }> = [];
  private readonly plans: Plan[] = [];
  private readonly jobs = new Map<string, Job>();
  private readonly byKey = new Map<string, string>();
  private seq = 0;

  constructor(private readonly chains: Record<string, string[]>) {}

  /** The next submitted job follows `plan` (then the default answer again). */
  plan(plan: Plan): void {
    this.plans.push(plan);
  }

  last(): Submission {
    const s = this.submitted.at(-1);
    if (!s) throw new Error('nothing was submitted');
    return s;
  }

  async models(tenant: Tenant): Promise<string[]> {
    return Promise.resolve([...(this.chains[tenant.id] ?? [])]);
  }

  async submit(tenant: Tenant, request: Parameters<GenerationService['submit']>[1], opts?: { idempotencyKey?: string }): Promise<{ jobId: string }> {
    const key = opts?.idempotencyKey;
    const known = key !== undefined ? this.byKey.get(`${tenant.id}\u0000${key}`) : undefined;
    if (known !== undefined) return { jobId: known };
    const plan = this.plans.shift() ?? { kind: 'answer' };
    if (plan.kind === 'tenant-limit') throw new TenantLimitError(`tenant "${tenant.id}" has too many jobs waiting`, plan.retryAfterMs, 'jobs');
    if (plan.kind === 'dependency') throw new DependencyError('redis: connection refused');
    const parsed = parseGenerationRequest({ ...request, tenantId: tenant.id });
    const job: Job = { id: `job-${++this.seq}`, request: parsed, events: [], state: 'waiting', changed: new Set() };
    this.jobs.set(job.id, job);
    if (key !== undefined) this.byKey.set(`${tenant.id}\u0000${key}`, job.id);
    this.submitted.push({ tenantId: tenant.id, request: parsed, ...(key !== undefined ? { idempotencyKey: key } : {}), jobId: job.id });
    if (plan.kind !== 'hold') void this.run(job, plan);
    return Promise.resolve({ jobId: job.id });
  }

  private emit(job: Job, ev: EventBody): void {
    job.events.push({ ...ev, id: String(job.events.length + 1) });
    for (const fn of job.changed) fn();
  }

  private async streamParts(job: Job, parts: Part[], limit = Infinity): Promise<boolean> {
    let n = 0;
    for (const chunk of chunksOf(parts)) {
      if (n++ >= limit) return false;
      await sleep(CHUNK_DELAY_MS);
      if (job.state === 'cancelled') return false;
      this.emit(job, { type: 'chunk', text: chunk.map((p) => p.text ?? '').join(''), parts: chunk });
    }
    return true;
  }

  private finish(job: Job, failure?: { reason: FailureReason; message: string }): void {
    if (failure) {
      job.state = 'failed';
      job.failure = failure;
      this.emit(job, { type: 'error', reason: failure.reason, message: failure.message });
      return;
    }
    const result = this.resultOf(job);
    job.state = 'completed';
    job.result = result;
    this.emit(job, { type: 'done', result });
  }

  private async run(job: Job, plan: Exclude<Plan, { kind: 'hold' | 'tenant-limit' | 'dependency' }>): Promise<void> {
    await sleep(CHUNK_DELAY_MS);
    if (job.state === 'cancelled') return;
    job.state = 'active';
    const parts = answerParts(job.request);
    if (plan.kind === 'reset') {
      await this.streamParts(job, [{ text: 'a first attempt that breaks off' }], plan.resetAfter);
      this.emit(job, { type: 'reset', reason: 'overloaded (503)' });
    }
    if (plan.kind === 'fail') {
      await this.streamParts(job, parts, plan.afterChunks ?? 0);
      // a reason being added to FailureReason ('budget') travels as the string it is
      return this.finish(job, { reason: plan.reason as FailureReason, message: plan.message });
    }
    if (plan.kind === 'blocked') return this.finish(job, { reason: 'blocked', message: plan.message });
    if (job.request.stream) await this.streamParts(job, parts);
    this.finish(job);
  }

  private resultOf(job: Job): GenerationResult {
    const parts = answerParts(job.request);
    const text = parts.map((p) => p.text ?? '').join('');
    const model = job.request.models?.[0] ?? 'unknown';
    const thoughts = job.request.generationConfig?.thinkingConfig?.thinkingBudget ? 11 : 0;
    const promptTokens = estimateInputTokens(job.request);
    const candidatesTokens = Math.ceil(text.length / 4) + 1;
    return {
      jobId: job.id,
      text,
      parts,
      model,
      keyId: 'key-1',
      project: 'proj-1',
      central: true,
      usage: { promptTokens, candidatesTokens, thoughtsTokens: thoughts, cachedTokens: 0, totalTokens: promptTokens + candidatesTokens + thoughts },
      finishReason: 'STOP',
      safetyRatings: [],
      modelVersion: `${model}-001`,
      responseId: `resp-${job.id}`,
      attempts: [],
    };
  }

  private job(jobId: string): Job {
    const job = this.jobs.get(jobId);
    if (!job) throw new Error(`no job ${jobId}`);
    return job;
  }

  async wait(jobId: string, opts: { timeoutMs: number; signal?: AbortSignal }): Promise<GenerationResult> {
    const job = this.job(jobId);
    await new Promise<void>((resolve, reject) => {
      const check = (): void => {
        if (job.state !== 'completed' && job.state !== 'failed') return;
        cleanup();
        resolve();
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new GenerationTimeoutError(jobId, opts.timeoutMs));
      }, opts.timeoutMs);
      const onAbort = (): void => {
        cleanup();
        reject(new Error('wait aborted'));
      };
      const cleanup = (): void => {
        clearTimeout(timer);
        job.changed.delete(check);
        opts.signal?.removeEventListener('abort', onAbort);
      };
      job.changed.add(check);
      opts.signal?.addEventListener('abort', onAbort, { once: true });
      check();
    });
    if (job.result) return job.result;
    throw new GenerationFailedError(jobId, job.failure?.reason ?? 'internal', job.failure?.message ?? 'failed', []);
  }

  async *events(jobId: string, opts: { lastEventId?: string; signal?: AbortSignal } = {}): AsyncIterable<StreamEvent> {
    const job = this.job(jobId);
    let i = opts.lastEventId !== undefined ? Number(opts.lastEventId) : 0;
    for (;;) {
      while (i < job.events.length) {
        const ev = job.events[i++];
        if (!ev) continue;
        yield ev;
        if (ev.type === 'done' || ev.type === 'error') return;
      }
      if (opts.signal?.aborted) return;
      await new Promise<void>((resolve) => {
        const wake = (): void => {
          job.changed.delete(wake);
          opts.signal?.removeEventListener('abort', wake);
          resolve();
        };
        job.changed.add(wake);
        opts.signal?.addEventListener('abort', wake, { once: true });
      });
    }
  }

  async cancelIfWaiting(jobId: string): Promise<boolean> {
    const job = this.job(jobId);
    const removed = job.state === 'waiting';
    if (removed) job.state = 'cancelled';
    this.cancelled.push({ jobId, removed });
    return Promise.resolve(removed);
  }
}

/**
 * The stand-in's decisions, free of HTTP: given a parsed call and the clock,
 * what Gemini would answer, and what it spent. The server only parses and
 * writes bytes, so tests can drive this with a fake clock.
 *
 * Order of checks on a generation call (mirrors what Google reveals):
 * key -> model exists -> body shape / bad request -> pre-admission faults
 * (429 without details or for the spend cap, forced 4xx) -> RPD, RPM, TPM ->
 * admit (counted) -> injected 5xx (still counted) -> safety marker -> answer
 * (a streamed one may still fail part way, counted).
 *
 * Every per-call structure is released when the call returns: the only
 * long-lived state is one quota window and one limits entry per
 * (project, model) of the config, and the call log capped at maxCallLog.
 */
import { ValidationError } from '../errors.js';
import { answerFor, BAD_REQUEST_MARKER, containsMarker, SAFETY_MARKER } from './answers.js';
import type { LimitOverride, ModelLimits, SimulatorConfig } from './config.js';
import { createDayClock, shortRetrySeconds, type DayClock } from './day.js';
import * as errors from './error-bodies.js';
import { limitOverrideSchema } from './config-schema.js';
import { formatIssues, matchFaultRule, type FaultConfig, type FaultRule } from './faults-schema.js';
import { midStreamError, midStreamFault, postAdmissionFault, preAdmissionFault, type FaultContext } from './faults.js';
import { KeyDirectory, type KeyLists } from './key-directory.js';
import { createRandom, randomInt, type Random } from './prng.js';
import { QuotaWindow, retrySeconds } from './quota-window.js';
import { streamReply, streamTiming, type SimReply, type StreamFailure } from './replies.js';
import { isRecord } from './request-parts.js';
import { readGenerationRequest, RequestProblem, type GenerationRequest } from './request.js';
import { CallRecorder, type SimCall, type SimMethod, type SimulatorStats } from './stats.js';
import * as ok from './success-bodies.js';

export interface SimRequest {
  method: SimMethod;
  /** Model id without the `models/` prefix; null for models.list. */
  model: string | null;
  apiKey: string | undefined;
  /** Parsed JSON body; `undefined` when there was none, INVALID_JSON when it did not parse. */
  body: unknown;
}

export const INVALID_JSON: unique symbol = Symbol('invalid-json');

export type { SimReply, StreamReply, JsonReply, StreamFailure } from './replies.js';

type CallBase = Pick<SimCall, 'keyLabel' | 'project' | 'model' | 'method' | 'body'>;

/** One call in flight. The key stays out of `base`, which is what the log records. */
interface Call {
  base: CallBase;
  now: number;
  latency: number;
  apiKey: string | undefined;
}

const scopeId = (project: string, model: string): string => `${project}\u0000${model}`;

export class SimulatorEngine {
  private readonly keys: KeyDirectory;
  private readonly dayClock: DayClock;
  private readonly recorder: CallRecorder;
  private readonly projects: ReadonlyMap<string, SimulatorConfig['projects'][number]>;
  private readonly windows = new Map<string, QuotaWindow>();
  private readonly limitCache = new Map<string, ModelLimits>();
  private faults: FaultConfig;
  private random: Random;
  private responseSeq = 0;

  constructor(
    private readonly config: SimulatorConfig,
    private readonly now: () => number,
  ) {
    this.keys = new KeyDirectory(config);
    this.dayClock = createDayClock(config.dayLengthMs);
    this.recorder = new CallRecorder(config.maxCallLog);
    this.projects = new Map(config.projects.map((p) => [p.id, p]));
    this.faults = config.faults;
    this.random = createRandom(config.seed);
  }

  stats(): SimulatorStats {
    return this.recorder.snapshot();
  }

  calls(opts: { withBodies?: boolean; last?: number } = {}): SimCall[] {
    return this.recorder.calls(opts);
  }

  /** Forgets calls, quota usage and the PRNG position; faults, key lists and runtime limits stay. */
  reset(): void {
    this.recorder.reset();
    this.windows.clear();
    this.random = createRandom(this.config.seed);
    this.responseSeq = 0;
  }

  setFaults(faults: FaultConfig): void {
    this.faults = faults;
  }

  setKeyLists(lists: KeyLists): void {
    this.keys.setLists(lists);
  }

  /** The limits a (project, model) is held to now; undefined when either is unknown. */
  limitsOf(project: string, model: string): ModelLimits | undefined {
    return this.projects.has(project) ? this.limits(project, model) : undefined;
  }

  /** Changes a (project, model)'s limits from the next call on; usage already in the window stays. */
  setLimits(project: string, model: string, change: LimitOverride): ModelLimits {
    const parsed = limitOverrideSchema.safeParse(change);
    const problems = parsed.success ? [] : formatIssues(parsed.error.issues).map((i) => `limits.${i}`);
    if (!this.projects.has(project)) problems.push(`project: unknown project "${project}"`);
    if (!(model in this.config.models)) problems.push(`model: unknown model "${model}"`);
    const current = problems.length ? undefined : this.limits(project, model);
    if (!current) throw new ValidationError('cannot change limits', problems);
    const next = { ...current, ...parsed.data };
    this.limitCache.set(scopeId(project, model), next);
    return { ...next };
  }

  /** An error the HTTP layer answers by itself (unknown path, oversized body), with the key echoed when configured. */
  httpError(answer: errors.ErrorAnswer, apiKey: string | undefined): errors.ErrorAnswer {
    return this.config.echoKeyInErrors ? errors.withKeyEcho(answer, apiKey) : answer;
  }

  handle(req: SimRequest): SimReply {
    const key = this.keys.lookup(req.apiKey);
    const project = key.kind === 'missing' ? null : key.project;
    const base: CallBase = { keyLabel: key.label, project, model: req.model, method: req.method };
    if (this.config.recordBodies && isGeneration(req.method) && isRecord(req.body)) base.body = req.body;
    const call: Call = { base, now: this.now(), latency: this.latency(req.model, project), apiKey: req.apiKey };
    if (key.kind === 'missing') return this.fail(call, errors.missingKey());
    if (key.kind === 'invalid') return this.fail(call, errors.apiKeyInvalid());
    if (key.kind === 'forbidden') return this.fail(call, errors.keyLeaked());
    if (req.model === null) return this.succeed(call, ok.modelListBody(Object.keys(this.config.models)));
    const limits = this.limits(key.project, req.model);
    if (!limits) return this.fail(call, errors.modelNotFound(req.model));
    if (req.method === 'models.get') return this.succeed(call, ok.modelBody(req.model));
    if (!isRecord(req.body)) return this.fail(call, errors.badRequest('Invalid JSON payload received.'));
    let request: GenerationRequest;
    try {
      request = readGenerationRequest(req.body);
    } catch (err) {
      if (err instanceof RequestProblem) return this.fail(call, errors.badRequest(err.message));
      throw err;
    }
    if (req.method === 'countTokens') return this.succeed(call, ok.countTokensBody(request.prompt));
    const ctx: FaultContext = { model: req.model, tier: key.tier, limits, now: call.now, random: this.random, showQuotaValue: this.showsQuotaValue(key.project) };
    return this.generate(call, ctx, request);
  }

  private generate(call: Call, ctx: FaultContext, request: GenerationRequest): SimReply {
    const project = call.base.project ?? '';
    const rule = matchFaultRule(this.faults, ctx.model, project);
    if (containsMarker(request.texts, BAD_REQUEST_MARKER)) return this.fail(call, errors.badRequest());
    const early = preAdmissionFault(rule, ctx);
    if (early) return this.fail(call, early);

    const promptTokens = request.prompt.total;
    const window = this.window(project, ctx.model);
    const dayId = this.dayClock(call.now);
    const verdict = window.check(ctx.limits, promptTokens, call.now, dayId);
    if (!verdict.ok) {
      const retryAfterSec = verdict.dimension === 'rpd' ? shortRetrySeconds(call.now) : retrySeconds(verdict.retryAfterMs);
      const q = { dimension: verdict.dimension, tier: ctx.tier, model: ctx.model, limit: verdict.limit, retryAfterSec, showValue: ctx.showQuotaValue ?? true };
      return this.fail(call, errors.quotaExceeded(q));
    }
    window.admit(promptTokens, call.now, dayId);

    const late = postAdmissionFault(rule, ctx);
    if (late) return this.fail(call, late, { counted: true, promptTokens });
    return this.answer(call, ctx.model, request, rule);
  }

  private answer(call: Call, model: string, request: GenerationRequest, rule: FaultRule | undefined): SimReply {
    const responseId = `sim-${++this.responseSeq}`;
    const promptTokens = request.prompt.total;
    const record = (status: number, candidatesTokens: number, extra: Partial<SimCall> = {}): void =>
      this.recorder.record({ ...call.base, ...extra, at: call.now, status, counted: true, promptTokens, candidatesTokens });
    const stream = call.base.method === 'streamGenerateContent';
    const timing = streamTiming(this.config.stream, rule?.stream);
    if (containsMarker(request.texts, SAFETY_MARKER)) {
      record(200, 0);
      const body = ok.safetyBlockedBody(model, promptTokens, responseId);
      return stream ? streamReply([body], call.latency, timing, responseId) : { kind: 'json', status: 200, body, delayMs: call.latency };
    }
    const answer = answerFor(model, request);
    const bodyCtx = { model, prompt: request.prompt, candidateCount: request.candidateCount, responseId };
    if (!stream) {
      record(200, answer.tokens * request.candidateCount);
      return { kind: 'json', status: 200, body: ok.generateBody(bodyCtx, answer), delayMs: call.latency };
    }
    const chunks = ok.streamChunks(bodyCtx, answer, timing.chunkChars);
    const fault = midStreamFault(rule, this.random);
    if (!fault) {
      record(200, chunks.at(-1)?.candidatesTokens ?? 0);
      return streamReply(chunks.map((c) => c.body), call.latency, timing, responseId);
    }
    // Never past the last chunk: a stream that delivered its finishReason has not failed.
    const sent = chunks.slice(0, Math.min(fault.afterChunks, chunks.length - 1));
    record(fault.status, sent.at(-1)?.candidatesTokens ?? 0, { midStream: true });
    const failure: StreamFailure = fault.how === 'disconnect' ? { how: 'disconnect' } : { how: 'error-event', body: this.httpError(midStreamError(fault), call.apiKey).body };
    return streamReply(sent.map((c) => c.body), call.latency, timing, responseId, failure);
  }

  private fail(call: Call, answer: errors.ErrorAnswer, spent: { counted: boolean; promptTokens: number } = { counted: false, promptTokens: 0 }): SimReply {
    this.recorder.record({ ...call.base, at: call.now, status: answer.status, candidatesTokens: 0, ...spent });
    const shown = this.httpError(answer, call.apiKey);
    return { kind: 'json', status: shown.status, body: shown.body, delayMs: call.latency };
  }

  private succeed(call: Call, body: unknown): SimReply {
    this.recorder.record({ ...call.base, at: call.now, status: 200, promptTokens: 0, candidatesTokens: 0, counted: false });
    return { kind: 'json', status: 200, body, delayMs: call.latency };
  }

  private showsQuotaValue(project: string): boolean {
    return this.projects.get(project)?.quotaValueInErrors ?? this.config.quotaValueInErrors;
  }

  /** Model defaults overlaid with the project's overrides; undefined when the model does not exist. */
  private limits(project: string, model: string): ModelLimits | undefined {
    const id = scopeId(project, model);
    const cached = this.limitCache.get(id);
    if (cached) return cached;
    const defaults = this.config.models[model];
    if (!defaults) return undefined;
    const merged = { ...defaults, ...this.projects.get(project)?.limits[model] };
    this.limitCache.set(id, merged);
    return merged;
  }

  private window(project: string, model: string): QuotaWindow {
    const id = scopeId(project, model);
    let w = this.windows.get(id);
    if (!w) {
      w = new QuotaWindow(this.config.windowMs);
      this.windows.set(id, w);
    }
    return w;
  }

  private latency(model: string | null, project: string | null): number {
    const rule = model === null ? undefined : matchFaultRule(this.faults, model, project ?? '');
    const range = rule?.latencyMs ?? this.config.latencyMs;
    return range.max === 0 ? 0 : randomInt(this.random, range.min, range.max);
  }
}

function isGeneration(method: SimMethod): boolean {
  return method === 'generateContent' || method === 'streamGenerateContent';
}

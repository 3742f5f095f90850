/**
 * The stand-in's decisions, free of HTTP: given a parsed call and the clock,
 * what Gemini would answer, and what it spent. The server only parses and
 * writes bytes, so tests can drive this with a fake clock.
 *
 * Order of checks on a generation call (mirrors what Google reveals):
 * key -> model exists -> body/bad request -> pre-admission faults (429
 * without details, forced 4xx) -> RPD, RPM, TPM -> admit (counted) ->
 * injected 5xx (still counted) -> safety marker -> answer.
 */
import type { ModelLimits, SimulatorConfig } from './config.js';
import { createDayClock, shortRetrySeconds, type DayClock } from './day.js';
import * as errors from './error-bodies.js';
import { matchFaultRule, type FaultConfig } from './faults-schema.js';
import { postAdmissionFault, preAdmissionFault, type FaultContext } from './faults.js';
import { KeyDirectory, type KeyLists } from './key-directory.js';
import { createRandom, randomInt, type Random } from './prng.js';
import { QuotaWindow, retrySeconds } from './quota-window.js';
import { CallRecorder, type SimCall, type SimMethod, type SimulatorStats } from './stats.js';
import * as ok from './success-bodies.js';
import { BAD_REQUEST_MARKER, SAFETY_MARKER, answerFor, containsMarker, countPromptTokens, extractRequestText } from './tokens.js';

export interface SimRequest {
  method: SimMethod;
  /** Model id without the `models/` prefix; null for models.list. */
  model: string | null;
  apiKey: string | undefined;
  /** Parsed JSON body; `undefined` when there was none, INVALID_JSON when it did not parse. */
  body: unknown;
}

export const INVALID_JSON: unique symbol = Symbol('invalid-json');

export type SimReply =
  | { kind: 'json'; status: number; body: unknown; delayMs: number }
  | { kind: 'stream'; chunks: unknown[]; delayMs: number };

type CallBase = Pick<SimCall, 'keyLabel' | 'project' | 'model' | 'method'>;

export class SimulatorEngine {
  private readonly keys: KeyDirectory;
  private readonly dayClock: DayClock;
  private readonly recorder: CallRecorder;
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
    this.faults = config.faults;
    this.random = createRandom(config.seed);
  }

  stats(): SimulatorStats {
    return this.recorder.snapshot();
  }

  /** Forgets calls, quota usage and the PRNG position; faults and key lists stay. */
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

  handle(req: SimRequest): SimReply {
    const now = this.now();
    const key = this.keys.lookup(req.apiKey);
    const project = key.kind === 'missing' ? null : key.project;
    const base: CallBase = { keyLabel: key.label, project, model: req.model, method: req.method };
    const latency = this.latency(req.model, project);
    if (key.kind === 'missing') return this.fail(base, now, errors.missingKey(), latency);
    if (key.kind === 'invalid') return this.fail(base, now, errors.apiKeyInvalid(), latency);
    if (key.kind === 'forbidden') return this.fail(base, now, errors.keyLeaked(), latency);
    if (req.model === null) return this.succeed(base, now, ok.modelListBody(Object.keys(this.config.models)), latency);
    const limits = this.limits(key.project, req.model);
    if (!limits) return this.fail(base, now, errors.modelNotFound(req.model), latency);
    if (req.method === 'models.get') return this.succeed(base, now, ok.modelBody(req.model), latency);
    if (req.body === INVALID_JSON || typeof req.body !== 'object' || req.body === null) {
      return this.fail(base, now, errors.badRequest('Invalid JSON payload received.'), latency);
    }
    const text = extractRequestText(req.body);
    const promptTokens = countPromptTokens(text.texts);
    if (req.method === 'countTokens') return this.succeed(base, now, ok.countTokensBody(promptTokens), latency);
    const ctx = { model: req.model, tier: key.tier, limits, now, random: this.random };
    return this.generate(req.method, base, ctx, text, promptTokens, latency);
  }

  private generate(
    method: SimMethod,
    base: CallBase,
    ctx: FaultContext,
    text: ReturnType<typeof extractRequestText>,
    promptTokens: number,
    latency: number,
  ): SimReply {
    const { now, model } = ctx;
    const project = base.project ?? '';
    const rule = matchFaultRule(this.faults, model, project);
    const rejected = (answer: errors.ErrorAnswer): SimReply => this.fail(base, now, answer, latency);
    if (containsMarker(text.texts, BAD_REQUEST_MARKER)) return rejected(errors.badRequest());
    const early = preAdmissionFault(rule, ctx);
    if (early) return rejected(early);

    const window = this.window(project, model);
    const dayId = this.dayClock(now);
    const verdict = window.check(ctx.limits, promptTokens, now, dayId);
    if (!verdict.ok) {
      const retryAfterSec = verdict.dimension === 'rpd' ? shortRetrySeconds(now) : retrySeconds(verdict.retryAfterMs);
      return rejected(errors.quotaExceeded({ dimension: verdict.dimension, tier: ctx.tier, model, limit: verdict.limit, retryAfterSec }));
    }
    window.admit(promptTokens, now, dayId);

    const counted = { ...base, at: now, counted: true, promptTokens };
    const late = postAdmissionFault(rule, ctx);
    if (late) {
      this.recorder.record({ ...counted, status: late.status, candidatesTokens: 0 });
      return { kind: 'json', status: late.status, body: late.body, delayMs: latency };
    }
    const responseId = `sim-${++this.responseSeq}`;
    if (containsMarker(text.texts, SAFETY_MARKER)) {
      this.recorder.record({ ...counted, status: 200, candidatesTokens: 0 });
      const body = ok.safetyBlockedBody(model, promptTokens, responseId);
      return method === 'streamGenerateContent'
        ? { kind: 'stream', chunks: [body], delayMs: latency }
        : { kind: 'json', status: 200, body, delayMs: latency };
    }
    const answer = answerFor(model, text);
    this.recorder.record({ ...counted, status: 200, candidatesTokens: answer.tokens });
    return method === 'streamGenerateContent'
      ? { kind: 'stream', chunks: ok.streamChunks(model, answer, promptTokens, responseId), delayMs: latency }
      : { kind: 'json', status: 200, body: ok.generateBody(model, answer, promptTokens, responseId), delayMs: latency };
  }

  private fail(base: CallBase, now: number, answer: errors.ErrorAnswer, delayMs: number): SimReply {
    this.recorder.record({ ...base, at: now, status: answer.status, promptTokens: 0, candidatesTokens: 0, counted: false });
    return { kind: 'json', status: answer.status, body: answer.body, delayMs };
  }

  private succeed(base: CallBase, now: number, body: unknown, delayMs: number): SimReply {
    this.recorder.record({ ...base, at: now, status: 200, promptTokens: 0, candidatesTokens: 0, counted: false });
    return { kind: 'json', status: 200, body, delayMs };
  }

  /** Model defaults overlaid with the project's overrides; undefined when the model does not exist. */
  private limits(project: string, model: string): ModelLimits | undefined {
    const id = `${project}\u0000${model}`;
    const cached = this.limitCache.get(id);
    if (cached) return cached;
    const defaults = this.config.models[model];
    if (!defaults) return undefined;
    const override = this.config.projects.find((p) => p.id === project)?.limits[model];
    const merged = { ...defaults, ...override };
    this.limitCache.set(id, merged);
    return merged;
  }

  private window(project: string, model: string): QuotaWindow {
    const id = `${project}\u0000${model}`;
    let w = this.windows.get(id);
    if (!w) {
      w = new QuotaWindow();
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

import { BLOCKING_FINISH } from '../../core/classify.js';
import type { GenerationResult } from '../../core/job.js';
import type { Part } from '../../core/request.js';
import type { Usage } from '../../core/types.js';
import { toolCallId } from './tool-call-ids.js';

/**
 * A job's result as a Chat Completions answer: text, tool calls (arguments
 * as JSON strings, thought signatures in extra_content.google), the finish
 * reason mapped from Gemini's, and usage with thinking counted as completion.
 */
type Json = Record<string, unknown>;

/** What every object of one answer repeats. */
export interface CompletionMeta {
  id: string;
  /** seconds since the epoch */
  created: number;
  model: string;
}

export function completionMeta(jobId: string, nowMs: number, model: string): CompletionMeta {
  return { id: `chatcmpl-${jobId}`, created: Math.floor(nowMs / 1000), model };
}

export type FinishReason = 'stop' | 'length' | 'tool_calls' | 'content_filter';


export function finishReasonOf(gemini: string | null, hasToolCalls: boolean): FinishReason {
  if (hasToolCalls) return 'tool_calls';
  if (gemini === 'MAX_TOKENS') return 'length';
  return gemini !== null && BLOCKING_FINISH.has(gemini) ? 'content_filter' : 'stop';
}

export function openaiUsage(u: Usage): Json {
  const completion = u.candidatesTokens + u.thoughtsTokens;
  return {
    prompt_tokens: u.promptTokens,
    completion_tokens: completion,
    total_tokens: u.totalTokens || u.promptTokens + completion,
    prompt_tokens_details: { cached_tokens: u.cachedTokens },
    completion_tokens_details: { reasoning_tokens: u.thoughtsTokens },
  };
}

const signed = (signature: string | undefined): Json => (signature ? { extra_content: { google: { thought_signature: signature } } } : {});

/** The function calls among `parts` as OpenAI tool calls, numbered from `start` within the answer. */
export function toolCallsOf(parts: readonly Part[], jobId: string, start: number): Json[] {
  return parts.flatMap((p) => (p.functionCall ? [p] : [])).map((p, i) => ({
    id: toolCallId(p.functionCall?.id, jobId, start + i),
    type: 'function',
    function: { name: p.functionCall?.name ?? '', arguments: JSON.stringify(p.functionCall?.args ?? {}) },
    ...signed(p.thoughtSignature),
  }));
}

/** The answer's text in `parts`: thought summaries are not part of it. */
export function textOf(parts: readonly Part[]): string {
  return parts
    .filter((p) => p.thought !== true && p.text !== undefined)
    .map((p) => p.text)
    .join('');
}

/** A signature Gemini put on a text part (tool calls carry their own). */
export function textSignatureOf(parts: readonly Part[]): string | undefined {
  return parts.find((p) => p.functionCall === undefined && p.thought !== true && p.thoughtSignature !== undefined)?.thoughtSignature;
}

export function chatCompletion(result: GenerationResult, meta: CompletionMeta): Json {
  const calls = toolCallsOf(result.parts, result.jobId, 0);
  const text = textOf(result.parts);
  const message = {
    role: 'assistant',
    content: text === '' && calls.length > 0 ? null : text,
    refusal: null,
    ...(calls.length > 0 ? { tool_calls: calls } : {}),
    ...signed(textSignatureOf(result.parts)),
  };
  return {
    id: meta.id,
    object: 'chat.completion',
    created: meta.created,
    model: result.model,
    choices: [{ index: 0, message, finish_reason: finishReasonOf(result.finishReason, calls.length > 0), logprobs: null }],
    usage: openaiUsage(result.usage),
  };
}

/** A safety block: an empty answer with finish_reason content_filter (usage is unknown). */
export function blockedCompletion(meta: CompletionMeta): Json {
  return {
    id: meta.id,
    object: 'chat.completion',
    created: meta.created,
    model: meta.model,
    choices: [{ index: 0, message: { role: 'assistant', content: null, refusal: null }, finish_reason: 'content_filter', logprobs: null }],
  };
}

export function completionChunk(meta: CompletionMeta, delta: Json, finish: FinishReason | null, withUsage: boolean): Json {
  return {
    id: meta.id,
    object: 'chat.completion.chunk',
    created: meta.created,
    model: meta.model,
    choices: [{ index: 0, delta, finish_reason: finish, logprobs: null }],
    // with include_usage, OpenAI sends usage: null on every chunk but the last
    ...(withUsage ? { usage: null } : {}),
  };
}

export function usageChunk(meta: CompletionMeta, usage: Usage): Json {
  return { id: meta.id, object: 'chat.completion.chunk', created: meta.created, model: meta.model, choices: [], usage: openaiUsage(usage) };
}

/** A tenant's model in OpenAI's list shape. */
export function openaiModel(id: string): Json {
  return { id, object: 'model', created: 0, owned_by: 'google' };
}

import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Tenant } from '../../core/types.js';
import { estimateInputTokens } from '../../core/tokens.js';
import { tenantOf } from './auth.js';
import { bodyLimit, callOptions } from './call-options.js';
import type { CompatDeps } from './deps.js';
import { countTokensRequest, geminiGenerationRequest } from './gemini-request.js';
import { blockedResponse, generateContentResponse } from './gemini-response.js';
import { geminiStreamEncoder } from './gemini-stream.js';
import { jobAnswerEvents, submitJob, waitAnswer, watchClient } from './job-call.js';
import { CompatError } from './problems.js';
import { bareModel, resolveModels } from './routing.js';
import { streamAnswer } from './stream-reply.js';

/**
 * Gemini's REST API as @google/genai calls it: `POST /v1beta/models/{model}:
 * generateContent | streamGenerateContent | countTokens` (and under /v1).
 */
const ACTIONS = ['generateContent', 'streamGenerateContent', 'countTokens'] as const;
type Action = (typeof ACTIONS)[number];

type WildcardRequest = FastifyRequest<{ Params: { '*': string } }>;

/** `gemini-2.5-flash:generateContent` → the model and the method; null when it is neither. */
export function modelAction(rest: string): { model: string; action: Action } | null {
  const colon = rest.lastIndexOf(':');
  if (colon <= 0) return null;
  const action = ACTIONS.find((a) => a === rest.slice(colon + 1));
  return action ? { model: bareModel(rest.slice(0, colon)), action } : null;
}

function wantsSse(req: FastifyRequest): boolean {
  const q = req.query;
  return typeof q === 'object' && q !== null && 'alt' in q && q.alt === 'sse';
}

/**
 * countTokens answers quotaflow's own estimate, the number admission reserves
 * against TPM, without an upstream call: it leans high and is marked as an
 * estimate (`estimated: true`, header x-quotaflow-token-count: estimate).
 */
function countTokens(req: FastifyRequest, reply: FastifyReply, tenant: Tenant): Record<string, unknown> {
  const request = countTokensRequest(req.body, tenant);
  void reply.header('x-quotaflow-token-count', 'estimate');
  return { totalTokens: estimateInputTokens(request), estimated: true };
}

async function post(req: WildcardRequest, reply: FastifyReply, deps: CompatDeps): Promise<unknown> {
  const client = watchClient(reply);
  const tenant = tenantOf(req);
  const target = modelAction(req.params['*']);
  if (!target) throw new CompatError({ kind: 'not_found', message: 'no such method: quotaflow offers generateContent, streamGenerateContent and countTokens' });
  const models = await resolveModels(deps, tenant, target.model, 'gemini');
  if (target.action === 'countTokens') return countTokens(req, reply, tenant);
  const opts = callOptions(req, deps.maxWaitMs);
  const stream = target.action === 'streamGenerateContent';
  const request = geminiGenerationRequest(req.body, tenant, { models, deadlineMs: opts.deadlineMs, stream });
  const jobId = await submitJob(deps, tenant, request, opts, client);
  void reply.header('x-quotaflow-job-id', jobId);
  if (stream) return streamAnswer(reply, await jobAnswerEvents(deps, jobId, opts, client), geminiStreamEncoder(wantsSse(req) ? 'sse' : 'array', jobId));
  const answer = await waitAnswer(deps, jobId, opts, client);
  if (answer.kind === 'blocked') return blockedResponse(answer.block, jobId);
  void reply.header('x-quotaflow-model', answer.result.model);
  return generateContentResponse(answer.result);
}

export function geminiRoutes(app: FastifyInstance, deps: CompatDeps): void {
  for (const version of ['v1beta', 'v1']) {
    app.post<{ Params: { '*': string } }>(`/${version}/models/*`, { config: { compatDialect: 'gemini' }, ...bodyLimit(deps) }, (req, reply) => post(req, reply, deps));
  }
}

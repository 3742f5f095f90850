import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { tenantOf } from './auth.js';
import { bodyLimit, callOptions } from './call-options.js';
import type { CompatDeps } from './deps.js';
import { jobAnswerEvents, submitJob, waitAnswer, watchClient } from './job-call.js';
import { chatToRequest, parseChatRequest } from './openai-request.js';
import { blockedCompletion, chatCompletion, completionMeta } from './openai-response.js';
import { openaiStreamEncoder } from './openai-stream.js';
import { bareModel, resolveModels } from './routing.js';
import { streamAnswer } from './stream-reply.js';

/** OpenAI's Chat Completions, at /v1 and at Gemini's own OpenAI-compatible path. */
export const CHAT_PATHS = ['/v1/chat/completions', '/v1beta/openai/chat/completions'] as const;

async function chat(req: FastifyRequest, reply: FastifyReply, deps: CompatDeps): Promise<unknown> {
  const client = watchClient(reply);
  const tenant = tenantOf(req);
  const body = parseChatRequest(req.body);
  const models = await resolveModels(deps, tenant, body.model, 'openai');
  const opts = callOptions(req, deps.maxWaitMs);
  const stream = body.stream === true;
  const request = chatToRequest(body, { models, deadlineMs: opts.deadlineMs, stream });
  const jobId = await submitJob(deps, tenant, request, opts, client);
  void reply.header('x-quotaflow-job-id', jobId);
  const meta = completionMeta(jobId, (deps.now ?? Date.now)(), models[0] ?? bareModel(body.model));
  if (stream) return streamAnswer(reply, await jobAnswerEvents(deps, jobId, opts, client), openaiStreamEncoder(meta, jobId, body.stream_options?.include_usage === true));
  const answer = await waitAnswer(deps, jobId, opts, client);
  if (answer.kind === 'blocked') return blockedCompletion(meta);
  void reply.header('x-quotaflow-model', answer.result.model);
  return chatCompletion(answer.result, meta);
}

export function openaiRoutes(app: FastifyInstance, deps: CompatDeps): void {
  for (const path of CHAT_PATHS) app.post(path, { config: { compatDialect: 'openai' }, ...bodyLimit(deps) }, (req, reply) => chat(req, reply, deps));
}

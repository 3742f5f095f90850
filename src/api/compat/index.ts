import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { errorMessage } from '../../errors.js';
import { loggableUrl, sendsGoogleKey, tenantHook } from './auth.js';
import type { CompatDeps, Dialect } from './deps.js';
import { geminiError, openaiError } from './error-shapes.js';
import { geminiRoutes } from './gemini-routes.js';
import { modelRoutes } from './model-routes.js';
import { openaiRoutes } from './openai-routes.js';
import { CALLER_GONE } from './job-call.js';
import { problemOf } from './problems.js';

export type { AuthFailure, CompatDeps, CompatLogger, Dialect } from './deps.js';
export { loggableUrl } from './auth.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** which API's error shape a compatible route answers in; by-key: Gemini's when a Google-style key was sent */
    compatDialect?: Dialect | 'by-key';
  }
}

function dialectOf(req: FastifyRequest): Dialect {
  const d = req.routeOptions.config.compatDialect;
  if (d === 'gemini' || d === 'openai') return d;
  return sendsGoogleKey(req) ? 'gemini' : 'openai';
}

/** Every error of a compatible route, in its dialect's shape and status. */
function compatErrorHandler(deps: CompatDeps) {
  return (err: unknown, req: FastifyRequest, reply: FastifyReply): void => {
    const problem = problemOf(err);
    if (problem.code === CALLER_GONE) {
      // a caller that hangs up is normal, and nobody reads this answer
      deps.logger.debug?.({ url: loggableUrl(req.url) }, 'the caller went away before its answer');
    } else if (problem.kind === 'internal') deps.logger.error({ err: errorMessage(err), url: loggableUrl(req.url) }, 'compatible endpoint failed');
    const answer = dialectOf(req) === 'gemini' ? geminiError(problem) : openaiError(problem);
    void reply.code(answer.status).headers(answer.headers).send(answer.body);
  };
}

/**
 * Drop-in endpoints for code written against Gemini (`@google/genai`, REST)
 * or OpenAI (`openai` SDK, Chat Completions): change the base URL, keep the
 * code. Every call is a job of `deps.service`. Registers, in its own
 * encapsulated scope (its own error handler):
 *   POST /v1beta/models/{model}:generateContent | :streamGenerateContent | :countTokens (and /v1/...)
 *   GET  /v1beta/models, /v1beta/models/{model}
 *   POST /v1/chat/completions, /v1beta/openai/chat/completions
 *   GET  /v1/models, /v1/models/{model} (either dialect), /v1beta/openai/models[/{model}]
 */
export async function compatRoutes(app: FastifyInstance, deps: CompatDeps): Promise<void> {
  await app.register(async (scope) => {
    scope.setErrorHandler(compatErrorHandler(deps));
    scope.addHook('onRequest', tenantHook(deps));
    geminiRoutes(scope, deps);
    openaiRoutes(scope, deps);
    modelRoutes(scope, deps);
  });
}

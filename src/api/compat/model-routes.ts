import type { FastifyInstance, FastifyRequest } from 'fastify';
import { sendsGoogleKey, tenantOf } from './auth.js';
import type { CompatDeps, Dialect } from './deps.js';
import { geminiModel } from './gemini-response.js';
import { openaiModel } from './openai-response.js';
import { bareModel, modelNotFound } from './routing.js';

/**
 * The models a tenant may name, in each dialect's list and get shapes. Both
 * dialects share `GET /v1/models`: a Gemini key (x-goog-api-key or ?key=)
 * asks for Gemini's shape, a bearer token for OpenAI's.
 */
type Route = { path: string; dialect: Dialect | 'by-key' };

const LISTS: Route[] = [
  { path: '/v1beta/models', dialect: 'gemini' },
  { path: '/v1/models', dialect: 'by-key' },
  { path: '/v1beta/openai/models', dialect: 'openai' },
];

function dialectFor(route: Route, req: FastifyRequest): Dialect {
  if (route.dialect !== 'by-key') return route.dialect;
  return sendsGoogleKey(req) ? 'gemini' : 'openai';
}

export function modelRoutes(app: FastifyInstance, deps: CompatDeps): void {
  for (const route of LISTS) {
    app.get(route.path, { config: { compatDialect: route.dialect } }, async (req) => {
      const tenant = tenantOf(req);
      const models = await deps.service.models(tenant);
      return dialectFor(route, req) === 'gemini' ? { models: models.map(geminiModel) } : { object: 'list', data: models.map(openaiModel) };
    });
    app.get<{ Params: { '*': string } }>(`${route.path}/*`, { config: { compatDialect: route.dialect } }, async (req) => {
      const tenant = tenantOf(req);
      const dialect = dialectFor(route, req);
      const model = bareModel(req.params['*']);
      if (!(await deps.service.models(tenant)).includes(model)) throw modelNotFound(model, dialect);
      return dialect === 'gemini' ? geminiModel(model) : openaiModel(model);
    });
  }
}

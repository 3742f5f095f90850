/**
 * The HTTP face of the stand-in, on node:http directly: benchmarks push
 * thousands of calls a second through it, and a framework's per-request
 * overhead would show up in their numbers. Only parsing and writing here;
 * every decision is in engine.ts.
 *
 * Gemini v1beta routes as @google/genai 2.x calls them (key from the
 * `x-goog-api-key` header or `?key=`):
 *   POST /v1beta/models/{model}:generateContent
 *   POST /v1beta/models/{model}:streamGenerateContent?alt=sse  (without alt=sse: a JSON array)
 *   POST /v1beta/models/{model}:countTokens
 *   GET  /v1beta/models, GET /v1beta/models/{model}
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { handleControl } from './control-plane.js';
import { INVALID_JSON, type SimRequest, type SimulatorEngine } from './engine.js';
import { badRequest, notFoundPath } from './error-bodies.js';
import { sendJson, sendReply, type WriterHooks } from './reply-writer.js';
import type { SimMethod } from './stats.js';

const MAX_BODY_BYTES = 20 * 1024 * 1024;
const ACTIONS: Record<string, SimMethod | undefined> = {
  generateContent: 'generateContent',
  streamGenerateContent: 'streamGenerateContent',
  countTokens: 'countTokens',
};

type Route = { kind: 'gemini'; method: SimMethod; model: string | null } | { kind: 'control' } | { kind: 'none' };

function decode(segment: string): string | undefined {
  try {
    return decodeURIComponent(segment);
  } catch {
    return undefined; // malformed %-escape: no such route
  }
}

/** Maps method + path to a Gemini call; pure so it can be tested without sockets. */
export function route(httpMethod: string, path: string): Route {
  if (path.startsWith('/_sim/')) return { kind: 'control' };
  const m = /^\/(?:v1beta|v1)\/models(?:\/([^/]+))?$/.exec(path);
  if (!m) return { kind: 'none' };
  const rest = m[1];
  if (rest === undefined) return httpMethod === 'GET' ? { kind: 'gemini', method: 'models.list', model: null } : { kind: 'none' };
  const colon = rest.indexOf(':');
  const model = decode(colon === -1 ? rest : rest.slice(0, colon));
  if (model === undefined) return { kind: 'none' };
  if (colon === -1) return httpMethod === 'GET' ? { kind: 'gemini', method: 'models.get', model } : { kind: 'none' };
  const action = ACTIONS[rest.slice(colon + 1)];
  if (!action || httpMethod !== 'POST') return { kind: 'none' };
  return { kind: 'gemini', method: action, model };
}

function readBody(req: IncomingMessage): Promise<Buffer | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size <= MAX_BODY_BYTES) chunks.push(c);
    });
    req.on('end', () => resolve(size > MAX_BODY_BYTES ? undefined : Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function parseJson(raw: Buffer): unknown {
  if (raw.length === 0) return undefined;
  try {
    return JSON.parse(raw.toString('utf8')) as unknown;
  } catch {
    return INVALID_JSON;
  }
}

function headerValue(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}

async function serve(engine: SimulatorEngine, hooks: WriterHooks, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = req.url ?? '/';
  const q = url.indexOf('?');
  const path = q === -1 ? url : url.slice(0, q);
  const query = q === -1 ? undefined : new URLSearchParams(url.slice(q + 1));
  const method = req.method ?? 'GET';
  const apiKey = headerValue(req.headers['x-goog-api-key']) ?? query?.get('key') ?? undefined;
  const raw = await readBody(req);
  if (raw === undefined) return sendJson(res, 400, engine.httpError(badRequest('Request payload size exceeds the limit: 20971520 bytes.'), apiKey).body);
  const r = route(method, path);
  if (r.kind === 'control') {
    const reply = handleControl(engine, method, path, query, parseJson(raw));
    return sendJson(res, reply.status, reply.body);
  }
  if (r.kind === 'none') return sendJson(res, 404, engine.httpError(notFoundPath(), apiKey).body);
  const request: SimRequest = { method: r.method, model: r.model, apiKey, body: parseJson(raw) };
  sendReply(res, engine.handle(request), query?.get('alt') === 'sse', hooks);
}

export function createSimulatorServer(engine: SimulatorEngine, hooks: WriterHooks = {}): Server {
  const server = createServer((req, res) => {
    serve(engine, hooks, req, res).catch((err: unknown) => {
      if (res.headersSent) return void res.destroy(err instanceof Error ? err : undefined);
      sendJson(res, 500, { error: { code: 500, message: 'simulator failure', status: 'INTERNAL' } });
    });
  });
  server.keepAliveTimeout = 60_000;
  return server;
}

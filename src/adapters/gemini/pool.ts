import { GoogleGenAI } from '@google/genai';
import { classifyResponse } from '../../core/classify.js';
import { ZERO_USAGE, type FailureOutcome, type Outcome, type StreamChunk } from '../../core/outcome.js';
import type { GenerationRequest } from '../../core/request.js';
import { LruMap } from './lru.js';
import { outcomeOfError } from './map-error.js';
import { readStream } from './stream.js';
import { toSdkParams } from './to-sdk.js';

export interface GeminiCallResult {
  outcome: Outcome;
  latencyMs: number;
}

export interface GeminiCall {
  keyId: string;
  model: string;
  request: GenerationRequest;
  /** aborting ends the call as a timeout outcome */
  signal?: AbortSignal;
}

/** Gemini client port: one SDK client per key, reused; the SDK's own retries off. Never throws: failures are outcomes. */
export interface GeminiPort {
  generate(call: GeminiCall): Promise<GeminiCallResult>;
  /**
   * streamGenerateContent: `onChunk` gets each chunk that carries parts, in
   * order, and is awaited before the next; the result is the whole answer.
   * A failure after k chunks carries `chunksDelivered: k`.
   */
  generateStream(call: GeminiCall, onChunk: (chunk: StreamChunk) => void | Promise<void>): Promise<GeminiCallResult>;
  /** models.get — spends no generation quota; used by health checks */
  probe(call: { keyId: string; model: string }): Promise<GeminiCallResult>;
  /** drop a cached client (secret changed / key removed) */
  forget(keyId: string): void;
}

export interface GeminiPoolOptions {
  baseUrl: string;
  /** per call; the SDK aborts the request after this long */
  timeoutMs: number;
  /** the decrypted secret of a key id, undefined when unknown */
  secretOf: (keyId: string) => string | undefined;
  /** bound on cached clients; default 10000 */
  maxClients?: number;
  now?: () => number;
}

interface Cached {
  secret: string;
  client: GoogleGenAI;
}

const PROBE_SUCCESS: Outcome = { kind: 'success', text: '', parts: [], usage: { ...ZERO_USAGE }, finishReason: null, safetyRatings: [], modelVersion: null, responseId: null };

const noSecret = (keyId: string): FailureOutcome => ({
  kind: 'failure',
  failure: 'key_invalid',
  status: null,
  message: `no secret for key ${keyId}`,
  retryAfterMs: null,
  violation: null,
});

export function createGeminiPool(opts: GeminiPoolOptions): GeminiPort {
  const clients = new LruMap<string, Cached>(opts.maxClients ?? 10_000);
  const now = opts.now ?? Date.now;

  const clientFor = (keyId: string): GoogleGenAI | null => {
    const secret = opts.secretOf(keyId);
    if (!secret) return null;
    const cached = clients.get(keyId);
    // A rotated secret replaces the client even when nobody called forget().
    if (cached?.secret === secret) return cached.client;
    const client = new GoogleGenAI({
      apiKey: secret,
      // Explicit, so GOOGLE_GENAI_USE_VERTEXAI in the environment cannot reroute calls.
      vertexai: false,
      // attempts 1: retrying is the queue's decision (backoff by failure class), never the SDK's.
      httpOptions: { baseUrl: opts.baseUrl, timeout: opts.timeoutMs, retryOptions: { attempts: 1 } },
    });
    clients.set(keyId, { secret, client });
    return client;
  };

  const timed = async (keyId: string, call: (client: GoogleGenAI) => Promise<Outcome>): Promise<GeminiCallResult> => {
    const started = now();
    let outcome: Outcome;
    try {
      const client = clientFor(keyId);
      outcome = client ? await call(client) : noSecret(keyId);
    } catch (err) {
      outcome = outcomeOfError(err);
    }
    return { outcome, latencyMs: Math.max(0, now() - started) };
  };

  return {
    generate: ({ keyId, model, request, signal }) =>
      timed(keyId, async (client) => classifyResponse(await client.models.generateContent(toSdkParams(model, request, signal)))),
    generateStream: ({ keyId, model, request, signal }, onChunk) =>
      timed(keyId, (client) => {
        const local = new AbortController();
        const both = signal ? AbortSignal.any([signal, local.signal]) : local.signal;
        return readStream(() => client.models.generateContentStream(toSdkParams(model, request, both)), onChunk, () => local.abort());
      }),
    probe: ({ keyId, model }) =>
      timed(keyId, async (client) => {
        await client.models.get({ model });
        return PROBE_SUCCESS;
      }),
    forget: (keyId) => {
      clients.delete(keyId);
    },
  };
}

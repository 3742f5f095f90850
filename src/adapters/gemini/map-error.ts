import { ApiError } from '@google/genai';
import { classifyHttpError, classifyTransportError } from '../../core/classify.js';
import type { FailureOutcome } from '../../core/outcome.js';

/**
 * The SDK's ApiError carries the HTTP status in `.status` and the response
 * body, JSON-stringified, in `.message` — sometimes after a prefix
 * ("got status: 429. {...}"). Pull the JSON part out so the pure classifier
 * sees the same text the server sent.
 */
export function bodyJsonOf(message: string): string {
  const start = message.indexOf('{');
  const startArray = message.indexOf('[');
  const from = start === -1 ? startArray : startArray === -1 ? start : Math.min(start, startArray);
  if (from === -1) return message;
  const candidate = message.slice(from);
  if (isJson(candidate)) return candidate;
  // Trailing prose after the JSON: cut back to the last closing brace.
  const end = Math.max(candidate.lastIndexOf('}'), candidate.lastIndexOf(']'));
  const trimmed = end === -1 ? candidate : candidate.slice(0, end + 1);
  return isJson(trimmed) ? trimmed : message;
}

function isJson(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

function apiErrorParts(err: unknown): { status: number; message: string } | null {
  if (err instanceof ApiError) return { status: err.status, message: err.message };
  // Duck-typed too: a second copy of the SDK in the tree would fail instanceof.
  if (err instanceof Error && err.name === 'ApiError') {
    const status = (err as Error & { status?: unknown }).status;
    if (typeof status === 'number') return { status, message: err.message };
  }
  return null;
}

/** Any error the SDK threw => a failure outcome. Never throws. */
export function outcomeOfError(err: unknown): FailureOutcome {
  const api = apiErrorParts(err);
  if (api && api.status >= 400 && api.status < 600) return classifyHttpError(api.status, bodyJsonOf(api.message));
  return classifyTransportError(err);
}

import { readFile } from 'node:fs/promises';
import type { GenerationRequestInput } from '../../core/request.js';
import { ValidationError, errorMessage } from '../../errors.js';

/** The flags of `quotaflow enqueue` that make up its requests. */
export interface RequestFlags {
  tenant?: string | undefined;
  text?: string | undefined;
  file?: string | undefined;
  models?: string | undefined;
  count: number;
  'message-id'?: string | undefined;
  'deadline-ms'?: number | undefined;
}

/**
 * The base request of an enqueue: a whole request from `--file` (Gemini
 * contents, system instruction, tools, generation config...) or a text
 * message from `--text`; the tenant from the file or `--tenant` (both given
 * must agree); `--models`, `--message-id` and `--deadline-ms` override the
 * file. Bad usage throws ValidationError (exit code 2); the request itself
 * is validated when it is enqueued.
 */
export async function baseRequest(f: RequestFlags): Promise<GenerationRequestInput> {
  if (f.file !== undefined && f.text !== undefined) throw new ValidationError('give the message with --text or a whole request with --file, not both');
  if (f.file === undefined && f.text === undefined) throw new ValidationError('give the message with --text TEXT, or a whole request with --file request.json');
  if (f['message-id'] && f.count > 1) throw new ValidationError('--message-id names one message; use it without --count');
  const fromFile = f.file === undefined ? {} : await readRequestFile(f.file);
  const fileTenant = fromFile['tenantId'];
  if (fileTenant !== undefined && f.tenant !== undefined && fileTenant !== f.tenant) {
    throw new ValidationError(`the tenant of ${f.file ?? 'the file'} ("${String(fileTenant)}") differs from --tenant "${f.tenant}"`);
  }
  const tenantId = f.tenant ?? fileTenant;
  if (typeof tenantId !== 'string') throw new ValidationError(`the tenant is missing: give --tenant T${f.file !== undefined ? ' or "tenantId" in the file' : ''}`);
  return {
    ...(fromFile as Partial<GenerationRequestInput>),
    tenantId,
    contents: f.text ?? (fromFile['contents'] as GenerationRequestInput['contents']),
    ...(f.models ? { models: f.models.split(',').map((m) => m.trim()).filter(Boolean) } : {}),
    ...(f['message-id'] ? { messageId: f['message-id'] } : {}),
    ...(f['deadline-ms'] ? { deadlineMs: f['deadline-ms'] } : {}),
  };
}

/** The i-th of `count` messages: text messages are numbered "(#i)"; a request from a file is sent as it is. */
export function nthRequest(base: GenerationRequestInput, f: RequestFlags, i: number): GenerationRequestInput {
  if (f.count === 1 || f.text === undefined) return base;
  return { ...base, contents: `${f.text} (#${i + 1})` };
}

async function readRequestFile(path: string): Promise<Record<string, unknown>> {
  let raw: string;
  try {
    raw = await readFile(path, 'utf8');
  } catch (err) {
    throw new ValidationError(`cannot read ${path}: ${errorMessage(err)}`);
  }
  let doc: unknown;
  try {
    doc = JSON.parse(raw);
  } catch (err) {
    throw new ValidationError(`${path} is not JSON: ${errorMessage(err)}`);
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) throw new ValidationError(`${path} must hold one JSON object (a generation request)`);
  return doc as Record<string, unknown>;
}

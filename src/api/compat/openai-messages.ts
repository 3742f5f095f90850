import { z } from 'zod';
import type { Content, Part } from '../../core/request.js';
import { audioMimeType, inlineDataOf } from './data-url.js';
import type { OpenAIMessage } from './openai-schema.js';
import { paramError } from './problems.js';
import { geminiCallId } from './tool-call-ids.js';

/**
 * OpenAI messages as Gemini contents: system and developer messages become
 * the system instruction; user → user; assistant → model (text, then a
 * functionCall per tool call, thought signatures restored from
 * extra_content.google.thought_signature); tool → a functionResponse in a
 * user turn, named after the call it answers. Neighbouring turns of one role
 * are merged, so the answers to parallel calls share one turn as Gemini wants.
 */
export interface GeminiTurns {
  systemInstruction?: Content;
  contents: Content[];
}

type Message<R extends OpenAIMessage['role']> = Extract<OpenAIMessage, { role: R }>;

const jsonObject = z.record(z.string(), z.unknown());

function textOf(content: string | Array<{ text: string }>, sep: string): string {
  return typeof content === 'string' ? content : content.map((p) => p.text).join(sep);
}

function parseJson(text: string): { ok: true; value: unknown } | { ok: false } {
  try {
    return { ok: true, value: JSON.parse(text) as unknown };
  } catch {
    return { ok: false };
  }
}

function argsOf(raw: string, param: string): Record<string, unknown> {
  if (raw.trim() === '') return {};
  const parsed = parseJson(raw);
  if (!parsed.ok) throw paramError(param, 'is not valid JSON');
  const obj = jsonObject.safeParse(parsed.value);
  if (!obj.success || Array.isArray(parsed.value)) throw paramError(param, 'must be a JSON object');
  return obj.data;
}

/** A tool's output as functionResponse.response: its JSON object, or `{ output }` (Gemini's convention). */
export function toolOutput(text: string): Record<string, unknown> {
  const parsed = parseJson(text);
  if (!parsed.ok) return { output: text };
  const obj = jsonObject.safeParse(parsed.value);
  return obj.success && !Array.isArray(parsed.value) ? obj.data : { output: parsed.value };
}

function userParts(m: Message<'user'>, at: string): Part[] {
  if (typeof m.content === 'string') return [{ text: m.content }];
  return m.content.map((p, j): Part => {
    const param = `${at}.content[${j}]`;
    switch (p.type) {
      case 'text':
        return { text: p.text };
      case 'image_url':
        return { inlineData: inlineDataOf(p.image_url.url, `${param}.image_url.url`) };
      case 'input_audio':
        return { inlineData: { mimeType: audioMimeType(p.input_audio.format), data: p.input_audio.data } };
      case 'file':
        if (typeof p.file.file_data !== 'string') throw paramError(`${param}.file`, 'file_id is not supported: send the file as file_data (a data URL)');
        return { inlineData: inlineDataOf(p.file.file_data, `${param}.file.file_data`) };
    }
  });
}

function assistantParts(m: Message<'assistant'>, at: string, calls: Map<string, string>): Part[] {
  const parts: Part[] = [];
  const text = m.content == null ? '' : typeof m.content === 'string' ? m.content : m.content.map((p) => (p.type === 'text' ? p.text : '')).join('');
  const signature = m.extra_content?.google?.thought_signature;
  if (text !== '') parts.push({ text, ...(signature ? { thoughtSignature: signature } : {}) });
  (m.tool_calls ?? []).forEach((tc, j) => {
    calls.set(tc.id, tc.function.name);
    const id = geminiCallId(tc.id);
    const sig = tc.extra_content?.google?.thought_signature;
    const args = argsOf(tc.function.arguments, `${at}.tool_calls[${j}].function.arguments`);
    parts.push({ functionCall: { name: tc.function.name, args, ...(id !== undefined ? { id } : {}) }, ...(sig ? { thoughtSignature: sig } : {}) });
  });
  return parts;
}

function toolResponse(m: Message<'tool'>, at: string, calls: Map<string, string>): Part {
  const name = calls.get(m.tool_call_id);
  if (name === undefined) throw paramError(`${at}.tool_call_id`, `no earlier assistant message has a tool call with id "${m.tool_call_id.slice(0, 100)}"`);
  const id = geminiCallId(m.tool_call_id);
  return { functionResponse: { name, response: toolOutput(textOf(m.content, '')), ...(id !== undefined ? { id } : {}) } };
}

function append(contents: Content[], role: 'user' | 'model', parts: Part[]): void {
  if (parts.length === 0) return;
  const last = contents.at(-1);
  if (last?.role === role) last.parts.push(...parts);
  else contents.push({ role, parts });
}

export function messagesToGemini(messages: readonly OpenAIMessage[]): GeminiTurns {
  const system: Part[] = [];
  const contents: Content[] = [];
  // tool call id -> function name; a later call reusing an id wins, as the tool message answers the latest
  const calls = new Map<string, string>();
  messages.forEach((m, i) => {
    const at = `messages[${i}]`;
    switch (m.role) {
      case 'system':
      case 'developer':
        system.push({ text: textOf(m.content, '\n') });
        return;
      case 'user':
        return append(contents, 'user', userParts(m, at));
      case 'assistant':
        return append(contents, 'model', assistantParts(m, at, calls));
      case 'tool':
        return append(contents, 'user', [toolResponse(m, at, calls)]);
    }
  });
  if (contents.length === 0) throw paramError('messages', 'needs at least one user, assistant or tool message besides system messages');
  return { ...(system.length > 0 ? { systemInstruction: { parts: system } } : {}), contents };
}

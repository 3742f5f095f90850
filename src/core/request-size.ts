import type { Content, Part } from './request-content.js';
import { jsonLength, utf8Length } from './utf8.js';

/**
 * Sizes of a request in bytes: UTF-8 of its text and JSON, decoded size of
 * its inline data. Job data lives in Redis, so bytes (not characters) are
 * what the caps are about.
 */
export interface RequestCaps {
  /** the whole request; default 8 MiB */
  maxRequestBytes: number;
  /** all inline data of one job, decoded; default 4 MiB */
  maxInlineBytes: number;
  /** parts over all contents and the system instruction; default 2,000 */
  maxParts: number;
  /** turns in `contents`; default 1,000 */
  maxContents: number;
}

const MiB = 1024 * 1024;
export const DEFAULT_REQUEST_CAPS: Readonly<RequestCaps> = Object.freeze({ maxRequestBytes: 8 * MiB, maxInlineBytes: 4 * MiB, maxParts: 2_000, maxContents: 1_000 });

/** Nesting deeper than this is refused before validation walks it (function args, schemas). */
export const MAX_NESTING = 64;

/** Decoded size of base64 text (either alphabet, padding optional). */
export function base64Bytes(data: string): number {
  let pad = 0;
  while (pad < 2 && data.charCodeAt(data.length - 1 - pad) === 61 /* = */) pad++;
  return Math.floor(((data.length - pad) * 3) / 4);
}

export function partBytes(p: Part): number {
  let n = p.text === undefined ? 0 : utf8Length(p.text);
  if (p.inlineData) n += base64Bytes(p.inlineData.data) + p.inlineData.mimeType.length;
  if (p.fileData) n += utf8Length(p.fileData.fileUri) + (p.fileData.mimeType?.length ?? 0);
  n += jsonLength(p.functionCall) + jsonLength(p.functionResponse) + jsonLength(p.executableCode) + jsonLength(p.codeExecutionResult) + jsonLength(p.videoMetadata);
  return n + (p.thoughtSignature?.length ?? 0);
}

const contentBytes = (c: Content): number => c.parts.reduce((n, p) => n + partBytes(p), 0);
const turnBytes = (c: string | Content | undefined): number => (c === undefined ? 0 : typeof c === 'string' ? utf8Length(c) : contentBytes(c));

interface Sized {
  contents: string | Content[];
  systemInstruction?: string | Content | undefined;
}

/** The request's size in bytes: text as UTF-8, inline data decoded, everything else as JSON. */
export function requestBytes<R extends Sized>(req: R): number {
  const { contents, systemInstruction, ...rest } = req;
  const body = typeof contents === 'string' ? utf8Length(contents) : contents.reduce((n, c) => n + contentBytes(c), 0);
  return body + turnBytes(systemInstruction) + jsonLength(rest);
}

const fmt = (n: number): string => (n >= MiB ? `${(n / MiB).toFixed(1)} MiB` : `${n} bytes`);

/** Cap checks on a validated request; each problem names its path. */
export function capIssues(req: Sized, caps: RequestCaps): string[] {
  const issues: string[] = [];
  let inline = 0;
  let over: string | null = null;
  const contents = typeof req.contents === 'string' ? [] : req.contents;
  for (const [ci, c] of contents.entries()) {
    for (const [pi, p] of c.parts.entries()) {
      if (!p.inlineData) continue;
      inline += base64Bytes(p.inlineData.data);
      if (inline > caps.maxInlineBytes && over === null) over = `contents.${ci}.parts.${pi}.inlineData.data`;
    }
  }
  if (over !== null) {
    issues.push(
      `${over}: inline data adds up to ${fmt(inline)}, over the limit of ${fmt(caps.maxInlineBytes)} per request (job data lives in Redis); upload the file with the Files API and send it as fileData { fileUri, mimeType }`,
    );
  }
  const total = requestBytes(req);
  if (total > caps.maxRequestBytes) issues.push(`(root): the request is ${fmt(total)}, over the limit of ${fmt(caps.maxRequestBytes)}`);
  return issues;
}

/**
 * Cheap checks on the raw input before validation walks it: counts of
 * contents and parts, and nesting depth. A request with 850,000 parts is
 * refused here without building 850,000 validated objects.
 */
export function prescanIssues(input: unknown, caps: RequestCaps): string[] {
  if (typeof input !== 'object' || input === null) return [];
  const field = (o: unknown, key: string): unknown => (typeof o === 'object' && o !== null && key in o ? Reflect.get(o, key) : undefined);
  const contents = field(input, 'contents');
  const turns: unknown[] = Array.isArray(contents) ? contents : [];
  if (turns.length > caps.maxContents) return [`contents: ${turns.length} contents, over the limit of ${caps.maxContents}`];
  const partsOf = (c: unknown): number => {
    const parts = field(c, 'parts');
    return Array.isArray(parts) ? parts.length : 0;
  };
  const parts = turns.reduce((n: number, c) => n + partsOf(c), partsOf(field(input, 'systemInstruction')));
  if (parts > caps.maxParts) return [`contents: ${parts} parts in all, over the limit of ${caps.maxParts}`];
  const deep = deepestPath(input, MAX_NESTING);
  return deep === null ? [] : [`${deep}: nested more than ${MAX_NESTING} levels deep`];
}

/** The path of the first value nested deeper than `limit`, or null. Iterative: input depth is untrusted. */
function deepestPath(root: object, limit: number): string | null {
  interface Node {
    value: unknown;
    depth: number;
    key: string;
    parent: Node | null;
  }
  const stack: Node[] = [{ value: root, depth: 0, key: '', parent: null }];
  for (let node = stack.pop(); node; node = stack.pop()) {
    const { value, depth } = node;
    if (typeof value !== 'object' || value === null) continue;
    if (depth > limit) {
      const keys: string[] = [];
      for (let n: Node | null = node; n?.parent; n = n.parent) keys.unshift(n.key);
      return keys.join('.');
    }
    for (const [key, child] of Object.entries(value)) stack.push({ value: child, depth: depth + 1, key, parent: node });
  }
  return null;
}

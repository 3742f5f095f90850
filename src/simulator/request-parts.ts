/**
 * Walking `contents` and `systemInstruction`: every part kind a chatbot sends
 * is accepted and priced (prompt-tokens.ts); an unknown field in a part, a
 * part without data or with two kinds of data answers 400 as Google does.
 * Field names are read in lowerCamel or snake_case, like Google's JSON.
 */
import { PromptTally, fileDataModality, inlineDataCost, jsonTokens, countTextTokens, FILE_DATA_TOKENS } from './prompt-tokens.js';

export class RequestProblem extends Error {}

const DATA_FIELDS = new Set(['text', 'inlineData', 'fileData', 'functionCall', 'functionResponse', 'executableCode', 'codeExecutionResult', 'toolCall', 'toolResponse']);
const META_FIELDS = new Set(['thought', 'thoughtSignature', 'videoMetadata', 'mediaResolution', 'partMetadata', 'mediaProcessing', 'speechMetadata', 'audioTranscription']);
const BASE64 = /^[A-Za-z0-9+/_-]*={0,2}$/;

export function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

const camel = (name: string): string => (name.includes('_') ? name.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase()) : name);

// Every call reads the same few names: convert each once.
const snakeNames = new Map<string, string>();
function snake(name: string): string {
  let s = snakeNames.get(name);
  if (s === undefined) {
    s = name.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
    snakeNames.set(name, s);
  }
  return s;
}

/** `obj.fooBar`, or `obj.foo_bar` as proto JSON also accepts. */
export function field(obj: Record<string, unknown>, name: string): unknown {
  const value = obj[name];
  return value !== undefined ? value : obj[snake(name)];
}

export interface FunctionResponse {
  name: string;
  response: unknown;
}

/** What the walk collects besides the token tally. */
export interface PartsSink {
  texts: string[];
  prompt: PromptTally;
}

function invalid(path: string, why: string): RequestProblem {
  return new RequestProblem(`Invalid value at '${path}': ${why}`);
}

function priceData(kind: string, value: unknown, path: string, sink: PartsSink): void {
  if (kind === 'text') {
    if (typeof value !== 'string') throw invalid(`${path}.text`, 'must be a string');
    sink.texts.push(value);
    sink.prompt.add({ modality: 'TEXT', tokens: countTextTokens(value) });
    return;
  }
  if (!isRecord(value)) throw invalid(`${path}.${kind}`, 'must be an object');
  if (kind === 'inlineData') {
    const mime = field(value, 'mimeType');
    const data = value['data'];
    if (typeof mime !== 'string' || typeof data !== 'string') throw invalid(`${path}.inline_data`, 'needs mime_type and data (base64)');
    if (!BASE64.test(data)) throw invalid(`${path}.inline_data.data`, 'Base64 decoding failed');
    sink.prompt.add(inlineDataCost(mime, data));
    return;
  }
  if (kind === 'fileData') {
    const uri = field(value, 'fileUri');
    if (typeof uri !== 'string' || uri === '') throw invalid(`${path}.file_data.file_uri`, 'must be a file URI');
    const mime = field(value, 'mimeType');
    sink.prompt.add({ modality: fileDataModality(typeof mime === 'string' ? mime : ''), tokens: FILE_DATA_TOKENS });
    return;
  }
  if ((kind === 'functionCall' || kind === 'functionResponse') && typeof value['name'] !== 'string') {
    throw invalid(`${path}.${kind === 'functionCall' ? 'function_call' : 'function_response'}.name`, 'must be a function name');
  }
  sink.prompt.add({ modality: 'TEXT', tokens: jsonTokens(value) });
}

/** Prices one part; returns its function response, if it is one. */
function walkPart(part: unknown, path: string, sink: PartsSink): FunctionResponse | undefined {
  if (!isRecord(part)) throw invalid(path, 'a part must be an object');
  let kind: string | undefined;
  for (const key of Object.keys(part)) {
    const name = camel(key);
    if (META_FIELDS.has(name)) continue;
    if (!DATA_FIELDS.has(name)) throw new RequestProblem(`Invalid JSON payload received. Unknown name "${key}" at '${path}': Cannot find field.`);
    if (kind !== undefined) throw new RequestProblem(`Invalid JSON payload received. Oneof field 'data' is already set. Cannot set '${key}'`);
    kind = name;
  }
  if (kind === undefined) throw new RequestProblem(`* GenerateContentRequest.${path}.data: required oneof field 'data' must have one initialized field`);
  const value = field(part, kind);
  if (kind === 'text' && part['thought'] === true) {
    // Thought text sent back is still prompt text, but never the user's question.
    priceData('text', value, path, { texts: [], prompt: sink.prompt });
    return undefined;
  }
  priceData(kind, value, path, sink);
  if (kind === 'functionResponse' && isRecord(value) && typeof value['name'] === 'string') {
    return { name: value['name'], response: value['response'] };
  }
  return undefined;
}

export interface ContentWalk {
  /** The last text part of the content, if any. */
  lastText: string | undefined;
  role: unknown;
  functionResponses: FunctionResponse[];
}

export function walkContent(content: unknown, path: string, sink: PartsSink): ContentWalk {
  if (!isRecord(content)) throw invalid(path, 'a content must be an object');
  const parts = content['parts'];
  if (parts !== undefined && !Array.isArray(parts)) throw invalid(`${path}.parts`, 'must be a list');
  const walk: ContentWalk = { lastText: undefined, role: content['role'], functionResponses: [] };
  const list: unknown[] = Array.isArray(parts) ? parts : [];
  list.forEach((part, i) => {
    const before = sink.texts.length;
    const response = walkPart(part, `${path}.parts[${i}]`, sink);
    if (response) walk.functionResponses.push(response);
    if (sink.texts.length > before) walk.lastText = sink.texts[sink.texts.length - 1];
  });
  return walk;
}

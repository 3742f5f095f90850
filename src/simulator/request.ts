/**
 * A generateContent / countTokens body read into what the stand-in needs:
 * the prompt's texts and tokens, the declared functions, and the output the
 * caller asked for. Malformed shapes become a RequestProblem (400).
 */
import { CACHED_CONTENT_TOKENS, PromptTally, jsonTokens } from './prompt-tokens.js';
import { RequestProblem, field, isRecord, walkContent, type FunctionResponse } from './request-parts.js';
import { schemaProblem } from './schema.js';

export { RequestProblem, type FunctionResponse };

export interface FunctionDeclaration {
  name: string;
  /** `parameters` (OpenAPI subset) or `parametersJsonSchema`; undefined when none. */
  schema: unknown;
}

export type FunctionMode = 'AUTO' | 'ANY' | 'NONE' | 'VALIDATED' | 'MODE_UNSPECIFIED';
const FUNCTION_MODES: readonly FunctionMode[] = ['AUTO', 'ANY', 'NONE', 'VALIDATED', 'MODE_UNSPECIFIED'];
const isFunctionMode = (v: unknown): v is FunctionMode => FUNCTION_MODES.some((m) => m === v);

export interface GenerationRequest {
  /** Every text part, system instruction included (markers are looked for here). */
  texts: string[];
  /** The last text of the last user turn ("" when none). */
  lastUserText: string;
  prompt: PromptTally;
  /** Function responses in the last turn of `contents`. */
  lastTurnResponses: FunctionResponse[];
  functions: FunctionDeclaration[];
  functionMode: FunctionMode;
  allowedFunctionNames: string[] | undefined;
  maxOutputTokens: number | undefined;
  stopSequences: string[];
  candidateCount: number;
  /** Set when responseMimeType is application/json; `schema` undefined without one. */
  json: { schema: unknown } | undefined;
  /** Set when thinkingConfig asks for thinking. */
  thinking: { budget: number | undefined; includeThoughts: boolean } | undefined;
  cachedContent: string | undefined;
}

function readContents(inner: Record<string, unknown>, req: GenerationRequest): void {
  const contents = inner['contents'];
  if (contents === undefined) return;
  if (!Array.isArray(contents)) throw new RequestProblem("Invalid value at 'contents': must be a list");
  contents.forEach((content: unknown, i) => {
    const walk = walkContent(content, `contents[${i}]`, req);
    if (walk.lastText !== undefined && (walk.role === undefined || walk.role === 'user')) req.lastUserText = walk.lastText;
    if (i === contents.length - 1) req.lastTurnResponses = walk.functionResponses;
  });
}

function readDeclaration(decl: unknown, path: string): FunctionDeclaration {
  if (!isRecord(decl) || typeof decl['name'] !== 'string' || decl['name'] === '') {
    throw new RequestProblem(`* GenerateContentRequest.${path}.name: Name cannot be empty.`);
  }
  const parameters = decl['parameters'];
  const jsonSchema = field(decl, 'parametersJsonSchema');
  const problem =
    (parameters !== undefined ? schemaProblem(parameters, 'openapi', `${path}.parameters`) : undefined) ??
    (jsonSchema !== undefined ? schemaProblem(jsonSchema, 'json', `${path}.parameters_json_schema`) : undefined);
  if (problem) throw new RequestProblem(problem);
  return { name: decl['name'], schema: parameters ?? jsonSchema };
}

function readTools(inner: Record<string, unknown>, req: GenerationRequest): void {
  const tools = inner['tools'];
  if (tools === undefined) return;
  if (!Array.isArray(tools)) throw new RequestProblem("Invalid value at 'tools': must be a list");
  tools.forEach((tool: unknown, t) => {
    if (!isRecord(tool)) throw new RequestProblem(`Invalid value at 'tools[${t}]': a tool must be an object`);
    const decls = field(tool, 'functionDeclarations');
    if (decls === undefined) return;
    if (!Array.isArray(decls)) throw new RequestProblem(`Invalid value at 'tools[${t}].function_declarations': must be a list`);
    decls.forEach((d: unknown, i) => req.functions.push(readDeclaration(d, `tools[${t}].function_declarations[${i}]`)));
  });
  if (tools.length > 0) req.prompt.add({ modality: 'TEXT', tokens: jsonTokens(tools) });
}

function readToolConfig(inner: Record<string, unknown>, req: GenerationRequest): void {
  const toolConfig = field(inner, 'toolConfig');
  const calling = isRecord(toolConfig) ? field(toolConfig, 'functionCallingConfig') : undefined;
  if (!isRecord(calling)) return;
  const mode = calling['mode'];
  if (mode !== undefined) {
    if (!isFunctionMode(mode)) {
      throw new RequestProblem(`Invalid value at 'tool_config.function_calling_config.mode' (type.googleapis.com/google.ai.generativelanguage.v1beta.FunctionCallingConfig.Mode), ${JSON.stringify(mode)}`);
    }
    req.functionMode = mode;
  }
  const allowed = field(calling, 'allowedFunctionNames');
  if (Array.isArray(allowed)) req.allowedFunctionNames = allowed.filter((n): n is string => typeof n === 'string');
}

function readOutput(gen: Record<string, unknown>, req: GenerationRequest): void {
  const max = field(gen, 'maxOutputTokens');
  if (typeof max === 'number' && max > 0) req.maxOutputTokens = max;
  const stops = field(gen, 'stopSequences');
  if (Array.isArray(stops)) req.stopSequences = stops.filter((s): s is string => typeof s === 'string' && s !== '');
  const count = field(gen, 'candidateCount');
  if (typeof count === 'number' && count >= 1) req.candidateCount = Math.min(8, Math.floor(count));
  const schema = field(gen, 'responseSchema');
  const jsonSchema = field(gen, 'responseJsonSchema');
  const problem =
    (schema !== undefined ? schemaProblem(schema, 'openapi', 'generation_config.response_schema') : undefined) ??
    (jsonSchema !== undefined ? schemaProblem(jsonSchema, 'json', 'generation_config.response_json_schema') : undefined);
  if (problem) throw new RequestProblem(problem);
  if (field(gen, 'responseMimeType') === 'application/json') req.json = { schema: schema ?? jsonSchema };
  const thinking = field(gen, 'thinkingConfig');
  if (!isRecord(thinking)) return;
  const budget = field(thinking, 'thinkingBudget');
  const includeThoughts = field(thinking, 'includeThoughts') === true;
  const asks = includeThoughts || (typeof budget === 'number' && budget !== 0) || typeof field(thinking, 'thinkingLevel') === 'string';
  if (asks) req.thinking = { budget: typeof budget === 'number' && budget > 0 ? budget : undefined, includeThoughts };
}

function emptyRequest(): GenerationRequest {
  return {
    texts: [],
    lastUserText: '',
    prompt: new PromptTally(),
    lastTurnResponses: [],
    functions: [],
    functionMode: 'AUTO',
    allowedFunctionNames: undefined,
    maxOutputTokens: undefined,
    stopSequences: [],
    candidateCount: 1,
    json: undefined,
    thinking: undefined,
    cachedContent: undefined,
  };
}

/** Reads a generateContent body, or a countTokens one (possibly wrapped as generateContentRequest); throws RequestProblem. */
export function readGenerationRequest(body: Record<string, unknown>): GenerationRequest {
  const req = emptyRequest();
  const wrapped = field(body, 'generateContentRequest');
  const inner = isRecord(wrapped) ? wrapped : body;
  for (const holder of inner === body ? [body] : [body, inner]) {
    const system = field(holder, 'systemInstruction');
    if (system !== undefined) walkContent(system, 'system_instruction', req);
  }
  readContents(inner, req);
  readTools(inner, req);
  readToolConfig(inner, req);
  const gen = field(inner, 'generationConfig');
  if (isRecord(gen)) readOutput(gen, req);
  const cached = field(inner, 'cachedContent');
  if (typeof cached === 'string' && cached !== '') {
    req.cachedContent = cached;
    req.prompt.cached = CACHED_CONTENT_TOKENS;
    req.prompt.add({ modality: 'TEXT', tokens: CACHED_CONTENT_TOKENS });
  }
  return req;
}

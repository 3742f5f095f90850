import type { GenerationConfig, Tool, ToolConfig } from '../../core/request.js';
import type { CompatRequest, RouteFields } from './job-call.js';
import { messagesToGemini } from './openai-messages.js';
import { chatRequestSchema, type ChatRequest, type OpenAITool, type OpenAIToolChoice, type REASONING_EFFORTS } from './openai-schema.js';
import { paramIssuesError } from './param-issues.js';
import { paramError } from './problems.js';

/**
 * A Chat Completions request as a quotaflow request. `reasoning_effort`
 * becomes a thinking budget (not a thinking level) because the fallback
 * chain may mix model generations and every current Gemini model accepts a
 * budget: none 0, minimal 512, low 1024, medium 8192, high and above 24576.
 */
export const THINKING_BUDGETS: Record<(typeof REASONING_EFFORTS)[number], number> = {
  none: 0,
  minimal: 512,
  low: 1024,
  medium: 8192,
  high: 24_576,
  xhigh: 24_576,
  max: 24_576,
};

export function parseChatRequest(body: unknown): ChatRequest {
  const parsed = chatRequestSchema.safeParse(body ?? {});
  if (!parsed.success) throw paramIssuesError(parsed.error.issues);
  return parsed.data;
}

function toolsOf(tools: readonly OpenAITool[]): Tool[] {
  const functionDeclarations = tools.map((t) => ({
    name: t.function.name,
    ...(t.function.description ? { description: t.function.description } : {}),
    ...(t.function.parameters ? { parametersJsonSchema: t.function.parameters } : {}),
  }));
  return [{ functionDeclarations }];
}

function toolConfigOf(choice: OpenAIToolChoice, tools: readonly OpenAITool[]): ToolConfig | undefined {
  const declared = new Set(tools.map((t) => t.function.name));
  const names = (list: Array<{ function: { name: string } }>, param: string): string[] =>
    list.map((f, i) => {
      if (!declared.has(f.function.name)) throw paramError(param.replace('#', String(i)), `"${f.function.name}" is not one of the tools`);
      return f.function.name;
    });
  if (choice === 'none') return tools.length > 0 ? { functionCallingConfig: { mode: 'NONE' } } : undefined;
  if (tools.length === 0) throw paramError('tool_choice', 'is only allowed when tools are given');
  if (choice === 'auto') return { functionCallingConfig: { mode: 'AUTO' } };
  if (choice === 'required') return { functionCallingConfig: { mode: 'ANY' } };
  if (choice.type === 'function') return { functionCallingConfig: { mode: 'ANY', allowedFunctionNames: names([choice], 'tool_choice.function.name') } };
  const allowed = names(choice.allowed_tools.tools, 'tool_choice.allowed_tools.tools[#].function.name');
  // VALIDATED: a text answer or a call of one of these; ANY: a call of one of these
  return { functionCallingConfig: { mode: choice.allowed_tools.mode === 'required' ? 'ANY' : 'VALIDATED', allowedFunctionNames: allowed } };
}

function generationConfigOf(r: ChatRequest): GenerationConfig | undefined {
  const g: GenerationConfig = {};
  if (r.temperature != null) g.temperature = r.temperature;
  if (r.top_p != null) g.topP = r.top_p;
  const max = r.max_completion_tokens ?? r.max_tokens;
  if (max != null) g.maxOutputTokens = max;
  if (r.stop != null) g.stopSequences = typeof r.stop === 'string' ? [r.stop] : r.stop;
  if (r.seed != null) g.seed = r.seed;
  if (r.presence_penalty != null) g.presencePenalty = r.presence_penalty;
  if (r.frequency_penalty != null) g.frequencyPenalty = r.frequency_penalty;
  if (r.reasoning_effort != null) g.thinkingConfig = { thinkingBudget: THINKING_BUDGETS[r.reasoning_effort] };
  const format = r.response_format;
  if (format?.type === 'json_object') g.responseMimeType = 'application/json';
  if (format?.type === 'json_schema') {
    g.responseMimeType = 'application/json';
    if (format.json_schema.schema) g.responseJsonSchema = format.json_schema.schema;
  }
  return Object.keys(g).length > 0 ? g : undefined;
}

/** The quotaflow request for a parsed Chat Completions request, routed as given. */
export function chatToRequest(r: ChatRequest, route: RouteFields): CompatRequest {
  const turns = messagesToGemini(r.messages);
  const tools = r.tools ?? [];
  const toolConfig = r.tool_choice != null ? toolConfigOf(r.tool_choice, tools) : undefined;
  const generationConfig = generationConfigOf(r);
  return {
    contents: turns.contents,
    ...(turns.systemInstruction ? { systemInstruction: turns.systemInstruction } : {}),
    ...(tools.length > 0 ? { tools: toolsOf(tools) } : {}),
    ...(toolConfig ? { toolConfig } : {}),
    ...(generationConfig ? { generationConfig } : {}),
    models: route.models,
    deadlineMs: route.deadlineMs,
    stream: route.stream,
    lane: 'interactive',
  };
}

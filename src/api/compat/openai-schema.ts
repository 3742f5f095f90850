import { z } from 'zod';

/**
 * The Chat Completions request as the openai SDK sends it. Like OpenAI,
 * fields nobody knows are ignored (zod strips them) while a known field
 * with a bad value is refused, naming the parameter. `null` means absent
 * wherever OpenAI allows it.
 */
const text = z.object({ type: z.literal('text'), text: z.string() });
const image = z.object({ type: z.literal('image_url'), image_url: z.object({ url: z.string().min(1), detail: z.enum(['auto', 'low', 'high']).nullish() }) });
const audio = z.object({ type: z.literal('input_audio'), input_audio: z.object({ data: z.string().min(1), format: z.enum(['wav', 'mp3']) }) });
const file = z.object({ type: z.literal('file'), file: z.object({ file_data: z.string().nullish(), file_id: z.string().nullish(), filename: z.string().nullish() }) });
const refusal = z.object({ type: z.literal('refusal'), refusal: z.string() });

const partKinds = (kinds: string): { error: string } => ({ error: `a content part has type ${kinds}` });
const userPart = z.discriminatedUnion('type', [text, image, audio, file], partKinds('text, image_url, input_audio or file'));
const assistantPart = z.discriminatedUnion('type', [text, refusal], partKinds('text or refusal'));

/** Gemini's OpenAI layer carries thought signatures here, on assistant messages and tool calls. */
const extraContent = z.object({ google: z.object({ thought_signature: z.string().nullish() }).nullish() }).nullish();
export type ExtraContent = z.output<typeof extraContent>;

const toolCall = z.object({
  id: z.string().min(1),
  type: z.literal('function').default('function'),
  function: z.object({ name: z.string().min(1), arguments: z.string() }),
  extra_content: extraContent,
});
export type OpenAIToolCall = z.output<typeof toolCall>;

const textContent = z.union([z.string(), z.array(text).min(1)]);
const noLegacy = z.null({ error: 'function_call is deprecated: use tool_calls' });

export const messageSchema = z.discriminatedUnion(
  'role',
  [
    z.object({ role: z.literal('system'), content: textContent, name: z.string().nullish() }),
    z.object({ role: z.literal('developer'), content: textContent, name: z.string().nullish() }),
    z.object({ role: z.literal('user'), content: z.union([z.string(), z.array(userPart).min(1)]), name: z.string().nullish() }),
    z.object({
      role: z.literal('assistant'),
      content: z.union([z.string(), z.array(assistantPart)]).nullish(),
      tool_calls: z.array(toolCall).nullish(),
      refusal: z.string().nullish(),
      name: z.string().nullish(),
      extra_content: extraContent,
      function_call: noLegacy.optional(),
    }),
    z.object({ role: z.literal('tool'), content: textContent, tool_call_id: z.string().min(1) }),
  ],
  { error: 'role is system, developer, user, assistant or tool' },
);
export type OpenAIMessage = z.output<typeof messageSchema>;

const functionTool = z.object({
  type: z.literal('function', { error: 'only function tools are supported' }),
  function: z.object({
    name: z.string().min(1),
    description: z.string().nullish(),
    parameters: z.record(z.string(), z.unknown()).nullish(),
    strict: z.boolean().nullish(),
  }),
});
export type OpenAITool = z.output<typeof functionTool>;

const namedFunction = z.object({ type: z.literal('function'), function: z.object({ name: z.string().min(1) }) });
const toolChoice = z.union(
  [
    z.enum(['none', 'auto', 'required']),
    namedFunction,
    z.object({ type: z.literal('allowed_tools'), allowed_tools: z.object({ mode: z.enum(['auto', 'required']), tools: z.array(namedFunction).min(1) }) }),
  ],
  { error: "tool_choice is 'none', 'auto', 'required', { type: 'function', function: { name } } or { type: 'allowed_tools', ... }" },
);
export type OpenAIToolChoice = z.output<typeof toolChoice>;

const responseFormat = z.discriminatedUnion(
  'type',
  [
    z.object({ type: z.literal('text') }),
    z.object({ type: z.literal('json_object') }),
    z.object({
      type: z.literal('json_schema'),
      json_schema: z.object({ name: z.string().min(1), description: z.string().nullish(), schema: z.record(z.string(), z.unknown()).nullish(), strict: z.boolean().nullish() }),
    }),
  ],
  { error: 'response_format type is text, json_object or json_schema' },
);
export type OpenAIResponseFormat = z.output<typeof responseFormat>;

export const REASONING_EFFORTS = ['none', 'minimal', 'low', 'medium', 'high', 'xhigh', 'max'] as const;
const tokens = z.number().int().positive().nullish();
const penalty = z.number().min(-2).max(2).nullish();

export const chatRequestSchema = z.object({
  model: z.string().min(1),
  messages: z.array(messageSchema).min(1, 'messages must contain at least one message'),
  stream: z.boolean().nullish(),
  stream_options: z.object({ include_usage: z.boolean().nullish() }).nullish(),
  temperature: z.number().min(0).max(2).nullish(),
  top_p: z.number().min(0).max(1).nullish(),
  max_tokens: tokens,
  max_completion_tokens: tokens,
  stop: z.union([z.string(), z.array(z.string().min(1)).max(5, 'at most 5 stop sequences')]).nullish(),
  n: z.literal(1, { error: 'n must be 1: quotaflow returns one choice per request' }).nullish(),
  seed: z.number().int().nullish(),
  presence_penalty: penalty,
  frequency_penalty: penalty,
  reasoning_effort: z.enum(REASONING_EFFORTS).nullish(),
  response_format: responseFormat.nullish(),
  tools: z.array(functionTool).nullish(),
  tool_choice: toolChoice.nullish(),
  parallel_tool_calls: z.boolean().nullish(),
  logprobs: z.literal(false, { error: 'logprobs are not supported' }).nullish(),
  top_logprobs: z.literal(0, { error: 'logprobs are not supported' }).nullish(),
  modalities: z.array(z.literal('text', { error: "only the 'text' modality is supported" })).nullish(),
  audio: z.null({ error: 'audio output is not supported' }).optional(),
  functions: z.null({ error: 'functions is deprecated: use tools' }).optional(),
  function_call: z.null({ error: 'function_call is deprecated: use tool_choice' }).optional(),
  user: z.string().nullish(),
});
export type ChatRequest = z.output<typeof chatRequestSchema>;

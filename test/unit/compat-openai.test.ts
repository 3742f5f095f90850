import { describe, expect, it } from 'vitest';
import { messagesToGemini, toolOutput } from '../../src/api/compat/openai-messages.js';
import { THINKING_BUDGETS, chatToRequest, parseChatRequest } from '../../src/api/compat/openai-request.js';
import { blockedCompletion, chatCompletion, completionMeta, finishReasonOf, openaiUsage, toolCallsOf } from '../../src/api/compat/openai-response.js';
import type { ChatRequest } from '../../src/api/compat/openai-schema.js';
import { openaiStreamEncoder } from '../../src/api/compat/openai-stream.js';
import { CompatError } from '../../src/api/compat/problems.js';
import { geminiCallId, toolCallId } from '../../src/api/compat/tool-call-ids.js';
import type { GenerationResult } from '../../src/core/job.js';

const route = { models: ['gemini-2.5-flash'], deadlineMs: 60_000, stream: false };
const user = (content: string) => ({ role: 'user' as const, content });
const chat = (over: Record<string, unknown> = {}): ChatRequest => parseChatRequest({ model: 'gemini-2.5-flash', messages: [user('hi')], ...over });

function paramOf(fn: () => unknown): { param: string | undefined; message: string } {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(CompatError);
    const p = (err as CompatError).problem;
    expect(p.kind).toBe('invalid_argument');
    return { param: p.param, message: p.message };
  }
  throw new Error('expected a CompatError');
}

function result(over: Partial<GenerationResult> = {}): GenerationResult {
  return {
    jobId: 'job-9',
    text: '',
    parts: [],
    model: 'gemini-2.5-pro',
    keyId: 'k',
    project: 'p',
    central: true,
    usage: { promptTokens: 12, candidatesTokens: 5, thoughtsTokens: 8, cachedTokens: 4, totalTokens: 25 },
    finishReason: 'STOP',
    safetyRatings: [],
    modelVersion: null,
    responseId: null,
    attempts: [],
    ...over,
  };
}

describe('request validation names the parameter', () => {
  it.each([
    [{ n: 2 }, 'n'],
    [{ temperature: 2.5 }, 'temperature'],
    [{ top_p: -1 }, 'top_p'],
    [{ stop: ['a', 'b', 'c', 'd', 'e', 'f'] }, 'stop'],
    [{ max_tokens: 0 }, 'max_tokens'],
    [{ reasoning_effort: 'extreme' }, 'reasoning_effort'],
    [{ logprobs: true }, 'logprobs'],
    [{ modalities: ['text', 'audio'] }, 'modalities[1]'],
    [{ functions: [{ name: 'f' }] }, 'functions'],
    [{ tools: [{ type: 'custom', custom: { name: 'x' } }] }, 'tools[0].type'],
    [{ response_format: { type: 'xml' } }, 'response_format.type'],
    [{ messages: [{ role: 'robot', content: 'x' }] }, 'messages[0].role'],
    [{ messages: [{ role: 'user', content: [{ type: 'video', video: {} }] }] }, 'messages[0].content[0].type'],
    [{ tool_choice: 'sometimes' }, 'tool_choice'],
    [{ messages: [] }, 'messages'],
  ])('%j → %s', (over, param) => expect(paramOf(() => chat(over)).param).toBe(param));

  it('ignores fields it does not know, like OpenAI', () => {
    expect(chat({ metadata: { a: 'b' }, store: true, service_tier: 'auto', some_future_field: 1 }).model).toBe('gemini-2.5-flash');
  });
});

describe('messages → contents', () => {
  it('maps roles, merges neighbours, and keeps system text apart', () => {
    const turns = messagesToGemini(
      chat({
        messages: [
          { role: 'system', content: 'be kind' },
          { role: 'developer', content: [{ type: 'text', text: 'use metric units' }] },
          user('one'),
          user('two'),
          { role: 'assistant', content: [{ type: 'text', text: 'ok' }, { type: 'refusal', refusal: 'no' }] },
          { role: 'assistant', content: null },
        ],
      }).messages,
    );
    expect(turns).toEqual({
      systemInstruction: { parts: [{ text: 'be kind' }, { text: 'use metric units' }] },
      contents: [
        { role: 'user', parts: [{ text: 'one' }, { text: 'two' }] },
        { role: 'model', parts: [{ text: 'ok' }] },
      ],
    });
  });

  it('turns tool calls and tool answers into functionCall and functionResponse, ids and signatures kept', () => {
    const turns = messagesToGemini(
      chat({
        messages: [
          user('weather in Paris and Rome?'),
          {
            role: 'assistant',
            content: null,
            tool_calls: [
              { id: 'call_qf_job-1_0', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' }, extra_content: { google: { thought_signature: 'U0lH' } } },
              { id: 'gemini-call-2', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Rome"}' } },
            ],
          },
          { role: 'tool', tool_call_id: 'gemini-call-2', content: 'sunny' },
          { role: 'tool', tool_call_id: 'call_qf_job-1_0', content: '{"temp":18}' },
        ],
      }).messages,
    );
    expect(turns.contents.slice(1)).toEqual([
      {
        role: 'model',
        parts: [
          { functionCall: { name: 'get_weather', args: { city: 'Paris' } }, thoughtSignature: 'U0lH' },
          { functionCall: { name: 'get_weather', args: { city: 'Rome' }, id: 'gemini-call-2' } },
        ],
      },
      {
        role: 'user',
        parts: [{ functionResponse: { name: 'get_weather', response: { output: 'sunny' }, id: 'gemini-call-2' } }, { functionResponse: { name: 'get_weather', response: { temp: 18 } } }],
      },
    ]);
  });

  it('restores a text signature from the assistant message', () => {
    const turns = messagesToGemini(chat({ messages: [user('a'), { role: 'assistant', content: 'b', extra_content: { google: { thought_signature: 'VFhU' } } }, user('c')] }).messages);
    expect(turns.contents[1]).toEqual({ role: 'model', parts: [{ text: 'b', thoughtSignature: 'VFhU' }] });
  });

  it('takes images, audio and files inline', () => {
    const turns = messagesToGemini(
      chat({
        messages: [
          {
            role: 'user',
            content: [
              { type: 'image_url', image_url: { url: 'data:image/jpeg;base64,/9j/AA==', detail: 'low' } },
              { type: 'input_audio', input_audio: { data: 'UklGRg==', format: 'wav' } },
              { type: 'file', file: { file_data: 'data:application/pdf;base64,JVBERg==', filename: 'a.pdf' } },
            ],
          },
        ],
      }).messages,
    );
    expect(turns.contents[0]?.parts).toEqual([
      { inlineData: { mimeType: 'image/jpeg', data: '/9j/AA==' } },
      { inlineData: { mimeType: 'audio/wav', data: 'UklGRg==' } },
      { inlineData: { mimeType: 'application/pdf', data: 'JVBERg==' } },
    ]);
  });

  it.each([
    [[{ role: 'user', content: [{ type: 'image_url', image_url: { url: 'https://example.com/cat.png' } }] }], 'messages[0].content[0].image_url.url', 'remote URLs are not fetched'],
    [[{ role: 'user', content: [{ type: 'image_url', image_url: { url: 'data:image/png,abc' } }] }], 'messages[0].content[0].image_url.url', 'base64'],
    [[{ role: 'user', content: [{ type: 'file', file: { file_id: 'file-1' } }] }], 'messages[0].content[0].file', 'file_id'],
    [[user('a'), { role: 'tool', tool_call_id: 'nope', content: 'x' }], 'messages[1].tool_call_id', 'no earlier assistant'],
    [[user('a'), { role: 'assistant', tool_calls: [{ id: 'c1', type: 'function', function: { name: 'f', arguments: '[1]' } }] }], 'messages[1].tool_calls[0].function.arguments', 'JSON object'],
    [[user('a'), { role: 'assistant', tool_calls: [{ id: 'c1', type: 'function', function: { name: 'f', arguments: '{oops' } }] }], 'messages[1].tool_calls[0].function.arguments', 'not valid JSON'],
    [[{ role: 'system', content: 'only me' }], 'messages', 'at least one'],
  ])('refuses %j at %s', (messages, param, words) => {
    const got = paramOf(() => messagesToGemini(chat({ messages }).messages));
    expect(got.param).toBe(param);
    expect(got.message).toContain(words);
  });

  it('reads tool output as its JSON object, or as { output }', () => {
    expect(toolOutput('{"a":1}')).toEqual({ a: 1 });
    expect(toolOutput('[1,2]')).toEqual({ output: [1, 2] });
    expect(toolOutput('plain words')).toEqual({ output: 'plain words' });
  });
});

describe('parameters → request', () => {
  const tools = [{ type: 'function', function: { name: 'f', description: 'does f', parameters: { type: 'object', properties: {} } } }, { type: 'function', function: { name: 'g' } }];

  it('maps generation parameters', () => {
    const req = chatToRequest(chat({ temperature: 0, top_p: 0.9, max_tokens: 10, max_completion_tokens: 20, stop: 'END', seed: 3, presence_penalty: 0.5, frequency_penalty: -0.5, reasoning_effort: 'none' }), route);
    expect(req.generationConfig).toEqual({ temperature: 0, topP: 0.9, maxOutputTokens: 20, stopSequences: ['END'], seed: 3, presencePenalty: 0.5, frequencyPenalty: -0.5, thinkingConfig: { thinkingBudget: 0 } });
    expect(req).toMatchObject({ models: ['gemini-2.5-flash'], deadlineMs: 60_000, stream: false, lane: 'interactive' });
    expect(chatToRequest(chat(), route).generationConfig).toBeUndefined();
  });

  it('maps every reasoning effort to a thinking budget', () => {
    for (const [effort, budget] of Object.entries(THINKING_BUDGETS)) {
      expect(chatToRequest(chat({ reasoning_effort: effort }), route).generationConfig?.thinkingConfig).toEqual({ thinkingBudget: budget });
    }
  });

  it('maps response formats', () => {
    expect(chatToRequest(chat({ response_format: { type: 'json_object' } }), route).generationConfig).toEqual({ responseMimeType: 'application/json' });
    expect(chatToRequest(chat({ response_format: { type: 'text' } }), route).generationConfig).toBeUndefined();
    const schema = { type: 'object', properties: { a: { type: 'string' } } };
    expect(chatToRequest(chat({ response_format: { type: 'json_schema', json_schema: { name: 's', schema, strict: true } } }), route).generationConfig).toEqual({ responseMimeType: 'application/json', responseJsonSchema: schema });
  });

  it('maps tools and every tool_choice', () => {
    const base = chatToRequest(chat({ tools }), route);
    expect(base.tools).toEqual([{ functionDeclarations: [{ name: 'f', description: 'does f', parametersJsonSchema: { type: 'object', properties: {} } }, { name: 'g' }] }]);
    expect(base.toolConfig).toBeUndefined();
    const mode = (tool_choice: unknown): unknown => chatToRequest(chat({ tools, tool_choice }), route).toolConfig;
    expect(mode('none')).toEqual({ functionCallingConfig: { mode: 'NONE' } });
    expect(mode('auto')).toEqual({ functionCallingConfig: { mode: 'AUTO' } });
    expect(mode('required')).toEqual({ functionCallingConfig: { mode: 'ANY' } });
    expect(mode({ type: 'function', function: { name: 'g' } })).toEqual({ functionCallingConfig: { mode: 'ANY', allowedFunctionNames: ['g'] } });
    const allowed = (m: string): unknown => mode({ type: 'allowed_tools', allowed_tools: { mode: m, tools: [{ type: 'function', function: { name: 'f' } }] } });
    expect(allowed('auto')).toEqual({ functionCallingConfig: { mode: 'VALIDATED', allowedFunctionNames: ['f'] } });
    expect(allowed('required')).toEqual({ functionCallingConfig: { mode: 'ANY', allowedFunctionNames: ['f'] } });
    expect(paramOf(() => mode({ type: 'function', function: { name: 'h' } })).param).toBe('tool_choice.function.name');
    expect(paramOf(() => chatToRequest(chat({ tool_choice: 'required' }), route)).param).toBe('tool_choice');
    expect(chatToRequest(chat({ tool_choice: 'none' }), route).toolConfig).toBeUndefined();
  });
});

describe('result → chat.completion', () => {
  const meta = completionMeta('job-9', 1_767_323_045_000, 'gemini-2.5-flash');

  it('answers text with usage, thinking counted as completion', () => {
    const c = chatCompletion(result({ parts: [{ text: 'thinking…', thought: true }, { text: 'hi' }, { text: ' there' }] }), meta);
    expect(c).toEqual({
      id: 'chatcmpl-job-9',
      object: 'chat.completion',
      created: 1_767_323_045,
      model: 'gemini-2.5-pro',
      choices: [{ index: 0, message: { role: 'assistant', content: 'hi there', refusal: null }, finish_reason: 'stop', logprobs: null }],
      usage: { prompt_tokens: 12, completion_tokens: 13, total_tokens: 25, prompt_tokens_details: { cached_tokens: 4 }, completion_tokens_details: { reasoning_tokens: 8 } },
    });
  });

  it('answers tool calls with JSON arguments, stable ids and signatures', () => {
    const parts = [
      { functionCall: { name: 'a', args: { x: 1 } }, thoughtSignature: 'U0lH' },
      { functionCall: { name: 'b', id: 'g-1' } },
    ];
    const c = chatCompletion(result({ parts }), meta) as { choices: Array<{ message: Record<string, unknown>; finish_reason: string }> };
    expect(c.choices[0]?.finish_reason).toBe('tool_calls');
    expect(c.choices[0]?.message).toEqual({
      role: 'assistant',
      content: null,
      refusal: null,
      tool_calls: [
        { id: 'call_qf_job-9_0', type: 'function', function: { name: 'a', arguments: '{"x":1}' }, extra_content: { google: { thought_signature: 'U0lH' } } },
        { id: 'g-1', type: 'function', function: { name: 'b', arguments: '{}' } },
      ],
    });
    expect(toolCallsOf(parts, 'job-9', 5).map((t) => t.id)).toEqual(['call_qf_job-9_5', 'g-1']);
  });

  it('maps finish reasons, usage and ids', () => {
    expect(['STOP', 'MAX_TOKENS', 'SAFETY', 'RECITATION', 'MALFORMED_FUNCTION_CALL', null].map((r) => finishReasonOf(r, false))).toEqual(['stop', 'length', 'content_filter', 'content_filter', 'stop', 'stop']);
    expect(finishReasonOf('STOP', true)).toBe('tool_calls');
    expect(openaiUsage({ promptTokens: 1, candidatesTokens: 2, thoughtsTokens: 3, cachedTokens: 0, totalTokens: 0 })).toMatchObject({ completion_tokens: 5, total_tokens: 6 });
    expect([toolCallId(undefined, 'j', 2), toolCallId('', 'j', 2), toolCallId('abc', 'j', 2)]).toEqual(['call_qf_j_2', 'call_qf_j_2', 'abc']);
    expect([geminiCallId('call_qf_j_2'), geminiCallId('abc')]).toEqual([undefined, 'abc']);
    expect(blockedCompletion(meta)).toMatchObject({ model: 'gemini-2.5-flash', choices: [{ finish_reason: 'content_filter', message: { content: null } }] });
  });
});

describe('the stream encoder', () => {
  const meta = completionMeta('job-9', 0, 'gemini-2.5-flash');
  const parse = (frames: string[]): Array<Record<string, unknown>> =>
    frames
      .join('')
      .split('\n\n')
      .filter((f) => f.startsWith('data: {'))
      .map((f) => JSON.parse(f.slice(6)) as Record<string, unknown>);

  it('sends the role first, deltas, the finish reason, usage and [DONE]', () => {
    const enc = openaiStreamEncoder(meta, 'job-9', true);
    const frames = [
      ...enc.event({ type: 'chunk', parts: [{ text: 'thinking', thought: true }] }),
      ...enc.event({ type: 'chunk', parts: [{ text: 'Hel' }] }),
      ...enc.event({ type: 'chunk', parts: [{ text: 'lo' }] }),
      ...enc.event({ type: 'done', result: result({ parts: [{ text: 'Hello' }] }) }),
    ];
    expect(frames.at(-1)).toBe('data: [DONE]\n\n');
    const chunks = parse(frames);
    expect(chunks.map((c) => (c.choices as Array<{ delta: unknown; finish_reason: unknown }>)[0] ?? null)).toEqual([
      { index: 0, delta: { role: 'assistant', content: '' }, finish_reason: null, logprobs: null },
      { index: 0, delta: { content: 'Hel' }, finish_reason: null, logprobs: null },
      { index: 0, delta: { content: 'lo' }, finish_reason: null, logprobs: null },
      { index: 0, delta: {}, finish_reason: 'stop', logprobs: null },
      null,
    ]);
    expect(chunks.slice(0, 4).every((c) => c.usage === null)).toBe(true);
    expect(chunks[3]?.model).toBe('gemini-2.5-pro');
    expect(chunks[4]?.usage).toMatchObject({ prompt_tokens: 12, completion_tokens: 13 });
  });

  it('numbers tool calls across chunks and finishes with tool_calls', () => {
    const enc = openaiStreamEncoder(meta, 'job-9', false);
    const frames = [
      ...enc.event({ type: 'chunk', parts: [{ functionCall: { name: 'a', args: {} } }] }),
      ...enc.event({ type: 'chunk', parts: [{ functionCall: { name: 'b', args: { y: 2 } } }] }),
      ...enc.event({ type: 'done', result: result() }),
    ];
    const chunks = parse(frames);
    const calls = chunks.flatMap((c) => ((c.choices as Array<{ delta: { tool_calls?: unknown[] } }>)[0]?.delta.tool_calls ?? []) as Array<{ index: number; id: string }>);
    expect(calls.map((c) => [c.index, c.id])).toEqual([
      [0, 'call_qf_job-9_0'],
      [1, 'call_qf_job-9_1'],
    ]);
    expect((chunks.at(-1)?.choices as Array<{ finish_reason: string }>)[0]?.finish_reason).toBe('tool_calls');
    expect(chunks.every((c) => !('usage' in c))).toBe(true);
  });

  it('answers a block with content_filter and a failure with an error event', () => {
    const blocked = openaiStreamEncoder(meta, 'job-9', false).event({ type: 'blocked', block: { scope: 'response', reason: 'SAFETY' } });
    expect((parse(blocked)[0]?.choices as Array<{ finish_reason: string }>)[0]?.finish_reason).toBe('content_filter');
    const failed = openaiStreamEncoder(meta, 'job-9', false).event({ type: 'failed', problem: { kind: 'interrupted', message: 'cut' } });
    expect(parse(failed)).toEqual([{ error: { message: 'cut', type: 'server_error', code: 'stream_interrupted', param: null } }]);
  });
});

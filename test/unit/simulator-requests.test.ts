/**
 * What a 2026 chatbot sends: every part kind accepted and priced by the
 * documented token rule, and malformed shapes answered 400 like Google.
 */
import { describe, expect, it } from 'vitest';
import { AUDIO_BYTES_PER_SECOND, CACHED_CONTENT_TOKENS, VIDEO_BYTES_PER_SECOND } from '../../src/simulator/prompt-tokens.js';
import { at, engineWith, generate, jsonBody, userText } from '../helpers/simulator-engine.js';

const b64 = (bytes: number): string => Buffer.alloc(bytes, 7).toString('base64');
const pdf = (pages: number): string =>
  Buffer.from(`%PDF-1.7\n1 0 obj << /Type /Pages /Count ${pages} >> endobj\n${Array.from({ length: pages }, (_, i) => `${i + 2} 0 obj << /Type /Page /Parent 1 0 R >> endobj`).join('\n')}\n%%EOF`).toString('base64');

function countTokens(parts: unknown[], extra: Record<string, unknown> = {}): Record<string, unknown> {
  const { engine } = engineWith();
  return jsonBody(engine.handle(generate({ contents: [{ role: 'user', parts }], ...extra }, { method: 'countTokens' })));
}

describe('prompt token rule', () => {
  it.each([
    ['text: ceil(chars / 4)', [{ text: 'x'.repeat(9) }], 3, 'TEXT'],
    ['an inline image: 258', [{ inlineData: { mimeType: 'image/png', data: b64(5_000) } }], 258, 'IMAGE'],
    ['audio: 32 per second of estimated length', [{ inlineData: { mimeType: 'audio/mp3', data: b64(AUDIO_BYTES_PER_SECOND * 3) } }], 96, 'AUDIO'],
    ['audio shorter than a second: one second', [{ inlineData: { mimeType: 'audio/wav', data: b64(10) } }], 32, 'AUDIO'],
    ['video: 263 per second', [{ inlineData: { mimeType: 'video/mp4', data: b64(VIDEO_BYTES_PER_SECOND * 2 + 1) } }], 263 * 3, 'VIDEO'],
    ['a PDF: 258 per /Type /Page object', [{ inlineData: { mimeType: 'application/pdf', data: pdf(3) } }], 258 * 3, 'DOCUMENT'],
    ['a PDF without page objects: one page', [{ inlineData: { mimeType: 'application/pdf', data: b64(100) } }], 258, 'DOCUMENT'],
    ['inline text: as text', [{ inline_data: { mime_type: 'text/plain', data: Buffer.from('abcdefgh').toString('base64') } }], 2, 'TEXT'],
    ['fileData: 258', [{ fileData: { mimeType: 'video/mp4', fileUri: 'https://generativelanguage.googleapis.com/v1beta/files/abc' } }], 258, 'VIDEO'],
  ])('%s', (_name, parts, tokens, modality) => {
    const body = countTokens(parts);
    expect(body['totalTokens']).toBe(tokens);
    expect(body['promptTokensDetails']).toEqual([{ modality, tokenCount: tokens }]);
  });

  it('function calls and responses cost the chars of their JSON / 4; thought signatures are free', () => {
    const call = { name: 'get_weather', args: { city: 'Paris' } };
    const response = { name: 'get_weather', response: { tempC: 21 } };
    const signed = countTokens([{ functionCall: call, thoughtSignature: 'c2lnbmF0dXJl'.repeat(50) }]);
    expect(signed['totalTokens']).toBe(Math.ceil(JSON.stringify(call).length / 4));
    expect(countTokens([{ functionResponse: response }])['totalTokens']).toBe(Math.ceil(JSON.stringify(response).length / 4));
  });

  it('tool declarations cost the chars of the tools JSON / 4, on top of the contents', () => {
    const tools = [{ functionDeclarations: [{ name: 'lookup', description: 'find an order', parameters: { type: 'OBJECT', properties: { id: { type: 'STRING' } } } }] }, { googleSearch: {} }];
    const body = countTokens([{ text: 'abcd' }], { tools });
    expect(body['totalTokens']).toBe(1 + Math.ceil(JSON.stringify(tools).length / 4));
  });

  it('mixed modalities add up, each reported in promptTokensDetails', () => {
    const { engine } = engineWith();
    const body = jsonBody(
      engine.handle(
        generate({
          systemInstruction: { parts: [{ text: 'be brief' }] },
          contents: [{ role: 'user', parts: [{ text: 'what is this?' }, { inlineData: { mimeType: 'image/jpeg', data: b64(900) } }, { inlineData: { mimeType: 'application/pdf', data: pdf(2) } }] }],
        }),
      ),
    );
    expect(at(body, 'usageMetadata', 'promptTokenCount')).toBe(2 + 4 + 258 + 516);
    expect(at(body, 'usageMetadata', 'promptTokensDetails')).toEqual([
      { modality: 'TEXT', tokenCount: 6 },
      { modality: 'IMAGE', tokenCount: 258 },
      { modality: 'DOCUMENT', tokenCount: 516 },
    ]);
    expect(engine.stats().calls[0]?.promptTokens).toBe(780);
  });

  it('a named cachedContent adds cached tokens to the prompt and reports them', () => {
    const { engine } = engineWith();
    const body = jsonBody(engine.handle(generate({ ...userText('abcd'), cachedContent: 'cachedContents/abc123' })));
    expect(at(body, 'usageMetadata', 'cachedContentTokenCount')).toBe(CACHED_CONTENT_TOKENS);
    expect(at(body, 'usageMetadata', 'promptTokenCount')).toBe(1 + CACHED_CONTENT_TOKENS);
  });

  it('thoughtsTokenCount appears when thinkingConfig asks for thinking, capped by the budget', () => {
    const { engine } = engineWith();
    const usage = (thinkingConfig: unknown): unknown => at(jsonBody(engine.handle(generate({ ...userText('hello'), generationConfig: { thinkingConfig } }))), 'usageMetadata');
    expect(usage({ thinkingBudget: 0 })).not.toHaveProperty('thoughtsTokenCount');
    const thinking = usage({ thinkingBudget: -1 });
    expect(thinking).toMatchObject({ thoughtsTokenCount: expect.any(Number) });
    const t = at(thinking, 'thoughtsTokenCount');
    expect(at(thinking, 'totalTokenCount')).toBe(Number(at(thinking, 'promptTokenCount')) + Number(at(thinking, 'candidatesTokenCount')) + Number(t));
    expect(usage({ thinkingBudget: 3 })).toMatchObject({ thoughtsTokenCount: 3 });
    expect(usage({ thinkingLevel: 'low' })).toMatchObject({ thoughtsTokenCount: t });
  });

  it('includeThoughts adds a thought summary part ahead of the answer', () => {
    const { engine } = engineWith();
    const body = jsonBody(engine.handle(generate({ ...userText('hello'), generationConfig: { thinkingConfig: { includeThoughts: true } } })));
    const parts = at(body, 'candidates', 0, 'content', 'parts');
    expect(parts).toEqual([{ text: expect.stringContaining('hello'), thought: true }, { text: '[flash] echo: hello' }]);
  });

  it('accepts labels, safetySettings, toolConfig, googleSearch/codeExecution/urlContext tools and snake_case names', () => {
    const { engine } = engineWith();
    const body = {
      ...userText('hi'),
      labels: { team: 'support' },
      safety_settings: [{ category: 'HARM_CATEGORY_HARASSMENT', threshold: 'BLOCK_ONLY_HIGH' }],
      tools: [{ googleSearch: {} }, { codeExecution: {} }, { urlContext: {} }],
      toolConfig: { functionCallingConfig: { mode: 'AUTO' } },
      generation_config: { candidate_count: 1, stop_sequences: ['zzz'], response_mime_type: 'text/plain' },
    };
    expect(at(jsonBody(engine.handle(generate(body))), 'candidates', 0, 'content', 'parts', 0, 'text')).toBe('[flash] echo: hi');
  });
});

describe('malformed requests answer 400 INVALID_ARGUMENT, uncounted', () => {
  it.each([
    ['an unknown part kind', { contents: [{ role: 'user', parts: [{ txt: 'hi' }] }] }, `Unknown name "txt" at 'contents[0].parts[0]'`],
    ['a part with two kinds of data', { contents: [{ parts: [{ text: 'a', inlineData: { mimeType: 'image/png', data: 'AA==' } }] }] }, "Oneof field 'data' is already set"],
    ['a part with no data', { contents: [{ parts: [{ thoughtSignature: 'AA==' }] }] }, "required oneof field 'data'"],
    ['inline data that is not base64', { contents: [{ parts: [{ inlineData: { mimeType: 'image/png', data: 'not base64!' } }] }] }, 'Base64 decoding failed'],
    ['an unknown responseSchema type', { ...userText('x'), generationConfig: { responseMimeType: 'application/json', responseSchema: { type: 'OBJECT', properties: { a: { type: 'TEXT' } } } } }, "generation_config.response_schema.properties.a.type"],
    ['a responseJsonSchema that is not a schema', { ...userText('x'), generationConfig: { responseJsonSchema: 'object' } }, 'generation_config.response_json_schema'],
    ['function parameters with a bad type', { ...userText('x'), tools: [{ functionDeclarations: [{ name: 'f', parameters: { type: 'MAP' } }] }] }, 'function_declarations[0].parameters.type'],
    ['a function without a name', { ...userText('x'), tools: [{ functionDeclarations: [{ description: 'nameless' }] }] }, 'Name cannot be empty'],
    ['an unknown function calling mode', { ...userText('x'), toolConfig: { functionCallingConfig: { mode: 'SOMETIMES' } } }, 'function_calling_config.mode'],
  ])('%s', (_name, body, message) => {
    const { engine } = engineWith();
    const reply = jsonBody(engine.handle(generate(body)), 400);
    expect(reply).toMatchObject({ error: { code: 400, status: 'INVALID_ARGUMENT' } });
    expect(String(at(reply, 'error', 'message'))).toContain(message);
    expect(engine.stats().calls.map((c) => [c.status, c.counted])).toEqual([[400, false]]);
  });
});

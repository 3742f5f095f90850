/**
 * The stand-in's answers to function declarations and JSON output requests:
 * deterministic, and valid against what the request declared.
 */
import { describe, expect, it } from 'vitest';
import { schemaProblems as problems } from '../helpers/json-schema.js';
import { at, engineWith, generate, jsonBody, userText } from '../helpers/simulator-engine.js';

const answerText = (body: Record<string, unknown>): string => String(at(body, 'candidates', 0, 'content', 'parts', 0, 'text'));

const weatherTool = {
  functionDeclarations: [
    {
      name: 'get_weather',
      description: 'Current weather',
      parameters: { type: 'OBJECT', properties: { city: { type: 'STRING' }, unit: { type: 'STRING', enum: ['celsius', 'fahrenheit'] }, days: { type: 'INTEGER', minimum: 2 } }, required: ['city'] },
    },
    { name: 'book_table', parameters: { type: 'object', properties: { guests: { type: 'integer' } } } },
  ],
};

describe('function calling', () => {
  it('the validator used here rejects what does not match', () => {
    expect(problems({ city: 3 }, weatherTool.functionDeclarations[0]?.parameters)).not.toEqual([]);
    expect(problems({ unit: 'kelvin', city: 'x' }, weatherTool.functionDeclarations[0]?.parameters)).not.toEqual([]);
    expect(problems({}, weatherTool.functionDeclarations[0]?.parameters)).toEqual(['$.city: missing']);
  });

  it('answers a functionCall of the first declared function, with schema-valid args, an id and a thought signature', () => {
    const { engine } = engineWith();
    const request = { ...userText('Weather in Paris?'), tools: [weatherTool] };
    const body = jsonBody(engine.handle(generate(request)));
    const part = at(body, 'candidates', 0, 'content', 'parts', 0);
    expect(part).toMatchObject({ functionCall: { name: 'get_weather', id: expect.stringMatching(/^call_/) }, thoughtSignature: expect.stringMatching(/^[A-Za-z0-9+/]+=*$/) });
    expect(problems(at(part, 'functionCall', 'args'), weatherTool.functionDeclarations[0]?.parameters)).toEqual([]);
    expect(at(part, 'functionCall', 'args')).toMatchObject({ city: 'Weather in Paris?', unit: 'celsius', days: 2 });
    expect(at(body, 'candidates', 0, 'finishReason')).toBe('STOP');
    // Deterministic: the same request gets the same call, id and signature.
    expect(at(jsonBody(engine.handle(generate(request))), 'candidates', 0, 'content', 'parts', 0)).toEqual(part);
  });

  it('answers text naming the function and its result once the last turn carries the functionResponse', () => {
    const { engine } = engineWith();
    const first = jsonBody(engine.handle(generate({ ...userText('Weather in Paris?'), tools: [weatherTool] })));
    const modelTurn = at(first, 'candidates', 0, 'content');
    const followUp = {
      contents: [
        { role: 'user', parts: [{ text: 'Weather in Paris?' }] },
        modelTurn,
        { role: 'user', parts: [{ functionResponse: { name: 'get_weather', id: at(modelTurn, 'parts', 0, 'functionCall', 'id'), response: { tempC: 21, sky: 'clear' } } }] },
      ],
      tools: [weatherTool],
    };
    const text = answerText(jsonBody(engine.handle(generate(followUp))));
    expect(text).toContain('get_weather');
    expect(text).toContain('"tempC":21');
    expect(text).toContain('clear');
  });

  it('mode NONE answers text; allowedFunctionNames picks the allowed function', () => {
    const { engine } = engineWith();
    const none = jsonBody(engine.handle(generate({ ...userText('hi'), tools: [weatherTool], toolConfig: { functionCallingConfig: { mode: 'NONE' } } })));
    expect(answerText(none)).toBe('[flash] echo: hi');
    const allowed = jsonBody(engine.handle(generate({ ...userText('hi'), tools: [weatherTool], toolConfig: { functionCallingConfig: { mode: 'ANY', allowedFunctionNames: ['book_table'] } } })));
    expect(at(allowed, 'candidates', 0, 'content', 'parts', 0, 'functionCall')).toMatchObject({ name: 'book_table', args: { guests: 1 } });
  });

  it('parametersJsonSchema is sampled too', () => {
    const { engine } = engineWith();
    const schema = { type: 'object', properties: { ids: { type: 'array', items: { type: 'string' }, minItems: 2 } }, required: ['ids'] };
    const body = jsonBody(engine.handle(generate({ ...userText('x'), tools: [{ functionDeclarations: [{ name: 'f', parametersJsonSchema: schema }] }] })));
    const args = at(body, 'candidates', 0, 'content', 'parts', 0, 'functionCall', 'args');
    expect(problems(args, schema)).toEqual([]);
    expect(at(args, 'ids')).toHaveLength(2);
  });
});

describe('JSON output', () => {
  const openApi = {
    type: 'OBJECT',
    properties: {
      title: { type: 'STRING' },
      rating: { type: 'NUMBER', minimum: 3, maximum: 5 },
      tags: { type: 'ARRAY', items: { type: 'STRING', enum: ['new', 'used'] } },
      inStock: { type: 'BOOLEAN' },
      seller: { type: 'object', properties: { id: { type: 'integer' } }, required: ['id'] },
    },
    required: ['title', 'rating', 'tags'],
    propertyOrdering: ['rating', 'title'],
  };
  const jsonSchema = {
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    type: 'object',
    properties: { name: { type: 'string', minLength: 60 }, size: { type: ['integer', 'null'], maximum: 0 }, parts: { type: 'array', items: { $ref: '#/$defs/part' } } },
    required: ['name', 'size', 'parts'],
    $defs: { part: { type: 'object', properties: { sku: { type: 'string', maxLength: 3 } }, required: ['sku'] } },
  };

  it.each([
    ['responseSchema (OpenAPI subset, both cases)', { responseSchema: openApi }, openApi],
    ['responseJsonSchema (JSON Schema with $ref)', { responseJsonSchema: jsonSchema }, jsonSchema],
  ])('%s: the answer is JSON that validates', (_name, config, schema) => {
    const { engine } = engineWith();
    const body = jsonBody(engine.handle(generate({ ...userText('A used bike, please'), generationConfig: { responseMimeType: 'application/json', ...config } })));
    const value: unknown = JSON.parse(answerText(body));
    expect(problems(value, schema)).toEqual([]);
    expect(JSON.stringify(value)).toContain('A used bike');
  });

  it('reads counts sent as strings (as @google/genai sends int64 fields)', () => {
    const schema = {
      type: 'OBJECT',
      properties: {
        tags: { type: 'ARRAY', items: { type: 'STRING', maxLength: '4' }, minItems: '3', maxItems: '5' },
        code: { type: 'STRING', minLength: '50' },
        none: { type: 'ARRAY', items: { type: 'STRING' }, maxItems: '0' },
      },
      required: ['tags', 'code', 'none'],
    };
    const { engine } = engineWith();
    const body = jsonBody(engine.handle(generate({ ...userText('A used bike, please'), generationConfig: { responseMimeType: 'application/json', responseSchema: schema } })));
    const value = JSON.parse(answerText(body)) as { tags: string[]; code: string; none: string[] };
    expect(problems(value, schema)).toEqual([]);
    expect(value.tags).toHaveLength(3);
    expect(value.tags[0]).toBe('A us');
    expect(value.code.length).toBe(50);
    expect(value.none).toEqual([]);
  });

  it('follows propertyOrdering', () => {
    const { engine } = engineWith();
    const body = jsonBody(engine.handle(generate({ ...userText('x'), generationConfig: { responseMimeType: 'application/json', responseSchema: openApi } })));
    expect(Object.keys(JSON.parse(answerText(body)) as object).slice(0, 2)).toEqual(['rating', 'title']);
  });

  it('without a schema answers a small JSON object', () => {
    const { engine } = engineWith();
    const body = jsonBody(engine.handle(generate({ ...userText('hello'), generationConfig: { responseMimeType: 'application/json' } })));
    expect(JSON.parse(answerText(body))).toEqual({ model: 'flash', echo: 'hello' });
  });
});

describe('other generation settings', () => {
  it('stops before a stop sequence and answers candidateCount candidates', () => {
    const { engine } = engineWith();
    const body = jsonBody(engine.handle(generate({ ...userText('one two three'), generationConfig: { stopSequences: ['two'], candidateCount: 2 } })));
    const candidates = at(body, 'candidates');
    expect(candidates).toHaveLength(2);
    expect(at(candidates, 1)).toMatchObject({ index: 1, content: { parts: [{ text: '[flash] echo: one ' }] }, finishReason: 'STOP' });
    expect(at(body, 'usageMetadata', 'candidatesTokenCount')).toBe(2 * Math.ceil('[flash] echo: one '.length / 4));
  });
});

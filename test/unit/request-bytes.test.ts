import { describe, expect, it } from 'vitest';
import { DEFAULT_REQUEST_CAPS, parseGenerationRequest, requestBytes } from '../../src/core/request.js';
import { base64Bytes } from '../../src/core/request-size.js';
import { ValidationError } from '../../src/errors.js';

const parse = (contents: unknown, extra: Record<string, unknown> = {}): ReturnType<typeof parseGenerationRequest> =>
  parseGenerationRequest({ tenantId: 'acme', contents, ...extra });

describe('requestBytes', () => {
  it('counts text as UTF-8 bytes, not characters', () => {
    const text = 'héllo 日本語 😀👍🏽';
    const grown = requestBytes(parse(text)) - requestBytes(parse('x'));
    expect(grown).toBe(Buffer.byteLength(text, 'utf8') - 1);
    expect(grown).toBeGreaterThan(text.length - 1);
  });

  it('counts the system instruction and turns of parts alike', () => {
    const plain = requestBytes(parse([{ parts: [{ text: 'ab' }] }]));
    expect(requestBytes(parse([{ parts: [{ text: 'ab' }, { text: 'ü' }] }])) - plain).toBe(2);
    expect(requestBytes(parse([{ parts: [{ text: 'ab' }] }], { systemInstruction: 'ß' })) - plain).toBe(2);
  });

  it('counts inline data by its decoded size', () => {
    const data = Buffer.alloc(3_000, 1).toString('base64');
    const withImage = parse([{ parts: [{ text: 'ab' }, { inlineData: { mimeType: 'image/png', data } }] }]);
    const delta = requestBytes(withImage) - requestBytes(parse([{ parts: [{ text: 'ab' }] }]));
    expect(delta).toBe(3_000 + 'image/png'.length);
    expect(delta).toBeLessThan(data.length);
  });

  it('counts structured parts and request fields as JSON', () => {
    const call = { name: 'f', args: { city: 'Zürich' } };
    const delta = requestBytes(parse([{ parts: [{ text: 'a' }, { functionCall: call }] }])) - requestBytes(parse([{ parts: [{ text: 'a' }] }]));
    expect(delta).toBe(Buffer.byteLength(JSON.stringify(call)));
    const tools = [{ codeExecution: {} }];
    // one more member of the JSON object: `,"tools":[...]`
    expect(requestBytes(parse('a', { tools })) - requestBytes(parse('a'))).toBe(Buffer.byteLength(`,"tools":${JSON.stringify(tools)}`));
  });
});

describe('base64Bytes', () => {
  it('matches the decoded length for every padding and both alphabets', () => {
    for (let n = 0; n < 10; n++) {
      const bytes = Buffer.from(Array.from({ length: n }, (_, i) => 250 + (i % 6)));
      for (const text of [bytes.toString('base64'), bytes.toString('base64url')]) expect(base64Bytes(text), text).toBe(n);
    }
  });
});

describe('byte caps', () => {
  it('refuses by bytes what a character count would let through', () => {
    const caps = { maxRequestBytes: requestBytes(parse('x')) + 500 };
    expect(() => parseGenerationRequest({ tenantId: 'acme', contents: 'e'.repeat(400) }, caps)).not.toThrow();
    const err = (() => {
      try {
        parseGenerationRequest({ tenantId: 'acme', contents: 'é'.repeat(400) }, caps);
      } catch (e) {
        return e;
      }
      return null;
    })();
    expect(err).toBeInstanceOf(ValidationError);
    expect(err instanceof ValidationError ? err.issues : []).toEqual([expect.stringMatching(/^\(root\): the request is \d+ bytes, over the limit of \d+ bytes$/)]);
  });

  it('has the documented defaults', () => {
    expect(DEFAULT_REQUEST_CAPS).toEqual({ maxRequestBytes: 8 * 1024 * 1024, maxInlineBytes: 4 * 1024 * 1024, maxParts: 2_000, maxContents: 1_000 });
  });
});

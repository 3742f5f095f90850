import { describe, expect, it } from 'vitest';
import { isSecretName, loggableUrl } from '../../src/api/security/redact-url.js';

const SECRET = 'admin-token-0123456789abcdef';

describe('loggableUrl', () => {
  it('redacts a token whose name is percent-encoded (the reproduced bypass)', () => {
    const out = loggableUrl(`/dashboard?tok%65n=${SECRET}`);
    expect(out).toBe('/dashboard?tok%65n=[redacted]');
  });

  it.each([
    ['plain', `/dashboard?token=${SECRET}`],
    ['upper case', `/dashboard?TOKEN=${SECRET}`],
    ['fully encoded name', `/dashboard?%74%6F%6B%65%6E=${SECRET}`],
    ['double-encoded name', `/dashboard?tok%2565n=${SECRET}`],
    ['after another parameter', `/dashboard?a=1&token=${SECRET}`],
    ['after a semicolon', `/dashboard?a=1;token=${SECRET}`],
    ['bracket notation', `/dashboard?token[]=${SECRET}`],
    ['Gemini dialect key', `/v1beta/models/m:generateContent?key=${SECRET}`],
    ['header-like name', `/x?x-goog-api-key=${SECRET}`],
    ['api_key', `/x?api_key=${SECRET}`],
    ['apiKey', `/x?apiKey=${SECRET}`],
    ['access_token', `/x?access_token=${SECRET}`],
    ['client_secret', `/x?client_secret=${SECRET}`],
    ['password', `/x?Password=${SECRET}`],
    ['signature', `/x?signature=${SECRET}`],
    ['name with a space made of +', `/x?api+key=${SECRET}`],
    ['name with a trailing NUL', `/x?key%00=${SECRET}`],
    ['encoded value', `/x?token=${encodeURIComponent(SECRET)}`],
  ])('redacts %s', (_what, url) => {
    const out = loggableUrl(url);
    expect(out).not.toContain(SECRET);
    expect(out).toContain('[redacted]');
  });

  it('redacts every repetition and keeps everything else as it came', () => {
    const out = loggableUrl(`/x?token=${SECRET}&status=waiting&token=${SECRET}2&page=2`);
    expect(out).toBe('/x?token=[redacted]&status=waiting&token=[redacted]&page=2');
  });

  it('keeps parameters without a value, empty parameters and non-secret values', () => {
    expect(loggableUrl('/x?verbose&&a=b+c&q=%20x')).toBe('/x?verbose&&a=b+c&q=%20x');
    expect(loggableUrl('/x?token')).toBe('/x?token');
    expect(loggableUrl('/x?token=')).toBe('/x?token=[redacted]');
    expect(loggableUrl('/admin/queues/api/queues?activeQueue=generations&status=waiting&page=1')).toBe('/admin/queues/api/queues?activeQueue=generations&status=waiting&page=1');
  });

  it('leaves URLs without a query alone', () => {
    expect(loggableUrl('/dashboard/')).toBe('/dashboard/');
    expect(loggableUrl('/x?')).toBe('/x?');
  });

  it.each([
    ['a malformed escape in a value', `/x?token=${SECRET}%zz`],
    ['a malformed escape in a name', `/x?to%6Ben%=${SECRET}`],
    ['an escape that is not UTF-8', `/x?a=%e9&token=${SECRET}`],
    ['a malformed escape beside a harmless name', `/x?t=${SECRET}%`],
  ])('logs no query at all for %s', (_what, url) => {
    const out = loggableUrl(url);
    expect(out).toBe(`${url.slice(0, url.indexOf('?'))}?[unparseable query]`);
    expect(out).not.toContain(SECRET);
  });
});

describe('isSecretName', () => {
  it.each(['token', 'key', 'api_key', 'apikey', 'secret', 'password', 'access_token', 'signature', 'x-goog-api-key', 'X-Goog-Api-Key', 'id_token', 'key[0]', 'a[key]'])('%s looks secret', (name) => {
    expect(isSecretName(name)).toBe(true);
  });

  it.each(['status', 'page', 'activeQueue', 'wait', 'keyMode', 'jobId', 'q'])('%s does not', (name) => {
    expect(isSecretName(name)).toBe(false);
  });
});

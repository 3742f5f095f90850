/**
 * Support for limits discovery and leak sweeps: window length, limits changed
 * at runtime, 429s without a quota value, spend-cap 429s, keys echoed in
 * errors, and recorded request bodies.
 */
import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../src/errors.js';
import { at, engineWith, generate, jsonBody, userText } from '../helpers/simulator-engine.js';

const errorText = (body: Record<string, unknown>): string => JSON.stringify(body);

describe('quota window length', () => {
  it('windowMs sets how long RPM and TPM remember a call', () => {
    const { engine, clock } = engineWith({ windowMs: 2_000, projects: [{ id: 'p', keys: [{ secret: 'k-a1' }], limits: { flash: { rpm: 1 } } }] });
    jsonBody(engine.handle(generate(userText('a'))));
    const rejected = jsonBody(engine.handle(generate(userText('b'))), 429);
    expect(at(rejected, 'error', 'details')).toContainEqual({ '@type': 'type.googleapis.com/google.rpc.RetryInfo', retryDelay: '2s' });
    clock.t += 1_999;
    jsonBody(engine.handle(generate(userText('c'))), 429);
    clock.t += 1;
    jsonBody(engine.handle(generate(userText('d'))));
  });
});

describe('limits changed at runtime', () => {
  it('apply from the next call, keep the usage already in the window, and survive reset', () => {
    const { engine } = engineWith();
    for (let i = 0; i < 3; i++) jsonBody(engine.handle(generate(userText('x'), { model: 'pro' })));
    expect(engine.setLimits('proj-a', 'pro', { rpm: 3 })).toEqual({ rpm: 3, tpm: 100_000, rpd: 100 });
    const rejected = jsonBody(engine.handle(generate(userText('x'), { model: 'pro' })), 429);
    expect(errorText(rejected)).toContain('"quotaValue":"3"');
    expect(engine.limitsOf('proj-b', 'pro')).toEqual({ rpm: 5, tpm: 100_000, rpd: 100 });
    engine.reset();
    expect(engine.limitsOf('proj-a', 'pro')?.rpm).toBe(3);
    engine.setLimits('proj-a', 'pro', { rpm: 0 });
    jsonBody(engine.handle(generate(userText('x'), { model: 'pro' })), 429);
  });

  it('refuse unknown projects, models and bad values, listing every problem', () => {
    const { engine } = engineWith();
    let issues: readonly string[] = [];
    try {
      engine.setLimits('nope', 'gemini-9', { rpm: -1 });
    } catch (err) {
      expect(err).toBeInstanceOf(ValidationError);
      issues = (err as ValidationError).issues;
    }
    expect(issues.join('\n')).toMatch(/limits\.rpm/);
    expect(issues.join('\n')).toContain('unknown project "nope"');
    expect(issues.join('\n')).toContain('unknown model "gemini-9"');
    expect(engine.limitsOf('nope', 'pro')).toBeUndefined();
  });
});

describe('quotaValue in 429 bodies', () => {
  const limited = (extra: Record<string, unknown>): ReturnType<typeof engineWith> =>
    engineWith({
      projects: [
        { id: 'proj-a', keys: [{ secret: 'k-a1' }], limits: { pro: { rpm: 1, rpd: 2 } } },
        { id: 'proj-b', keys: [{ secret: 'k-b1' }], limits: { pro: { rpm: 1 } }, quotaValueInErrors: true },
      ],
      ...extra,
    });

  it('is there by default', () => {
    const { engine } = limited({});
    jsonBody(engine.handle(generate(userText('x'), { model: 'pro' })));
    expect(errorText(jsonBody(engine.handle(generate(userText('x'), { model: 'pro' })), 429))).toContain('"quotaValue":"1"');
  });

  it('is left out of QuotaFailure and the per-day message when quotaValueInErrors is false; a project may override', () => {
    const { engine, clock } = limited({ quotaValueInErrors: false });
    jsonBody(engine.handle(generate(userText('x'), { model: 'pro' })));
    const perMinute = errorText(jsonBody(engine.handle(generate(userText('x'), { model: 'pro' })), 429));
    expect(perMinute).toContain('GenerateRequestsPerMinutePerProjectPerModel-FreeTier');
    expect(perMinute).not.toContain('quotaValue');
    clock.t += 61_000;
    jsonBody(engine.handle(generate(userText('x'), { model: 'pro' })));
    const perDay = errorText(jsonBody(engine.handle(generate(userText('x'), { model: 'pro' })), 429));
    expect(perDay).toContain('PerDay');
    expect(perDay).not.toContain('quotaValue');
    expect(perDay).not.toContain('limit:');
    jsonBody(engine.handle(generate(userText('x'), { model: 'pro', key: 'k-b1' })));
    expect(errorText(jsonBody(engine.handle(generate(userText('x'), { model: 'pro', key: 'k-b1' })), 429))).toContain('"quotaValue":"1"');
  });

  it('forced 429 kinds honour it too', () => {
    const { engine } = limited({ quotaValueInErrors: false, faults: { rules: [{ forceStatus: '429-per-minute' }] } });
    const body = errorText(jsonBody(engine.handle(generate(userText('x'))), 429));
    expect(body).toContain('PerMinute');
    expect(body).not.toContain('quotaValue');
  });
});

describe('spend-cap and capacity 429s', () => {
  it('a spend-cap 429 speaks of the spending cap, names no per-minute quota, and does not count', () => {
    const { engine } = engineWith({ faults: { rules: [{ forceStatus: '429-spend-cap' }] } });
    const body = jsonBody(engine.handle(generate(userText('x'))), 429);
    expect(at(body, 'error')).toMatchObject({ code: 429, status: 'RESOURCE_EXHAUSTED', message: expect.stringContaining('spending cap') });
    expect(errorText(body)).not.toMatch(/PerMinute|QuotaFailure|RetryInfo/);
    expect(engine.stats().calls[0]).toMatchObject({ status: 429, counted: false });
  });
});

describe('echoKeyInErrors', () => {
  it('puts the key the call used into every error message', () => {
    const { engine } = engineWith({ echoKeyInErrors: true, invalidKeys: ['k-revoked'], faults: { rules: [{ model: 'pro', forceStatus: '503-overloaded' }] } });
    const messages = [
      jsonBody(engine.handle(generate(userText('x'), { key: 'k-revoked' })), 400),
      jsonBody(engine.handle(generate(userText('x'), { model: 'pro' })), 503),
      jsonBody(engine.handle(generate(userText('[[simulate:bad-request]]'))), 400),
      jsonBody(engine.handle(generate(userText('x'), { model: 'gemini-0' })), 404),
      jsonBody(engine.handle(generate({ contents: [{ parts: [{ bogus: 1 }] }] })), 400),
    ].map((b) => String(at(b, 'error', 'message')));
    expect(messages[0]).toContain('k-revoked');
    for (const m of messages.slice(1)) expect(m).toContain('(API key: k-a1)');
    expect(JSON.stringify(engine.stats())).not.toContain('k-a1');
  });

  it('is off by default', () => {
    const { engine } = engineWith({ invalidKeys: ['k-revoked'] });
    expect(errorText(jsonBody(engine.handle(generate(userText('x'), { key: 'k-revoked' })), 400))).not.toContain('k-revoked');
  });
});

describe('recordBodies', () => {
  it('keeps the exact parsed body of each generation call, bounded by maxCallLog, out of stats()', () => {
    const { engine } = engineWith({ recordBodies: true, maxCallLog: 2 });
    const bodies = ['one', 'two', 'three'].map((t) => ({ ...userText(t), generationConfig: { temperature: 0.2 } }));
    for (const b of bodies) engine.handle(generate(b));
    engine.handle({ method: 'models.get', model: 'flash', apiKey: 'k-a1', body: undefined });
    const calls = engine.calls({ withBodies: true });
    expect(calls.map((c) => c.body)).toEqual([bodies[2], undefined]);
    expect(engine.calls({ withBodies: true, last: 1 })).toHaveLength(1);
    expect(engine.calls().some((c) => 'body' in c)).toBe(false);
    expect(engine.stats().calls.some((c) => 'body' in c)).toBe(false);
  });

  it('records nothing by default', () => {
    const { engine } = engineWith();
    engine.handle(generate(userText('one')));
    expect(engine.calls({ withBodies: true })[0]).not.toHaveProperty('body');
  });
});

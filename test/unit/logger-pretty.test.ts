import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { chooseLogFormat, createLogger, prettyLine } from '../../src/logger.js';

function capture(): { stream: Writable; text(): string } {
  let text = '';
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      text += chunk.toString();
      done();
    },
  });
  return { stream, text: () => text };
}

describe('pretty log lines', () => {
  it('print time, level, name, message and the other fields as key=value', () => {
    const at = new Date(2026, 0, 2, 9, 5, 7).getTime();
    const line = prettyLine(JSON.stringify({ level: 40, time: at, pid: 1, hostname: 'h', name: 'apply', msg: 'fleet applied', version: '3', keys: 2, note: 'two words' }));
    expect(line).toBe('09:05:07 WARN apply: fleet applied version=3 keys=2 note="two words"');
  });

  it('show an error by its message and pass anything that is not a JSON object through', () => {
    expect(prettyLine(JSON.stringify({ level: 50, time: 0, msg: 'boom', err: { type: 'Error', message: 'no route', stack: 'at x' } }))).toMatch(/ERROR boom err="no route"$/);
    expect(prettyLine('plain text')).toBe('plain text');
    expect(prettyLine('[1,2]')).toBe('[1,2]');
  });

  it('keep redaction: a secret logged by mistake is censored in the pretty line', () => {
    const out = capture();
    const logger = createLogger({ level: 'info', name: 'worker', destination: out.stream, format: 'pretty' });
    logger.info({ secret: 'sk-live-do-not-print', token: 'tok-do-not-print', key: { secret: 'nested-do-not-print' }, keyId: 'k1' }, 'leased');
    const text = out.text();
    expect(text).toMatch(/ info worker: leased /);
    expect(text).toContain('keyId=k1');
    expect(text).toContain('[redacted]');
    for (const s of ['sk-live-do-not-print', 'tok-do-not-print', 'nested-do-not-print']) expect(text).not.toContain(s);
    expect(text.trim().split('\n')).toHaveLength(1);
  });

  it('JSON stays JSON', () => {
    const out = capture();
    createLogger({ level: 'info', name: 'api', destination: out.stream, format: 'json' }).info({ port: 8080 }, 'listening');
    expect(JSON.parse(out.text())).toMatchObject({ name: 'api', msg: 'listening', port: 8080, level: 30 });
  });
});

describe('chooseLogFormat', () => {
  it('lets LOG_FORMAT win, prints lines for one-off commands and on a terminal, JSON for services otherwise', () => {
    expect(chooseLogFormat({ configured: 'json', oneOff: true, terminal: true })).toBe('json');
    expect(chooseLogFormat({ configured: 'pretty', oneOff: false, terminal: false })).toBe('pretty');
    expect(chooseLogFormat({ configured: undefined, oneOff: true, terminal: false })).toBe('pretty');
    expect(chooseLogFormat({ configured: undefined, oneOff: false, terminal: true })).toBe('pretty');
    expect(chooseLogFormat({ configured: undefined, oneOff: false, terminal: false })).toBe('json');
  });
});

import { describe, expect, it } from 'vitest';
import { defineCommand, helpText, readFlags, usageLine, wantsHelp } from '../../src/cli/args.js';
import { exitCodeOf } from '../../src/cli/exit-code.js';
import { ConfigError } from '../../src/config.js';
import { DependencyError, QuotaflowError, ValidationError } from '../../src/errors.js';

const SPEC = {
  file: { type: 'string', short: 'f', value: 'FILE', required: true, description: 'the file' },
  count: { type: 'int', short: 'n', min: 1, max: 10, default: 3, description: 'how many' },
  port: { type: 'int', min: 0, max: 65_535, description: 'port', defaultText: '$PORT or 8080' },
  mode: { type: 'string', choices: ['a', 'b'], description: 'the mode' },
  json: { type: 'boolean', description: 'print JSON' },
} as const;

function problemsOf(args: string[]): readonly string[] {
  try {
    readFlags('x', args, SPEC);
  } catch (err) {
    expect(err).toBeInstanceOf(ValidationError);
    return err instanceof ValidationError ? err.issues : [];
  }
  throw new Error('expected the arguments to be rejected');
}

describe('readFlags', () => {
  it('types values, applies defaults and reads short forms', () => {
    expect(readFlags('x', ['-f', 'fleet.json', '-n', '7', '--json'], SPEC)).toEqual({ file: 'fleet.json', count: 7, port: undefined, mode: undefined, json: true });
    expect(readFlags('x', ['--file=a.json', '--port', '0', '--mode', 'b'], SPEC)).toEqual({ file: 'a.json', count: 3, port: 0, mode: 'b', json: false });
  });

  it('reports every problem at once', () => {
    const problems = problemsOf(['--count', 'many', '--port', '70000', '--mode', 'c', '--json=yes', '--nope', 'stray']);
    expect(problems).toEqual(
      expect.arrayContaining([
        '--count must be a whole number from 1 to 10, got "many"',
        '--port must be a whole number from 0 to 65535, got "70000"',
        '--mode must be one of a, b, got "c"',
        '--json takes no value',
        'unknown flag --nope',
        'unexpected argument "stray"',
        '--file is required',
      ]),
    );
    expect(problems).toHaveLength(7);
  });

  it('says a flag needs a value without also calling it missing', () => {
    expect(problemsOf(['--file'])).toEqual(['--file needs a value']);
  });
});

describe('help', () => {
  const cmd = defineCommand({ name: 'apply', summary: 'make it so', flags: SPEC, run: async () => 0 });

  it('derives the usage line from the spec: required flags bare, others in brackets', () => {
    expect(usageLine('apply', SPEC)).toBe('quotaflow apply --file FILE [--count N] [--port N] [--mode VALUE] [--json]');
    expect(cmd.usage).toBe(usageLine('apply', SPEC));
  });

  it('lists every flag with its default', () => {
    const text = helpText(cmd);
    expect(text).toContain('make it so');
    expect(text).toMatch(/-f, --file FILE +the file \[default: required\]/);
    expect(text).toMatch(/-n, --count N +how many \[default: 3\]/);
    expect(text).toMatch(/--port N +port \[default: \$PORT or 8080\]/);
    expect(text).toMatch(/--mode VALUE +the mode \(one of: a, b\) \[default: none\]/);
    expect(text).toMatch(/--json +print JSON \[default: off\]/);
    expect(text).toMatch(/-h, --help +show this help/);
  });

  it('sees --help and -h as flags, not as the value of another flag', () => {
    expect(wantsHelp(['--help'], SPEC)).toBe(true);
    expect(wantsHelp(['-f', 'x', '-h'], SPEC)).toBe(true);
    expect(wantsHelp(['--file', '-h'], SPEC)).toBe(false);
    expect(wantsHelp(['--json'], SPEC)).toBe(false);
    expect(wantsHelp(['--config', 'x', '-h'])).toBe(true);
  });
});

describe('exit codes', () => {
  it('are 2 for bad input of any kind and 1 for runtime failures', () => {
    expect(exitCodeOf(new ValidationError('bad flag'))).toBe(2);
    expect(exitCodeOf(new ConfigError('QUOTAFLOW_SECRET must be set'))).toBe(2);
    expect(exitCodeOf(new QuotaflowError('config_invalid', 'QUOTAFLOW_SECRET is not set'))).toBe(2);
    expect(exitCodeOf(new DependencyError('cannot connect to Postgres'))).toBe(1);
    expect(exitCodeOf(new Error('boom'))).toBe(1);
  });
});

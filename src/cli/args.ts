import { parseArgs, type ParseArgsConfig } from 'node:util';
import { ValidationError } from '../errors.js';

/**
 * Declarative command-line flags: one spec per command from which both the
 * parser and the `--help` text are derived, so they cannot drift apart.
 */
interface FlagBase {
  description: string;
  short?: string;
  /** placeholder in the usage line, e.g. FILE; default N for numbers, VALUE for strings */
  value?: string;
  /** how the default is shown when it comes from elsewhere, e.g. `$QUOTAFLOW_API_PORT or 8080` */
  defaultText?: string;
}
export interface StringFlag extends FlagBase {
  type: 'string';
  default?: string;
  required?: boolean;
  choices?: readonly string[];
}
export interface IntFlag extends FlagBase {
  type: 'int';
  default?: number;
  required?: boolean;
  min?: number;
  max?: number;
}
export interface BooleanFlag extends FlagBase {
  type: 'boolean';
}
export type FlagSpec = StringFlag | IntFlag | BooleanFlag;
export type FlagSpecs = Readonly<Record<string, FlagSpec>>;

type ValueOf<F> = F extends BooleanFlag ? boolean : F extends IntFlag ? number : string;
type Always<F> = F extends BooleanFlag ? true : F extends { default: unknown } ? true : F extends { required: true } ? true : false;
/** The parsed flags: flags with a default, required ones and booleans are always set. */
export type Flags<S extends FlagSpecs> = { -readonly [K in keyof S]: Always<S[K]> extends true ? ValueOf<S[K]> : ValueOf<S[K]> | undefined };

export interface Command {
  summary: string;
  usage: string;
  /** the flags, shown by --help; a command without a spec shows its usage line only */
  flags?: FlagSpecs;
  /** shown by --help after the flags */
  details?: string;
  run(args: string[]): Promise<number>;
}

export interface CommandDefinition<S extends FlagSpecs> {
  name: string;
  summary: string;
  flags: S;
  details?: string;
  run(flags: Flags<S>): Promise<number>;
}

/** A command whose parsing and help both come from its flag spec. */
export function defineCommand<const S extends FlagSpecs>(def: CommandDefinition<S>): Command {
  return {
    summary: def.summary,
    usage: usageLine(def.name, def.flags),
    flags: def.flags,
    ...(def.details !== undefined ? { details: def.details } : {}),
    run: async (args) => def.run(readFlags(def.name, args, def.flags)),
  };
}

type NodeOptions = NonNullable<ParseArgsConfig['options']>;

function nodeOptions(spec: FlagSpecs): NodeOptions {
  const out: NodeOptions = {};
  for (const [name, f] of Object.entries(spec)) out[name] = { type: f.type === 'boolean' ? 'boolean' : 'string', ...(f.short ? { short: f.short } : {}) };
  return out;
}

/** Parses `args` against `spec`; every problem (unknown flag, missing value, bad number...) is reported at once (exit code 2). */
export function readFlags<const S extends FlagSpecs>(command: string, args: string[], spec: S): Flags<S> {
  const { tokens } = parseArgs({ args, options: nodeOptions(spec), allowPositionals: true, strict: false, tokens: true });
  const problems: string[] = [];
  const raw = new Map<string, string | boolean>();
  const given = new Set<string>();
  for (const t of tokens) {
    if (t.kind === 'positional') problems.push(`unexpected argument "${t.value}"`);
    if (t.kind !== 'option') continue;
    const f = Object.hasOwn(spec, t.name) ? spec[t.name] : undefined;
    if (f) given.add(t.name);
    if (!f) problems.push(`unknown flag ${t.rawName}`);
    else if (f.type === 'boolean') {
      if (t.value !== undefined) problems.push(`--${t.name} takes no value`);
      else raw.set(t.name, true);
    } else if (t.value === undefined) problems.push(`--${t.name} needs a value`);
    else raw.set(t.name, t.value);
  }
  const out: Record<string, string | number | boolean | undefined> = {};
  for (const [name, f] of Object.entries(spec)) {
    const v = raw.get(name);
    if (f.type === 'boolean') out[name] = v === true;
    else if (typeof v !== 'string') {
      if (f.required && !given.has(name)) problems.push(`--${name} is required`);
      out[name] = f.default;
    } else if (f.type === 'int') out[name] = intValue(name, v, f, problems);
    else {
      if (f.choices && !f.choices.includes(v)) problems.push(`--${name} must be one of ${f.choices.join(', ')}, got "${v}"`);
      out[name] = v;
    }
  }
  if (problems.length) throw new ValidationError(`invalid arguments (see quotaflow ${command} --help)`, problems);
  // every key of the spec was set above with the type its spec names
  return out as Flags<S>;
}

function intValue(name: string, v: string, f: IntFlag, problems: string[]): number | undefined {
  const min = f.min ?? 0;
  const max = f.max ?? Number.MAX_SAFE_INTEGER;
  const n = Number(v);
  if (v.trim() !== '' && Number.isInteger(n) && n >= min && n <= max) return n;
  problems.push(`--${name} must be a whole number from ${min} to ${max}, got "${v}"`);
  return undefined;
}

/** True when the arguments ask for help (`--help` or `-h` given as a flag, not as another flag's value). */
export function wantsHelp(args: string[], spec?: FlagSpecs): boolean {
  if (!spec) return args.includes('--help') || args.includes('-h');
  const options: NodeOptions = { ...nodeOptions(spec), help: { type: 'boolean', short: 'h' } };
  const { tokens } = parseArgs({ args, options, allowPositionals: true, strict: false, tokens: true });
  return tokens.some((t) => t.kind === 'option' && t.name === 'help');
}

const placeholder = (f: FlagSpec): string => (f.type === 'boolean' ? '' : ` ${f.value ?? (f.type === 'int' ? 'N' : 'VALUE')}`);

/** `quotaflow apply --file FILE [--prune] [--json]`: required flags bare, the others in brackets. */
export function usageLine(command: string, spec: FlagSpecs): string {
  const parts = Object.entries(spec).map(([name, f]) => {
    const flag = `--${name}${placeholder(f)}`;
    return f.type !== 'boolean' && f.required ? flag : `[${flag}]`;
  });
  return ['quotaflow', command, ...parts].join(' ');
}

function defaultOf(f: FlagSpec): string {
  if (f.defaultText !== undefined) return f.defaultText;
  if (f.type === 'boolean') return 'off';
  if (f.required) return 'required';
  return f.default === undefined ? 'none' : String(f.default);
}

/** The text of `quotaflow <command> --help`: usage, summary, every flag with its default. */
export function helpText(command: Command): string {
  const lines = [`usage: ${command.usage}`, '', command.summary];
  const spec = command.flags;
  if (spec) {
    const rows = Object.entries(spec).map(([flag, f]) => {
      const left = `${f.short ? `-${f.short}, ` : '    '}--${flag}${placeholder(f)}`;
      const choices = f.type === 'string' && f.choices ? ` (one of: ${f.choices.join(', ')})` : '';
      return { left, right: `${f.description}${choices} [default: ${defaultOf(f)}]` };
    });
    rows.push({ left: '-h, --help', right: 'show this help' });
    const width = Math.max(...rows.map((r) => r.left.length)) + 2;
    lines.push('', 'flags:', ...rows.map((r) => `  ${r.left.padEnd(width)}${r.right}`));
  }
  if (command.details) lines.push('', command.details);
  lines.push('', 'exit codes: 0 ok, 1 failure, 2 bad usage or input. Configuration comes from the environment (README "Configuration").');
  return lines.join('\n');
}

/**
 * The former flag parser, kept for commands not yet on a flag spec:
 * parseArgs with errors turned into ValidationError (exit code 2).
 */
export function parseFlags<O extends NodeOptions>(args: string[], options: O): ReturnType<typeof parseArgs<{ args: string[]; options: O; allowPositionals: false; strict: true }>>['values'] {
  try {
    return parseArgs({ args, options, allowPositionals: false, strict: true }).values;
  } catch (err) {
    throw new ValidationError(err instanceof Error ? err.message : String(err));
  }
}

/** For commands still on parseFlags: a whole number flag within bounds. */
export function intFlag(value: string | undefined, name: string, { min = 0, max = Number.MAX_SAFE_INTEGER } = {}): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min || n > max) throw new ValidationError(`--${name} must be a whole number from ${min} to ${max}, got "${value}"`);
  return n;
}

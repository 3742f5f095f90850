/**
 * Response and parameter schemas, in both dialects Gemini accepts: its
 * OpenAPI subset (`responseSchema`, `parameters`: type OBJECT/STRING/...,
 * any case) and JSON Schema (`responseJsonSchema`, `parametersJsonSchema`).
 * `schemaProblem` finds what Google would refuse with 400; `sampleFor` builds
 * a deterministic value that validates: strings from the prompt, the first
 * enum value, numbers within bounds, one item per array, every property.
 */

export type SchemaDialect = 'openapi' | 'json';

const OPENAPI_TYPES = new Set(['string', 'number', 'integer', 'boolean', 'array', 'object', 'null', 'type_unspecified']);
const JSON_TYPES = new Set(['string', 'number', 'integer', 'boolean', 'array', 'object', 'null']);
const MAX_DEPTH = 16;

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function typesOf(schema: Record<string, unknown>): string[] {
  const t = schema['type'];
  if (typeof t === 'string') return [t.toLowerCase()];
  if (Array.isArray(t)) return t.filter((x): x is string => typeof x === 'string').map((x) => x.toLowerCase());
  return [];
}

function typeProblem(schema: Record<string, unknown>, dialect: SchemaDialect, path: string): string | undefined {
  const t = schema['type'];
  if (t === undefined) return undefined;
  const allowed = dialect === 'openapi' ? OPENAPI_TYPES : JSON_TYPES;
  const list = dialect === 'json' && Array.isArray(t) ? t : [t];
  for (const one of list) {
    if (typeof one !== 'string' || !allowed.has(one.toLowerCase())) {
      return `Invalid value at '${path}.type' (${dialect === 'openapi' ? 'type.googleapis.com/google.ai.generativelanguage.v1beta.Type' : 'JSON Schema type'}), ${JSON.stringify(one)}`;
    }
  }
  return undefined;
}

/** The first thing wrong with a schema, as Google words it, or undefined. */
export function schemaProblem(schema: unknown, dialect: SchemaDialect, path: string, depth = 0): string | undefined {
  if (dialect === 'json' && typeof schema === 'boolean') return undefined;
  if (!isRecord(schema)) return `Invalid value at '${path}': a schema must be an object`;
  if (depth > MAX_DEPTH) return undefined;
  const props = schema['properties'];
  const required = schema['required'];
  const checks: Array<() => string | undefined> = [
    () => typeProblem(schema, dialect, path),
    () => (props !== undefined && !isRecord(props) ? `Invalid value at '${path}.properties': must be an object` : undefined),
    () => (required !== undefined && !(Array.isArray(required) && required.every((r) => typeof r === 'string')) ? `Invalid value at '${path}.required': must be a list of property names` : undefined),
    () => (schema['enum'] !== undefined && !Array.isArray(schema['enum']) ? `Invalid value at '${path}.enum': must be a list` : undefined),
    () => (schema['items'] !== undefined ? schemaProblem(schema['items'], dialect, `${path}.items`, depth + 1) : undefined),
    () => {
      if (!isRecord(props)) return undefined;
      for (const [name, sub] of Object.entries(props)) {
        const problem = schemaProblem(sub, dialect, `${path}.properties.${name}`, depth + 1);
        if (problem) return problem;
      }
      return undefined;
    },
  ];
  for (const check of checks) {
    const problem = check();
    if (problem) return problem;
  }
  return undefined;
}

interface SampleContext {
  text: string;
  root: unknown;
}

function resolveRef(schema: Record<string, unknown>, ctx: SampleContext): Record<string, unknown> {
  const ref = schema['$ref'];
  if (typeof ref !== 'string' || !ref.startsWith('#/')) return schema;
  let node: unknown = ctx.root;
  for (const segment of ref.slice(2).split('/')) node = isRecord(node) ? node[segment] : undefined;
  return isRecord(node) ? node : {};
}

/**
 * A numeric setting of a schema: proto JSON writes int64 fields (minItems,
 * maxItems, minLength, maxLength) as strings, and @google/genai sends them so.
 */
function numberIn(schema: Record<string, unknown>, name: string): number | undefined {
  const v = schema[name];
  if (typeof v === 'number' && Number.isFinite(v)) return v;
  if (typeof v === 'string' && v.trim() !== '' && Number.isFinite(Number(v))) return Number(v);
  return undefined;
}

function sampleNumber(schema: Record<string, unknown>, integer: boolean): number {
  const min = numberIn(schema, 'minimum');
  const max = numberIn(schema, 'maximum');
  let n = integer ? 1 : 1.5;
  if (min !== undefined && n < min) n = integer ? Math.ceil(min) : min;
  if (max !== undefined && n > max) n = integer ? Math.floor(max) : max;
  return n;
}

function sampleString(schema: Record<string, unknown>, ctx: SampleContext): string {
  if (schema['format'] === 'date-time') return '2025-01-01T00:00:00Z';
  if (schema['format'] === 'date') return '2025-01-01';
  let s = ctx.text.trim().slice(0, 40) || 'sample';
  const minLength = numberIn(schema, 'minLength');
  const maxLength = numberIn(schema, 'maxLength');
  if (minLength !== undefined && s.length < minLength) s = s.padEnd(minLength, 'x');
  if (maxLength !== undefined && s.length > maxLength) s = s.slice(0, maxLength);
  return s;
}

function sampleObject(schema: Record<string, unknown>, ctx: SampleContext, depth: number): Record<string, unknown> {
  const props = isRecord(schema['properties']) ? schema['properties'] : {};
  const ordering = Array.isArray(schema['propertyOrdering']) ? schema['propertyOrdering'].filter((p): p is string => typeof p === 'string') : [];
  const names = [...ordering.filter((n) => n in props), ...Object.keys(props).filter((n) => !ordering.includes(n))];
  const out: Record<string, unknown> = {};
  for (const name of names) out[name] = sample(props[name], ctx, depth + 1);
  return out;
}

function sample(raw: unknown, ctx: SampleContext, depth: number): unknown {
  if (!isRecord(raw)) return null;
  const schema = resolveRef(raw, ctx);
  if (Array.isArray(schema['enum']) && schema['enum'].length > 0) return schema['enum'][0];
  if ('const' in schema) return schema['const'];
  for (const alt of ['anyOf', 'oneOf', 'allOf']) {
    const options = schema[alt];
    if (Array.isArray(options) && options.length > 0) return sample(options[0], ctx, depth + 1);
  }
  const type = typesOf(schema).find((t) => t !== 'null') ?? (isRecord(schema['properties']) ? 'object' : typesOf(schema)[0] ?? 'string');
  if (depth >= MAX_DEPTH) return type === 'object' ? {} : type === 'array' ? [] : null;
  switch (type) {
    case 'object':
      return sampleObject(schema, ctx, depth);
    case 'array': {
      const minItems = numberIn(schema, 'minItems') ?? 1;
      const maxItems = numberIn(schema, 'maxItems') ?? Infinity;
      return Array.from({ length: Math.min(Math.max(1, minItems), maxItems) }, () => sample(schema['items'], ctx, depth + 1));
    }
    case 'integer':
      return sampleNumber(schema, true);
    case 'number':
      return sampleNumber(schema, false);
    case 'boolean':
      return true;
    case 'null':
      return null;
    default:
      return sampleString(schema, ctx);
  }
}

/** A value that validates against `schema` (either dialect: type names are read in any case); `text` seeds the strings. */
export function sampleFor(schema: unknown, text: string): unknown {
  return sample(schema, { text, root: schema }, 0);
}

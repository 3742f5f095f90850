/** What is wrong with a value against a JSON schema / Gemini OpenAPI-subset schema (the parts tests use), as a list; empty when it validates. */
export function schemaProblems(value: unknown, schema: unknown, root: unknown = schema, path = '$'): string[] {
  if (typeof schema !== 'object' || schema === null) return [];
  const s = new Map(Object.entries(schema));
  const ref = s.get('$ref');
  if (typeof ref === 'string') return schemaProblems(value, ref.slice(2).split('/').reduce<unknown>((n, k) => (typeof n === 'object' && n !== null ? Reflect.get(n, k) : undefined), root), root, path);
  const enumValues = s.get('enum');
  if (Array.isArray(enumValues) && !enumValues.includes(value)) return [`${path}: not in enum`];
  const anyOf = s.get('anyOf');
  if (Array.isArray(anyOf)) return anyOf.some((alt) => schemaProblems(value, alt, root, path).length === 0) ? [] : [`${path}: matches no anyOf`];
  const rawType = s.get('type');
  const types = (Array.isArray(rawType) ? rawType : rawType === undefined ? [] : [rawType]).map((t) => String(t).toLowerCase());
  const kind = value === null ? 'null' : Array.isArray(value) ? 'array' : Number.isInteger(value) ? 'integer' : typeof value;
  if (types.length && !types.includes(kind) && !(kind === 'integer' && types.includes('number'))) return [`${path}: ${kind} is not ${types.join('|')}`];
  const out: string[] = [];
  // Google's proto JSON (and @google/genai) writes int64 counts as strings
  const num = (k: string): number | undefined => {
    const v = s.get(k);
    return typeof v === 'number' || (typeof v === 'string' && /^\d+$/.test(v)) ? Number(v) : undefined;
  };
  if (typeof value === 'number') {
    if (num('minimum') !== undefined && value < Number(num('minimum'))) out.push(`${path}: below minimum`);
    if (num('maximum') !== undefined && value > Number(num('maximum'))) out.push(`${path}: above maximum`);
  }
  if (typeof value === 'string') {
    if (num('minLength') !== undefined && value.length < Number(num('minLength'))) out.push(`${path}: too short`);
    if (num('maxLength') !== undefined && value.length > Number(num('maxLength'))) out.push(`${path}: too long`);
  }
  if (Array.isArray(value)) {
    if (num('minItems') !== undefined && value.length < Number(num('minItems'))) out.push(`${path}: too few items`);
    if (num('maxItems') !== undefined && value.length > Number(num('maxItems'))) out.push(`${path}: too many items`);
    value.forEach((v, i) => out.push(...schemaProblems(v, s.get('items'), root, `${path}[${i}]`)));
  }
  if (kind === 'object' && typeof value === 'object' && value !== null) {
    const props = s.get('properties');
    const required = s.get('required');
    for (const r of Array.isArray(required) ? required : []) if (!(String(r) in value)) out.push(`${path}.${String(r)}: missing`);
    if (typeof props === 'object' && props !== null) {
      for (const [k, sub] of Object.entries(props)) if (k in value) out.push(...schemaProblems(Reflect.get(value, k), sub, root, `${path}.${k}`));
    }
  }
  return out;
}

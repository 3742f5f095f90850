import { z } from 'zod';

/**
 * Gemini's `Schema`: the OpenAPI 3.0 subset behind `responseSchema` and a
 * function declaration's `parameters`. Checked here so a malformed schema is
 * refused at enqueue with the field named, rather than answering 400 after
 * the job has waited for quota (or, worse, being rejected by the SDK before
 * the call in a way that looks like a network failure).
 */
export const SCHEMA_TYPES = ['STRING', 'NUMBER', 'INTEGER', 'BOOLEAN', 'ARRAY', 'OBJECT'] as const;
export type SchemaType = (typeof SCHEMA_TYPES)[number];

export interface GeminiSchema {
  /** normalised to upper case; JSON-Schema style lower case is accepted on input */
  type?: SchemaType;
  format?: string;
  title?: string;
  description?: string;
  nullable?: boolean;
  enum?: string[];
  items?: GeminiSchema;
  properties?: Record<string, GeminiSchema>;
  required?: string[];
  propertyOrdering?: string[];
  anyOf?: GeminiSchema[];
  minItems?: number;
  maxItems?: number;
  minLength?: number;
  maxLength?: number;
  minProperties?: number;
  maxProperties?: number;
  minimum?: number;
  maximum?: number;
  pattern?: string;
  example?: unknown;
  default?: unknown;
}

const schemaType = z.string().transform((t, ctx) => {
  const upper = t.toUpperCase();
  if (upper === 'NULL') {
    ctx.addIssue({ code: 'custom', message: 'type null is not supported: mark the field `nullable: true` instead' });
    return z.NEVER;
  }
  const found = SCHEMA_TYPES.find((s) => s === upper);
  if (!found) {
    ctx.addIssue({ code: 'custom', message: `unknown type "${t}": one of ${SCHEMA_TYPES.join(', ')} (any case)` });
    return z.NEVER;
  }
  return found;
});

// Google's JSON carries int64 as strings; both forms are accepted.
const count = z.union([z.number().int().min(0), z.string().regex(/^\d{1,15}$/, 'a non-negative integer').transform(Number)]);

export const geminiSchema: z.ZodType<GeminiSchema> = z.lazy(() =>
  z
    .strictObject({
      type: schemaType.optional(),
      format: z.string().optional(),
      title: z.string().optional(),
      description: z.string().optional(),
      nullable: z.boolean().optional(),
      enum: z.array(z.string()).min(1, 'enum needs at least one value').optional(),
      items: geminiSchema.optional(),
      properties: z.record(z.string().min(1), geminiSchema).optional(),
      required: z.array(z.string()).optional(),
      propertyOrdering: z.array(z.string()).optional(),
      anyOf: z.array(geminiSchema).min(1).optional(),
      minItems: count.optional(),
      maxItems: count.optional(),
      minLength: count.optional(),
      maxLength: count.optional(),
      minProperties: count.optional(),
      maxProperties: count.optional(),
      minimum: z.number().optional(),
      maximum: z.number().optional(),
      pattern: z.string().optional(),
      example: z.unknown().optional(),
      default: z.unknown().optional(),
    })
    .superRefine(checkSchema),
);

function checkSchema(s: GeminiSchema, ctx: z.RefinementCtx): void {
  const issue = (path: Array<string | number>, message: string): void => ctx.addIssue({ code: 'custom', path, message });
  if (s.type !== undefined && s.anyOf !== undefined) issue(['anyOf'], 'a schema has either type or anyOf, not both');
  if (s.type === 'ARRAY' && s.items === undefined) issue(['items'], 'an ARRAY schema needs items');
  if (s.type === 'OBJECT' && Object.keys(s.properties ?? {}).length === 0) issue(['properties'], 'an OBJECT schema needs at least one property');
  const names = new Set(Object.keys(s.properties ?? {}));
  for (const key of ['required', 'propertyOrdering'] as const) {
    s[key]?.forEach((name, i) => {
      if (!names.has(name)) issue([key, i], `"${name}" is not one of the properties`);
    });
  }
  const ranges = [
    ['minItems', 'maxItems'],
    ['minLength', 'maxLength'],
    ['minProperties', 'maxProperties'],
    ['minimum', 'maximum'],
  ] as const;
  for (const [lo, hi] of ranges) {
    const a = s[lo];
    const b = s[hi];
    if (a !== undefined && b !== undefined && a > b) issue([lo], `${lo} is above ${hi}`);
  }
}

/** A JSON Schema object (`responseJsonSchema`, `parametersJsonSchema`): Google checks the details. */
export const jsonSchemaObject = z.record(z.string(), z.unknown()).superRefine((s, ctx) => {
  const t = s.type;
  const ok = t === undefined || typeof t === 'string' || (Array.isArray(t) && t.every((x) => typeof x === 'string'));
  if (!ok) ctx.addIssue({ code: 'custom', path: ['type'], message: 'type is a string or an array of strings' });
});

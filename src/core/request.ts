import { z } from 'zod';
import { ValidationError } from '../errors.js';
import { ID_PATTERN, MODEL_PATTERN } from './fleet-file.js';
import { cachedContentSchema, generationConfigSchema, labelsSchema, safetySettingsSchema, toolConfigSchema, toolSchema } from './request-config.js';
import { contentSchema, systemInstructionSchema, type Content } from './request-content.js';
import { capIssues, DEFAULT_REQUEST_CAPS, prescanIssues, type RequestCaps } from './request-size.js';

/**
 * The generation request: the whole Gemini GenerateContentRequest a chatbot
 * sends (REST/SDK field names) plus quotaflow's own fields. What producers
 * enqueue, from the Node client and the HTTP API alike; validated once at
 * the boundary, everything past it trusts the type.
 */
export type { Content, Part } from './request-content.js';
export type { FunctionDeclaration, GenerationConfig, MediaResolution, SafetySetting, Tool, ToolConfig } from './request-config.js';
export type { GeminiSchema, SchemaType } from './request-schema.js';
export { DEFAULT_REQUEST_CAPS, requestBytes, type RequestCaps } from './request-size.js';

export const DEFAULT_DEADLINE_MS = 120_000;
/** No Gemini call answers sooner: a shorter deadline could only ever fail. */
export const MIN_DEADLINE_MS = 1_000;
export const MAX_DEADLINE_MS = 24 * 3_600_000;

export const LANES = ['interactive', 'batch'] as const;
export type Lane = (typeof LANES)[number];

const id = z.string().regex(ID_PATTERN, 'ids are 1-128 letters, digits and _ . : @ - (not first)');

/** Where a job must be served: one project, one key, or wherever the conversation was served before. */
export const affinitySchema = z.union([z.literal('conversation'), z.strictObject({ project: id }), z.strictObject({ keyId: id })], {
  error: "affinity is { project: <id> }, { keyId: <id> } or 'conversation' (one form only)",
});
export type Affinity = z.output<typeof affinitySchema>;

export const generationRequestSchema = z
  .strictObject({
    tenantId: z.string().regex(ID_PATTERN, 'tenantId must be a fleet id'),
    conversationId: z.string().min(1).max(200).optional(),
    messageId: z
      .string()
      .regex(/^[A-Za-z0-9_.:@-]{1,200}$/, 'messageId: 1-200 letters, digits, _ . : @ -')
      .optional(),
    /** a string is shorthand for one user turn */
    contents: z.union([z.string().min(1, 'contents must not be empty'), z.array(contentSchema).min(1)]),
    systemInstruction: systemInstructionSchema.optional(),
    tools: z.array(toolSchema).min(1).optional(),
    toolConfig: toolConfigSchema.optional(),
    safetySettings: safetySettingsSchema.optional(),
    generationConfig: generationConfigSchema.optional(),
    labels: labelsSchema.optional(),
    cachedContent: cachedContentSchema.optional(),
    /** per-job model chain override, best first */
    models: z.array(z.string().regex(MODEL_PATTERN)).min(1).max(10).optional(),
    /** how long the job may take from enqueue, in ms */
    deadlineMs: z
      .number()
      .int()
      .min(MIN_DEADLINE_MS, `deadlineMs must be at least ${MIN_DEADLINE_MS} ms: no Gemini call answers sooner`)
      .max(MAX_DEADLINE_MS)
      .optional(),
    /** BullMQ priority: 1 is highest */
    priority: z.number().int().min(1).max(2_097_152).optional(),
    /** wait up to this long for the preferred (first) model before downgrading */
    maxWaitForPreferredMs: z.number().int().min(0).max(MAX_DEADLINE_MS).optional(),
    /** interactive: a person is waiting; batch: may yield to interactive work */
    lane: z.enum(LANES).default('interactive'),
    /** deliver the answer in chunks as Gemini produces it */
    stream: z.boolean().default(false),
    affinity: affinitySchema.optional(),
  })
  .superRefine(crossFieldChecks);

/** What a validated request looks like (defaults filled in). */
export type GenerationRequest = z.output<typeof generationRequestSchema>;
/** What a producer may send (lane and stream optional). */
export type GenerationRequestInput = z.input<typeof generationRequestSchema>;

/** Gemini Files API uploads and context caches belong to the project that made them. */
const FILES_API = /^https:\/\/generativelanguage\.googleapis\.com\/[^?#]*\/files\//;

/** True when only keys of one project can serve the request (context cache, uploaded files). */
export function usesProjectResources(req: Pick<GenerationRequest, 'contents' | 'cachedContent'>): boolean {
  if (req.cachedContent !== undefined) return true;
  return typeof req.contents !== 'string' && req.contents.some((c) => c.parts.some((p) => p.fileData !== undefined && FILES_API.test(p.fileData.fileUri)));
}

function crossFieldChecks(req: GenerationRequest, ctx: z.RefinementCtx): void {
  const issue = (path: Array<string | number>, message: string): void => ctx.addIssue({ code: 'custom', path, message });
  if (req.affinity === 'conversation' && req.conversationId === undefined) issue(['affinity'], "affinity 'conversation' needs a conversationId");
  if (usesProjectResources(req) && (req.affinity === undefined || req.affinity === 'conversation')) {
    issue(['affinity'], 'cachedContent and Files API uploads belong to the project that created them: set affinity { project: <id> } or { keyId: <id> }');
  }
  if (req.cachedContent !== undefined) {
    for (const field of ['systemInstruction', 'tools', 'toolConfig'] as const) {
      if (req[field] !== undefined) issue([field], `a request using cachedContent cannot also set ${field}: put it in the cache`);
    }
  }
  const declared = (req.tools ?? []).flatMap((t, ti) => (t.functionDeclarations ?? []).map((d, di) => ({ name: d.name, path: ['tools', ti, 'functionDeclarations', di, 'name'] })));
  declared.forEach((d, i) => {
    if (declared.findIndex((o) => o.name === d.name) !== i) issue(d.path, `function "${d.name}" is declared twice`);
  });
  const fcc = req.toolConfig?.functionCallingConfig;
  if ((fcc?.mode === 'ANY' || fcc?.mode === 'VALIDATED') && declared.length === 0) issue(['toolConfig', 'functionCallingConfig', 'mode'], `mode ${fcc.mode} needs function declarations in tools`);
  fcc?.allowedFunctionNames?.forEach((name, i) => {
    if (!declared.some((d) => d.name === name)) issue(['toolConfig', 'functionCallingConfig', 'allowedFunctionNames', i], `"${name}" is not a declared function`);
  });
}

/** zod issues => one line per problem, each naming its path. */
function formatIssues(issues: readonly z.core.$ZodIssue[]): string[] {
  const at = (path: readonly PropertyKey[]): string => path.map(String).join('.') || '(root)';
  return issues.flatMap((i): string[] => {
    if (i.code === 'unrecognized_keys') {
      const generic = i.message.startsWith('Unrecognized key');
      return i.keys.map((k) => `${at([...i.path, k])}: ${generic ? 'unknown field' : i.message}`);
    }
    if (i.code === 'invalid_union') {
      // Report the one alternative the input was meant as, rather than "Invalid input".
      const meant = i.errors.filter((branch) => !branch.every((e) => e.code === 'invalid_type' && e.path.length === 0));
      if (meant.length === 1 && meant[0]) return formatIssues(meant[0].map((e) => ({ ...e, path: [...i.path, ...e.path] })));
    }
    return [`${at(i.path)}: ${i.message}`];
  });
}

/** Validates an untrusted request; throws ValidationError with every problem listed by path. */
export function parseGenerationRequest(input: unknown, caps: Partial<RequestCaps> = {}): GenerationRequest {
  const limits: RequestCaps = { ...DEFAULT_REQUEST_CAPS, ...caps };
  const fail = (issues: string[]): never => {
    throw new ValidationError('invalid generation request', issues);
  };
  const early = prescanIssues(input, limits);
  if (early.length) fail(early);
  const parsed = generationRequestSchema.safeParse(input);
  if (!parsed.success) return fail(formatIssues(parsed.error.issues));
  const capped = capIssues(parsed.data, limits);
  if (capped.length) fail(capped);
  return parsed.data;
}

/** Normalises contents to Gemini's Content[] form. */
export function toContents(contents: GenerationRequest['contents']): Content[] {
  return typeof contents === 'string' ? [{ role: 'user', parts: [{ text: contents }] }] : contents;
}

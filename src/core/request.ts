import { z } from 'zod';
import { ValidationError } from '../errors.js';
import { ID_PATTERN, MODEL_PATTERN } from './fleet-file.js';

/**
 * The generation request: what producers enqueue (Node client and HTTP API
 * alike). Validated once at the boundary; everything past it trusts the type.
 */
export const MAX_PROMPT_CHARS = 1_000_000;
export const DEFAULT_DEADLINE_MS = 120_000;
export const MAX_DEADLINE_MS = 24 * 3_600_000;

const textPart = z.strictObject({ text: z.string() });
const content = z.strictObject({
  role: z.enum(['user', 'model']).optional(),
  parts: z.array(textPart).min(1, 'a content needs at least one part'),
});
export type Content = z.infer<typeof content>;

const generationConfig = z
  .strictObject({
    temperature: z.number().min(0).max(2).optional(),
    topP: z.number().min(0).max(1).optional(),
    topK: z.number().int().positive().optional(),
    maxOutputTokens: z.number().int().positive().optional(),
    stopSequences: z.array(z.string()).max(5).optional(),
    candidateCount: z.literal(1).optional(),
    responseMimeType: z.enum(['text/plain', 'application/json']).optional(),
    seed: z.number().int().optional(),
    thinkingConfig: z.strictObject({ thinkingBudget: z.number().int().min(-1).optional() }).optional(),
  })
  .optional();

export const generationRequestSchema = z.strictObject({
  tenantId: z.string().regex(ID_PATTERN, 'tenantId must be a fleet id'),
  conversationId: z.string().min(1).max(200).optional(),
  messageId: z
    .string()
    .regex(/^[A-Za-z0-9_.:@-]{1,200}$/, 'messageId: 1-200 letters, digits, _ . : @ -')
    .optional(),
  contents: z.union([z.string().min(1, 'contents must not be empty'), z.array(content).min(1)]),
  systemInstruction: z.union([z.string(), content]).optional(),
  generationConfig,
  /** per-job model chain override, best first */
  models: z.array(z.string().regex(MODEL_PATTERN)).min(1).max(10).optional(),
  /** how long the job may take from enqueue, in ms */
  deadlineMs: z.number().int().positive().max(MAX_DEADLINE_MS).optional(),
  /** BullMQ priority: 1 is highest */
  priority: z.number().int().min(1).max(2_097_152).optional(),
  /** wait up to this long for the preferred (first) model before downgrading */
  maxWaitForPreferredMs: z.number().int().min(0).max(MAX_DEADLINE_MS).optional(),
});

export type GenerationRequest = z.infer<typeof generationRequestSchema>;

/** Total characters of text a request sends upstream (contents + system instruction). */
export function promptChars(req: Pick<GenerationRequest, 'contents' | 'systemInstruction'>): number {
  const contentChars = (c: Content): number => c.parts.reduce((n, p) => n + p.text.length, 0);
  const body = typeof req.contents === 'string' ? req.contents.length : req.contents.reduce((n, c) => n + contentChars(c), 0);
  const sys = req.systemInstruction === undefined ? 0 : typeof req.systemInstruction === 'string' ? req.systemInstruction.length : contentChars(req.systemInstruction);
  return body + sys;
}

/** Validates an untrusted request; throws ValidationError with every problem listed. */
export function parseGenerationRequest(input: unknown, maxPromptChars = MAX_PROMPT_CHARS): GenerationRequest {
  const parsed = generationRequestSchema.safeParse(input);
  if (!parsed.success) {
    throw new ValidationError(
      'invalid generation request',
      parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`),
    );
  }
  const chars = promptChars(parsed.data);
  if (chars > maxPromptChars) {
    throw new ValidationError(`invalid generation request: prompt is ${chars} characters, the limit is ${maxPromptChars}`);
  }
  return parsed.data;
}

/** Normalises contents to Gemini's Content[] form. */
export function toContents(contents: GenerationRequest['contents']): Content[] {
  return typeof contents === 'string' ? [{ role: 'user', parts: [{ text: contents }] }] : contents;
}

import { z } from 'zod';
import { geminiSchema, jsonSchemaObject } from './request-schema.js';

/**
 * The request-wide parts of a Gemini GenerateContentRequest: tools, tool
 * config, safety settings, generation config, labels and the context cache.
 * Field names and enum values are Gemini's own.
 */

// Function names: a letter or underscore first, then letters, digits, _ . : - (128 at most).
const FUNCTION_NAME = /^[A-Za-z_][A-Za-z0-9_.:-]{0,127}$/;

const functionDeclaration = z
  .strictObject({
    name: z.string().regex(FUNCTION_NAME, 'a function name starts with a letter or _ and has up to 128 letters, digits, _ . : -'),
    description: z.string().optional(),
    parameters: geminiSchema.optional(),
    parametersJsonSchema: jsonSchemaObject.optional(),
    response: geminiSchema.optional(),
    responseJsonSchema: jsonSchemaObject.optional(),
  })
  .superRefine((d, ctx) => {
    if (d.parameters && d.parametersJsonSchema) ctx.addIssue({ code: 'custom', path: ['parametersJsonSchema'], message: 'give parameters or parametersJsonSchema, not both' });
    if (d.response && d.responseJsonSchema) ctx.addIssue({ code: 'custom', path: ['responseJsonSchema'], message: 'give response or responseJsonSchema, not both' });
  });
export type FunctionDeclaration = z.output<typeof functionDeclaration>;

const interval = z.strictObject({ startTime: z.iso.datetime().optional(), endTime: z.iso.datetime().optional() });

const TOOL_KINDS = ['functionDeclarations', 'googleSearch', 'codeExecution', 'urlContext'] as const;

/** One entry of `tools`. */
export const toolSchema = z
  .strictObject({
    functionDeclarations: z.array(functionDeclaration).min(1).max(512).optional(),
    googleSearch: z.strictObject({ timeRangeFilter: interval.optional() }).optional(),
    codeExecution: z.strictObject({}).optional(),
    urlContext: z.strictObject({}).optional(),
  })
  .superRefine((t, ctx) => {
    if (TOOL_KINDS.every((k) => t[k] === undefined)) ctx.addIssue({ code: 'custom', message: `a tool entry needs one of ${TOOL_KINDS.join(', ')}` });
  });
export type Tool = z.output<typeof toolSchema>;

export const FUNCTION_CALLING_MODES = ['AUTO', 'ANY', 'NONE', 'VALIDATED'] as const;
export const toolConfigSchema = z.strictObject({
  functionCallingConfig: z
    .strictObject({
      mode: z.enum(FUNCTION_CALLING_MODES).optional(),
      allowedFunctionNames: z.array(z.string().min(1)).min(1).optional(),
    })
    .superRefine((c, ctx) => {
      if (c.allowedFunctionNames && c.mode !== 'ANY' && c.mode !== 'VALIDATED') {
        ctx.addIssue({ code: 'custom', path: ['allowedFunctionNames'], message: 'allowedFunctionNames needs mode ANY or VALIDATED' });
      }
    })
    .optional(),
});
export type ToolConfig = z.output<typeof toolConfigSchema>;

export const HARM_CATEGORIES = [
  'HARM_CATEGORY_HARASSMENT',
  'HARM_CATEGORY_HATE_SPEECH',
  'HARM_CATEGORY_SEXUALLY_EXPLICIT',
  'HARM_CATEGORY_DANGEROUS_CONTENT',
  'HARM_CATEGORY_CIVIC_INTEGRITY',
] as const;
export const HARM_THRESHOLDS = ['HARM_BLOCK_THRESHOLD_UNSPECIFIED', 'BLOCK_LOW_AND_ABOVE', 'BLOCK_MEDIUM_AND_ABOVE', 'BLOCK_ONLY_HIGH', 'BLOCK_NONE', 'OFF'] as const;
export const safetySettingsSchema = z
  .array(z.strictObject({ category: z.enum(HARM_CATEGORIES), threshold: z.enum(HARM_THRESHOLDS) }))
  .superRefine((list, ctx) => {
    list.forEach((s, i) => {
      if (list.findIndex((o) => o.category === s.category) !== i) ctx.addIssue({ code: 'custom', path: [i, 'category'], message: `${s.category} is set twice` });
    });
  });
export type SafetySetting = z.output<typeof safetySettingsSchema>[number];

export const THINKING_LEVELS = ['MINIMAL', 'LOW', 'MEDIUM', 'HIGH'] as const;
export const MEDIA_RESOLUTIONS = ['MEDIA_RESOLUTION_UNSPECIFIED', 'MEDIA_RESOLUTION_LOW', 'MEDIA_RESOLUTION_MEDIUM', 'MEDIA_RESOLUTION_HIGH'] as const;
export type MediaResolution = (typeof MEDIA_RESOLUTIONS)[number];

export const generationConfigSchema = z
  .strictObject({
    temperature: z.number().min(0).max(2).optional(),
    topP: z.number().min(0).max(1).optional(),
    topK: z.number().int().positive().optional(),
    maxOutputTokens: z.number().int().positive().optional(),
    stopSequences: z.array(z.string().min(1)).max(5, 'at most 5 stop sequences').optional(),
    candidateCount: z.literal(1, { error: 'candidateCount must be 1: quotaflow returns one candidate per request' }).optional(),
    responseMimeType: z.enum(['text/plain', 'application/json', 'text/x.enum']).optional(),
    responseSchema: geminiSchema.optional(),
    responseJsonSchema: jsonSchemaObject.optional(),
    thinkingConfig: z
      .strictObject({
        thinkingBudget: z.number().int().min(-1).optional(),
        includeThoughts: z.boolean().optional(),
        thinkingLevel: z.enum(THINKING_LEVELS).optional(),
      })
      .optional(),
    seed: z.number().int().optional(),
    presencePenalty: z.number().min(-2).max(2).optional(),
    frequencyPenalty: z.number().min(-2).max(2).optional(),
    responseLogprobs: z.boolean().optional(),
    logprobs: z.number().int().min(0).max(20).optional(),
    mediaResolution: z.enum(MEDIA_RESOLUTIONS).optional(),
    responseModalities: z.array(z.literal('TEXT', { error: 'responseModalities: quotaflow returns text only, so TEXT is the one modality' })).min(1).optional(),
  })
  .superRefine((g, ctx) => {
    const issue = (path: string, message: string): void => ctx.addIssue({ code: 'custom', path: [path], message });
    const schema = g.responseSchema ?? g.responseJsonSchema;
    if (g.responseSchema && g.responseJsonSchema) issue('responseJsonSchema', 'give responseSchema or responseJsonSchema, not both');
    if (schema && g.responseMimeType !== 'application/json' && g.responseMimeType !== 'text/x.enum') {
      issue('responseMimeType', 'a response schema needs responseMimeType application/json (or text/x.enum)');
    }
    if (g.responseMimeType === 'text/x.enum' && !schema) issue('responseSchema', 'text/x.enum needs a responseSchema listing the enum values');
    if (g.thinkingConfig?.thinkingBudget !== undefined && g.thinkingConfig.thinkingLevel !== undefined) {
      issue('thinkingConfig', 'give thinkingBudget or thinkingLevel, not both');
    }
    if (g.logprobs !== undefined && g.responseLogprobs !== true) issue('logprobs', 'logprobs needs responseLogprobs: true');
  });
export type GenerationConfig = z.output<typeof generationConfigSchema>;

// Google's label rules: up to 64 labels; keys start with a lower-case letter; keys and values
// are up to 63 lower-case letters, digits, _ and -; international letters allowed.
const LABEL_KEY = /^\p{Ll}[\p{Ll}\p{Lo}\p{N}_-]{0,62}$/u;
const LABEL_VALUE = /^[\p{Ll}\p{Lo}\p{N}_-]{0,63}$/u;
export const labelsSchema = z.record(z.string(), z.string()).superRefine((labels, ctx) => {
  const entries = Object.entries(labels);
  if (entries.length > 64) ctx.addIssue({ code: 'custom', message: 'at most 64 labels' });
  for (const [key, value] of entries) {
    if (!LABEL_KEY.test(key)) ctx.addIssue({ code: 'custom', path: [key], message: 'label keys start with a lower-case letter and have up to 63 lower-case letters, digits, _ and -' });
    if (!LABEL_VALUE.test(value)) ctx.addIssue({ code: 'custom', path: [key], message: 'label values have up to 63 lower-case letters, digits, _ and -' });
  }
});

export const cachedContentSchema = z.string().regex(/^cachedContents\/[A-Za-z0-9_-]{1,128}$/, 'cachedContent is a cache resource name: cachedContents/<id>');

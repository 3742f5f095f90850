import { z } from 'zod';
import { mediaFamily, SUPPORTED_MEDIA_HINT } from './media-types.js';

/**
 * Parts and contents in the Gemini REST/SDK field names. The same field
 * shapes read the parts Gemini answers with, so a model turn handed back to
 * a chatbot can be sent again unchanged (thought signatures included).
 */
export const DATA_FIELDS = ['text', 'inlineData', 'fileData', 'functionCall', 'functionResponse', 'executableCode', 'codeExecutionResult'] as const;
const PART_FIELDS = [...DATA_FIELDS, 'thought', 'thoughtSignature', 'videoMetadata'];

// Standard or URL-safe alphabet, padding optional: what Google's JSON accepts for bytes.
const BASE64 = /^[A-Za-z0-9+/_-]*={0,2}$/;
const DURATION = /^\d{1,9}(\.\d{1,9})?s$/;
const FILE_URI = /^(https:\/\/|gs:\/\/)\S+$/;

const mimeType = z.string().superRefine((m, ctx) => {
  if (mediaFamily(m) === null) ctx.addIssue({ code: 'custom', message: `unsupported MIME type "${m.slice(0, 100)}"; ${SUPPORTED_MEDIA_HINT}` });
});
const base64 = z.string().superRefine((d, ctx) => {
  if (d.length % 4 === 1 || !BASE64.test(d)) ctx.addIssue({ code: 'custom', message: 'data must be base64 (no data: URL prefix, no line breaks)' });
});
const jsonObject = z.record(z.string(), z.unknown());
const name = z.string().min(1).max(128);

/** Builds the part shape: strict for requests, lenient (unknown keys kept, media unchecked) for answers. */
function partShape(strict: boolean) {
  const obj = strict ? z.strictObject : z.looseObject;
  return {
    text: z.string().optional(),
    inlineData: obj({ mimeType: strict ? mimeType : z.string(), data: strict ? base64 : z.string() }).optional(),
    fileData: obj({
      mimeType: (strict ? mimeType : z.string()).optional(),
      fileUri: strict ? z.string().regex(FILE_URI, 'fileUri is an https:// or gs:// URI (e.g. a Files API uri)') : z.string(),
    }).optional(),
    functionCall: obj({ name, args: jsonObject.optional(), id: z.string().optional() }).optional(),
    functionResponse: obj({ name, response: jsonObject, id: z.string().optional() }).optional(),
    executableCode: obj({ language: z.enum(['PYTHON', 'LANGUAGE_UNSPECIFIED']), code: z.string(), id: z.string().optional() }).optional(),
    codeExecutionResult: obj({
      outcome: z.enum(['OUTCOME_OK', 'OUTCOME_FAILED', 'OUTCOME_DEADLINE_EXCEEDED', 'OUTCOME_UNSPECIFIED']),
      output: z.string().optional(),
      id: z.string().optional(),
    }).optional(),
    /** true on a thought summary; never part of the answer text */
    thought: z.boolean().optional(),
    /** opaque; must be sent back exactly as received */
    thoughtSignature: z.string().optional(),
    videoMetadata: obj({
      startOffset: z.string().regex(DURATION, 'a duration like "12.5s"').optional(),
      endOffset: z.string().regex(DURATION, 'a duration like "12.5s"').optional(),
      fps: z.number().gt(0).max(24).optional(),
    }).optional(),
  };
}

const unknownPartKind = (iss: { code?: string; keys?: string[] }): string | undefined =>
  iss.code === 'unrecognized_keys' ? `unknown part field(s) ${(iss.keys ?? []).join(', ')}; a part has ${PART_FIELDS.join(', ')}` : undefined;

export const partSchema = z.strictObject(partShape(true), { error: unknownPartKind }).superRefine((p, ctx) => {
  const present = DATA_FIELDS.filter((f) => p[f] !== undefined);
  if (present.length !== 1) {
    ctx.addIssue({
      code: 'custom',
      message: present.length === 0 ? `a part needs one of ${DATA_FIELDS.join(', ')}` : `a part carries one kind of data, found ${present.join(' and ')}`,
    });
  }
  if (p.videoMetadata && !p.inlineData && !p.fileData) ctx.addIssue({ code: 'custom', path: ['videoMetadata'], message: 'videoMetadata goes with inlineData or fileData' });
});
export type Part = z.output<typeof partSchema>;

/** Reads one part of an answer; unknown keys are kept so nothing Gemini sent is lost. */
export const answerPartSchema = z.looseObject(partShape(false));

export const ROLES = ['user', 'model'] as const;
export const contentSchema = z.strictObject({
  role: z.enum(ROLES, { error: "role is 'user' or 'model' (function responses go in a 'user' turn)" }).optional(),
  parts: z.array(partSchema).min(1, 'a content needs at least one part'),
});
export type Content = z.output<typeof contentSchema>;

/** A system instruction is text only. */
export const systemInstructionSchema = z.union([z.string(), contentSchema]).superRefine((s, ctx) => {
  if (typeof s === 'string') return;
  s.parts.forEach((p, i) => {
    if (p.text === undefined) ctx.addIssue({ code: 'custom', path: ['parts', i], message: 'a system instruction has text parts only' });
  });
});

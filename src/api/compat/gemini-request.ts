import { z } from 'zod';
import { parseGenerationRequest, type GenerationRequest } from '../../core/request.js';
import type { Tenant } from '../../core/types.js';
import { ValidationError } from '../../errors.js';
import type { RouteFields } from './job-call.js';

/**
 * A Gemini GenerateContentRequest (REST field names, as @google/genai sends
 * it) as a quotaflow request. quotaflow's request is that same request plus
 * its own fields, so the translation is a check of the top-level fields and
 * the routing fields added; the values are validated by the request schema.
 */
const GEMINI_FIELDS = ['contents', 'systemInstruction', 'tools', 'toolConfig', 'safetySettings', 'generationConfig', 'labels'] as const;

/** Gemini fields the compatible endpoint does not offer, and why. */
const NOT_OFFERED: Record<string, string> = {
  cachedContent: 'context caches belong to the Google project that created them, and this endpoint cannot pin a project: send the content itself',
  serviceTier: 'quotaflow chooses how each request is served',
  store: 'quotaflow does not store interactions upstream',
  continuationToken: 'quotaflow does not resume interactions',
};

// Files API uploads, like caches, belong to one project.
const FILES_API = /^https:\/\/generativelanguage\.googleapis\.com\/[^?#]*\/files\//;
const fileUris = z
  .array(z.looseObject({ parts: z.array(z.looseObject({ fileData: z.looseObject({ fileUri: z.string() }).optional() })).optional() }))
  .catch([]);

const objectBody = z.record(z.string(), z.unknown(), { error: 'the body must be a JSON object' });

function asObject(body: unknown, what: string): Record<string, unknown> {
  const parsed = objectBody.safeParse(body ?? {});
  if (!parsed.success) throw new ValidationError(`the body must be a JSON object (${what})`);
  return parsed.data;
}

/** The body as an object, with only fields Gemini defines and quotaflow offers. */
export function geminiFields(body: unknown, what: string): Record<string, unknown> {
  const data = asObject(body, what);
  const issues: string[] = [];
  for (const key of Object.keys(data)) {
    const why = NOT_OFFERED[key];
    if (why !== undefined) issues.push(`${key}: not supported through quotaflow: ${why}`);
    else if (!(GEMINI_FIELDS as readonly string[]).includes(key)) issues.push(`Invalid JSON payload received. Unknown name "${key}": Cannot find field.`);
  }
  const uploaded = fileUris.parse(data.contents).flatMap((c) => c.parts ?? []).some((p) => p.fileData !== undefined && FILES_API.test(p.fileData.fileUri));
  if (uploaded) issues.push(`contents: Files API uploads belong to the Google project that created them, and this endpoint cannot pin a project: send the media inline (inlineData)`);
  if (issues.length > 0) throw new ValidationError(`invalid ${what}`, issues);
  return data;
}

/** A GenerateContentRequest body as the quotaflow request of `tenant`, routed as given. */
export function geminiGenerationRequest(body: unknown, tenant: Tenant, route: RouteFields): GenerationRequest {
  const fields = geminiFields(body, 'GenerateContentRequest');
  return parseGenerationRequest({ ...fields, tenantId: tenant.id, models: route.models, deadlineMs: route.deadlineMs, stream: route.stream, lane: 'interactive' });
}

const countBody = z.looseObject({ contents: z.unknown().optional(), generateContentRequest: z.unknown().optional() });

/**
 * A CountTokensRequest: `contents`, or a whole `generateContentRequest`
 * (with its own `model`), validated like a generation request.
 */
export function countTokensRequest(body: unknown, tenant: Tenant): GenerationRequest {
  const outer = countBody.safeParse(body ?? {});
  if (!outer.success) throw new ValidationError('the body must be a JSON object (CountTokensRequest)');
  const { generateContentRequest: inner, ...rest } = outer.data;
  if (inner !== undefined && rest.contents !== undefined) throw new ValidationError('invalid CountTokensRequest', ['give contents or generateContentRequest, not both']);
  // the inner request names its model again; the URL's is the one that counts
  const { model: _model, ...fields } = inner === undefined ? rest : asObject(inner, 'generateContentRequest');
  return parseGenerationRequest({ ...geminiFields(fields, 'CountTokensRequest'), tenantId: tenant.id });
}

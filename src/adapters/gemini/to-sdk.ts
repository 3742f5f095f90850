import {
  FunctionCallingConfigMode,
  HarmBlockThreshold,
  HarmCategory,
  Language,
  MediaResolution,
  Outcome,
  ThinkingLevel,
  Type,
  type Content as SdkContent,
  type GenerateContentConfig,
  type GenerateContentParameters,
  type Part as SdkPart,
  type Schema as SdkSchema,
  type Tool as SdkTool,
} from '@google/genai';
import { toContents, type Content, type GeminiSchema, type GenerationConfig, type GenerationRequest, type Part, type Tool } from '../../core/request.js';

/**
 * Our validated request => the SDK's parameters. Contents pass through;
 * everything else goes into `config`. The SDK types its enums as TypeScript
 * enums, so string values are mapped through tables rather than cast.
 */
const TYPES = { STRING: Type.STRING, NUMBER: Type.NUMBER, INTEGER: Type.INTEGER, BOOLEAN: Type.BOOLEAN, ARRAY: Type.ARRAY, OBJECT: Type.OBJECT } as const;
const LANGUAGES = { PYTHON: Language.PYTHON, LANGUAGE_UNSPECIFIED: Language.LANGUAGE_UNSPECIFIED } as const;
const OUTCOMES = {
  OUTCOME_OK: Outcome.OUTCOME_OK,
  OUTCOME_FAILED: Outcome.OUTCOME_FAILED,
  OUTCOME_DEADLINE_EXCEEDED: Outcome.OUTCOME_DEADLINE_EXCEEDED,
  OUTCOME_UNSPECIFIED: Outcome.OUTCOME_UNSPECIFIED,
} as const;
const MODES = { AUTO: FunctionCallingConfigMode.AUTO, ANY: FunctionCallingConfigMode.ANY, NONE: FunctionCallingConfigMode.NONE, VALIDATED: FunctionCallingConfigMode.VALIDATED } as const;
const CATEGORIES = {
  HARM_CATEGORY_HARASSMENT: HarmCategory.HARM_CATEGORY_HARASSMENT,
  HARM_CATEGORY_HATE_SPEECH: HarmCategory.HARM_CATEGORY_HATE_SPEECH,
  HARM_CATEGORY_SEXUALLY_EXPLICIT: HarmCategory.HARM_CATEGORY_SEXUALLY_EXPLICIT,
  HARM_CATEGORY_DANGEROUS_CONTENT: HarmCategory.HARM_CATEGORY_DANGEROUS_CONTENT,
  HARM_CATEGORY_CIVIC_INTEGRITY: HarmCategory.HARM_CATEGORY_CIVIC_INTEGRITY,
} as const;
const THRESHOLDS = {
  HARM_BLOCK_THRESHOLD_UNSPECIFIED: HarmBlockThreshold.HARM_BLOCK_THRESHOLD_UNSPECIFIED,
  BLOCK_LOW_AND_ABOVE: HarmBlockThreshold.BLOCK_LOW_AND_ABOVE,
  BLOCK_MEDIUM_AND_ABOVE: HarmBlockThreshold.BLOCK_MEDIUM_AND_ABOVE,
  BLOCK_ONLY_HIGH: HarmBlockThreshold.BLOCK_ONLY_HIGH,
  BLOCK_NONE: HarmBlockThreshold.BLOCK_NONE,
  OFF: HarmBlockThreshold.OFF,
} as const;
const LEVELS = { MINIMAL: ThinkingLevel.MINIMAL, LOW: ThinkingLevel.LOW, MEDIUM: ThinkingLevel.MEDIUM, HIGH: ThinkingLevel.HIGH } as const;
const RESOLUTIONS = {
  MEDIA_RESOLUTION_UNSPECIFIED: MediaResolution.MEDIA_RESOLUTION_UNSPECIFIED,
  MEDIA_RESOLUTION_LOW: MediaResolution.MEDIA_RESOLUTION_LOW,
  MEDIA_RESOLUTION_MEDIUM: MediaResolution.MEDIA_RESOLUTION_MEDIUM,
  MEDIA_RESOLUTION_HIGH: MediaResolution.MEDIA_RESOLUTION_HIGH,
} as const;

const str = (n: number | undefined): string | undefined => (n === undefined ? undefined : String(n));
const mapValues = <A, B>(o: Record<string, A>, f: (a: A) => B): Record<string, B> => Object.fromEntries(Object.entries(o).map(([k, v]) => [k, f(v)]));

export function toSdkSchema(s: GeminiSchema): SdkSchema {
  const { type, items, properties, anyOf, minItems, maxItems, minLength, maxLength, minProperties, maxProperties, ...rest } = s;
  return {
    ...rest,
    ...(type ? { type: TYPES[type] } : {}),
    ...(items ? { items: toSdkSchema(items) } : {}),
    ...(properties ? { properties: mapValues(properties, toSdkSchema) } : {}),
    ...(anyOf ? { anyOf: anyOf.map(toSdkSchema) } : {}),
    // Google's JSON carries these int64 counts as strings.
    minItems: str(minItems),
    maxItems: str(maxItems),
    minLength: str(minLength),
    maxLength: str(maxLength),
    minProperties: str(minProperties),
    maxProperties: str(maxProperties),
  };
}

export function toSdkPart(p: Part): SdkPart {
  const { executableCode, codeExecutionResult, ...rest } = p;
  return {
    ...rest,
    ...(executableCode ? { executableCode: { ...executableCode, language: LANGUAGES[executableCode.language] } } : {}),
    ...(codeExecutionResult ? { codeExecutionResult: { ...codeExecutionResult, outcome: OUTCOMES[codeExecutionResult.outcome] } } : {}),
  };
}

const toSdkContent = (c: Content): SdkContent => ({ ...c, parts: c.parts.map(toSdkPart) });

function toSdkTool(t: Tool): SdkTool {
  const { functionDeclarations, ...rest } = t;
  if (!functionDeclarations) return rest;
  return {
    ...rest,
    functionDeclarations: functionDeclarations.map(({ parameters, response, ...d }) => ({
      ...d,
      ...(parameters ? { parameters: toSdkSchema(parameters) } : {}),
      ...(response ? { response: toSdkSchema(response) } : {}),
    })),
  };
}

function toSdkGenerationConfig(g: GenerationConfig): GenerateContentConfig {
  const { responseSchema, thinkingConfig, mediaResolution, ...rest } = g;
  const { thinkingLevel, ...thinking } = thinkingConfig ?? {};
  return {
    ...rest,
    ...(responseSchema ? { responseSchema: toSdkSchema(responseSchema) } : {}),
    ...(thinkingConfig ? { thinkingConfig: { ...thinking, ...(thinkingLevel ? { thinkingLevel: LEVELS[thinkingLevel] } : {}) } } : {}),
    ...(mediaResolution ? { mediaResolution: RESOLUTIONS[mediaResolution] } : {}),
  };
}

function toSdkConfig(r: GenerationRequest): GenerateContentConfig {
  const { mode, ...fcc } = r.toolConfig?.functionCallingConfig ?? {};
  const system = r.systemInstruction;
  return {
    ...(r.generationConfig ? toSdkGenerationConfig(r.generationConfig) : {}),
    ...(system !== undefined ? { systemInstruction: typeof system === 'string' ? system : toSdkContent(system) } : {}),
    ...(r.tools ? { tools: r.tools.map(toSdkTool) } : {}),
    ...(r.toolConfig ? { toolConfig: { functionCallingConfig: { ...fcc, ...(mode ? { mode: MODES[mode] } : {}) } } } : {}),
    ...(r.safetySettings ? { safetySettings: r.safetySettings.map((s) => ({ category: CATEGORIES[s.category], threshold: THRESHOLDS[s.threshold] })) } : {}),
    ...(r.labels ? { labels: r.labels } : {}),
    ...(r.cachedContent ? { cachedContent: r.cachedContent } : {}),
  };
}

/** Our validated request => the SDK's parameters, with every SDK-side retry and follow-up call off. */
export function toSdkParams(model: string, request: GenerationRequest, signal: AbortSignal | undefined): GenerateContentParameters {
  return {
    model,
    contents: toContents(request.contents).map(toSdkContent),
    config: {
      ...toSdkConfig(request),
      ...(signal ? { abortSignal: signal } : {}),
      // One call is one request: quota is spent only where the leaser admitted it.
      automaticFunctionCalling: { disable: true },
      automaticContinuation: false,
    },
  };
}

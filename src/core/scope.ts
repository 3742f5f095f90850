/**
 * The quota scope: Gemini counts RPM/TPM/RPD per Google Cloud project and
 * model, not per key, so two keys of one project share one scope. This is
 * the one place its id is spelled; project ids and model ids never contain
 * `|` (see the id patterns of the fleet file).
 */
export type ScopeId = string;

export function scopeOf(projectId: string, model: string): ScopeId {
  return `${projectId}|${model}`;
}

export function parseScope(scope: ScopeId): { projectId: string; model: string } {
  const i = scope.lastIndexOf('|');
  return { projectId: scope.slice(0, i), model: scope.slice(i + 1) };
}

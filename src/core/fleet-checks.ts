import { DEFAULT_CATALOG } from './catalog.js';
import { tokenWeakness } from './fleet-token.js';

/**
 * The checks of a fleet document that a schema cannot express: sizes,
 * forbidden record keys, references between sections, duplicates, token
 * strength. They read the raw document leniently so that they run even when
 * the schema found problems: a user sees every problem in one go.
 */

/** The most a fleet file may hold; a fleet beyond this is almost surely a mistake, and every worker keeps the whole fleet in memory. */
export const FLEET_LIMITS: Readonly<Record<'models' | 'projects' | 'tenants' | 'keys', number>> = { models: 100, projects: 50_000, tenants: 50_000, keys: 100_000 };

/** Keys that would reach an object's prototype if a record were ever copied into a plain object. */
export const FORBIDDEN_KEYS: readonly string[] = ['__proto__', 'constructor', 'prototype'];

const SECTIONS = ['models', 'projects', 'tenants', 'keys'] as const;
type Section = (typeof SECTIONS)[number];
type Raw = Record<string, unknown>;

const isRecord = (v: unknown): v is Raw => typeof v === 'object' && v !== null && !Array.isArray(v);
const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
const strings = (v: unknown): string[] => (Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : []);

/** Sections over their size limit; when any is, the document is not checked further. */
export function sizeProblems(doc: unknown): string[] {
  if (!isRecord(doc)) return [];
  return SECTIONS.flatMap((s) => {
    const v = doc[s];
    const max = FLEET_LIMITS[s];
    return Array.isArray(v) && v.length > max ? [`${s}: ${v.length} entries; a fleet file may hold at most ${max} (split the fleet into deployments with their own QUOTAFLOW_PREFIX)`] : [];
  });
}

/** Every object key named `__proto__`, `constructor` or `prototype`, by path. Iterative: nesting depth cannot overflow the stack. */
export function forbiddenKeyProblems(doc: unknown): string[] {
  const problems: string[] = [];
  const stack: Array<[unknown, string]> = [[doc, '']];
  while (stack.length) {
    const [v, path] = stack.pop() ?? [undefined, ''];
    if (typeof v !== 'object' || v === null) continue;
    for (const [k, child] of Object.entries(v)) {
      const here = path ? `${path}.${k}` : k;
      if (FORBIDDEN_KEYS.includes(k)) problems.push(`${here}: "${k}" is not allowed as a name (it is reserved by JavaScript)`);
      else stack.push([child, here]);
    }
  }
  return problems.sort();
}

interface Item {
  i: number;
  raw: Raw;
  id: string | undefined;
}

function items(doc: Raw, section: Section): Item[] {
  const list: unknown = doc[section];
  if (!Array.isArray(list)) return [];
  return list.flatMap((raw: unknown, i) => (isRecord(raw) ? [{ i, raw, id: str(raw.id) }] : []));
}

/** References, duplicates, exactly-one-of rules and token strength, on whatever parts of the document are readable. */
export function crossProblems(doc: unknown): string[] {
  if (!isRecord(doc)) return [];
  const problems: string[] = [];
  const models = strings(doc.models);
  const [projects, tenants, keys] = [items(doc, 'projects'), items(doc, 'tenants'), items(doc, 'keys')];
  dupes('models', models, problems);
  for (const [section, list] of [['projects', projects], ['tenants', tenants], ['keys', keys]] as const) {
    dupes(section, list.flatMap((x) => (x.id === undefined ? [] : [x.id])), problems);
  }
  const known = new Set(models);
  for (const p of projects) {
    if (!isRecord(p.raw.limits)) continue;
    for (const m of Object.keys(p.raw.limits)) if (!known.has(m) && !FORBIDDEN_KEYS.includes(m)) problems.push(`projects.${p.i}.limits: model "${m}" is not in "models"`);
  }
  for (const t of tenants) {
    for (const m of strings(t.raw.models)) if (!known.has(m)) problems.push(`tenants.${t.i}.models: model "${m}" is not in "models"`);
  }
  const ids = (list: Item[]): Set<string> => new Set(list.flatMap((x) => x.id ?? []));
  // concat, not push(...): a list of 100,000 problems would exceed the arguments a call may take
  return problems.concat(tenantTokenProblems(tenants), keyProblems(keys, ids(projects), ids(tenants)));
}

function dupes(section: string, ids: string[], problems: string[]): void {
  const seen = new Set<string>();
  for (const x of ids) {
    if (seen.has(x)) problems.push(`${section}: duplicate id "${x}"`);
    seen.add(x);
  }
}

function tenantTokenProblems(tenants: Item[]): string[] {
  const problems: string[] = [];
  const owners = new Map<string, string>();
  for (const t of tenants) {
    const name = `tenants.${t.i} (${t.id ?? '?'})`;
    const token = str(t.raw.token);
    if (token !== undefined && t.raw.tokenEnv !== undefined) problems.push(`${name}: give "token" or "tokenEnv", not both`);
    if (token === undefined) continue;
    const weak = tokenWeakness(token);
    if (weak) problems.push(`${name}: the token ${weak}`);
    const other = owners.get(token);
    if (other !== undefined) problems.push(`${name}: same token as tenant "${other}"`);
    owners.set(token, t.id ?? '?');
  }
  return problems;
}

function keyProblems(keys: Item[], projects: ReadonlySet<string>, tenants: ReadonlySet<string>): string[] {
  const problems: string[] = [];
  const owners = new Map<string, string>();
  for (const k of keys) {
    const tenant = str(k.raw.tenant);
    const project = str(k.raw.project);
    if (tenant !== undefined && !tenants.has(tenant)) problems.push(`keys.${k.i}: unknown tenant "${tenant}"`);
    if (project !== undefined && !projects.has(project)) problems.push(`keys.${k.i}: unknown project "${project}"`);
    const secret = str(k.raw.secret);
    const env = str(k.raw.secretEnv);
    if ((k.raw.secret === undefined) === (k.raw.secretEnv === undefined)) problems.push(`keys.${k.i}: give exactly one of "secret" or "secretEnv"`);
    const ref = secret !== undefined ? `value:${secret}` : env !== undefined ? `env:${env}` : undefined;
    if (ref === undefined) continue;
    const other = owners.get(ref);
    if (other !== undefined) problems.push(`keys.${k.i}: same secret as key "${other}" (a key belongs to one tenant)`);
    owners.set(ref, k.id ?? '?');
  }
  return problems;
}

/** Every model id the built-in catalog knows, in any tier: the one place the fleet checks read the catalog. */
export function catalogModelIds(): string[] {
  return [...DEFAULT_CATALOG.models.keys(), ...DEFAULT_CATALOG.aliases.keys()];
}

/**
 * Models of the chains that neither the catalog nor any project's limits
 * know: most likely misspelt. A warning, not an error (new models appear
 * before the catalog knows them), naming the closest known model.
 */
export function unknownModelWarnings(spec: { models: string[]; tenants: Array<{ models: string[] | null }>; projects: Array<{ limits: Record<string, unknown> }> }, catalog: readonly string[]): string[] {
  const configured = new Set(spec.projects.flatMap((p) => Object.keys(p.limits)));
  const knownIds = [...new Set([...catalog, ...configured])];
  const used = [...new Set([...spec.models, ...spec.tenants.flatMap((t) => t.models ?? [])])];
  return used
    .filter((m) => !catalog.includes(m) && !configured.has(m))
    .map((m) => {
      const near = closest(m, knownIds);
      const hint = near ? `; did you mean "${near}"?` : '';
      return `model "${m}" is neither in the built-in catalog nor in any project's "limits": it runs at the most conservative default limits, and a misspelt model fails its jobs once Google answers 404${hint}`;
    });
}

/** The candidate with the smallest edit distance (ties: the first). */
export function closest(word: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const c of candidates) {
    const d = editDistance(word, c);
    if (d < bestDistance) [best, bestDistance] = [c, d];
  }
  return best;
}

/** Levenshtein distance (insert, delete, substitute: 1 each). */
export function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      row.push(Math.min((prev[j] ?? 0) + 1, (row[j - 1] ?? 0) + 1, (prev[j - 1] ?? 0) + cost));
    }
    prev = row;
  }
  return prev[b.length] ?? 0;
}

import { readFile } from 'node:fs/promises';
import { effectiveCatalog, parseCatalogDoc, parseCatalogText, type CatalogDoc, type CatalogOrigin, type EffectiveCatalog } from '../../core/catalog.js';
import { ValidationError } from '../../errors.js';

/**
 * Reads the catalog layers that live in files: the override file named by
 * QUOTAFLOW_CATALOG (or `--file`) and, for previews, a fleet file's `catalog`
 * section. The package catalog needs no file access: it is a JSON module.
 */

/** The QUOTAFLOW_CATALOG setting as config.ts should hold it: a path, or undefined when unset or blank. */
export function catalogFileSetting(value: string | undefined): string | undefined {
  const path = value?.trim();
  return path ? path : undefined;
}

async function readText(path: string, what: string): Promise<string> {
  return readFile(path, 'utf8').catch((err: NodeJS.ErrnoException) => {
    throw new ValidationError(`cannot read ${what} ${path}: ${err.code ?? err.message}`);
  });
}

/** A catalog override file (same format as the package catalog, usually partial). */
export async function readCatalogFile(path: string): Promise<CatalogDoc> {
  return parseCatalogText(await readText(path, 'catalog file'), `catalog file ${path}`);
}

/** The `catalog` section of a fleet file, validated on its own; undefined when the fleet has none. */
export async function readFleetCatalogSection(path: string): Promise<CatalogDoc | undefined> {
  const text = await readText(path, 'fleet file');
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    throw new ValidationError(`fleet file ${path} is not valid JSON: ${err instanceof Error ? err.message : String(err)}`);
  }
  if (typeof doc !== 'object' || doc === null || !('catalog' in doc)) return undefined;
  return parseCatalogDoc(doc.catalog, `catalog section of fleet file ${path}`);
}

export interface LoadedCatalog {
  catalog: EffectiveCatalog;
  /** the layers applied, in order, for reports */
  layers: Array<{ source: CatalogOrigin; name: string }>;
}

/** The package catalog layered with an override file and a fleet file's section, when given. */
export async function loadCatalog(opts: { file?: string | undefined; fleetFile?: string | undefined }): Promise<LoadedCatalog> {
  const file = opts.file ? await readCatalogFile(opts.file) : undefined;
  const fleet = opts.fleetFile ? await readFleetCatalogSection(opts.fleetFile) : undefined;
  const layers: LoadedCatalog['layers'] = [{ source: 'catalog', name: 'package catalog' }];
  if (file && opts.file) layers.push({ source: 'catalog-file', name: opts.file });
  if (fleet && opts.fleetFile) layers.push({ source: 'fleet-catalog', name: `${opts.fleetFile} (catalog section)` });
  return { catalog: effectiveCatalog({ ...(file ? { file } : {}), ...(fleet ? { fleet } : {}) }), layers };
}

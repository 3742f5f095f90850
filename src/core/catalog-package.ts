import packageCatalogJson from './catalog-gemini.json' with { type: 'json' };
import { parseCatalogDoc, type CatalogDoc } from './catalog-schema.js';

/**
 * The catalog shipped with the package. Imported as a JSON module so it is
 * found the same way from src/ (tsx, vitest) and from dist/src/ (tsc emits
 * imported JSON next to the compiled module); no file system access. Parsed
 * once at load: a broken package catalog fails every import, listing its
 * problems, rather than silently resolving everything to the safe floor.
 */
export const PACKAGE_CATALOG: CatalogDoc = parseCatalogDoc(packageCatalogJson, 'package catalog (src/core/catalog-gemini.json)');

import { readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/**
 * Real Gemini error bodies (test/fixtures/gemini-errors), as Google sent
 * them; the classifier, the adapter and the stand-in are all checked
 * against them.
 */
export const GEMINI_ERRORS_DIR = fileURLToPath(new URL('../fixtures/gemini-errors/', import.meta.url));

export function geminiErrorFixtures(): string[] {
  return readdirSync(GEMINI_ERRORS_DIR).filter((f) => f.endsWith('.json')).sort();
}

export function geminiErrorFixture(name: string): string {
  return readFileSync(`${GEMINI_ERRORS_DIR}${name}`, 'utf8');
}

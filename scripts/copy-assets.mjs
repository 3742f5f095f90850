// Copies the files tsc does not emit (Lua scripts, data) from src/ into dist/src/.
import { cpSync, existsSync } from 'node:fs';

const ASSETS = ['src/adapters/redis/commands'];
for (const dir of ASSETS) {
  if (existsSync(dir)) cpSync(dir, `dist/${dir}`, { recursive: true });
}

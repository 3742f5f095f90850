#!/usr/bin/env node
import('../dist/src/cli/main.js').catch((err) => {
  if (err && err.code === 'ERR_MODULE_NOT_FOUND' && String(err.message).includes('dist/src/cli')) {
    console.error('quotaflow: not built yet; run `npm run build` (npm ci does it for you).');
    process.exit(1);
  }
  throw err;
});

#!/usr/bin/env node
// The `pgcache` command: runs the compiled CLI (npm run build writes dist/).
import('../dist/cli/main.js').catch((error) => {
  if (error?.code === 'ERR_MODULE_NOT_FOUND' && String(error.message).includes('dist/cli/main.js')) {
    console.error('pgcache: dist/ is missing; build it with `npm run build` (or run `npm run cli -- <command>`)');
    process.exit(1);
  }
  throw error;
});

// The opt-in Citus suite, `npm run test:citus`: the main SQL and client tests and the Citus tests
// (test/citus/) against a distributed install on a coordinator and two workers of this machine. Where Citus
// is not installed (CI cannot build it), the suite is one skipped test that says so.
import { defineConfig } from 'vitest/config';
import { citusMissing } from './scripts/lib/citus.js';

// Main test files that hold on a distributed install as they are. See docs/scaling.md for those left out.
const mainFiles = [
  'test/sql/*.test.ts',
  'test/client/{client,input,rate-limit,redis-primitives,tags-transactions,near-cache}.test.ts',
  'test/ai/{embeddings,semantic,tenants,audio-and-search}.test.ts',
  'test/{keyv,express-rate-limit}.test.ts',
  'test/ops/maintenance.test.ts',
  'test/cli/{stats,cleanup-evict}.test.ts',
];

const missing = citusMissing();
if (missing) console.warn(`pgcache: the Citus suite is skipped: ${missing}`);

export default defineConfig({
  test: {
    include: missing ? ['test/citus/absent.test.ts'] : [...mainFiles, 'test/citus/**/*.test.ts'],
    exclude: missing ? [] : ['test/citus/absent.test.ts'],
    globalSetup: missing ? [] : ['test/citus/setup.ts'],
    // One database on the coordinator, reinstalled for each file: files run one after another.
    fileParallelism: false,
    testTimeout: 60_000,
    hookTimeout: 180_000,
  },
});

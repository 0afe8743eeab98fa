// The opt-in Citus suite, `npm run test:citus`: the main SQL and client tests and the Citus tests
// (test/citus/) against a distributed install on a coordinator and two workers of this machine. Where Citus
// is not installed (CI cannot build it), the suite is one skipped test that says so.
import { defineConfig } from 'vitest/config';
import { citusMissing } from './scripts/lib/citus.js';

// The main test files run against the distributed install, as they are. Left out, with the reason:
//   test/ops/maintenance, test/cli/cleanup-evict: their fixtures UPDATE entries with now() of a column, which
//     Citus refuses, and they count one node's batches; test/citus tests expiry and eviction per shard instead
//   test/sql/read-view: tenant-scoped types have no read view on Citus; hash partitioning is refused (PC021)
//   test/sql/tags, test/ai/semantic: a test each reads one node's plan or HOT-update counter (the rest pass)
//   test/sql/limits: one test passes a registry row to a function in its own query (Citus runs it on a shard)
//   test/sql/ddl-concurrency: Citus reads shards without one snapshot: a read across shards can see part of a
//     concurrent batch, and a type dropped under traffic fails calls with Citus' own errors
//   test/client/near-cache: its fault injection calls pg_terminate_backend with an untyped argument, which
//     Citus' overload of that function makes ambiguous
//   test/sql/savings: one test expects a tenant-scoped type read through its view, which Citus installs do not
//     have (the client reads such types through the functions, which touch rows); the other 10 pass
//   test/sql/maintenance and the files that need a database of their own (bare template, standby, cron)
const mainFiles = [
  'test/sql/{get-set,invalidate,atomic,errors,concurrency,leases,rate-limit,read-path,tenants-isolation,type-writer,watch}.test.ts',
  'test/client/{client,input,rate-limit,redis-primitives,tags-transactions}.test.ts',
  'test/ai/{embeddings,tenants,audio-and-search,semantic-quality}.test.ts',
  'test/{keyv,express-rate-limit}.test.ts',
  'test/cli/stats.test.ts',
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

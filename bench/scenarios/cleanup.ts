// Expiry clean-up and eviction of 100,000 rows next to 10,000 live ones, while one reader keeps reading
// live keys of the same table: the time each takes, and the reader's p99 during it against its quiet p99.
// Clean-up runs cache_cleanup_expired in batches of the package's maintenance.batch_size (each its own
// transaction); eviction is one cache_evict call down to the 10,000 live entries (LRU). A p99 over a window of
// about a second is noisy, so each phase runs REPEATS times and the run with the median p99 ratio is reported.
import { performance } from 'node:perf_hooks';
import { createCache } from '../../src/client/cache.js';
import { type BenchContext, fmtMs } from '../lib/context.js';
import { KEYS, loadCacheType, randomKey, VALUE_JSON } from '../lib/fixtures.js';
import { backgroundLoop, percentile, runLoop } from '../lib/harness.js';

export const TYPE = 'bench_cleanup';
export const ROWS = 100_000;
const REPEATS = 3;

export interface PhaseResult {
  rows: number;
  seconds: number;
  statements: number;
  readerOps: number;
  readerP50Ms: number;
  readerP99Ms: number;
  quietP50Ms: number;
  quietP99Ms: number;
  p99Ratio: number;
}

/** Inserts ROWS rows straight into the type's table (cache_set per row would take minutes). */
async function bulkInsert(ctx: BenchContext, prefix: string, expiresSql: string, accessedSql: string) {
  await ctx.pool.query(
    `INSERT INTO pgcache.cache_${TYPE} (type_id, key, version, value_json, byte_size, created_at, expires_at, last_accessed_at)
     SELECT t.id, $1 || g, t.version, $2::jsonb, ${VALUE_JSON.length + 8}, ${accessedSql}, ${expiresSql}, ${accessedSql}
       FROM pgcache.cache_types t, generate_series(1, ${ROWS}) g WHERE t.name = '${TYPE}'`,
    [prefix, VALUE_JSON],
  );
  await ctx.pool.query(`VACUUM ANALYZE pgcache.cache_${TYPE}`);
}

export async function runCleanup(ctx: BenchContext): Promise<void> {
  ctx.log(
    `clean-up and eviction: ${ROWS.toLocaleString('en-US')} rows beside ${KEYS.toLocaleString('en-US')} live ones, one reader`,
  );
  await ctx.cache.createType({ name: TYPE, valueKind: 'jsonb', defaultTtl: 86_400 });
  await loadCacheType(ctx.cache.type(TYPE));
  const readerCache = await createCache({ pool: ctx.db.pool(1) });
  const reader = readerCache.type(TYPE);
  const readOp = () => reader.get(randomKey());
  const quietMs = ctx.flags.quick ? 1000 : 2000;
  const batch = Number(
    (await ctx.pool.query(`SELECT value FROM pgcache.cache_settings WHERE name = 'maintenance.batch_size'`)).rows[0]
      ?.value ?? 5000,
  );

  const phase = async (name: string, work: () => Promise<{ rows: number; statements: number }>) => {
    await runLoop(readOp, 1, 300, 100_000); // warm the reader's connection and statements
    const quiet = await runLoop(readOp, 1, quietMs, 1_000_000);
    const quietSorted = Float64Array.from(quiet.latencies).sort();
    const bg = backgroundLoop(readOp, 300_000, 5_000_000);
    const t0 = performance.now();
    const done = await work();
    const seconds = (performance.now() - t0) / 1000;
    const during = await bg.stop();
    const sorted = Float64Array.from(during.latencies).sort();
    const result: PhaseResult = {
      rows: done.rows,
      seconds,
      statements: done.statements,
      readerOps: during.count,
      readerP50Ms: percentile(sorted, 50),
      readerP99Ms: percentile(sorted, 99),
      quietP50Ms: percentile(quietSorted, 50),
      quietP99Ms: percentile(quietSorted, 99),
      p99Ratio: percentile(sorted, 99) / percentile(quietSorted, 99),
    };
    ctx.log(
      `  ${name.padEnd(46)} ${done.rows.toLocaleString('en-US')} rows in ${seconds.toFixed(2)} s (${done.statements} statements); ` +
        `reader p99 ${fmtMs(result.readerP99Ms)} vs quiet ${fmtMs(result.quietP99Ms)} (${result.p99Ratio.toFixed(2)}x)`,
    );
    return result;
  };

  const clean = async () => {
    let rows = 0;
    let statements = 0;
    for (;;) {
      const n = Number(
        (await ctx.pool.query('SELECT pgcache.cache_cleanup_expired($1, $2) AS n', [TYPE, batch])).rows[0]?.n,
      );
      rows += n;
      statements++;
      if (n < batch) break;
    }
    return { rows, statements };
  };
  const evict = async () => {
    const n = Number((await ctx.pool.query('SELECT pgcache.cache_evict($1, $2) AS n', [TYPE, KEYS])).rows[0]?.n);
    return { rows: n, statements: 1 };
  };
  const cleanups: PhaseResult[] = [];
  const evictions: PhaseResult[] = [];
  const repeats = ctx.flags.quick ? 1 : REPEATS;
  for (let i = 0; i < repeats; i++) {
    await bulkInsert(ctx, 'x', `now() - interval '1 hour'`, `now() - interval '2 hours'`);
    cleanups.push(await phase(`cache_cleanup_expired, batches of ${batch}`, clean));
    await bulkInsert(ctx, 'y', `now() + interval '1 day'`, `now() - interval '1 day'`);
    evictions.push(await phase(`cache_evict to ${KEYS.toLocaleString('en-US')} entries (lru)`, evict));
  }
  const medianRun = (runs: PhaseResult[]) =>
    [...runs].sort((a, b) => a.p99Ratio - b.p99Ratio)[Math.floor((runs.length - 1) / 2)] as PhaseResult;
  const cleanup = medianRun(cleanups);
  const eviction = medianRun(evictions);
  const live = Number(
    (await ctx.pool.query(`SELECT count(*) AS n FROM pgcache.cache_${TYPE} WHERE key LIKE 'k%'`)).rows[0]?.n,
  );
  if ([...cleanups, ...evictions].some((r) => r.rows !== ROWS) || live !== KEYS) {
    throw new Error(
      `pgcache bench: clean-up removed ${cleanup.rows}, eviction ${eviction.rows}, live keys left ${live} (want ${ROWS}, ${ROWS}, ${KEYS})`,
    );
  }
  ctx.results.scenarios.cleanup = { batch, cleanup, eviction, cleanupRuns: cleanups, evictionRuns: evictions };
}

// Churn: table and index size of a type's table after 200,000 mixed operations (60% get, 28% set, 10% set
// with a 2-second TTL so entries expire, 2% delete) over its 10,000 keys at c=16, against its size right
// after loading. Autovacuum runs at the package's table settings (_entries_storage_options) and the server's
// naptime; cache_maintenance() runs every 10 seconds, as a pg_cron schedule would (the default is a minute).
// The naive table cache takes the same mix for comparison (its own get and set; expiry by an hourly DELETE, so
// none in the window).
import { type BenchContext, fmtMs } from '../lib/context.js';
import {
  loadCacheType,
  loadNaive,
  naiveGetSql,
  naiveSetSql,
  type RelationSize,
  randomKey,
  relationSize,
  VALUE,
  VALUE_JSON,
} from '../lib/fixtures.js';
import { runLoop, summarize } from '../lib/harness.js';

export const TYPE = 'bench_churn';
const NAIVE_TABLE = 'naive_cache_churn';
const MAINTENANCE_EVERY_MS = 10_000;

interface ChurnResult {
  ops: number;
  seconds: number;
  opsPerSec: number;
  p99Ms: number;
  before: RelationSize;
  after: RelationSize;
  ratio: number;
  autovacuumRuns: number;
  maintenanceRuns: number;
  deadTuplesAfter: number;
}

async function vacuumStats(ctx: BenchContext, relation: string) {
  const { rows } = await ctx.pool.query(
    'SELECT autovacuum_count, n_dead_tup FROM pg_stat_user_tables WHERE relid = $1::regclass',
    [relation],
  );
  return { autovacuum: Number(rows[0]?.autovacuum_count ?? 0), dead: Number(rows[0]?.n_dead_tup ?? 0) };
}

async function churn(
  ctx: BenchContext,
  relation: string,
  op: (r: number, k: string) => Promise<unknown>,
  maintenance?: () => Promise<unknown>,
): Promise<ChurnResult> {
  await ctx.pool.query(`VACUUM ANALYZE ${relation}`);
  const before = await relationSize(ctx.pool, relation);
  const statsBefore = await vacuumStats(ctx, relation);
  const total = ctx.flags.quick ? 20_000 : 200_000;
  let maintenanceRuns = 0;
  let running: Promise<unknown> = Promise.resolve();
  const timer = maintenance
    ? setInterval(() => {
        running = running.then(async () => {
          await maintenance();
          maintenanceRuns++;
        });
      }, MAINTENANCE_EVERY_MS)
    : undefined;
  const loop = await runLoop(() => op(Math.random(), randomKey()), 16, 300_000, total);
  if (timer) clearInterval(timer);
  await running;
  // Let the statistics collector catch up before reading autovacuum counters.
  await new Promise((resolve) => setTimeout(resolve, 1000));
  const after = await relationSize(ctx.pool, relation);
  const statsAfter = await vacuumStats(ctx, relation);
  const sample = summarize(16, [loop]);
  return {
    ops: loop.count,
    seconds: loop.elapsedMs / 1000,
    opsPerSec: sample.opsPerSec,
    p99Ms: sample.p99Ms,
    before,
    after,
    ratio: after.total / before.total,
    autovacuumRuns: statsAfter.autovacuum - statsBefore.autovacuum,
    maintenanceRuns,
    deadTuplesAfter: statsAfter.dead,
  };
}

const mb = (bytes: number) => `${(bytes / 2 ** 20).toFixed(1)} MB`;

function report(ctx: BenchContext, name: string, r: ChurnResult) {
  ctx.log(
    `  ${name.padEnd(46)} ${r.ops.toLocaleString('en-US')} ops in ${r.seconds.toFixed(1)} s (p99 ${fmtMs(r.p99Ms)}): ` +
      `${mb(r.before.total)} -> ${mb(r.after.total)} (${r.ratio.toFixed(2)}x), autovacuum runs ${r.autovacuumRuns}` +
      `, dead tuples left ${r.deadTuplesAfter}`,
  );
}

export async function runChurn(ctx: BenchContext): Promise<void> {
  ctx.log('churn: 60% get, 28% set, 10% set expiring in 2 s, 2% delete; random key of 10,000, c=16');
  await ctx.cache.createType({ name: TYPE, valueKind: 'jsonb', defaultTtl: 3600 });
  const t = ctx.cache.type(TYPE);
  await loadCacheType(t, 3600);
  const pgcache = await churn(
    ctx,
    `pgcache.cache_${TYPE}`,
    (r, k) =>
      r < 0.6
        ? t.get(k)
        : r < 0.88
          ? t.set(k, VALUE, { ttl: 3600 })
          : r < 0.98
            ? t.set(k, VALUE, { ttl: 2 })
            : t.delete(k),
    () => ctx.pool.query('SELECT count(*) FROM pgcache.cache_maintenance()'),
  );
  report(ctx, 'pgcache type table', pgcache);

  await loadNaive(ctx.pool, NAIVE_TABLE);
  const get = naiveGetSql(NAIVE_TABLE);
  const set = naiveSetSql(NAIVE_TABLE);
  const naive = await churn(ctx, NAIVE_TABLE, (r, k) =>
    r < 0.6
      ? ctx.pool.query(get, [k])
      : r < 0.98
        ? ctx.pool.query(set, [k, VALUE_JSON, new Date(Date.now() + (r < 0.88 ? 3600_000 : 2000))])
        : ctx.pool.query(`DELETE FROM ${NAIVE_TABLE} WHERE cache_key = $1`, [k]),
  );
  report(ctx, 'naive table cache (same mix)', naive);
  ctx.results.scenarios.churn = { pgcache, naive, maintenanceEveryMs: MAINTENANCE_EVERY_MS };
}

// L1 near-cache: hits served from the client's in-process LRU against Redis GET at c=1, and the staleness
// window: after a write commits on another connection, how long an L1 reader keeps serving the old value.
// Runs only when the client honours `createCache({ pool, nearCache: { maxEntries } })`; a probe decides that by
// behaviour (a change made behind pgcache's back, without a notification, stays invisible to an L1 reader).
import { performance } from 'node:perf_hooks';
import { createCache } from '../../src/client/cache.js';
import { type BenchContext, record } from '../lib/context.js';
import { KEYS, key, loadCacheType, randomKey, VALUE } from '../lib/fixtures.js';
import { type Case, measureGroup, percentile, sleep } from '../lib/harness.js';
import { readOps } from './reads.js';

const TYPE = 'bench_l1';
const STALENESS_SAMPLES = 200;
const STALENESS_LIMIT_MS = 2000;
export const L1_UNAVAILABLE = 'L1: not available in this build';

const yieldToIo = () => new Promise<void>((resolve) => setImmediate(resolve));

export async function runNearCache(ctx: BenchContext): Promise<void> {
  ctx.log('L1 near-cache: hits vs Redis GET (c=1), staleness after a committed write elsewhere');
  await ctx.cache.createType({ name: TYPE, valueKind: 'jsonb', defaultTtl: 86_400 });
  const hasNotify = await ctx.pool.query(`SELECT 1 FROM pg_proc WHERE proname = 'cache_configure_notify'`);
  if (hasNotify.rowCount) await ctx.pool.query('SELECT pgcache.cache_configure_notify($1, true)', [TYPE]);
  const writer = ctx.cache.type(TYPE);
  await loadCacheType(writer);

  // Passed as a variable: builds whose CacheOptions lack `nearCache` still compile (and ignore it).
  const options = { pool: ctx.db.pool(4), nearCache: { maxEntries: 2 * KEYS } };
  const l1Cache = await createCache(options);
  const l1 = l1Cache.type(TYPE);

  if (!(await probe(ctx, writer, l1))) {
    ctx.log(`  ${L1_UNAVAILABLE}`);
    ctx.results.scenarios.nearCache = { skipped: L1_UNAVAILABLE };
    await l1Cache.close();
    return;
  }

  for (let i = 1; i <= KEYS; i++) await l1.get(key(i)); // every key in L1
  const redisGet = readOps(ctx)['redis.get'];
  const cases: Case[] = [
    { id: 'l1.get', concurrency: 1, op: () => l1.get(randomKey()) },
    { id: 'redis.get', concurrency: 1, op: () => redisGet(randomKey()) },
  ];
  const labels: Record<string, string> = {
    'l1.get': 'L1 near-cache hit (cache.get)',
    'redis.get': 'Redis GET (same group)',
  };
  await measureGroup(cases, { ...ctx.timing, maxOpsPerRound: 5_000_000 }, (c, s) =>
    record(ctx, 'near-cache', c.id === 'redis.get' ? 'l1.redis.get' : c.id, labels[c.id] ?? c.id, s),
  );

  // Staleness: the writer's set has returned (so it committed); the L1 reader polls, yielding to I/O between
  // polls so the notification can be handled, until it sees the new value.
  const samples = ctx.flags.quick ? 20 : STALENESS_SAMPLES;
  const windows: number[] = [];
  let timedOut = 0;
  for (let i = 0; i < samples; i++) {
    const k = randomKey();
    await l1.get(k);
    await writer.set(k, { ...VALUE, rev: i });
    const committed = performance.now();
    for (;;) {
      const seen = (await l1.get(k)) as { rev?: number } | undefined;
      const elapsed = performance.now() - committed;
      if (seen?.rev === i) {
        windows.push(elapsed);
        break;
      }
      if (elapsed > STALENESS_LIMIT_MS) {
        windows.push(elapsed);
        timedOut++;
        break;
      }
      await yieldToIo();
    }
    await sleep(5);
  }
  const sorted = Float64Array.from(windows).sort();
  const staleness = {
    samples,
    p50Ms: percentile(sorted, 50),
    p99Ms: percentile(sorted, 99),
    maxMs: sorted[sorted.length - 1] ?? Number.NaN,
    timedOut,
  };
  ctx.log(
    `  staleness after a committed write: p50 ${staleness.p50Ms.toFixed(2)} ms, p99 ${staleness.p99Ms.toFixed(2)} ms, ` +
      `max ${staleness.maxMs.toFixed(2)} ms over ${samples} writes${timedOut ? ` (${timedOut} never seen within ${STALENESS_LIMIT_MS} ms)` : ''}`,
  );
  ctx.results.scenarios.nearCache = { staleness };
  await l1Cache.close();
}

/**
 * Whether reads are served from L1: a value changed directly in the table (no pgcache function, triggers
 * off, so no notification) must stay invisible to a reader that has it cached. Retries for a few seconds in
 * case L1 waits for its listener to connect.
 */
async function probe(
  ctx: BenchContext,
  writer: ReturnType<BenchContext['cache']['accessor']>,
  l1: ReturnType<BenchContext['cache']['accessor']>,
): Promise<boolean> {
  const deadline = Date.now() + 3000;
  for (let attempt = 0; Date.now() < deadline; attempt++) {
    await writer.set('l1-probe', { attempt, direct: false });
    await sleep(100);
    await l1.get('l1-probe');
    const client = await ctx.pool.connect();
    try {
      await client.query('BEGIN');
      await client.query('SET LOCAL session_replication_role = replica');
      await client.query(
        `UPDATE pgcache.cache_${TYPE} SET value_json = jsonb_build_object('attempt', $1::int, 'direct', true) WHERE key = 'l1-probe'`,
        [attempt],
      );
      await client.query('COMMIT');
    } finally {
      client.release();
    }
    const seen = (await l1.get('l1-probe')) as { direct?: boolean } | undefined;
    if (seen?.direct === false) return true;
    await sleep(200);
  }
  return false;
}

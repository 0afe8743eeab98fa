// Rate limiting: cache.rateLimit through the TS client against what a fixed-window limiter does on Redis
// (INCR + PEXPIRE NX in one MULTI, one round trip) and the floor of a counter in PostgreSQL, a bare
// `UPDATE ... SET n = n + 1 RETURNING n` on a plain table. Random keys of 10,000 at c=1 and c=16, then a hot
// key (16 clients on one limiter key), where every hit queues on one row lock, and a hot key whose limit is
// spent (denials, which write nothing).
import { type BenchContext, record } from '../lib/context.js';
import { KEYS, randomKey } from '../lib/fixtures.js';
import { type Case, measureGroup } from '../lib/harness.js';

const COUNTER_TABLE = 'bench_counters';
const WINDOW_SECONDS = 3600;
/** High enough that no bench key is ever denied (each case measures the consuming path). */
const OPEN_LIMIT = 1_000_000_000;
const HOT_KEY = 'k1';
const HOT_CONCURRENCY = 16;

export const RATE_LIMIT_CASES = {
  'rl.pgcache': 'pgcache cache.rateLimit (allowed)',
  'rl.redis.incr': 'Redis INCR + PEXPIRE NX (MULTI)',
  'rl.bare.update': 'bare UPDATE n = n + 1 RETURNING n (named)',
} as const;
const HOT_CASES = {
  'rl.hot.pgcache': 'hot limiter key: pgcache cache.rateLimit',
  'rl.hot.pgcache.denied': 'hot limiter key: pgcache, limit spent (denials)',
  'rl.hot.redis.incr': 'hot limiter key: Redis INCR + PEXPIRE NX',
  'rl.hot.bare.update': 'hot limiter key: bare UPDATE n = n + 1',
} as const;

export async function runRateLimit(ctx: BenchContext): Promise<void> {
  ctx.log('rate limit: one hit of a limiter key (window 1 hour), random keys of 10,000, then one hot key');
  await ctx.pool.query(`DROP TABLE IF EXISTS ${COUNTER_TABLE}`);
  await ctx.pool.query(`CREATE TABLE ${COUNTER_TABLE} (k text PRIMARY KEY, n bigint NOT NULL) WITH (fillfactor = 75)`);
  await ctx.pool.query(`INSERT INTO ${COUNTER_TABLE} SELECT 'k' || i, 0 FROM generate_series(1, $1) i`, [KEYS]);
  await ctx.pool.query('DELETE FROM pgcache.rate_limits WHERE bucket IN ($1, $2)', ['bench', 'bench_spent']);
  // Every key's window exists before the timing starts, as for the counters table and Redis after warm-up.
  await ctx.pool.query(
    `SELECT pgcache.cache_rate_limit('bench', 'k' || i, $2, interval '1 hour') FROM generate_series(1, $1) i`,
    [KEYS, OPEN_LIMIT],
  );
  await ctx.pool.query(`SELECT pgcache.cache_rate_limit('bench_spent', $1, 1, interval '1 hour')`, [HOT_KEY]);
  await ctx.pool.query(`VACUUM ANALYZE ${COUNTER_TABLE}`);
  await ctx.pool.query('VACUUM ANALYZE pgcache.rate_limits');

  const open = { limit: OPEN_LIMIT, window: WINDOW_SECONDS };
  const ops = {
    pgcache: (k: string) => ctx.cache.rateLimit('bench', k, open),
    denied: (k: string) => ctx.cache.rateLimit('bench_spent', k, { limit: 1, window: WINDOW_SECONDS }),
    redis: (k: string) =>
      ctx.redis
        .multi()
        .incr(`rl:${k}`)
        .pexpire(`rl:${k}`, WINDOW_SECONDS * 1000, 'NX')
        .exec(),
    bare: (k: string) =>
      ctx.pool.query({
        name: 'bench_counter_update',
        text: `UPDATE ${COUNTER_TABLE} SET n = n + 1 WHERE k = $1 RETURNING n`,
        values: [k],
      }),
  };
  const vacuum = (table: string) => () => ctx.pool.query(`VACUUM ${table}`);

  for (const concurrency of ctx.concurrencies) {
    await ctx.pool.query('CHECKPOINT');
    const cases: Case[] = [
      { id: 'rl.pgcache', concurrency, op: () => ops.pgcache(randomKey()), after: vacuum('pgcache.rate_limits') },
      { id: 'rl.redis.incr', concurrency, op: () => ops.redis(randomKey()) },
      { id: 'rl.bare.update', concurrency, op: () => ops.bare(randomKey()), after: vacuum(COUNTER_TABLE) },
    ];
    await measureGroup(cases, ctx.timing, (c, s) =>
      record(ctx, 'rate-limit', c.id, RATE_LIMIT_CASES[c.id as keyof typeof RATE_LIMIT_CASES], s),
    );
  }

  ctx.log(`rate limit, hot key: ${HOT_CONCURRENCY} clients on one limiter key`);
  await ctx.pool.query('CHECKPOINT');
  const hot: Case[] = [
    {
      id: 'rl.hot.pgcache',
      concurrency: HOT_CONCURRENCY,
      op: () => ops.pgcache(HOT_KEY),
      after: vacuum('pgcache.rate_limits'),
    },
    { id: 'rl.hot.pgcache.denied', concurrency: HOT_CONCURRENCY, op: () => ops.denied(HOT_KEY) },
    { id: 'rl.hot.redis.incr', concurrency: HOT_CONCURRENCY, op: () => ops.redis(HOT_KEY) },
    {
      id: 'rl.hot.bare.update',
      concurrency: HOT_CONCURRENCY,
      op: () => ops.bare(HOT_KEY),
      after: vacuum(COUNTER_TABLE),
    },
  ];
  await measureGroup(hot, ctx.timing, (c, s) =>
    record(ctx, 'rate-limit', c.id, HOT_CASES[c.id as keyof typeof HOT_CASES], s),
  );
  await ctx.pool.query(`DROP TABLE ${COUNTER_TABLE}`);
  await ctx.pool.query('DELETE FROM pgcache.rate_limits WHERE bucket IN ($1, $2)', ['bench', 'bench_spent']);
}

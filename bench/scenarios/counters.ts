// Counters: cache.incr through the TS client against Redis INCR and the floor of a Postgres counter, a bare
// `UPDATE ... SET n = n + 1 RETURNING n` on a plain table. Each op increments a random one of 1,000 counters
// that exist already (so every case takes its update path, none creates a key).
import { type BenchContext, record } from '../lib/context.js';
import { type Case, measureGroup } from '../lib/harness.js';

const COUNTERS = 1000;
const counterKey = () => `n${1 + Math.floor(Math.random() * COUNTERS)}`;

export const COUNTER_CASES = {
  'redis.incr': 'Redis INCR (ioredis)',
  'bare.update.incr': 'bare UPDATE n = n + 1 RETURNING n (named)',
  'pgcache.incr': 'pgcache cache.incr (durable type)',
} as const;
export type CounterCase = keyof typeof COUNTER_CASES;

export async function runCounters(ctx: BenchContext): Promise<void> {
  ctx.log(`counters: increment a random one of ${COUNTERS.toLocaleString('en-US')} existing counters`);
  await ctx.pool.query('DROP TABLE IF EXISTS bench_counter');
  await ctx.pool.query('CREATE TABLE bench_counter (k text PRIMARY KEY, n bigint NOT NULL) WITH (fillfactor = 75)');
  await ctx.pool.query(`INSERT INTO bench_counter SELECT 'n' || i, 0 FROM generate_series(1, ${COUNTERS}) i`);
  await ctx.cache.createType({ name: 'bench_counters', valueKind: 'jsonb', defaultTtl: 86_400 }).catch(async () => {
    await ctx.cache.refreshTypes();
  });
  const counters = ctx.cache.type('bench_counters');
  for (let i = 1; i <= COUNTERS; i++) {
    await counters.incr(`n${i}`, 0);
    await ctx.redis.set(`n${i}`, '0');
  }
  await ctx.pool.query('VACUUM ANALYZE bench_counter, pgcache.cache_bench_counters');

  const ops: Record<CounterCase, () => Promise<unknown>> = {
    'redis.incr': () => ctx.redis.incr(counterKey()),
    'bare.update.incr': () =>
      ctx.pool.query({
        name: 'bench_bare_incr',
        text: 'UPDATE bench_counter SET n = n + 1 WHERE k = $1 RETURNING n',
        values: [counterKey()],
      }),
    'pgcache.incr': () => counters.incr(counterKey()),
  };
  const written: Partial<Record<CounterCase, string>> = {
    'bare.update.incr': 'bench_counter',
    'pgcache.incr': 'pgcache.cache_bench_counters',
  };
  for (const concurrency of ctx.concurrencies) {
    await ctx.pool.query('CHECKPOINT');
    const cases: Case[] = (Object.keys(COUNTER_CASES) as CounterCase[]).map((id) => {
      const table = written[id];
      return {
        id,
        concurrency,
        op: () => ops[id](),
        after: table ? () => ctx.pool.query(`VACUUM ${table}`) : undefined,
      };
    });
    await measureGroup(cases, ctx.timing, (c, s) =>
      record(ctx, 'counters', c.id, COUNTER_CASES[c.id as CounterCase], s),
    );
  }
}

// Batches: cache_get_many of 100 keys in one round trip against 100 sequential cache.get calls, with the
// floor of a batched read (a bare SELECT ... WHERE k = ANY ($1) on the plain table) and Redis MGET of 100 for
// scale. One op is one batch of 100 distinct random keys, c=1.
import { type BenchContext, record } from '../lib/context.js';
import { KEYS, key } from '../lib/fixtures.js';
import { type Case, measureGroup } from '../lib/harness.js';

export const BATCH = 100;

function randomBatch(): string[] {
  const picked = new Set<number>();
  while (picked.size < BATCH) picked.add(1 + Math.floor(Math.random() * KEYS));
  return [...picked].map(key);
}

export async function runGetMany(ctx: BenchContext): Promise<void> {
  ctx.log(`batches: ${BATCH} random keys per op, c=1`);
  const bench = ctx.cache.accessor('bench');
  const check = await bench.getMany(randomBatch());
  if (check.some((v) => v === undefined)) throw new Error('pgcache bench: getMany missed loaded keys');
  const cases: Case[] = [
    { id: 'pgcache.getMany100', concurrency: 1, op: () => bench.getMany(randomBatch()) },
    {
      id: 'pgcache.get.x100',
      concurrency: 1,
      op: async () => {
        for (const k of randomBatch()) await bench.get(k);
      },
    },
    {
      id: 'bare.selectAny100',
      concurrency: 1,
      op: async () =>
        (
          await ctx.pool.query({
            name: 'bench_bare_get_many',
            text: 'SELECT k, v FROM kv WHERE k = ANY ($1)',
            values: [randomBatch()],
          })
        ).rows,
    },
    {
      id: 'redis.mget100',
      concurrency: 1,
      op: async () => (await ctx.redis.mget(randomBatch())).map((v) => (v === null ? undefined : JSON.parse(v))),
    },
  ];
  const labels: Record<string, string> = {
    'pgcache.getMany100': `pgcache getMany(${BATCH}) (one cache_get_many)`,
    'pgcache.get.x100': `pgcache ${BATCH} sequential cache.get`,
    'bare.selectAny100': `bare SELECT ... WHERE k = ANY (${BATCH} keys)`,
    'redis.mget100': `Redis MGET ${BATCH} + JSON.parse`,
  };
  await measureGroup(cases, ctx.timing, (c, s) => record(ctx, 'get-many', c.id, labels[c.id] ?? c.id, s));
}

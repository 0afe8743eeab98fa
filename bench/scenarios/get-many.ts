// Batches of 100 distinct random keys, c=1: cache_get_many against the floor of a batched read (a bare
// SELECT ... WHERE k = ANY ($1) on the plain table, named prepared), cache_set_many against the floor of a
// batched write (a bare multi-row upsert of 100 rows from unnest, named prepared), 100 sequential cache.get
// and Redis MGET for scale. Also counts the round trips of Keyv deleteMany on pgcache/keyv.
import type pg from 'pg';
import { type BenchContext, record } from '../lib/context.js';
import { KEYS, key, VALUE } from '../lib/fixtures.js';
import { type Case, measureGroup } from '../lib/harness.js';

export const BATCH = 100;
const TTL_SECONDS = 3600;

function randomBatch(): string[] {
  const picked = new Set<number>();
  while (picked.size < BATCH) picked.add(1 + Math.floor(Math.random() * KEYS));
  return [...picked].map(key);
}

/** How many statements `fn` sends through `pool` (pool.query and queries on clients it hands out). */
export async function countRoundTrips(pool: pg.Pool, fn: () => Promise<unknown>): Promise<number> {
  let count = 0;
  const query = pool.query;
  const connect = pool.connect;
  const p = pool as any;
  p.query = (...args: unknown[]) => {
    count++;
    return query.apply(pool, args as never);
  };
  p.connect = (...args: unknown[]) =>
    typeof args[0] === 'function' ? connect.apply(pool, args as never) : countedClient();
  const countedClient = async () => {
    const client = (await connect.apply(pool)) as unknown as pg.PoolClient;
    const q = client.query;
    (client as any).query = (...a: unknown[]) => {
      count++;
      return q.apply(client, a as never);
    };
    const release = client.release;
    client.release = (err?: Error | boolean) => {
      (client as any).query = q;
      client.release = release;
      return release.call(client, err);
    };
    return client;
  };
  try {
    await fn();
  } finally {
    p.query = query;
    p.connect = connect;
  }
  return count;
}

const BARE_UPSERT_MANY =
  'INSERT INTO kv (k, v) SELECT * FROM unnest($1::text[], $2::jsonb[]) ON CONFLICT (k) DO UPDATE SET v = excluded.v';

export async function runGetMany(ctx: BenchContext): Promise<void> {
  ctx.log(`batches: ${BATCH} distinct random keys per op, c=1`);
  const bench = ctx.cache.type('bench');
  const check = await bench.getMany(randomBatch());
  if (check.some((v) => v === undefined)) throw new Error('pgcache bench: getMany missed loaded keys');
  const values = Array.from({ length: BATCH }, () => VALUE);
  const reads: Case[] = [
    { id: 'pgcache.getMany100', concurrency: 1, op: () => bench.getMany(randomBatch()) },
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
      id: 'pgcache.get.x100',
      concurrency: 1,
      op: async () => {
        for (const k of randomBatch()) await bench.get(k);
      },
    },
    {
      id: 'redis.mget100',
      concurrency: 1,
      op: async () => (await ctx.redis.mget(randomBatch())).map((v) => (v === null ? undefined : JSON.parse(v))),
    },
  ];
  const vacuum = (table: string) => () => ctx.pool.query(`VACUUM ${table}`);
  const writes: Case[] = [
    {
      id: 'pgcache.setMany100',
      concurrency: 1,
      op: () =>
        bench.setMany(
          randomBatch().map((k) => [k, VALUE] as const),
          { ttl: TTL_SECONDS },
        ),
      after: vacuum('pgcache.cache_bench'),
    },
    {
      id: 'bare.upsertMany100',
      concurrency: 1,
      op: () =>
        ctx.pool.query({ name: 'bench_bare_upsert_many', text: BARE_UPSERT_MANY, values: [randomBatch(), values] }),
      after: vacuum('kv'),
    },
  ];
  const labels: Record<string, string> = {
    'pgcache.getMany100': `pgcache getMany(${BATCH}) (one cache_get_many)`,
    'bare.selectAny100': `bare SELECT ... WHERE k = ANY (${BATCH} keys, named)`,
    'pgcache.get.x100': `pgcache ${BATCH} sequential cache.get`,
    'redis.mget100': `Redis MGET ${BATCH} + JSON.parse`,
    'pgcache.setMany100': `pgcache setMany(${BATCH}) (one cache_set_many)`,
    'bare.upsertMany100': `bare multi-row upsert (${BATCH} rows, named)`,
  };
  await measureGroup(reads, ctx.timing, (c, s) => record(ctx, 'batches', c.id, labels[c.id] ?? c.id, s));
  await ctx.pool.query('CHECKPOINT');
  await measureGroup(writes, ctx.timing, (c, s) => record(ctx, 'batches', c.id, labels[c.id] ?? c.id, s));

  // Keyv deleteMany of 10 keys on pgcache/keyv: statements sent (1 = one round trip).
  const doomed = Array.from({ length: 10 }, (_, i) => `gone${i}`);
  for (const k of doomed) await ctx.keyvPgcache.set(k, VALUE);
  const deleteManyRoundTrips = await countRoundTrips(ctx.pool, () => ctx.keyvPgcache.deleteMany(doomed));
  ctx.log(`  Keyv deleteMany(10) on pgcache/keyv: ${deleteManyRoundTrips} statement(s)`);
  ctx.results.scenarios.batches = { deleteManyRoundTrips, deleteManyKeys: doomed.length };
}

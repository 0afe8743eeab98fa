// Write path: cache.set through the TS client (durable type, UNLOGGED type, and a session with
// synchronous_commit=off) against a bare upsert on a plain table, the naive table cache's set, Keyv and Redis SET.
// Every op overwrites a random one of the 10,000 loaded keys, so all of them take the ON CONFLICT path.
import { createCache } from '../../src/client/cache.js';
import { type BenchContext, record } from '../lib/context.js';
import { naiveSetSql, randomKey, VALUE } from '../lib/fixtures.js';
import { type Case, measureGroup } from '../lib/harness.js';
import { NAIVE_TABLE } from './reads.js';

const TTL_SECONDS = 3600;

export const WRITE_CASES = {
  'redis.set': 'Redis SET EX (ioredis) + JSON.stringify',
  'bare.upsert': 'bare upsert INSERT ... ON CONFLICT (named)',
  'pgcache.set': 'pgcache cache.set (durable type)',
  'pgcache.set.unlogged': 'pgcache cache.set (UNLOGGED type)',
  'pgcache.set.async': 'pgcache cache.set (synchronous_commit=off)',
  'naive.set': 'naive table set (upsert counting a hit)',
  'keyv.postgres.set': 'Keyv + @keyv/postgres set',
  'keyv.pgcache.set': 'Keyv + pgcache/keyv set',
} as const;
export type WriteCase = keyof typeof WRITE_CASES;

export async function runWrites(ctx: BenchContext): Promise<void> {
  ctx.log('writes: overwrite a random key of 10,000 with a ~1 KB JSON value, TTL 1 hour where there is one');
  // A session setting, as an application would set it for its cache connections only.
  const asyncCache = await createCache({ pool: ctx.db.pool(16, '-c synchronous_commit=off') });
  const durable = ctx.cache.type('bench');
  const unlogged = ctx.cache.type('bench_unlogged');
  const asyncBench = asyncCache.type('bench');
  const naiveSet = naiveSetSql(NAIVE_TABLE);
  const ops: Record<WriteCase, (k: string) => Promise<unknown>> = {
    'redis.set': (k) => ctx.redis.set(k, JSON.stringify(VALUE), 'EX', TTL_SECONDS),
    'bare.upsert': (k) =>
      ctx.pool.query({
        name: 'bench_bare_upsert',
        text: 'INSERT INTO kv (k, v) VALUES ($1, $2) ON CONFLICT (k) DO UPDATE SET v = excluded.v',
        values: [k, VALUE],
      }),
    'pgcache.set': (k) => durable.set(k, VALUE, { ttl: TTL_SECONDS }),
    'pgcache.set.unlogged': (k) => unlogged.set(k, VALUE, { ttl: TTL_SECONDS }),
    'pgcache.set.async': (k) => asyncBench.set(k, VALUE, { ttl: TTL_SECONDS }),
    'naive.set': (k) => ctx.pool.query(naiveSet, [k, JSON.stringify(VALUE), new Date(Date.now() + TTL_SECONDS * 1000)]),
    'keyv.postgres.set': (k) => ctx.keyvPostgres.set(k, VALUE, TTL_SECONDS * 1000),
    'keyv.pgcache.set': (k) => ctx.keyvPgcache.set(k, VALUE, TTL_SECONDS * 1000),
  };
  // The table each case writes: vacuumed (untimed) after each of its rounds, so autovacuum of one case's dead
  // tuples does not run during another case's round.
  const written: Partial<Record<WriteCase, string>> = {
    'bare.upsert': 'kv',
    'pgcache.set': 'pgcache.cache_bench',
    'pgcache.set.unlogged': 'pgcache.cache_bench_unlogged',
    'pgcache.set.async': 'pgcache.cache_bench',
    'naive.set': NAIVE_TABLE,
    'keyv.postgres.set': 'keyv_bench',
    'keyv.pgcache.set': 'pgcache.cache_keyv',
  };
  for (const concurrency of ctx.concurrencies) {
    // A checkpoint now, so a timed one does not start (and bring full-page writes) halfway through the group.
    await ctx.pool.query('CHECKPOINT');
    const cases: Case[] = (Object.keys(WRITE_CASES) as WriteCase[]).map((id) => {
      const table = written[id];
      return {
        id,
        concurrency,
        op: () => ops[id](randomKey()),
        after: table ? () => ctx.pool.query(`VACUUM ${table}`) : undefined,
      };
    });
    await measureGroup(cases, ctx.timing, (c, s) => record(ctx, 'writes', c.id, WRITE_CASES[c.id as WriteCase], s));
  }
}

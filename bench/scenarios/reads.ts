// Read path: cache.get through the TS client against the floor of any Postgres read (a bare primary-key
// SELECT on a plain table with the same data, unnamed and named prepared), a naive table cache's get (an UPDATE per read),
// Keyv on @keyv/postgres (and on pgcache's own Keyv store), and Redis GET. Random key per op, c=1 and c=16.
import { isDeepStrictEqual } from 'node:util';
import { type BenchContext, record } from '../lib/context.js';
import { naiveGetSql, randomKey, VALUE } from '../lib/fixtures.js';
import { type Case, measureGroup } from '../lib/harness.js';

export const NAIVE_TABLE = 'naive_cache';

export const READ_CASES = {
  'redis.get': 'Redis GET (ioredis) + JSON.parse',
  'bare.select': 'bare PK SELECT (unnamed)',
  'bare.select.named': 'bare PK SELECT (named prepared)',
  'pgcache.get': 'pgcache cache.get',
  'naive.get': 'naive table get (UPDATE per read)',
  'keyv.postgres.get': 'Keyv + @keyv/postgres get',
  'keyv.pgcache.get': 'Keyv + pgcache/keyv get',
} as const;
export type ReadCase = keyof typeof READ_CASES;

export function readOps(ctx: BenchContext): Record<ReadCase, (k: string) => Promise<unknown>> {
  const bench = ctx.cache.type('bench');
  const naiveGet = naiveGetSql(NAIVE_TABLE);
  return {
    'redis.get': async (k) => {
      const raw = await ctx.redis.get(k);
      return raw === null ? undefined : JSON.parse(raw);
    },
    'bare.select': async (k) => (await ctx.pool.query('SELECT v FROM kv WHERE k = $1', [k])).rows[0]?.v,
    'bare.select.named': async (k) =>
      (await ctx.pool.query({ name: 'bench_bare_get', text: 'SELECT v FROM kv WHERE k = $1', values: [k] })).rows[0]?.v,
    'pgcache.get': (k) => bench.get(k),
    'naive.get': async (k) => (await ctx.pool.query(naiveGet, [k])).rows[0]?.cache_value,
    'keyv.postgres.get': (k) => ctx.keyvPostgres.get(k),
    'keyv.pgcache.get': (k) => ctx.keyvPgcache.get(k),
  };
}

/**
 * The naive get writes on every read and leaves dead tuples (none of its updates can be HOT: last_accessed_at
 * is indexed); vacuum them after each of its rounds, untimed, so autovacuum does not run during another case.
 */
export function naiveAfter(ctx: BenchContext): () => Promise<unknown> {
  return () => ctx.pool.query(`VACUUM ${NAIVE_TABLE}`);
}

/** Every read path returns the loaded value before anything is timed. */
export async function checkReads(ctx: BenchContext): Promise<void> {
  for (const [id, op] of Object.entries(readOps(ctx))) {
    const got = await op('k7');
    if (!isDeepStrictEqual(got, VALUE)) {
      throw new Error(`pgcache bench: ${id} did not return the loaded value for k7 (got ${JSON.stringify(got)})`);
    }
  }
}

export async function runReads(ctx: BenchContext): Promise<void> {
  ctx.log('reads: random key of 10,000, ~1 KB JSON values');
  await checkReads(ctx);
  const ops = readOps(ctx);
  for (const concurrency of ctx.concurrencies) {
    const cases: Case[] = (Object.keys(READ_CASES) as ReadCase[]).map((id) => ({
      id,
      concurrency,
      op: () => ops[id](randomKey()),
      after: id === 'naive.get' ? naiveAfter(ctx) : undefined,
    }));
    await measureGroup(cases, ctx.timing, (c, s) => record(ctx, 'reads', c.id, READ_CASES[c.id as ReadCase], s));
  }
}

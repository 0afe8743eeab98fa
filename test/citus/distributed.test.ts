// A distributed install (pgcache distribute) on a coordinator and two workers: the layout, what happens per
// shard (expiry, budgets), counters, semantic lookups across shards, types created afterwards, and the PCnnn
// errors of what Citus cannot do.
import { beforeAll, describe, expect, it } from 'vitest';
import {
  createCache,
  DistributedRefusedError,
  distribute,
  FeatureUnavailableError,
  translateError,
} from '../../src/index.js';
import { sqlState, useDatabase } from '../helpers/db.js';
import { TEST_SHARDS } from './database.js';

const db = useDatabase();
const one = async (sql: string, params: unknown[] = []) => (await db.pool.query(sql, params)).rows[0];
const all = async (sql: string, params: unknown[] = []) => (await db.pool.query(sql, params)).rows;

/** Rows of a type's table in each of its shards, read on the workers. */
async function rowsPerShard(table: string): Promise<number[]> {
  const rows = await all(
    `SELECT result::int AS n FROM run_command_on_shards($1, 'SELECT count(*) FROM %s') ORDER BY shardid`,
    [`pgcache.${table}`],
  );
  return rows.map((r) => r.n);
}

describe('layout', () => {
  it('distributes entries by key over both workers and keeps the registry as reference tables', async () => {
    const tables = await all(
      `SELECT logicalrelid::regclass::text AS rel, partmethod, column_to_column_name(logicalrelid, partkey) AS col
         FROM pg_dist_partition WHERE logicalrelid::regclass::text LIKE 'pgcache.%' ORDER BY 1`,
    );
    const byName = Object.fromEntries(tables.map((t) => [t.rel, t]));
    expect(byName['pgcache.entries']).toMatchObject({ partmethod: 'h', col: 'key' });
    expect(byName['pgcache.cache_default']).toMatchObject({ partmethod: 'h', col: 'key' });
    for (const ref of ['cache_types', 'cache_settings', 'cache_models', 'cache_tenant_versions']) {
      expect(byName[`pgcache.${ref}`]?.partmethod, ref).toBe('n');
    }
    const placements = await all(
      `SELECT p.nodeport, count(*)::int AS shards FROM pg_dist_shard s JOIN pg_dist_placement pl USING (shardid)
         JOIN pg_dist_node p ON p.groupid = pl.groupid
        WHERE s.logicalrelid = 'pgcache.entries'::regclass GROUP BY 1 ORDER BY 1`,
    );
    expect(placements).toHaveLength(2);
    expect(placements.reduce((sum, p) => sum + p.shards, 0)).toBe(TEST_SHARDS);
  });

  it('is idempotent: distributing again changes nothing', async () => {
    await distribute({ databaseUrl: db.url, shards: TEST_SHARDS });
    expect(
      (await one(`SELECT count(*)::int AS n FROM pg_dist_shard WHERE logicalrelid = 'pgcache.entries'::regclass`)).n,
    ).toBe(TEST_SHARDS);
  });

  it('refuses a database without Citus (PC011)', async () => {
    const elsewhere = new URL(db.url);
    elsewhere.pathname = '/postgres';
    await expect(distribute({ databaseUrl: elsewhere.toString() })).rejects.toBeInstanceOf(FeatureUnavailableError);
  });

  it('refuses hash partitioning, which shards replace (PC021)', async () => {
    const refused = db.pool.query(`SELECT pgcache.cache_hash_partition_type('default', 4)`);
    expect(await sqlState(refused)).toBe('PC021');
    expect(translateError(await refused.catch((error: unknown) => error))).toBeInstanceOf(DistributedRefusedError);
  });
});

describe('keys spread over the shards', () => {
  beforeAll(async () => {
    await one(`SELECT pgcache.cache_set_many('default', array_agg('spread:' || g), array_agg(to_jsonb(g)))
                 FROM generate_series(1, 400) g`);
  });

  it('puts every key in the shard its hash names, and every shard gets some', async () => {
    const perShard = await rowsPerShard('cache_default');
    expect(perShard).toHaveLength(TEST_SHARDS);
    for (const n of perShard) expect(n).toBeGreaterThan(0);
    expect(perShard.reduce((a, b) => a + b, 0)).toBe(400);
  });

  it('reads many keys across shards in one call and counts hits and misses on the coordinator', async () => {
    const before = await one(`SELECT hits, misses FROM pgcache.cache_stats() WHERE cache_type = 'default'`);
    const rows = await all(
      `SELECT key FROM pgcache.cache_get_many('default', ARRAY(SELECT 'spread:' || g FROM generate_series(1, 60) g) || '{absent}')`,
    );
    expect(rows).toHaveLength(60);
    for (let i = 0; i < 5; i++) await one(`SELECT pgcache.cache_get('default', 'spread:7')`);
    const after = await one(`SELECT hits, misses FROM pgcache.cache_stats() WHERE cache_type = 'default'`);
    expect(Number(after.hits) - Number(before.hits)).toBe(65);
    expect(Number(after.misses) - Number(before.misses)).toBe(1);
  });

  it('deletes by prefix, pattern and tag across every shard', async () => {
    await one(`SELECT pgcache.cache_set('default', 'tagged:' || g, '1'::jsonb, interval '1 hour', p_tags => ARRAY['doc:1'])
                 FROM generate_series(1, 30) g`);
    expect((await one(`SELECT pgcache.cache_invalidate_tags(ARRAY['doc:1']) AS n`)).n).toBe('30');
    expect((await one(`SELECT pgcache.cache_invalidate_pattern('default', 'spread:1%') AS n`)).n).toBe('111');
    expect((await one(`SELECT pgcache.cache_invalidate_prefix('default', 'spread:') AS n`)).n).toBe('289');
    expect((await rowsPerShard('cache_default')).reduce((a, b) => a + b, 0)).toBe(0);
  });
});

describe('expiry and budgets per shard', () => {
  it('cleans expired entries shard by shard, a bounded batch at a time', async () => {
    await one(`SELECT pgcache.cache_set_many('default', array_agg('old:' || g), array_agg(to_jsonb(g)), interval '1 second')
                 FROM generate_series(1, 200) g`);
    await new Promise((resolve) => setTimeout(resolve, 1100));
    const first = Number((await one(`SELECT pgcache.cache_cleanup_expired('default', 80) AS n`)).n);
    // Each shard deletes up to its share of the batch (80 / 8 shards).
    expect(first).toBeGreaterThan(0);
    expect(first).toBeLessThanOrEqual(80);
    let total = first;
    for (let round = 0; round < 40 && total < 200; round++) {
      total += Number((await one(`SELECT pgcache.cache_cleanup_expired('default', 80) AS n`)).n);
    }
    expect(total).toBe(200);
  });

  it('enforces max_entries as a share per shard, evicting by the policy', async () => {
    await one(`SELECT pgcache.cache_create_type('budgeted', 'jsonb', interval '1 hour', p_max_entries => 80)`);
    await one(`SELECT pgcache.cache_set_many('budgeted', array_agg('b:' || g), array_agg(to_jsonb(g)))
                 FROM generate_series(1, 400) g`);
    const evicted = Number((await one(`SELECT pgcache.cache_evict('budgeted') AS n`)).n);
    const perShard = await rowsPerShard('cache_budgeted');
    for (const n of perShard) expect(n).toBeLessThanOrEqual(80 / TEST_SHARDS);
    expect(perShard.reduce((a, b) => a + b, 0)).toBe(400 - evicted);
    // cache_maintenance runs the same per-shard expiry and eviction.
    const runs = await all(`SELECT cache_type, error FROM pgcache.cache_maintenance()`);
    expect(runs.filter((r) => r.error !== null)).toEqual([]);
  });
});

describe('types created after distribution', () => {
  it('work at once: table distributed and colocated, writer routed, counters on every node', async () => {
    const cache = await createCache<{ sessions: 'text' }>({ pool: db.pool });
    await cache.createType({ name: 'sessions', valueKind: 'text', defaultTtl: 600 });
    const sessions = cache.type('sessions');
    for (let i = 0; i < 50; i++) await sessions.set(`s${i}`, `user ${i}`);
    expect(await sessions.get('s7')).toBe('user 7');
    expect(await sessions.get('absent')).toBeUndefined();
    expect(
      (await one(`SELECT colocationid FROM pg_dist_partition WHERE logicalrelid = 'pgcache.cache_sessions'::regclass`))
        .colocationid,
    ).toBe(
      (await one(`SELECT colocationid FROM pg_dist_partition WHERE logicalrelid = 'pgcache.entries'::regclass`))
        .colocationid,
    );
    expect((await rowsPerShard('cache_sessions')).reduce((a, b) => a + b, 0)).toBe(50);
    const sequences = await all(
      `SELECT result FROM run_command_on_workers($$SELECT count(*) FROM pg_class WHERE relname IN ('cache_sessions_hits', 'cache_sessions_misses')$$)`,
    );
    expect(sequences.map((r) => r.result)).toEqual(['2', '2']);
    expect((await one(`SELECT pgcache.cache_get_text('sessions', 's1') AS v`)).v).toBe('user 1');
    const [stats] = (await cache.stats()).filter((s) => s.cacheType === 'sessions');
    expect(stats?.entries).toBe(50);
    await cache.dropType('sessions');
    const gone = await all(
      `SELECT result FROM run_command_on_workers($$SELECT count(*) FROM pg_class WHERE relname LIKE 'cache_sessions%'$$)`,
    );
    expect(gone.map((r) => r.result)).toEqual(['0', '0']);
    await cache.close();
  });
});

describe('semantic lookups', () => {
  it('merge the nearest entries of every shard', async () => {
    const vector = (i: number) =>
      `[${Array.from({ length: 8 }, (_, d) => (d === i % 8 ? 1 : 0.01 * (i + d))).join(',')}]`;
    for (let i = 0; i < 40; i++) {
      await one(
        `SELECT pgcache.cache_set_with_embedding('llm_responses', $1, $2, $3::vector, 'fake-8', interval '1 hour')`,
        [`prompt:${i}`, `answer ${i}`, vector(i)],
      );
    }
    await one(`SELECT pgcache.cache_semantic_index('llm_responses', 'fake-8')`);
    const near = await all(
      `SELECT key FROM pgcache.cache_semantic_get('llm_responses', $1::vector, 'fake-8', 0.5, NULL, 40)`,
      [vector(3)],
    );
    const keys = near.map((r) => r.key);
    expect(keys[0]).toBe('prompt:3');
    const shards = await all(
      `SELECT DISTINCT get_shard_id_for_distribution_column('pgcache.entries', k) AS s FROM unnest($1::text[]) k`,
      [keys],
    );
    expect(shards.length).toBeGreaterThan(1);
  });
});

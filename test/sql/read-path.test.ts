// The read path: exact hit/miss counts, no row written per hit, touches throttled, hot standby style reads.
import { describe, expect, it } from 'vitest';
import { useDatabase } from '../helpers/db.js';

const db = useDatabase();
const q = (sql: string, params: unknown[] = []) => db.pool.query(sql, params);
const one = async (sql: string, params: unknown[] = []) => (await q(sql, params)).rows[0];
const stats = async (type: string) =>
  (await q(`SELECT * FROM pgcache.cache_stats() WHERE cache_type = $1`, [type])).rows[0];

describe('hits and misses', () => {
  it('counts every hit and miss exactly, from get and get_many', async () => {
    await one(`SELECT pgcache.cache_set('vector_search', 'a', '1'::jsonb)`);
    await one(`SELECT pgcache.cache_set('vector_search', 'b', '2'::jsonb)`);
    for (let i = 0; i < 5; i++) await one(`SELECT pgcache.cache_get('vector_search', 'a')`);
    for (let i = 0; i < 3; i++) await one(`SELECT pgcache.cache_get('vector_search', 'zz')`);
    await q(`SELECT * FROM pgcache.cache_get_many('vector_search', ARRAY['a','b','c','d'])`);
    const s = await stats('vector_search');
    expect([s.hits, s.misses, s.entries, s.valid_entries]).toEqual(['7', '5', '2', '2']);
    expect(s.hit_rate).toBeCloseTo(7 / 12);
    expect(Number(s.bytes)).toBeGreaterThan(0);
  });

  it('counts 16 concurrent readers without losing a hit', async () => {
    await one(`SELECT pgcache.cache_set('llm_responses', 'hot', 'x'::text)`);
    const before = Number((await stats('llm_responses')).hits);
    await Promise.all(
      Array.from({ length: 16 }, async () => {
        for (let i = 0; i < 25; i++) await q(`SELECT pgcache.cache_get_text('llm_responses', 'hot')`);
      }),
    );
    expect(Number((await stats('llm_responses')).hits) - before).toBe(400);
  });
});

describe('no write per read', () => {
  it('a hit leaves the row untouched within the touch interval', async () => {
    await one(`SELECT pgcache.cache_set('default', 'r', '1'::jsonb)`);
    const before = await one(`SELECT xmin::text, ctid::text, hit_count FROM pgcache.cache_default WHERE key = 'r'`);
    for (let i = 0; i < 20; i++) await one(`SELECT pgcache.cache_get('default', 'r')`);
    const after = await one(`SELECT xmin::text, ctid::text, hit_count FROM pgcache.cache_default WHERE key = 'r'`);
    expect(after).toEqual(before);
  });

  it('a hit after the touch interval touches the row once, in place (HOT)', async () => {
    await one(`SELECT pgcache.cache_set('default', 't', '1'::jsonb)`);
    await q(`UPDATE pgcache.cache_default SET last_accessed_at = now() - interval '20 minutes' WHERE key = 't'`);
    await one(`SELECT pg_stat_force_next_flush()`);
    for (let i = 0; i < 5; i++) await one(`SELECT pgcache.cache_get('default', 't')`);
    const row = await one(
      `SELECT hit_count, now() - last_accessed_at < interval '10 seconds' AS fresh FROM pgcache.cache_default WHERE key = 't'`,
    );
    expect(row).toEqual({ hit_count: '1', fresh: true });
  });

  it('serves reads in a read-only transaction without counting', async () => {
    await one(`SELECT pgcache.cache_set('default', 'ro', '"yes"'::jsonb)`);
    const client = await db.pool.connect();
    try {
      await client.query('BEGIN TRANSACTION READ ONLY');
      const r = await client.query(
        `SELECT pgcache.cache_get('default', 'ro') AS v, pgcache.cache_get('default', 'no') AS w`,
      );
      expect(r.rows[0]).toEqual({ v: 'yes', w: null });
      await client.query('COMMIT');
    } finally {
      client.release();
    }
  });
});

describe('types', () => {
  it('creates and drops a type with the key index as its only full index (tags: a partial index of tagged rows)', async () => {
    const t = await one(
      `SELECT * FROM pgcache.cache_create_type('sessions', 'jsonb', interval '5 minutes', 100, NULL, 'fifo', true)`,
    );
    expect(t).toMatchObject({ name: 'sessions', value_kind: 'jsonb', max_entries: '100', unlogged: true });
    const idx = await q(
      `SELECT indexdef FROM pg_indexes WHERE schemaname = 'pgcache' AND tablename = 'cache_sessions' ORDER BY indexname`,
    );
    expect(idx.rows.map((r) => r.indexdef.replace(/.* USING /, ''))).toEqual([
      'btree (type_id, key)',
      'gin (tags) WITH (fastupdate=off) WHERE (tags IS NOT NULL)',
    ]);
    const rel = await one(`SELECT relpersistence FROM pg_class WHERE oid = 'pgcache.cache_sessions'::regclass`);
    expect(rel.relpersistence).toBe('u');
    await one(`SELECT pgcache.cache_set('sessions', 's', '{}'::jsonb)`);
    expect((await one(`SELECT pgcache.cache_drop_type('sessions') AS ok`)).ok).toBe(true);
    expect((await one(`SELECT to_regclass('pgcache.cache_sessions') AS r`)).r).toBeNull();
  });
});

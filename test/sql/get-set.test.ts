// cache_set / cache_get and friends for every value kind, from SQL.
import { describe, expect, it } from 'vitest';
import { useDatabase } from '../helpers/db.js';

const db = useDatabase();
const one = async (sql: string, params: unknown[] = []) => (await db.pool.query(sql, params)).rows[0];

describe('jsonb values', () => {
  it('meets the psql contract: set with an interval, get the jsonb back', async () => {
    await one(`SELECT pgcache.cache_set('default', 'k', '{"a":1}'::jsonb, interval '1 hour')`);
    expect(await one(`SELECT pgcache.cache_get('default', 'k') AS v`)).toEqual({ v: { a: 1 } });
  });

  it('returns NULL after expiry and for absent keys', async () => {
    await one(`SELECT pgcache.cache_set('default', 'short', '1'::jsonb, interval '50 milliseconds')`);
    expect((await one(`SELECT pgcache.cache_get('default', 'short') AS v`)).v).toBe(1);
    await new Promise((r) => setTimeout(r, 80));
    expect((await one(`SELECT pgcache.cache_get('default', 'short') AS v`)).v).toBeNull();
    expect((await one(`SELECT pgcache.cache_get('default', 'absent') AS v`)).v).toBeNull();
  });

  it('uses the type default TTL without a ttl, and TTL classes from cache_settings', async () => {
    const { e } = await one(`SELECT pgcache.cache_set('default', 'd', '2'::jsonb) - now() AS e`);
    expect(e).toMatchObject({ hours: 1 });
    const classes = await one(
      `SELECT pgcache.cache_ttl('short') AS s, pgcache.cache_ttl('medium') AS m, pgcache.cache_ttl('long') AS l`,
    );
    expect(classes).toEqual({ s: { minutes: 5 }, m: { hours: 1 }, l: { hours: 24 } });
    await one(`UPDATE pgcache.cache_settings SET value = '10 minutes' WHERE name = 'ttl.short'`);
    expect((await one(`SELECT pgcache.cache_ttl('short') AS s`)).s).toEqual({ minutes: 10 });
    await one(`UPDATE pgcache.cache_settings SET value = '300 seconds' WHERE name = 'ttl.short'`);
  });

  it('overwrites in place and keeps one row per key', async () => {
    await one(`SELECT pgcache.cache_set('default', 'over', '"first"'::jsonb)`);
    await one(`SELECT pgcache.cache_set('default', 'over', '"second"'::jsonb)`);
    expect((await one(`SELECT pgcache.cache_get('default', 'over') AS v`)).v).toBe('second');
    expect((await one(`SELECT count(*)::int AS n FROM pgcache.cache_default WHERE key = 'over'`)).n).toBe(1);
  });
});

describe('text, bytea and vector values', () => {
  it('stores LLM responses with model and declared attributes', async () => {
    await one(
      `SELECT pgcache.cache_set('llm_responses', 'q', 'answer'::text, interval '1 hour', 'gpt-x', '{"tokens_used": 12}')`,
    );
    expect((await one(`SELECT pgcache.cache_get_text('llm_responses', 'q') AS v`)).v).toBe('answer');
    const entry = await one(`SELECT value_text, model, meta FROM pgcache.cache_get_entry('llm_responses', 'q')`);
    expect(entry).toEqual({ value_text: 'answer', model: 'gpt-x', meta: { tokens_used: 12 } });
  });

  it('stores audio as bytea byte for byte', async () => {
    const audio = Buffer.from(Array.from({ length: 70_000 }, (_, i) => i % 256));
    await one(
      `SELECT pgcache.cache_set('audio_chunks', 'a', $1::bytea, interval '1 hour', NULL, '{"format": "opus", "duration_ms": 640}')`,
      [audio],
    );
    const { v } = await one(`SELECT pgcache.cache_get_bytea('audio_chunks', 'a') AS v`);
    expect(Buffer.compare(v, audio)).toBe(0);
  });

  it('keeps embeddings of 768, 1536 and 3072 dimensions side by side', async () => {
    for (const width of [768, 1536, 3072]) {
      const vec = Array.from({ length: width }, (_, i) => (i % 7) / 7);
      await one(`SELECT pgcache.cache_set('embeddings', $1, $2::real[], $3)`, [`k${width}`, vec, `model-${width}`]);
      await one(`SELECT pgcache.cache_set('embeddings', $1, $2::vector, $3)`, [
        `v${width}`,
        JSON.stringify(vec),
        `model-${width}`,
      ]);
      const { a, b } = await one(
        `SELECT pgcache.cache_get_real_array('embeddings', $1) AS a, pgcache.cache_get_vector('embeddings', $2)::real[] AS b`,
        [`k${width}`, `v${width}`],
      );
      expect(a).toHaveLength(width);
      expect(b).toEqual(a);
    }
    const models = await db.pool.query(`SELECT model, dimensions FROM pgcache.cache_models ORDER BY dimensions`);
    expect(models.rows).toEqual([
      { model: 'model-768', dimensions: 768 },
      { model: 'model-1536', dimensions: 1536 },
      { model: 'model-3072', dimensions: 3072 },
    ]);
  });
});

describe('batches, touch, delete and keys', () => {
  it('sets and gets many keys in one call each', async () => {
    const keys = Array.from({ length: 100 }, (_, i) => `batch:${i}`);
    const values = keys.map((k) => JSON.stringify({ k }));
    expect((await one(`SELECT pgcache.cache_set_many('default', $1, $2::jsonb[]) AS n`, [keys, values])).n).toBe(100);
    const { rows } = await db.pool.query(`SELECT key, value_json FROM pgcache.cache_get_many('default', $1)`, [
      [...keys, 'batch:none'],
    ]);
    expect(rows).toHaveLength(100);
    expect(Object.fromEntries(rows.map((r) => [r.key, r.value_json.k]))['batch:42']).toBe('batch:42');
    await one(
      `SELECT pgcache.cache_set_many('llm_responses', ARRAY['t1','t2'], ARRAY['x','y']::text[], interval '1 minute')`,
    );
    expect((await one(`SELECT pgcache.cache_get_text('llm_responses', 't2') AS v`)).v).toBe('y');
  });

  it('touch extends a live entry and reports absent ones', async () => {
    await one(`SELECT pgcache.cache_set('default', 'touch', '1'::jsonb, interval '1 minute')`);
    expect((await one(`SELECT pgcache.cache_touch('default', 'touch', interval '2 days') AS ok`)).ok).toBe(true);
    const { left } = await one(
      `SELECT expires_at - now() > interval '1 day' AS left FROM pgcache.cache_get_entry('default', 'touch')`,
    );
    expect(left).toBe(true);
    expect((await one(`SELECT pgcache.cache_touch('default', 'nothing') AS ok`)).ok).toBe(false);
  });

  it('delete reports whether a live entry went', async () => {
    await one(`SELECT pgcache.cache_set('default', 'del', '1'::jsonb)`);
    expect((await one(`SELECT pgcache.cache_delete('default', 'del') AS ok`)).ok).toBe(true);
    expect((await one(`SELECT pgcache.cache_delete('default', 'del') AS ok`)).ok).toBe(false);
    expect((await one(`SELECT pgcache.cache_get('default', 'del') AS v`)).v).toBeNull();
  });

  it('cache_key is a stable sha256 hex that separates its parts', async () => {
    const r = await one(
      `SELECT pgcache.cache_key('a|b', 'c') AS x, pgcache.cache_key('a', 'b|c') AS y, pgcache.cache_key('a', 'b|c') AS z`,
    );
    expect(r.x).toMatch(/^[0-9a-f]{64}$/);
    expect(r.x).not.toBe(r.y);
    expect(r.y).toBe(r.z);
    expect((await one(`SELECT pgcache.cache_key('hello') AS k`)).k).toBe(
      (await one(`SELECT encode(sha256('5:hello'::bytea), 'hex') AS k`)).k,
    );
  });
});

// Tags from SQL: set with tags, cache_invalidate_tags across types and in one, tenants, what overwrites,
// expiry, eviction and deletes do to tags, hostile tags, and the index the invalidation reads.
import type pg from 'pg';
import { beforeAll, describe, expect, it } from 'vitest';
import { sqlState, useDatabase } from '../helpers/db.js';

const db = useDatabase();
const one = async (sql: string, params: unknown[] = []) => (await db.pool.query(sql, params)).rows[0];
const keys = async (type: string) =>
  (
    await db.pool.query(
      `SELECT key FROM pgcache.entries e JOIN pgcache.cache_types t ON t.id = e.type_id
                         WHERE t.name = $1 ORDER BY key`,
      [type],
    )
  ).rows.map((r) => r.key);

/** Runs statements on one connection, as a tenant if given (SET for the session). */
async function asTenant<T>(tenant: string | null, fn: (c: pg.PoolClient) => Promise<T>): Promise<T> {
  const client = await db.pool.connect();
  try {
    if (tenant) await client.query(`SELECT set_config('pgcache.tenant', $1, false)`, [tenant]);
    return await fn(client);
  } finally {
    await client.query('RESET pgcache.tenant');
    client.release();
  }
}

beforeAll(async () => {
  await one(`SELECT pgcache.cache_create_type('tagged')`);
  await one(`SELECT pgcache.cache_create_type('tagged_text', 'text')`);
  await one(`SELECT pgcache.cache_create_type('per_tenant')`);
  await one(`SELECT pgcache.cache_configure_tenant_scoped('per_tenant', true)`);
});

describe('cache_invalidate_tags', () => {
  it('removes the live entries carrying any tag, across types, and says how many', async () => {
    await one(
      `SELECT pgcache.cache_set('tagged', 'a', '1'::jsonb, interval '1 hour', p_tags => ARRAY['doc:1', 'doc:2'])`,
    );
    await one(`SELECT pgcache.cache_set('tagged', 'b', '1'::jsonb, interval '1 hour', p_tags => ARRAY['doc:2'])`);
    await one(`SELECT pgcache.cache_set('tagged', 'c', '1'::jsonb)`);
    await one(`SELECT pgcache.cache_set('tagged_text', 't', 'x'::text, interval '1 hour', NULL, NULL, ARRAY['doc:1'])`);
    expect((await one(`SELECT pgcache.cache_invalidate_tags(ARRAY['doc:1']) AS n`)).n).toBe('2');
    expect(await keys('tagged')).toEqual(['b', 'c']);
    expect(await keys('tagged_text')).toEqual([]);
    expect((await one(`SELECT pgcache.cache_invalidate_tags(ARRAY['doc:1']) AS n`)).n).toBe('0');
    expect((await one(`SELECT pgcache.cache_get('tagged', 'b') AS v`)).v).toBe(1);
  });

  it('limits itself to one type when given one', async () => {
    await one(`SELECT pgcache.cache_set('tagged', 'p', '1'::jsonb, interval '1 hour', p_tags => ARRAY['shared'])`);
    await one(`SELECT pgcache.cache_set('tagged_text', 'p', 'x'::text, interval '1 hour', p_tags => ARRAY['shared'])`);
    expect((await one(`SELECT pgcache.cache_invalidate_tags(ARRAY['shared'], 'tagged_text') AS n`)).n).toBe('1');
    expect(await keys('tagged')).toContain('p');
    expect(await keys('tagged_text')).not.toContain('p');
    expect(await sqlState(one(`SELECT pgcache.cache_invalidate_tags(ARRAY['x'], 'no_such')`))).toBe('PC001');
  });

  it('batches: cache_set_many tags every entry of the batch', async () => {
    await one(
      `SELECT pgcache.cache_set_many('tagged', ARRAY['m1', 'm2'], ARRAY['1', '2']::jsonb[], interval '1 hour', ARRAY['batch:1'])`,
    );
    expect((await one(`SELECT pgcache.cache_invalidate_tags(ARRAY['batch:1', 'other']) AS n`)).n).toBe('2');
  });

  it('an overwrite replaces the tags: untagged, it is no longer reached by the old tag', async () => {
    await one(`SELECT pgcache.cache_set('tagged', 'o', '1'::jsonb, interval '1 hour', p_tags => ARRAY['old'])`);
    await one(`SELECT pgcache.cache_set('tagged', 'o', '2'::jsonb)`);
    expect((await one(`SELECT pgcache.cache_invalidate_tags(ARRAY['old']) AS n`)).n).toBe('0');
    await one(`SELECT pgcache.cache_set('tagged', 'o', '3'::jsonb, interval '1 hour', p_tags => ARRAY['new'])`);
    expect((await one(`SELECT pgcache.cache_invalidate_tags(ARRAY['old']) AS n`)).n).toBe('0');
    expect((await one(`SELECT pgcache.cache_invalidate_tags(ARRAY['new']) AS n`)).n).toBe('1');
  });

  it('expired, invalidated and evicted entries take their tags with them (tags live in the row)', async () => {
    await one(
      `SELECT pgcache.cache_set('tagged', 'gone', '1'::jsonb, interval '1 millisecond', p_tags => ARRAY['t:exp'])`,
    );
    await new Promise((r) => setTimeout(r, 20));
    // An expired entry is not live: deleted, but not counted.
    expect((await one(`SELECT pgcache.cache_invalidate_tags(ARRAY['t:exp']) AS n`)).n).toBe('0');
    expect(await keys('tagged')).not.toContain('gone');
    await one(`SELECT pgcache.cache_set('tagged', 'e1', '1'::jsonb, interval '1 hour', p_tags => ARRAY['t:ev'])`);
    await one(`SELECT pgcache.cache_evict('tagged', 1, NULL, 'fifo')`);
    expect(
      (await one(`SELECT count(*)::int AS n FROM pgcache.entries WHERE tags @> ARRAY['t:ev']`)).n,
    ).toBeLessThanOrEqual(1);
    await one(`SELECT pgcache.cache_delete('tagged', 'e1')`);
    expect((await one(`SELECT count(*)::int AS n FROM pgcache.entries WHERE tags @> ARRAY['t:ev']`)).n).toBe(0);
  });

  it('runs in the caller transaction: a miss inside, back after ROLLBACK', async () => {
    await one(`SELECT pgcache.cache_set('tagged', 'tx', '1'::jsonb, interval '1 hour', p_tags => ARRAY['t:tx'])`);
    await asTenant(null, async (c) => {
      await c.query('BEGIN');
      await c.query(`SELECT pgcache.cache_invalidate_tags(ARRAY['t:tx'])`);
      expect((await c.query(`SELECT pgcache.cache_get('tagged', 'tx') AS v`)).rows[0].v).toBeNull();
      // Other sessions still see it until COMMIT.
      expect((await one(`SELECT pgcache.cache_get('tagged', 'tx') AS v`)).v).toBe(1);
      await c.query('ROLLBACK');
    });
    expect((await one(`SELECT pgcache.cache_get('tagged', 'tx') AS v`)).v).toBe(1);
  });
});

describe('tenants', () => {
  it('a tenant invalidates only its own tagged entries, across types or naming the type', async () => {
    for (const tenant of ['acme', 'globex']) {
      await asTenant(tenant, (c) =>
        c.query(`SELECT pgcache.cache_set('per_tenant', 'k', '1'::jsonb, interval '1 hour', p_tags => ARRAY['doc:7'])`),
      );
    }
    await one(`SELECT pgcache.cache_set('tagged', 'shared7', '1'::jsonb, interval '1 hour', p_tags => ARRAY['doc:7'])`);
    const n = await asTenant(
      'acme',
      async (c) => (await c.query(`SELECT pgcache.cache_invalidate_tags(ARRAY['doc:7']) AS n`)).rows[0].n,
    );
    // acme's own entry and the shared (not tenant-scoped) one.
    expect(n).toBe('2');
    expect(await keys('per_tenant')).toEqual(['globex\u001fk']);
    const named = await asTenant(
      'acme',
      async (c) => (await c.query(`SELECT pgcache.cache_invalidate_tags(ARRAY['doc:7'], 'per_tenant') AS n`)).rows[0].n,
    );
    expect(named).toBe('0');
    expect(await keys('per_tenant')).toEqual(['globex\u001fk']);
  });

  it('without a tenant: PC013 naming a tenant-scoped type, and such types left alone across types', async () => {
    expect(await sqlState(one(`SELECT pgcache.cache_invalidate_tags(ARRAY['doc:7'], 'per_tenant')`))).toBe('PC013');
    expect((await one(`SELECT pgcache.cache_invalidate_tags(ARRAY['doc:7']) AS n`)).n).toBe('0');
    expect(await keys('per_tenant')).toEqual(['globex\u001fk']);
    const bad = await asTenant(null, async (c) => {
      await c.query(`SET pgcache.tenant = 'bad tenant!'`);
      return sqlState(c.query(`SELECT pgcache.cache_invalidate_tags(ARRAY['doc:7'])`));
    });
    expect(bad).toBe('PC013');
  });
});

describe('hostile tags', () => {
  it.each([
    [`ARRAY[NULL]::text[]`, 'PC018'],
    [`ARRAY['']`, 'PC018'],
    [`ARRAY[repeat('x', 257)]`, 'PC018'],
    [`ARRAY[ARRAY['a'], ARRAY['b']]`, 'PC018'],
    [`(SELECT array_agg('t' || g) FROM generate_series(1, 65) g)`, 'PC018'],
  ])('set with %s is refused (%s), naming the argument', async (tags, code) => {
    const error = await db.pool
      .query(`SELECT pgcache.cache_set('tagged', 'h', '1'::jsonb, interval '1 hour', p_tags => ${tags})`)
      .catch((e) => e);
    expect(error.code).toBe(code);
    expect(error.message).toContain('argument "tags"');
  });

  it('invalidation refuses NULL, NULL elements and over 10000 tags; an empty array removes nothing', async () => {
    expect(await sqlState(one(`SELECT pgcache.cache_invalidate_tags(NULL)`))).toBe('PC018');
    expect(await sqlState(one(`SELECT pgcache.cache_invalidate_tags(ARRAY[NULL]::text[])`))).toBe('PC018');
    expect(
      await sqlState(
        one(`SELECT pgcache.cache_invalidate_tags((SELECT array_agg(g::text) FROM generate_series(1, 10001) g))`),
      ),
    ).toBe('PC012');
    expect((await one(`SELECT pgcache.cache_invalidate_tags('{}') AS n`)).n).toBe('0');
  });

  it('tags are data: quotes, LIKE wildcards and SQL in a tag match only themselves', async () => {
    const evil = [`x'); DROP TABLE pgcache.entries; --`, '%', '_', 'doc:%'];
    await one(`SELECT pgcache.cache_set('tagged', 'evil', '1'::jsonb, interval '1 hour', p_tags => $1)`, [evil]);
    await one(`SELECT pgcache.cache_set('tagged', 'plain', '1'::jsonb, interval '1 hour', p_tags => ARRAY['doc:1'])`);
    expect((await one(`SELECT pgcache.cache_invalidate_tags(ARRAY['%']) AS n`)).n).toBe('1');
    expect(await keys('tagged')).toContain('plain');
  });
});

describe('storage', () => {
  it('invalidating one tag among many entries reads the tagged rows through the index', async () => {
    await one(`SELECT pgcache.cache_create_type('many_tags')`);
    await one(`SELECT pgcache.cache_set_many('many_tags', (SELECT array_agg('k' || g) FROM generate_series(1, 1000) g),
                 (SELECT array_agg(to_jsonb(g)) FROM generate_series(1, 1000) g), interval '1 hour')`);
    await one(
      `SELECT pgcache.cache_set_many('many_tags', ARRAY['t1', 't2'], ARRAY['1', '2']::jsonb[], interval '1 hour', ARRAY['needle'])`,
    );
    await one(`ANALYZE pgcache.entries`);
    const plan = (
      await db.pool.query(`EXPLAIN (FORMAT JSON) SELECT key FROM pgcache.entries WHERE tags && ARRAY['needle']`)
    ).rows[0]['QUERY PLAN'];
    expect(JSON.stringify(plan)).toContain('tags_idx');
    expect((await one(`SELECT pgcache.cache_invalidate_tags(ARRAY['needle'], 'many_tags') AS n`)).n).toBe('2');
  });

  it('an untagged overwrite stays a HOT update (the tag index is partial and unchanged)', async () => {
    await one(`SELECT pgcache.cache_create_type('hot_tags')`);
    await one(`SELECT pgcache.cache_set('hot_tags', 'h', '1'::jsonb)`);
    const before = await one(
      `SELECT n_tup_hot_upd::int AS hot, n_tup_upd::int AS upd FROM pg_stat_xact_user_tables WHERE relname = 'cache_hot_tags'`,
    );
    const client = await db.pool.connect();
    try {
      await client.query('BEGIN');
      for (let i = 0; i < 5; i++)
        await client.query(`SELECT pgcache.cache_set('hot_tags', 'h', $1::jsonb)`, [String(i)]);
      const after = (
        await client.query(
          `SELECT n_tup_hot_upd::int AS hot, n_tup_upd::int AS upd FROM pg_stat_xact_user_tables WHERE relname = 'cache_hot_tags'`,
        )
      ).rows[0];
      expect(after.upd).toBe(5);
      expect(after.hot).toBe(5);
      await client.query('COMMIT');
    } finally {
      client.release();
    }
    expect(before === undefined || before.upd === 0).toBe(true);
  });
});

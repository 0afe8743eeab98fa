// Each type's own writer cache_<type>_set (core/04_write.sql): the set the client sends. It takes the type lock
// with static statements before it reads the registry row, so a version bump, tenant switch or drop in flight
// is waited for and then seen; it stores exactly what cache_set stores, runs for the writer role only, and
// goes with its type. The client sets through it and falls back to cache_set where it cannot serve.
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Cache, createCache } from '../../src/index.js';
import { sqlState, useDatabase } from '../helpers/db.js';
import { groupLogins } from '../helpers/sessions.js';

const db = useDatabase();
let logins: Awaited<ReturnType<typeof groupLogins>>;
let cache: Cache;

beforeAll(async () => {
  logins = await groupLogins(db, 'tw_');
  await db.pool.query(`SELECT pgcache.cache_create_type('tw', 'jsonb', p_max_value_bytes => 100,
                                                        p_attributes => '{"n": "number"}')`);
  cache = await createCache({ pool: db.pool });
});
afterAll(async () => {
  await cache?.close();
  await logins?.drop();
});

/** Runs `first` in an open transaction, starts `second` on another connection, and commits `first` once
 * `second` waits for a lock; returns what `second` answered (its rows, or its SQLSTATE). */
async function whileHeld(first: string, second: string, secondTenant?: string): Promise<unknown> {
  const a = await db.pool.connect();
  const b = await db.pool.connect();
  try {
    const { rows } = await b.query('SELECT pg_backend_pid() AS pid');
    await a.query('BEGIN');
    await a.query(first);
    if (secondTenant) await b.query(`SELECT set_config('pgcache.tenant', $1, false)`, [secondTenant]);
    const answer = b.query(second).then(
      (r) => r.rows,
      (e: { code?: string }) => e.code,
    );
    for (let i = 0; i < 500; i++) {
      const { rows: waiting } = await db.pool.query(
        `SELECT 1 FROM pg_stat_activity WHERE pid = $1 AND wait_event_type = 'Lock'`,
        [rows[0].pid],
      );
      if (waiting.length) break;
      await new Promise((r) => setTimeout(r, 10));
    }
    await a.query('COMMIT');
    return await answer;
  } finally {
    await a.query('ROLLBACK').catch(() => undefined);
    if (secondTenant) await b.query(`RESET pgcache.tenant`).catch(() => undefined);
    a.release();
    b.release();
  }
}

describe('cache_<type>_set', () => {
  it('stores what cache_set stores, with the type default TTL when ttl is NULL', async () => {
    await db.pool.query(`SELECT pgcache.cache_tw_set('a', '{"x": 1}', NULL, 'm', '{"n": 2}')`);
    await db.pool.query(`SELECT pgcache.cache_set('tw', 'b', '{"x": 1}'::jsonb, interval '1 hour', 'm', '{"n": 2}')`);
    const { rows } = await db.pool.query(
      `SELECT key, version, value_json, model, meta, byte_size, expires_at - created_at AS ttl, stale_at = expires_at AS fresh
         FROM pgcache.cache_tw ORDER BY key`,
    );
    expect(rows.map(({ key, ...rest }) => rest)).toEqual([rows[1], rows[1]].map(({ key, ...rest }) => rest));
    expect(rows[0].ttl).toEqual(rows[1].ttl);
    const { rows: ttl } = await db.pool.query(
      `SELECT pgcache.cache_tw_set('c', '1', interval '5 minutes') - now() AS left_`,
    );
    expect(ttl[0].left_).toEqual({ minutes: 5 });
  });

  it('stores what cache_set stores without attributes too (the one-statement path), and drops old tags', async () => {
    await db.pool.query(`SELECT pgcache.cache_set('tw', 'd', '[1]'::jsonb, interval '1 hour', NULL, NULL, ARRAY['t'])`);
    await db.pool.query(`SELECT pgcache.cache_tw_set('d', '{"y": "z"}', interval '1 hour', 'm')`);
    await db.pool.query(`SELECT pgcache.cache_set('tw', 'e', '{"y": "z"}'::jsonb, interval '1 hour', 'm')`);
    const { rows } = await db.pool.query(
      `SELECT key, version, value_json, model, meta, tags, byte_size, expires_at - created_at AS ttl,
              stale_at = expires_at AS fresh
         FROM pgcache.cache_tw WHERE key IN ('d', 'e') ORDER BY key`,
    );
    expect(rows[0].tags).toBeNull();
    expect(rows.map(({ key, ...rest }) => rest)).toEqual([rows[1], rows[1]].map(({ key, ...rest }) => rest));
    await db.pool.query(`SELECT pgcache.cache_create_type('tw_never', 'text', pgcache.cache_ttl('never'))`);
    const { rows: never } = await db.pool.query(`SELECT pgcache.cache_tw_never_set('k', 'v') AS expiry`);
    expect(never[0].expiry).toBe(Number.POSITIVE_INFINITY);
    await db.pool.query(`SELECT pgcache.cache_drop_type('tw_never')`);
  });

  it('raises the SQLSTATEs of cache_set', async () => {
    expect(await sqlState(db.pool.query(`SELECT pgcache.cache_tw_set('', '1')`))).toBe('PC002');
    expect(await sqlState(db.pool.query(`SELECT pgcache.cache_tw_set(repeat('k', 1025), '1')`))).toBe('PC003');
    expect(await sqlState(db.pool.query(`SELECT pgcache.cache_tw_set('k', NULL)`))).toBe('PC005');
    expect(await sqlState(db.pool.query(`SELECT pgcache.cache_tw_set('k', '1', interval '-1 second')`))).toBe('PC004');
    expect(await sqlState(db.pool.query(`SELECT pgcache.cache_tw_set('k', to_jsonb(repeat('x', 200)))`))).toBe('PC007');
    expect(await sqlState(db.pool.query(`SELECT pgcache.cache_tw_set('k', '1', NULL, NULL, '{"n": "s"}')`))).toBe(
      'PC010',
    );
  });

  it('runs for the writer role, not the reader', async () => {
    expect(await sqlState((logins.reader as pg.Pool).query(`SELECT pgcache.cache_tw_set('r', '1')`))).toBe('42501');
    await (logins.writer as pg.Pool).query(`SELECT pgcache.cache_tw_set('w', '1')`);
    expect((await db.pool.query(`SELECT pgcache.cache_get('tw', 'w') AS v`)).rows[0].v).toBe(1);
  });

  it('waits for a version bump in flight and writes at the new version', async () => {
    const rows = await whileHeld(
      `SELECT pgcache.cache_bump_version('tw')`,
      `SELECT pgcache.cache_tw_set('bumped', '7')`,
    );
    expect(Array.isArray(rows)).toBe(true);
    expect((await db.pool.query(`SELECT pgcache.cache_get('tw', 'bumped') AS v`)).rows[0].v).toBe(7);
  });

  it('waits for a tenant switch in flight and then needs a tenant', async () => {
    await db.pool.query(`SELECT pgcache.cache_create_type('tw_switch', 'jsonb')`);
    const answer = await whileHeld(
      `SELECT pgcache.cache_configure_tenant_scoped('tw_switch', true)`,
      `SELECT pgcache.cache_tw_switch_set('k', '1')`,
    );
    expect(answer).toBe('PC013');
    const rows = await whileHeld(
      `SELECT set_config('pgcache.tenant', 'acme', true); SELECT pgcache.cache_bump_version('tw_switch')`,
      `SELECT pgcache.cache_tw_switch_set('k', '1')`,
      'acme',
    );
    expect(Array.isArray(rows)).toBe(true);
    const { rows: stored } = await db.pool.query(`SELECT key, scope FROM pgcache.cache_tw_switch`);
    expect(stored).toEqual([{ key: 'acme\u001fk', scope: 'acme' }]);
  });

  it('waits for a drop in flight, and goes with its type', async () => {
    await db.pool.query(`SELECT pgcache.cache_create_type('tw_drop', 'text')`);
    const answer = await whileHeld(
      `SELECT pgcache.cache_drop_type('tw_drop')`,
      `SELECT pgcache.cache_tw_drop_set('k', 'v')`,
    );
    expect(answer).toBe('42P01');
    const { rows } = await db.pool.query(`SELECT to_regproc('pgcache.cache_tw_drop_set') AS f`);
    expect(rows[0].f).toBeNull();
  });

  it('refuses a type whose writer would collide with a function of the schema', async () => {
    await db.pool.query(`CREATE FUNCTION pgcache.cache_twx_set() RETURNS int LANGUAGE sql AS 'SELECT 1'`);
    try {
      expect(await sqlState(db.pool.query(`SELECT pgcache.cache_create_type('twx')`))).toBe('PC008');
    } finally {
      await db.pool.query(`DROP FUNCTION pgcache.cache_twx_set()`);
    }
  });
});

describe('the client', () => {
  it('sets through the type writer, and through cache_set where the writer cannot serve', async () => {
    const sent: string[] = [];
    const pool = new pg.Pool({ connectionString: db.url, max: 2 });
    const query = pool.query.bind(pool) as (...args: unknown[]) => Promise<unknown>;
    (pool as unknown as { query: unknown }).query = (config: unknown, ...rest: unknown[]) => {
      sent.push(typeof config === 'string' ? config : (config as { text: string }).text);
      return query(config, ...rest);
    };
    const client = await createCache({ pool });
    try {
      await db.pool.query(`SELECT pgcache.cache_create_type('tw_client', 'text')`);
      await client.refreshTypes();
      const type = client.type('tw_client');
      sent.length = 0;
      await type.set('a', 'one', { ttl: 60 });
      await type.set('b', 'two');
      expect(sent.every((text) => text.includes('cache_tw_client_set'))).toBe(true);
      sent.length = 0;
      await type.set('c', 'three', { ttl: 'short' }).catch(() => undefined); // a TTL class: cache_set
      expect(sent.some((text) => text.includes('cache_set('))).toBe(true);
      // Dropped and created again elsewhere: the stale accessor answers as cache_set does.
      await db.pool.query(`SELECT pgcache.cache_drop_type('tw_client')`);
      await expect(type.set('d', 'four')).rejects.toMatchObject({ code: 'PC001' });
    } finally {
      await client.close();
      await pool.end();
    }
  });

  it('stores under the tenant for a tenant-scoped type', async () => {
    await db.pool.query(`SELECT pgcache.cache_create_type('tw_tenant', 'jsonb')`);
    await db.pool.query(`SELECT pgcache.cache_configure_tenant_scoped('tw_tenant', true)`);
    await cache.refreshTypes();
    await cache.forTenant('acme').type('tw_tenant').set('k', { v: 1 });
    expect(await cache.forTenant('other').type('tw_tenant').get('k')).toBeUndefined();
    expect(await cache.forTenant('acme').type('tw_tenant').get('k')).toEqual({ v: 1 });
    const { rows } = await db.pool.query(`SELECT key, scope FROM pgcache.cache_tw_tenant`);
    expect(rows).toEqual([{ key: 'acme\u001fk', scope: 'acme' }]);
    await expect(cache.type('tw_tenant').set('k', 1)).rejects.toMatchObject({ code: 'PC013' });
  });
});

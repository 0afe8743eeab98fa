// The read path clients use: each type's security-barrier view cache_<type>_live (expiry, version and tenant
// filtered by the view itself, readable by the reader role only), reads counted by the client and reported
// with cache_record_reads(), and Keyv's deleteMany in one call.
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Cache, createCache } from '../../src/index.js';
import { KeyvPgcache } from '../../src/keyv.js';
import { sqlState, useDatabase } from '../helpers/db.js';
import { asTenant, groupLogins } from '../helpers/sessions.js';

const db = useDatabase();
let logins: Awaited<ReturnType<typeof groupLogins>>;
let cache: Cache;

beforeAll(async () => {
  logins = await groupLogins(db);
  await db.pool.query(`SELECT pgcache.cache_create_type('rv', 'jsonb')`);
  await db.pool.query(`SELECT pgcache.cache_create_type('rvt', 'jsonb')`);
  await db.pool.query(`SELECT pgcache.cache_configure_tenant_scoped('rvt', true)`);
  cache = await createCache({ pool: db.pool });
});
afterAll(async () => {
  await cache?.close();
  await logins?.drop();
});

const US = String.fromCharCode(31);

describe('the read view', () => {
  it('holds only what a read returns, and a read of all of it plans as the bare probe plus the version', async () => {
    const columns = async (view: string) =>
      (
        await db.pool.query(
          `SELECT array_agg(attname::text ORDER BY attnum) AS c FROM pg_attribute
            WHERE attrelid = $1::regclass AND attnum > 0 AND NOT attisdropped`,
          [view],
        )
      ).rows[0].c;
    expect(await columns('pgcache.cache_rv_live')).toEqual(['key', 'value_json', 'touch_due', 'cost', 'scope']);
    await db.pool.query(`SELECT pgcache.cache_create_type('rv_text', 'text')`);
    expect(await columns('pgcache.cache_rv_text_live')).toEqual(['key', 'value_text', 'touch_due', 'cost', 'scope']);
    // A view of an older, wider shape is replaced, with its grant.
    await db.pool.query(`DROP VIEW pgcache.cache_rv_text_live;
      CREATE VIEW pgcache.cache_rv_text_live AS SELECT key, value_text, true AS touch_due, meta FROM pgcache.cache_rv_text`);
    await db.pool.query(`SELECT pgcache._create_read_view(t) FROM pgcache.cache_types t WHERE t.name = 'rv_text'`);
    expect(await columns('pgcache.cache_rv_text_live')).toEqual(['key', 'value_text', 'touch_due', 'cost', 'scope']);
    await db.pool.query(`SELECT pgcache.cache_set('rv_text', 'k', 'v'::text)`);
    expect((await (logins.reader as pg.Pool).query(`SELECT value_text FROM pgcache.cache_rv_text_live`)).rows).toEqual([
      { value_text: 'v' },
    ]);
    await db.pool.query(`SELECT pgcache.cache_drop_type('rv_text')`);
    const { rows: plan } = await db.pool.query(
      `EXPLAIN SELECT key, value_json AS v, touch_due, cost, scope FROM pgcache.cache_rv_live WHERE key = 'k'`,
    );
    const text = plan.map((r) => r['QUERY PLAN']).join('\n');
    expect(text).toMatch(/^Index Scan using cache_rv_pkey/);
    expect(text).not.toMatch(/Subquery Scan/);
  });

  it('exists for every type, for the reader role only, and goes with its type', async () => {
    const { rows } = await db.pool.query(
      `SELECT t.name, c.reloptions FROM pgcache.cache_types t
         LEFT JOIN pg_class c ON c.relname = t.table_name || '_live' AND c.relkind = 'v'
                             AND c.relnamespace = 'pgcache'::regnamespace ORDER BY t.name`,
    );
    for (const row of rows) expect(row.reloptions, row.name).toEqual(['security_barrier=true']);
    await db.pool.query(`SELECT pgcache.cache_set('rv', 'k', '"v"'::jsonb)`);
    const reader = logins.reader as pg.Pool;
    expect((await reader.query(`SELECT value_json FROM pgcache.cache_rv_live WHERE key = 'k'`)).rows).toEqual([
      { value_json: 'v' },
    ]);
    expect(await sqlState(reader.query('SELECT * FROM pgcache.cache_rv'))).toBe('42501');
    // Not writable: no grant, and a join view is not updatable anyway.
    expect(['42501', '55000']).toContain(
      await sqlState(reader.query(`UPDATE pgcache.cache_rv_live SET value_json = '{}'`)),
    );
    const { rows: acl } = await db.pool.query(
      `SELECT a.grantee::regrole::text AS grantee, a.privilege_type FROM pg_class c, aclexplode(c.relacl) a
        WHERE c.oid = 'pgcache.cache_rv_live'::regclass AND a.grantee <> c.relowner`,
    );
    const { rows: inst } = await db.pool.query('SELECT reader_role FROM pgcache.pgcache_install');
    expect(acl).toEqual([{ grantee: inst[0].reader_role, privilege_type: 'SELECT' }]);

    await db.pool.query(`SELECT pgcache.cache_create_type('rv_gone')`);
    expect((await db.pool.query(`SELECT to_regclass('pgcache.cache_rv_gone_live') AS v`)).rows[0].v).not.toBeNull();
    await db.pool.query(`SELECT pgcache.cache_drop_type('rv_gone')`);
    expect((await db.pool.query(`SELECT to_regclass('pgcache.cache_rv_gone_live') AS v`)).rows[0].v).toBeNull();
  });

  it('filters expiry and version, and follows a hash-partitioned table', async () => {
    await db.pool.query(`SELECT pgcache.cache_set('rv', 'live', '1'::jsonb)`);
    await db.pool.query(`SELECT pgcache.cache_set('rv', 'soon', '2'::jsonb, interval '1 millisecond')`);
    await new Promise((r) => setTimeout(r, 20));
    const keys = async () =>
      (await db.pool.query(`SELECT key FROM pgcache.cache_rv_live ORDER BY key`)).rows.map((r) => r.key);
    expect(await keys()).toEqual(['k', 'live']);
    await db.pool.query(`SELECT pgcache.cache_hash_partition_type('rv', 4)`);
    expect(await keys()).toEqual(['k', 'live']);
    await db.pool.query(`SELECT pgcache.cache_bump_version('rv')`);
    expect(await keys()).toEqual([]);
  });

  it('shows a tenant-scoped type to its own tenant only, at the tenant version', async () => {
    const writer = logins.writer as pg.Pool;
    const reader = logins.reader as pg.Pool;
    await asTenant(writer, 'acme', `SELECT pgcache.cache_set('rvt', 'k', '"acme"'::jsonb)`);
    await asTenant(writer, 'globex', `SELECT pgcache.cache_set('rvt', 'k', '"globex"'::jsonb)`);
    const read = (tenant: string | null, key: string) =>
      asTenant<{ value_json: string }>(reader, tenant, `SELECT value_json FROM pgcache.cache_rvt_live WHERE key = $1`, [
        key,
      ]);
    expect(await read('acme', `acme${US}k`)).toEqual([{ value_json: 'acme' }]);
    expect(await read('acme', `globex${US}k`)).toEqual([]);
    expect(await read(null, `acme${US}k`)).toEqual([]);
    const all = await asTenant<{ key: string }>(reader, 'acme', `SELECT key FROM pgcache.cache_rvt_live`);
    expect(all).toEqual([{ key: `acme${US}k` }]);
    await asTenant(writer, 'acme', `SELECT pgcache.cache_bump_version('rvt')`);
    expect(await read('acme', `acme${US}k`)).toEqual([]);
    expect(await read('globex', `globex${US}k`)).toEqual([{ value_json: 'globex' }]);

    const acme = cache.forTenant('acme').type<string>('rvt' as never);
    const globex = cache.forTenant('globex').type<string>('rvt' as never);
    await acme.set('a', 'A');
    expect(await acme.get('a')).toBe('A');
    expect(await globex.get('a')).toBeUndefined();
    expect(await globex.getMany(['a', 'k'])).toEqual([undefined, 'globex']);
    expect(await sqlState(cache.type<string>('rvt' as never).get('a'))).toBe('PC013');
  });
});

describe('client-side counting', () => {
  it('counts hits and misses of view reads and reports them to cache_stats', async () => {
    const own = await createCache({ pool: db.pool });
    const rv = own.type<unknown>('rv' as never);
    const before = (await db.pool.query(`SELECT hits, misses FROM pgcache.cache_stats() WHERE cache_type = 'rv'`))
      .rows[0];
    await rv.set('c1', { a: 1 });
    await rv.set('c2', null);
    expect(await rv.get('c1')).toEqual({ a: 1 });
    expect(await rv.get('c2')).toBeNull(); // a stored JSON null is a hit
    expect(await rv.get('absent')).toBeUndefined();
    expect(await rv.getMany(['c1', 'c2', 'nope', 'c1'])).toEqual([{ a: 1 }, null, undefined, { a: 1 }]);
    // Nothing written by the reads themselves: the counts are still in the client.
    const mid = (await db.pool.query(`SELECT hits, misses FROM pgcache.cache_stats() WHERE cache_type = 'rv'`)).rows[0];
    expect(mid).toEqual(before);
    await own.close();
    const after = (await db.pool.query(`SELECT hits, misses FROM pgcache.cache_stats() WHERE cache_type = 'rv'`))
      .rows[0];
    expect(Number(after.hits) - Number(before.hits)).toBe(4);
    expect(Number(after.misses) - Number(before.misses)).toBe(2);
  });

  it('flushes on its own about once a second, with the touches due', async () => {
    const own = await createCache({ pool: db.pool });
    const rv = own.type<unknown>('rv' as never);
    await rv.set('t1', 1);
    await db.pool.query(
      `UPDATE pgcache.cache_rv SET last_accessed_at = now() - interval '1 day', hit_count = 0 WHERE key = 't1'`,
    );
    const hits = async () =>
      Number((await db.pool.query(`SELECT hits FROM pgcache.cache_stats() WHERE cache_type = 'rv'`)).rows[0].hits);
    const start = await hits();
    expect(await rv.get('t1')).toBe(1);
    await new Promise((r) => setTimeout(r, 1500));
    expect(await hits()).toBe(start + 1);
    const { rows } = await db.pool.query(
      `SELECT hit_count, last_accessed_at > now() - interval '1 minute' AS recent FROM pgcache.cache_rv WHERE key = 't1'`,
    );
    expect(rows[0]).toEqual({ hit_count: '1', recent: true });
    await own.close();
  });

  it('cache_record_reads checks its arguments and the type', async () => {
    const reader = logins.reader as pg.Pool;
    expect(await sqlState(reader.query(`SELECT pgcache.cache_record_reads('rv', -1, 0)`))).toBe('PC010');
    expect(await sqlState(reader.query(`SELECT pgcache.cache_record_reads('nope', 1, 0)`))).toBe('PC001');
    await reader.query(`SELECT pgcache.cache_record_reads('rv', 0, 0)`);
  });
});

describe('deleteMany', () => {
  it('deletes many keys in one call (cache_delete_many), writer role', async () => {
    const rv = cache.type<unknown>('rv' as never);
    await rv.set('d1', 1);
    await rv.set('d2', 2);
    expect(await rv.deleteMany(['d1', 'd2', 'd3'])).toBe(2);
    expect(await rv.getMany(['d1', 'd2'])).toEqual([undefined, undefined]);
    expect(await sqlState((logins.reader as pg.Pool).query(`SELECT pgcache.cache_delete_many('rv', ARRAY['x'])`))).toBe(
      '42501',
    );
    const acme = cache.forTenant('acme').type<string>('rvt' as never);
    const globex = cache.forTenant('globex').type<string>('rvt' as never);
    await acme.set('z', 'a');
    await globex.set('z', 'g');
    expect(await acme.deleteMany(['z'])).toBe(1);
    expect(await globex.get('z')).toBe('g');

    const store = new KeyvPgcache({ pool: db.pool, type: 'rv' });
    await store.set('k1', 1);
    await store.set('k2', 2);
    expect(await store.deleteMany(['k1', 'k2'])).toBe(true);
    expect(await store.deleteMany(['k1'])).toBe(false);
    await store.disconnect();
  });
});

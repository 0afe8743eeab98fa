// Least privilege: application roles granted one group role each, logged in for real.
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clusterInfo } from '../../scripts/lib/cluster.js';
import { sqlState, useDatabase } from '../helpers/db.js';

const db = useDatabase();
const info = clusterInfo();
const logins: Record<string, pg.Pool> = {};

beforeAll(async () => {
  const { rows } = await db.pool.query('SELECT reader_role, writer_role, admin_role FROM pgcache.pgcache_install');
  for (const group of ['reader', 'writer', 'admin']) {
    const role = `${db.name}_${group}`;
    await db.pool.query(`CREATE ROLE ${role} LOGIN; GRANT ${rows[0][`${group}_role`]} TO ${role}`);
    logins[group] = new pg.Pool({
      connectionString: `postgres://${role}@${info.host}:${info.port}/${db.name}`,
      max: 2,
    });
  }
  await db.pool.query(`SELECT pgcache.cache_set('default', 'k', '"v"'::jsonb)`);
});
afterAll(async () => {
  for (const [group, pool] of Object.entries(logins)) {
    await pool.end();
    await db.pool.query(`DROP ROLE ${db.name}_${group}`);
  }
});

const as = (group: string, sql: string) => (logins[group] as pg.Pool).query(sql);

describe('reader', () => {
  it('reads through the functions and nothing else', async () => {
    expect((await as('reader', `SELECT pgcache.cache_get('default', 'k') AS v`)).rows[0].v).toBe('v');
    expect((await as('reader', `SELECT count(*) FROM pgcache.cache_stats()`)).rows).toHaveLength(1);
    expect(await sqlState(as('reader', `SELECT pgcache.cache_set('default', 'k', '"x"'::jsonb)`))).toBe('42501');
    expect(await sqlState(as('reader', `SELECT * FROM pgcache.entries`))).toBe('42501');
    expect(await sqlState(as('reader', `SELECT * FROM pgcache.cache_default`))).toBe('42501');
    expect(await sqlState(as('reader', `SELECT nextval('pgcache.cache_default_hits')`))).toBe('42501');
  });
});

describe('writer', () => {
  it('writes and invalidates, but cannot touch tables, maintenance or types', async () => {
    await as('writer', `SELECT pgcache.cache_set('default', 'w', '1'::jsonb)`);
    expect((await as('writer', `SELECT pgcache.cache_delete('default', 'w') AS ok`)).rows[0].ok).toBe(true);
    expect(await sqlState(as('writer', `UPDATE pgcache.entries SET expires_at = now()`))).toBe('42501');
    expect(await sqlState(as('writer', `DELETE FROM pgcache.cache_types`))).toBe('42501');
    for (const call of [
      `SELECT pgcache.cache_create_type('mine')`,
      `SELECT pgcache.cache_drop_type('default')`,
      `SELECT pgcache.cache_evict('default', 0)`,
      `SELECT pgcache.cache_cleanup_expired()`,
      `SELECT * FROM pgcache.cache_maintenance()`,
      `SELECT * FROM pgcache.cache_top_keys`,
    ]) {
      expect(await sqlState(as('writer', call))).toBe('42501');
    }
  });
});

describe('admin', () => {
  it('manages types, maintenance and monitoring', async () => {
    await as('admin', `SELECT pgcache.cache_create_type('admin_made')`);
    expect((await as('admin', `SELECT pgcache.cache_evict('admin_made', 0) AS n`)).rows[0].n).toBe('0');
    await as('admin', `SELECT * FROM pgcache.cache_top_keys`);
    await as('admin', `SELECT pgcache.cache_drop_type('admin_made')`);
  });
});

describe('functions', () => {
  // Except the two that create and drop triggers on the caller's own table: they run as the caller (who must
  // own the table), with the same pinned path.
  const INVOKER = ['cache_watch_table(regclass,text,text[],text)', 'cache_unwatch_table(regclass,text,text)'];
  it('every public function is SECURITY DEFINER (the watch functions INVOKER) with a pinned search_path ending in pg_temp', async () => {
    const { rows } = await db.pool.query(`
      SELECT p.oid::regprocedure::text AS f, p.prosecdef, array_to_string(p.proconfig, ',') AS config
        FROM pg_proc p WHERE p.pronamespace = 'pgcache'::regnamespace AND p.proname LIKE 'cache\\_%'`);
    expect(rows.length).toBeGreaterThan(40);
    for (const row of rows) {
      expect(row.prosecdef, row.f).toBe(!INVOKER.includes(row.f.replace(/^pgcache\./, '')));
      expect(row.config, row.f).toMatch(/^search_path=pgcache, pg_temp(,|$)/);
    }
  });

  it('PUBLIC can execute none of them', async () => {
    const { rows } = await db.pool.query(`
      SELECT count(*)::int AS n FROM pg_proc p
       WHERE p.pronamespace = 'pgcache'::regnamespace AND has_function_privilege('public', p.oid, 'EXECUTE')`);
    expect(rows[0].n).toBe(0);
  });
});

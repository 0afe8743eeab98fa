// The names renamed in 0.2.0 keep working for one release: each old name does exactly what the new one does.
import { beforeAll, describe, expect, it } from 'vitest';
import { useDatabase } from '../helpers/db.js';

const db = useDatabase();
const one = async (sql: string) => (await db.pool.query(sql)).rows[0];

beforeAll(async () => {
  await db.pool.query(`SELECT pgcache.cache_create_type('alias_json', 'jsonb')`);
  await db.pool.query(`SELECT pgcache.cache_create_type('alias_bytes', 'bytea')`);
  await db.pool.query(`SELECT pgcache.cache_set('alias_bytes', 'b', '\\x0102030405'::bytea)`);
});

describe('deprecated aliases', () => {
  it('cache_set_notify configures notify like cache_configure_notify', async () => {
    expect(await one(`SELECT pgcache.cache_set_notify('alias_json', true) AS on`)).toEqual({ on: true });
    expect(await one(`SELECT notify FROM pgcache.cache_types WHERE name = 'alias_json'`)).toEqual({ notify: true });
    expect(await one(`SELECT pgcache.cache_set_notify('alias_json', false) AS on`)).toEqual({ on: false });
  });

  it('cache_set_tenant_scoped configures tenant scoping like cache_configure_tenant_scoped', async () => {
    await db.pool.query(`SELECT pgcache.cache_set_tenant_scoped('alias_json', true)`);
    expect(await one(`SELECT tenant_scoped FROM pgcache.cache_types WHERE name = 'alias_json'`)).toEqual({
      tenant_scoped: true,
    });
  });

  it('cache_read_bytea returns the slice cache_get_bytea_slice returns', async () => {
    const old = await one(`SELECT total, chunk FROM pgcache.cache_read_bytea('alias_bytes', 'b', 1, 2)`);
    const now = await one(`SELECT total, chunk FROM pgcache.cache_get_bytea_slice('alias_bytes', 'b', 1, 2)`);
    expect(old).toEqual(now);
    expect(old.total).toBe(5);
    expect([...old.chunk]).toEqual([2, 3]);
  });

  it('each alias says it is deprecated in its comment', async () => {
    const { rows } = await db.pool.query(
      `SELECT p.proname, obj_description(p.oid, 'pg_proc') AS comment FROM pg_proc p
        WHERE p.pronamespace = 'pgcache'::regnamespace
          AND p.proname IN ('cache_set_notify', 'cache_set_tenant_scoped', 'cache_read_bytea')`,
    );
    expect(rows).toHaveLength(3);
    for (const r of rows) expect(r.comment).toMatch(/^Deprecated: use cache_/);
  });
});

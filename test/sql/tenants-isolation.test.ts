// Tenant-scoped types: versions per tenant, model widths that no tenant can set for the others, a tenant
// switch that no write in flight can slip past, and every function kept to the caller's own entries.
import type pg from 'pg';
import { beforeAll, describe, expect, it } from 'vitest';
import { sqlState, useDatabase } from '../helpers/db.js';
import { asTenant } from '../helpers/sessions.js';

const db = useDatabase();

async function value(tenant: string, type: string, key: string): Promise<unknown> {
  return (await asTenant<{ v: unknown }>(db.pool, tenant, `SELECT pgcache.cache_get($1, $2) AS v`, [type, key]))[0]?.v;
}

beforeAll(async () => {
  await db.pool.query(`SELECT pgcache.cache_create_type('tv', 'jsonb')`);
  await db.pool.query(`SELECT pgcache.cache_configure_tenant_scoped('tv', true)`);
});

describe('versions of a tenant-scoped type', () => {
  it("a tenant's bump hides only its own entries", async () => {
    await asTenant(db.pool, 'a', `SELECT pgcache.cache_set('tv', 'k', '"a"'::jsonb)`);
    await asTenant(db.pool, 'b', `SELECT pgcache.cache_set('tv', 'k', '"b"'::jsonb)`);
    await asTenant(db.pool, 'b', `SELECT pgcache.cache_bump_version('tv')`);
    expect(await value('b', 'tv', 'k')).toBeNull();
    expect(await value('a', 'tv', 'k')).toBe('a');
    // b writes again at its new version and reads it; maintenance removes only b's old row.
    await asTenant(db.pool, 'b', `SELECT pgcache.cache_set('tv', 'k', '"b2"'::jsonb)`);
    expect(await value('b', 'tv', 'k')).toBe('b2');
    await db.pool.query(`SELECT pgcache.cache_cleanup_expired('tv')`);
    expect(await value('a', 'tv', 'k')).toBe('a');
    expect(await value('b', 'tv', 'k')).toBe('b2');
  });

  it('a bump without a tenant is refused (PC013)', async () => {
    expect(await sqlState(asTenant(db.pool, null, `SELECT pgcache.cache_bump_version('tv')`))).toBe('PC013');
    expect(await value('a', 'tv', 'k')).toBe('a');
  });
});

describe('model widths', () => {
  it('a tenant cannot register a width, so it cannot make another tenant fail with PC006', async () => {
    await db.pool.query(`SELECT pgcache.cache_create_type('tvec', 'text')`);
    await db.pool.query(`SELECT pgcache.cache_configure_tenant_scoped('tvec', true)`);
    const v3 = `ARRAY[1,0,0]::real[]`;
    expect(
      await sqlState(
        asTenant(
          db.pool,
          'b',
          `SELECT pgcache.cache_set_with_embedding('tvec', 'q', 'x'::text, ${v3}, 'tenant-model', interval '1 hour')`,
        ),
      ),
    ).toBe('PC010');
    expect((await db.pool.query(`SELECT 1 FROM pgcache.cache_models WHERE model = 'tenant-model'`)).rowCount).toBe(0);
    // Registered by an operator, tenants use it at its width only.
    await db.pool.query(`SELECT pgcache.cache_register_model('tenant-model', 3)`);
    await asTenant(
      db.pool,
      'a',
      `SELECT pgcache.cache_set_with_embedding('tvec', 'q', 'x'::text, ${v3}, 'tenant-model', interval '1 hour')`,
    );
    expect(
      await sqlState(
        asTenant(
          db.pool,
          'b',
          `SELECT pgcache.cache_set_with_embedding('tvec', 'q', 'x'::text, ARRAY[1,0]::real[], 'tenant-model', interval '1 hour')`,
        ),
      ),
    ).toBe('PC006');
    expect(await sqlState(db.pool.query(`SELECT pgcache.cache_register_model('tenant-model', 4)`))).toBe('PC006');
  });
});

describe('switching a type to tenant scope', () => {
  it('waits for writes in flight, so none lands unscoped in a scoped type', async () => {
    await db.pool.query(`SELECT pgcache.cache_create_type('tswitch', 'jsonb')`);
    const writer = await db.pool.connect();
    const switcher = await db.pool.connect();
    try {
      await writer.query('BEGIN');
      // A key that spells tenant a's stored form: unscoped, it would become a's entry "secret".
      await writer.query(`SELECT pgcache.cache_set('tswitch', $1, '"planted"'::jsonb)`, [
        `a${String.fromCharCode(31)}secret`,
      ]);
      const switched = switcher.query(`SELECT pgcache.cache_configure_tenant_scoped('tswitch', true)`).then(
        () => 'switched',
        (e: { code?: string }) => e.code,
      );
      await new Promise((r) => setTimeout(r, 300));
      await writer.query('COMMIT');
      // The switch saw the committed entry and refused; had it not waited, it would have succeeded.
      expect(await switched).toBe('PC010');
    } finally {
      writer.release();
      switcher.release();
    }
    const scoped = await db.pool.query(`SELECT tenant_scoped FROM pgcache.cache_types WHERE name = 'tswitch'`);
    expect(scoped.rows[0].tenant_scoped).toBe(false);
  });

  it('a write that starts after the switch is scoped', async () => {
    await db.pool.query(`SELECT pgcache.cache_create_type('tswitch2', 'jsonb')`);
    const switcher = await db.pool.connect();
    try {
      await switcher.query('BEGIN');
      await switcher.query(`SELECT pgcache.cache_configure_tenant_scoped('tswitch2', true)`);
      const write = asTenant(db.pool, 'a', `SELECT pgcache.cache_set('tswitch2', 'k', '1'::jsonb)`);
      await new Promise((r) => setTimeout(r, 300));
      await switcher.query('COMMIT');
      await write;
    } finally {
      switcher.release();
    }
    expect(await value('a', 'tswitch2', 'k')).toBe(1);
    expect(await value('b', 'tswitch2', 'k')).toBeNull();
    const stored = await db.pool.query(`SELECT key, scope FROM pgcache.entries e JOIN pgcache.cache_types t
      ON t.id = e.type_id WHERE t.name = 'tswitch2'`);
    expect(stored.rows).toEqual([{ key: `a${String.fromCharCode(31)}k`, scope: 'a' }]);
  });
});

describe('every function keeps a tenant to its own entries', () => {
  beforeAll(async () => {
    await db.pool.query(`SELECT pgcache.cache_create_type('tall', 'jsonb')`);
    await db.pool.query(`SELECT pgcache.cache_create_type('tbytes', 'bytea')`);
    await db.pool.query(`SELECT pgcache.cache_configure_tenant_scoped('tall', true)`);
    await db.pool.query(`SELECT pgcache.cache_configure_tenant_scoped('tbytes', true)`);
    await asTenant(
      db.pool,
      'a',
      `SELECT pgcache.cache_set_many('tall', ARRAY['x:1','x:2','y'], ARRAY['1','2','3']::jsonb[])`,
    );
    await asTenant(db.pool, 'a', `SELECT pgcache.cache_set('tbytes', 'blob', '\\x0102'::bytea)`);
  });

  const reads: [string, string][] = [
    ['get', `SELECT pgcache.cache_get('tall', 'x:1') IS NOT NULL AS seen`],
    ['get_entry', `SELECT count(*) > 0 AS seen FROM pgcache.cache_get_entry('tall', 'x:1')`],
    ['get_many', `SELECT count(*) > 0 AS seen FROM pgcache.cache_get_many('tall', ARRAY['x:1','y'])`],
    ['scan', `SELECT count(*) > 0 AS seen FROM pgcache.cache_scan('tall')`],
    ['scan prefix', `SELECT count(*) > 0 AS seen FROM pgcache.cache_scan('tall', 'x:')`],
    ['peek', `SELECT count(*) > 0 AS seen FROM pgcache.cache_peek('tall', 'y')`],
    ['read_bytea', `SELECT count(*) > 0 AS seen FROM pgcache.cache_get_bytea_slice('tbytes', 'blob', 0, 10)`],
    ['stats', `SELECT entries > 0 AS seen FROM pgcache.cache_stats() WHERE cache_type = 'tall'`],
  ];
  it.each(reads)('%s: the owner sees its entries, another tenant sees none', async (_name, sql) => {
    expect((await asTenant<{ seen: boolean }>(db.pool, 'a', sql))[0]?.seen).toBe(true);
    expect((await asTenant<{ seen: boolean }>(db.pool, 'b', sql))[0]?.seen).toBe(false);
  });

  it('stats show a tenant no totals counted across tenants', async () => {
    const [row] = await asTenant<{ hits: string | null; entries: string }>(
      db.pool,
      'b',
      `SELECT hits, entries FROM pgcache.cache_stats() WHERE cache_type = 'tall'`,
    );
    expect(row).toEqual({ hits: null, entries: '0' });
  });

  const writes: [string, string][] = [
    ['delete', `SELECT pgcache.cache_delete('tall', 'y')::text AS r`],
    ['touch', `SELECT pgcache.cache_touch('tall', 'y', interval '1 minute')::text AS r`],
    ['invalidate_prefix', `SELECT pgcache.cache_invalidate_prefix('tall', 'x')::text AS r`],
    ['invalidate_pattern', `SELECT pgcache.cache_invalidate_pattern('tall', '%')::text AS r`],
    ['bump_version', `SELECT pgcache.cache_bump_version('tall')::text AS r`],
  ];
  it.each(writes)('%s by another tenant leaves the entries alone', async (_name, sql) => {
    await asTenant(db.pool, 'b', sql);
    expect(await value('a', 'tall', 'x:1')).toBe(1);
    expect(await value('a', 'tall', 'y')).toBe(3);
  });

  it('compute locks are per tenant', async () => {
    const a = await db.pool.connect();
    const b = await db.pool.connect();
    try {
      await a.query(`SET pgcache.tenant = 'a'`);
      await b.query(`SET pgcache.tenant = 'b'`);
      expect((await a.query(`SELECT pgcache.cache_lock('tall', 'x:1') AS l`)).rows[0].l).toBe(true);
      expect((await b.query(`SELECT pgcache.cache_lock('tall', 'x:1') AS l`)).rows[0].l).toBe(true);
      expect((await b.query(`SELECT pgcache.cache_unlock('tall', 'x:1') AS l`)).rows[0].l).toBe(true);
      expect((await b.query(`SELECT pgcache.cache_unlock('tall', 'x:1') AS l`)).rows[0].l).toBe(false);
      expect((await a.query(`SELECT pgcache.cache_unlock('tall', 'x:1') AS l`)).rows[0].l).toBe(true);
    } finally {
      for (const c of [a, b] as pg.PoolClient[]) {
        await c.query('RESET pgcache.tenant');
        c.release();
      }
    }
  });
});

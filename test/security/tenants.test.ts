// Tenant isolation, enforced by the database from SET pgcache.tenant: no key, prefix or pattern one tenant
// passes reaches another tenant's entries, from SQL or from TypeScript.
import { beforeAll, describe, expect, it } from 'vitest';
import { type Cache, createCache, TenantRequiredError } from '../../src/index.js';
import { sqlState, useDatabase } from '../helpers/db.js';
import { asTenant } from '../helpers/sessions.js';

const db = useDatabase();
let cache: Cache;

beforeAll(async () => {
  await db.pool.query(`SELECT pgcache.cache_create_type('sessions', 'jsonb')`);
  await db.pool.query(`SELECT pgcache.cache_configure_tenant_scoped('sessions', true)`);
  cache = await createCache({ pool: db.pool });
});

describe('from SQL', () => {
  it('requires a tenant', async () => {
    expect(await sqlState(asTenant(db.pool, null, `SELECT pgcache.cache_get('sessions', 'k')`))).toBe('PC013');
    expect(await sqlState(asTenant(db.pool, 'bad tenant!', `SELECT pgcache.cache_get('sessions', 'k')`))).toBe('PC013');
  });

  it('keeps each tenant to its own keys, prefixes and patterns', async () => {
    await asTenant(db.pool, 'acme', `SELECT pgcache.cache_set('sessions', 'k', '"acme"'::jsonb)`);
    await asTenant(db.pool, 'acme', `SELECT pgcache.cache_set('sessions', 'user:1', '1'::jsonb)`);
    await asTenant(db.pool, 'globex', `SELECT pgcache.cache_set('sessions', 'k', '"globex"'::jsonb)`);
    expect(
      (await asTenant<{ v: string }>(db.pool, 'acme', `SELECT pgcache.cache_get('sessions', 'k') AS v`))[0]?.v,
    ).toBe('acme');
    expect(
      (await asTenant<{ v: string }>(db.pool, 'globex', `SELECT pgcache.cache_get('sessions', 'k') AS v`))[0]?.v,
    ).toBe('globex');
    // A buggy key that spells out another tenant's stored form reaches nothing.
    const forged = `globex${String.fromCharCode(31)}k`;
    expect(
      (await asTenant<{ v: string }>(db.pool, 'acme', `SELECT pgcache.cache_get('sessions', $1) AS v`, [forged]))[0]?.v,
    ).toBeNull();
    expect(
      (
        await asTenant<{ n: string }>(
          db.pool,
          'globex',
          `SELECT pgcache.cache_invalidate_pattern('sessions', '%') AS n`,
        )
      )[0]?.n,
    ).toBe('1');
    expect(
      (
        await asTenant<{ n: string }>(
          db.pool,
          'globex',
          `SELECT pgcache.cache_invalidate_prefix('sessions', 'user') AS n`,
        )
      )[0]?.n,
    ).toBe('0');
    expect(
      (await asTenant<{ v: string }>(db.pool, 'acme', `SELECT pgcache.cache_get('sessions', 'k') AS v`))[0]?.v,
    ).toBe('acme');
    const keys = await asTenant<{ key: string }>(
      db.pool,
      'acme',
      `SELECT key FROM pgcache.cache_scan('sessions') ORDER BY key`,
    );
    expect(keys.map((r) => r.key)).toEqual(['k', 'user:1']);
    const many = await asTenant<{ key: string }>(
      db.pool,
      'acme',
      `SELECT key FROM pgcache.cache_get_many('sessions', ARRAY['k', 'x'])`,
    );
    expect(many.map((r) => r.key)).toEqual(['k']);
  });

  it('scopes semantic lookups of a tenant-scoped type to the tenant', async () => {
    await db.pool.query(`SELECT pgcache.cache_create_type('tenant_answers', 'text')`);
    await db.pool.query(`SELECT pgcache.cache_configure_tenant_scoped('tenant_answers', true)`);
    // Tenants store vectors only of models an operator registered (widths are global).
    await db.pool.query(`SELECT pgcache.cache_register_model('m3', 3)`);
    await asTenant(
      db.pool,
      'acme',
      `SELECT pgcache.cache_set_with_embedding('tenant_answers', 'q', 'secret acme answer'::text, '{1,0,0}'::real[], 'm3', interval '1 hour', 'anything')`,
    );
    const other = await asTenant(
      db.pool,
      'globex',
      `SELECT key FROM pgcache.cache_semantic_get('tenant_answers', '[1,0,0]'::vector, 'm3', 0.5, 'acme')`,
    );
    expect(other).toEqual([]);
    const own = await asTenant<{ key: string; value_text: string }>(
      db.pool,
      'acme',
      `SELECT key, value_text FROM pgcache.cache_semantic_get('tenant_answers', '[1,0,0]'::vector, 'm3', 0.5)`,
    );
    expect(own).toEqual([{ key: 'q', value_text: 'secret acme answer' }]);
  });

  it('changes scoping only while a type is empty', async () => {
    expect(await sqlState(db.pool.query(`SELECT pgcache.cache_configure_tenant_scoped('sessions', false)`))).toBe(
      'PC010',
    );
  });
});

describe('from TypeScript', () => {
  it('forTenant scopes every call; without a tenant the type refuses', async () => {
    const acme = cache.forTenant('acme').type('sessions' as 'default');
    const initech = cache.forTenant('initech').type('sessions' as 'default');
    await initech.set('k', { who: 'initech' });
    expect(await acme.get('k')).toBe('acme');
    expect(await initech.get('k')).toEqual({ who: 'initech' });
    expect(await initech.getMany(['k', 'user:1'])).toEqual([{ who: 'initech' }, undefined]);
    await expect(cache.type('sessions' as 'default').get('k')).rejects.toBeInstanceOf(TenantRequiredError);
    // The tenant setting lasts for its own statement only: the pooled connection carries nothing over.
    const { rows } = await db.pool.query(`SELECT current_setting('pgcache.tenant', true) AS t`);
    expect(rows[0].t ?? '').toBe('');
  });
});

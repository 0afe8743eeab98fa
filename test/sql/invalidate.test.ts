// Prefix, pattern and version invalidation; injection attempts through type names and patterns.
import { beforeEach, describe, expect, it } from 'vitest';
import { sqlState, useDatabase } from '../helpers/db.js';

const db = useDatabase();
const one = async (sql: string, params: unknown[] = []) => (await db.pool.query(sql, params)).rows[0];
const keysLeft = async () =>
  (await db.pool.query(`SELECT key FROM pgcache.cache_default ORDER BY key`)).rows.map((r) => r.key);

const KEYS = ['50%_off', '50%_offer', '500_off', '50x_off', 'a_b', 'axb', 'back\\slash', 'back\\slash2', 'plain'];

beforeEach(async () => {
  await db.pool.query(`DELETE FROM pgcache.entries`);
  await one(`SELECT pgcache.cache_set_many('default', $1, $2::jsonb[])`, [KEYS, KEYS.map(() => '1')]);
});

describe('cache_invalidate_prefix', () => {
  it('takes % and _ literally', async () => {
    expect((await one(`SELECT pgcache.cache_invalidate_prefix('default', '50%_') AS n`)).n).toBe('2');
    expect(await keysLeft()).toEqual(['500_off', '50x_off', 'a_b', 'axb', 'back\\slash', 'back\\slash2', 'plain']);
    expect((await one(`SELECT pgcache.cache_invalidate_prefix('default', 'a_') AS n`)).n).toBe('1');
    expect(await keysLeft()).toContain('axb');
  });

  it('takes backslashes literally', async () => {
    expect((await one(`SELECT pgcache.cache_invalidate_prefix('default', 'back\\slash') AS n`)).n).toBe('2');
    expect((await one(`SELECT pgcache.cache_invalidate_prefix('default', 'back\\') AS n`)).n).toBe('0');
  });
});

describe('cache_invalidate_pattern', () => {
  it('applies LIKE wildcards as written', async () => {
    expect((await one(`SELECT pgcache.cache_invalidate_pattern('default', '50__off') AS n`)).n).toBe('3');
    expect(await keysLeft()).toEqual(['50%_offer', 'a_b', 'axb', 'back\\slash', 'back\\slash2', 'plain']);
  });

  it('treats SQL in a pattern as data', async () => {
    const n = await one(`SELECT pgcache.cache_invalidate_pattern('default', $1) AS n`, [
      `x'; DELETE FROM pgcache.entries; --`,
    ]);
    expect(n.n).toBe('0');
    expect(await keysLeft()).toHaveLength(KEYS.length);
  });
});

describe('type names cannot inject', () => {
  it.each([`default; DROP TABLE pgcache.entries; --`, `default" CASCADE; --`, `pgcache.cache_default`, `DEFAULT`])(
    '%s',
    async (name) => {
      expect(await sqlState(one(`SELECT pgcache.cache_get($1, 'plain')`, [name]))).toBe('PC001');
      expect(await sqlState(one(`SELECT pgcache.cache_create_type($1)`, [name]))).toMatch(/PC00[89]/);
      expect(await keysLeft()).toHaveLength(KEYS.length);
    },
  );
});

describe('cache_bump_version', () => {
  it('hides every entry of the type at once; cleanup removes them later', async () => {
    await one(`SELECT pgcache.cache_set('vector_search', 'other', '1'::jsonb)`);
    const { v } = await one(`SELECT pgcache.cache_bump_version('default') AS v`);
    expect(v).toBeGreaterThan(1);
    expect((await one(`SELECT pgcache.cache_get('default', 'plain') AS x`)).x).toBeNull();
    expect((await one(`SELECT pgcache.cache_get('vector_search', 'other') AS x`)).x).toBe(1);
    await one(`SELECT pgcache.cache_set('default', 'plain', '2'::jsonb)`);
    expect((await one(`SELECT pgcache.cache_get('default', 'plain') AS x`)).x).toBe(2);
    expect((await one(`SELECT pgcache.cache_cleanup_expired('default') AS n`)).n).toBe(String(KEYS.length - 1));
    expect(await keysLeft()).toEqual(['plain']);
  });
});

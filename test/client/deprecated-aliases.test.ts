// The client's names renamed in 0.2.0 still work, as the new names do, until they are removed.
import pg from 'pg';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { type Cache, createCache } from '../../src/index.js';
import { useDatabase } from '../helpers/db.js';

const db = useDatabase();
let cache: Cache;
let pool: pg.Pool;

beforeAll(async () => {
  await db.pool.query(`SELECT pgcache.cache_configure_notify('default', true)`);
  pool = new pg.Pool({ connectionString: db.url, max: 2 });
  pool.on('error', () => undefined); // an idle connection lost (see test/helpers/db.ts)
  cache = await createCache({ pool, nearCache: { maxEntries: 100 } });
});
afterAll(async () => {
  await cache.close();
  await pool.end();
});

it('Cache.accessor(name) is Cache.type(name)', () => {
  expect(cache.accessor('default')).toBe(cache.type('default'));
  expect(() => cache.accessor('no_such_type')).toThrow(/does not exist/);
});

it('NearCache.dropType(type, prefix) drops the keys under the prefix, as dropPrefix does', () => {
  const near = cache.near as NonNullable<Cache['near']>;
  const far = new Date(Date.now() + 60_000);
  for (const key of ['user:1', 'user:2', 'order:1']) near.fill('default', key, key, far, near.ticket());
  near.dropType('default', 'user:');
  expect(['user:1', 'user:2', 'order:1'].map((key) => near.lookup('default', key).found)).toEqual([false, false, true]);
  near.dropPrefix('default', 'order:');
  expect(near.lookup('default', 'order:1').found).toBe(false);
});

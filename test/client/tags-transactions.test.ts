// The client with tags and transactions: tags on set and setMany, invalidateTags, every method on a caller's
// connection inside BEGIN/COMMIT or in cache.transaction(), a near-cache of another process dropped after a
// watched table's change commits, and the AI helpers tagging their entries.
import { once } from 'node:events';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type Cache,
  createCache,
  InvalidTagsError,
  SemanticLlmCache,
  TenantRequiredError,
  VectorSearchCache,
  WatchRefusedError,
} from '../../src/index.js';
import { useDatabase } from '../helpers/db.js';

const db = useDatabase();
let cache: Cache;
let withL1: Cache;
let l1Pool: pg.Pool;

beforeAll(async () => {
  await db.pool.query(`SELECT pgcache.cache_configure_notify('default', true)`);
  await db.pool.query(`CREATE TABLE public.docs (id int PRIMARY KEY, body text)`);
  await db.pool.query(`INSERT INTO public.docs SELECT g, 'v1' FROM generate_series(1, 10) g`);
  cache = await createCache({ pool: db.pool });
  l1Pool = new pg.Pool({ connectionString: db.url, max: 2 });
  l1Pool.on('error', () => undefined);
  withL1 = await createCache({ pool: l1Pool, nearCache: { maxEntries: 100, reconnectDelayMs: 100 } });
});
afterAll(async () => {
  await withL1.close();
  await l1Pool.end();
});

describe('tags', () => {
  it('set and setMany carry tags; invalidateTags removes them across types or in one', async () => {
    const d = cache.type('default');
    await d.set('t:a', 1, { tags: ['doc:1'] });
    await d.set('t:b', 2, { ttl: 60, tags: ['doc:1', 'doc:2'] });
    await d.set('t:c', 3, { ttl: 'short', tags: ['doc:3'] });
    await d.setMany(
      [
        ['t:m1', 1],
        ['t:m2', 2],
      ],
      { tags: ['doc:2'] },
    );
    await cache.type('llm_responses').set('t:l', 'answer', { tags: ['doc:1'] });
    expect(await cache.invalidateTags(['doc:1'], { type: 'default' })).toBe(2);
    expect(await cache.type('llm_responses').get('t:l')).toBe('answer');
    expect(await cache.invalidateTags(['doc:1', 'doc:2'])).toBe(3);
    expect(await d.getMany(['t:a', 't:b', 't:c', 't:m1'])).toEqual([undefined, undefined, 3, undefined]);
    expect(await d.invalidateTags(['doc:3'])).toBe(1);
  });

  it('refuses bad tags before sending them (PC018)', async () => {
    const d = cache.type('default');
    for (const tags of [
      [''],
      ['a\u0000b'],
      ['x'.repeat(257)],
      'doc:1',
      [1],
      Array.from({ length: 65 }, (_, i) => `t${i}`),
    ]) {
      await expect(d.set('bad', 1, { tags: tags as string[] })).rejects.toBeInstanceOf(InvalidTagsError);
    }
    await expect(cache.invalidateTags([null as unknown as string])).rejects.toBeInstanceOf(InvalidTagsError);
  });

  it('a tenant view invalidates its own tenant only', async () => {
    await cache.createType({ name: 'tenant_tags' });
    await db.pool.query(`SELECT pgcache.cache_configure_tenant_scoped('tenant_tags', true)`);
    await cache.refreshTypes();
    const acme = cache.forTenant('acme');
    const globex = cache.forTenant('globex');
    await acme.type('tenant_tags').set('k', 'a', { tags: ['doc:9'] });
    await globex.type('tenant_tags').set('k', 'g', { tags: ['doc:9'] });
    expect(await acme.invalidateTags(['doc:9'])).toBe(1);
    expect(await acme.type('tenant_tags').get('k')).toBeUndefined();
    expect(await globex.type('tenant_tags').get('k')).toBe('g');
    await expect(cache.invalidateTags(['doc:9'], { type: 'tenant_tags' })).rejects.toBeInstanceOf(TenantRequiredError);
  });
});

describe('transactions', () => {
  it('cache.transaction: the entry and the row commit together, or neither', async () => {
    await cache.transaction(async (tx, client) => {
      await client.query(`UPDATE public.docs SET body = 'v2' WHERE id = 1`);
      await tx.type('default').set('tx:doc1', 'v2');
      expect(await tx.type('default').get('tx:doc1')).toBe('v2'); // its own write, inside
      expect(await cache.type('default').get('tx:doc1')).toBeUndefined(); // not yet outside
    });
    expect(await cache.type('default').get('tx:doc1')).toBe('v2');
    await expect(
      cache.transaction(async (tx, client) => {
        await client.query(`UPDATE public.docs SET body = 'v3' WHERE id = 1`);
        await tx.type('default').set('tx:doc1', 'v3');
        throw new Error('app failure');
      }),
    ).rejects.toThrow('app failure');
    expect(await cache.type('default').get('tx:doc1')).toBe('v2');
    expect((await db.pool.query(`SELECT body FROM public.docs WHERE id = 1`)).rows[0].body).toBe('v2');
  });

  it('withConnection: every method on the caller connection, inside its BEGIN/ROLLBACK', async () => {
    await cache.type('default').set('wc:a', 1, { tags: ['wc'] });
    const client = await db.pool.connect();
    try {
      await client.query('BEGIN');
      const tx = cache.withConnection(client);
      const d = tx.type('default');
      await d.set('wc:b', 2);
      await d.setMany([['wc:c', 3]]);
      expect(await tx.invalidateTags(['wc'])).toBe(1);
      await d.delete('wc:c');
      expect(await d.getOrCompute('wc:d', () => 4)).toBe(4);
      expect(await d.getMany(['wc:a', 'wc:b', 'wc:d'])).toEqual([undefined, 2, 4]);
      expect((await tx.stats()).length).toBeGreaterThan(0);
      await client.query('ROLLBACK');
    } finally {
      client.release();
    }
    expect(await cache.type('default').getMany(['wc:a', 'wc:b', 'wc:d'])).toEqual([1, undefined, undefined]);
  });

  it('translates errors inside a transaction and rolls it back', async () => {
    await expect(
      cache.transaction(async (tx) => {
        await tx.type('default').set('ok', 1);
        await tx.type('default').set('bad', 1, { ttl: -1 });
      }),
    ).rejects.toMatchObject({ code: 'PC004' });
    expect(await cache.type('default').get('ok')).toBeUndefined();
  });

  it('works on a pool of one with many callers, one transaction at a time', async () => {
    const small = new pg.Pool({ connectionString: db.url, max: 1 });
    small.on('error', () => undefined);
    const c = await createCache({ pool: small });
    try {
      await Promise.all(
        Array.from({ length: 8 }, (_, i) =>
          c.transaction(async (tx) => {
            await tx.type('default').set(`p1:${i}`, i, { tags: ['p1'] });
          }),
        ),
      );
      expect(await c.invalidateTags(['p1'])).toBe(8);
    } finally {
      await c.close();
      await small.end();
    }
  });
});

describe('watched tables', () => {
  it('a watch drops the near-cache entry of another process when the source change commits', async () => {
    expect(await cache.watchTable('public.docs', 'doc:{id}')).toMatch(/^pgcache_watch_/);
    expect((await cache.watches()).map((w) => [w.tableName, w.tag])).toEqual([['docs', 'doc:{id}']]);
    const heard = once(withL1.near as NonNullable<Cache['near']>, 'change');
    await cache.type('default').set('answer:5', 'from v1', { tags: ['doc:5'] });
    await heard;
    expect(await withL1.type('default').get('answer:5')).toBe('from v1');
    expect(await withL1.type('default').get('answer:5')).toBe('from v1'); // held in process
    const dropped = once(withL1.near as NonNullable<Cache['near']>, 'change');
    await cache.transaction(async (_tx, client) => {
      await client.query(`UPDATE public.docs SET body = 'v2' WHERE id = 5`);
    });
    await dropped;
    expect(await withL1.type('default').get('answer:5')).toBeUndefined();
    expect(await cache.unwatchTable('public.docs')).toBe(1);
  });

  it('refuses a table its caller does not own (WatchRefusedError)', async () => {
    await expect(cache.watchTable('pgcache.cache_settings', 'x:{name}')).rejects.toBeInstanceOf(WatchRefusedError);
  });
});

describe('AI helpers', () => {
  it('VectorSearchCache tags a result with the ids of its documents; changing one drops exactly those', async () => {
    const search = new VectorSearchCache<{ id: number; text: string }[]>(cache);
    const q1 = [1, 0, 0];
    const q2 = [0, 1, 0];
    await search.getOrSearch(q1, {}, 'kb1', () => [
      { id: 1, text: 'a' },
      { id: 2, text: 'b' },
    ]);
    await search.getOrSearch(q2, {}, 'kb1', () => [{ id: 3, text: 'c' }]);
    expect(await cache.invalidateTags(['doc:2'])).toBe(1);
    let calls = 0;
    await search.getOrSearch(q1, {}, 'kb1', () => {
      calls++;
      return [];
    });
    await search.getOrSearch(q2, {}, 'kb1', () => {
      calls++;
      return [];
    });
    expect(calls).toBe(1);
  });

  it('SemanticLlmCache stores the sources an answer was grounded on as tags', async () => {
    const llm = new SemanticLlmCache(cache, 'tag-model');
    await llm.store('what is in doc 4?', [0.1, 0.2, 0.3], 'it says v1', { sources: [4, 'x'] });
    expect((await llm.lookup('what is in doc 4?'))?.response).toBe('it says v1');
    expect(await cache.invalidateTags(['doc:4'])).toBe(1);
    expect(await llm.lookup('what is in doc 4?')).toBeUndefined();
    await expect(llm.store('p', [0.1, 0.2, 0.3], 'r', { sources: [''.padEnd(300, 'x')] })).rejects.toBeInstanceOf(
      InvalidTagsError,
    );
  });
});

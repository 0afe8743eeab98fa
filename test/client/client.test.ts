// The typed client against the real server: every SQL function of the core, values in their real types,
// errors as classes that name the argument, connection errors untouched.
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type Cache,
  cacheKey,
  createCache,
  InvalidKeyError,
  InvalidTtlError,
  KeyTooLongError,
  PgcacheError,
  type SeedCacheTypes,
  UnknownCacheTypeError,
  ValueTooLargeError,
  VectorWidthMismatchError,
  WrongValueKindError,
} from '../../src/index.js';
import { useDatabase } from '../helpers/db.js';

const db = useDatabase();
type Types = SeedCacheTypes & { sessions: 'text' };
let cache: Cache<Types>;
beforeAll(async () => {
  cache = await createCache<Types>({ pool: db.pool });
});

describe('values come back in their TypeScript types', () => {
  it('jsonb as the caller type, including JSON null and nested values', async () => {
    interface Answer {
      text: string;
      sources: { id: number }[];
    }
    const answers = cache.type<Answer>('vector_search');
    await answers.set('q1', { text: 'hi', sources: [{ id: 1 }] });
    const got = await answers.get('q1');
    expect(got?.sources[0]?.id).toBe(1);
    const raw = cache.type('default');
    await raw.set('json-null', null);
    expect(await raw.get('json-null')).toBeNull();
    expect(await raw.get('missing')).toBeUndefined();
    await expect(raw.set('undefined', undefined)).rejects.toBeInstanceOf(WrongValueKindError);
  });

  it('text as string with model and attributes, bytea as Buffer, vector as number[]', async () => {
    const llm = cache.type('llm_responses');
    const expires = await llm.set('p', 'answer', { ttl: 60, model: 'gpt-x', meta: { tokens_used: 7 } });
    expect(expires).toBeInstanceOf(Date);
    expect(await llm.get('p')).toBe('answer');
    const entry = await llm.getEntry('p');
    expect(entry).toMatchObject({ key: 'p', value: 'answer', model: 'gpt-x', meta: { tokens_used: 7 } });

    const audio = cache.type('audio_chunks');
    const bytes = Buffer.from([0, 1, 2, 255]);
    await audio.set('a', bytes, { ttl: 'long', meta: { format: 'opus', duration_ms: 10 } });
    expect(Buffer.compare((await audio.get('a')) as Buffer, bytes)).toBe(0);

    const emb = cache.type('embeddings');
    await emb.set('e', [0.5, 0.25, 1], { model: 'tiny' });
    await emb.set('f', Float32Array.from([1, 2, 3]) as unknown as number[], { model: 'tiny', ttl: 30 });
    expect(await emb.get('e')).toEqual([0.5, 0.25, 1]);
    expect(await emb.get('f')).toEqual([1, 2, 3]);
  });
});

describe('every core function', () => {
  it('getMany and setMany in one round trip each, aligned with the keys', async () => {
    const t = cache.type('default');
    expect(
      await t.setMany(
        [
          ['m1', { n: 1 }],
          ['m2', { n: 2 }],
        ],
        { ttl: 120 },
      ),
    ).toBe(2);
    expect(await t.setMany([['m3', 3]])).toBe(1);
    expect(await t.getMany(['m2', 'nope', 'm1', 'm3'])).toEqual([{ n: 2 }, undefined, { n: 1 }, 3]);
  });

  it('delete, touch, invalidatePrefix, invalidatePattern, bumpVersion, scan', async () => {
    const t = cache.type('default');
    await t.setMany(['user:1', 'user:2', 'user_3', 'team:1'].map((k) => [k, k] as const));
    expect(await t.touch('user:1', 3600)).toBe(true);
    expect(await t.touch('user:1', 'short')).toBe(true);
    expect(await t.touch('user:1')).toBe(true);
    expect(await t.touch('ghost')).toBe(false);
    expect(await t.delete('user:2')).toBe(true);
    expect(await t.delete('user:2')).toBe(false);
    const scanned: string[] = [];
    for await (const e of t.scan({ prefix: 'user', pageSize: 1 })) scanned.push(e.key);
    expect(scanned).toEqual(['user:1', 'user_3']);
    expect(await t.invalidatePrefix('user_')).toBe(1);
    expect(await t.invalidatePattern('team:%')).toBe(1);
    const v = await t.bumpVersion();
    expect(v).toBeGreaterThan(1);
    expect(await t.get('user:1')).toBeUndefined();
  });

  it('stats, createType, dropType, cleanupExpired, evict', async () => {
    const row = await cache.createType({ name: 'sessions', valueKind: 'text', defaultTtl: 60, maxEntries: 2 });
    expect(row.name).toBe('sessions');
    const sessions = cache.type('sessions');
    await sessions.setMany([
      ['s1', 'a'],
      ['s2', 'b'],
      ['s3', 'c'],
    ]);
    expect(await cache.evict('sessions')).toBe(1);
    await sessions.set('s4', 'd', { ttl: 0.01 });
    await new Promise((r) => setTimeout(r, 30));
    expect(await cache.cleanupExpired({ type: 'sessions' })).toBe(1);
    expect(await sessions.get('s3')).toBe('c');
    expect(await sessions.get('s1')).toBeUndefined(); // evicted: the least recently used
    const stats = (await cache.stats()).find((s) => s.cacheType === 'sessions');
    expect(stats).toMatchObject({ valueKind: 'text', entries: 2, hits: 1, misses: 1, hitRate: 0.5, maxEntries: 2 });
    // maxBytes as a PostgreSQL size, read by pg_size_bytes.
    await expect(cache.evict('sessions', { maxBytes: 'lots' })).rejects.toThrow('invalid size: "lots"');
    expect(await cache.evict('sessions', { maxBytes: '1GB' })).toBe(0);
    expect(await cache.evict('sessions', { maxBytes: '0kB' })).toBe(2);
    await cache.dropType('sessions');
    expect(() => cache.type('sessions')).toThrow(UnknownCacheTypeError);
  });

  it('cacheKey matches the SQL cache_key exactly', async () => {
    for (const parts of [['a'], ['gpt-4o', 'What is HOT?'], ['é', '|', ''], ['line\nbreak', '日本']]) {
      const { rows } = await db.pool.query('SELECT pgcache.cache_key(VARIADIC $1::text[]) AS k', [parts]);
      expect(cacheKey(...parts)).toBe(rows[0].k);
    }
  });
});

describe('getOrCompute', () => {
  it('computes once for concurrent callers in this process, then serves the stored value', async () => {
    const t = cache.type<{ v: number }>('default');
    let calls = 0;
    const compute = async () => {
      calls++;
      await new Promise((r) => setTimeout(r, 50));
      return { v: 42 };
    };
    const results = await Promise.all(Array.from({ length: 10 }, () => t.getOrCompute('wrap', compute, { ttl: 60 })));
    expect(results.every((r) => r.v === 42)).toBe(true);
    expect(calls).toBe(1);
    expect(await t.getOrCompute('wrap', compute)).toEqual({ v: 42 });
    expect(calls).toBe(1);
  });

  it('a compute that throws stores nothing and rejects its callers', async () => {
    const t = cache.type('default');
    await expect(t.getOrCompute('boom', () => Promise.reject(new Error('llm down')))).rejects.toThrow('llm down');
    expect(await t.get('boom')).toBeUndefined();
    expect(await t.getOrCompute('boom', () => 'ok')).toBe('ok');
  });
});

describe('errors', () => {
  it.each([
    ['empty key', () => cache.type('default').get(''), InvalidKeyError, 'key'],
    ['long key', () => cache.type('default').set('k'.repeat(2000), 1), KeyTooLongError, 'key'],
    ['NaN ttl', () => cache.type('default').set('k', 1, { ttl: Number.NaN }), InvalidTtlError, 'ttl'],
    ['negative ttl', () => cache.type('default').set('k', 1, { ttl: -1 }), InvalidTtlError, 'ttl'],
    ['Infinity ttl', () => cache.type('default').touch('k', Number.POSITIVE_INFINITY), InvalidTtlError, 'ttl'],
    ['undefined value', () => cache.type('default').set('k', undefined), WrongValueKindError, 'value'],
    [
      'vector width',
      async () => {
        await cache.type('embeddings').set('w', [1, 2], { model: 'two' });
        await cache.type('embeddings').set('w', [1, 2, 3], { model: 'two' });
      },
      VectorWidthMismatchError,
      'value',
    ],
    [
      'too large',
      () => cache.type('vector_search').set('big', { text: 'x'.repeat(1_100_000) }),
      ValueTooLargeError,
      'value',
    ],
  ] as const)('%s', async (_name, call, ErrorClass, argument) => {
    const error = await (call as () => Promise<unknown>)().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ErrorClass);
    expect(error).toBeInstanceOf(PgcacheError);
    expect((error as PgcacheError).argument).toBe(argument);
    expect((error as PgcacheError).code).toMatch(/^PC0\d\d$/);
  });

  it('passes connection errors through unchanged', async () => {
    const dead = new pg.Pool({
      connectionString: 'postgres://postgres@127.0.0.1:1/none',
      connectionTimeoutMillis: 2000,
    });
    await expect(createCache({ pool: dead })).rejects.toMatchObject({ code: 'ECONNREFUSED' });
    await dead.end();
  });
});

afterAll(async () => {
  await cache?.close();
});

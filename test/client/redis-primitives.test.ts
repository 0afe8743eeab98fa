// The Redis-parity methods of the typed client: incr, add, patch, lock (leases), the 'never' TTL and
// getOrCompute's lease lock and miss count, against the real server, plus input refused before any round trip.
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type Cache,
  createCache,
  InvalidArgumentError,
  InvalidKeyError,
  InvalidTtlError,
  NEVER_EXPIRES,
  NotAnIntegerError,
  NotAnObjectError,
  type SeedCacheTypes,
  WrongValueKindError,
} from '../../src/index.js';
import { useDatabase } from '../helpers/db.js';

const db = useDatabase();
let cache: Cache<SeedCacheTypes>;
beforeAll(async () => {
  cache = await createCache({ pool: db.pool });
});
afterAll(async () => {
  await cache.close();
});

/** Fails unless `call` throws `Class` with `code` without sending a statement. */
async function refusedLocally(call: () => Promise<unknown>, Class: new (...args: never[]) => Error, code: string) {
  let sent = 0;
  const original = db.pool.query.bind(db.pool);
  db.pool.query = ((...args: Parameters<typeof original>) => {
    sent++;
    return original(...args);
  }) as typeof db.pool.query;
  try {
    await expect(call()).rejects.toBeInstanceOf(Class);
    await expect(call()).rejects.toMatchObject({ code });
  } finally {
    db.pool.query = original;
  }
  expect(sent).toBe(0);
}

describe('incr', () => {
  it('counts like INCRBY, on jsonb and text types', async () => {
    const counters = cache.type('default');
    expect(await counters.incr('hits')).toBe(1);
    expect(await counters.incr('hits', 9)).toBe(10);
    expect(await counters.incr('hits', -3)).toBe(7);
    expect(await counters.get('hits')).toBe(7);
    expect(await cache.type('llm_responses').incr('n', 2)).toBe(2);
    expect(await cache.type('llm_responses').get('n')).toBe('2');
    expect(await counters.incr('big', 2n ** 62n)).toBe(2n ** 62n);
    expect(await counters.incr('big', 2n ** 62n - 1n)).toBe(2n ** 63n - 1n);
    await expect(counters.incr('big', 1)).rejects.toBeInstanceOf(NotAnIntegerError);
  });

  it('keeps the TTL of the first increment; never-expiring counters', async () => {
    const counters = cache.type('default');
    await counters.incr('ttl', 1, { ttl: 60 });
    const first = (await counters.getEntry('ttl'))?.expires_at as Date;
    await counters.incr('ttl', 1, { ttl: 3600 });
    expect((await counters.getEntry('ttl'))?.expires_at.getTime()).toBe(first.getTime());
    await counters.incr('forever', 1, { ttl: 'never' });
    expect((await counters.getEntry('forever'))?.expires_at).toEqual(NEVER_EXPIRES);
  });

  it('16 callers x 200 increments on a pool of 4 end at exactly 3,200', async () => {
    const pool = new pg.Pool({ connectionString: db.url, max: 4 });
    const shared = await createCache({ pool });
    try {
      const counters = shared.type('default');
      await Promise.all(
        Array.from({ length: 16 }, async () => {
          for (let i = 0; i < 200; i++) await counters.incr('pooled');
        }),
      );
      expect(await counters.get('pooled')).toBe(3200);
    } finally {
      await shared.close();
      await pool.end();
    }
  }, 120_000);

  it('raises NotAnIntegerError (PC015) for entries that hold no integer', async () => {
    await cache.type('default').set('obj', { a: 1 });
    await expect(cache.type('default').incr('obj')).rejects.toMatchObject({ code: 'PC015' });
  });

  it('refuses bad input before any round trip', async () => {
    const t = cache.type('default');
    await refusedLocally(() => t.incr('', 1), InvalidKeyError, 'PC002');
    await refusedLocally(() => t.incr(42 as unknown as string), InvalidKeyError, 'PC002');
    for (const delta of [1.5, Number.NaN, Number.POSITIVE_INFINITY, 2 ** 60, '1' as unknown as number, 2n ** 63n]) {
      await refusedLocally(() => t.incr('k', delta as number), InvalidArgumentError, 'PC010');
    }
    for (const ttl of [0, -1, Number.NaN, 101 * 365 * 86400, {} as unknown as number]) {
      await refusedLocally(() => t.incr('k', 1, { ttl }), InvalidTtlError, 'PC004');
    }
    await refusedLocally(() => t.incr('k', 1, null as unknown as object), InvalidArgumentError, 'PC010');
    await refusedLocally(() => cache.type('audio_chunks').incr('k'), WrongValueKindError, 'PC005');
  });
});

describe('add', () => {
  it('stores only where no live entry is', async () => {
    const t = cache.type('default');
    expect(await t.add('nx', { v: 1 })).toBe(true);
    expect(await t.add('nx', { v: 2 })).toBe(false);
    expect(await t.get('nx')).toEqual({ v: 1 });
    expect(await t.add('nx-short', 1, { ttl: 0.05 })).toBe(true);
    await new Promise((r) => setTimeout(r, 80));
    expect(await t.add('nx-short', 2)).toBe(true);
    expect(await cache.type('audio_chunks').add('nx', Buffer.from([1, 2]))).toBe(true);
  });

  it('one winner among 20 concurrent callers', async () => {
    const t = cache.type('default');
    const results = await Promise.all(Array.from({ length: 20 }, (_, i) => t.add('race', i)));
    expect(results.filter(Boolean)).toHaveLength(1);
    expect(await t.get('race')).toBe(results.indexOf(true));
  });

  it('refuses bad values and TTLs locally', async () => {
    await refusedLocally(() => cache.type('default').add('k', undefined), WrongValueKindError, 'PC005');
    await refusedLocally(
      () => cache.type('llm_responses').add('k', 5 as unknown as string),
      WrongValueKindError,
      'PC005',
    );
    await refusedLocally(() => cache.type('default').add('k', 1, { ttl: -5 }), InvalidTtlError, 'PC004');
  });
});

describe('patch', () => {
  it('changes and removes fields of a live object, keeping its expiry', async () => {
    const t = cache.type<{ a?: number; b?: number; c?: number }>('vector_search');
    await t.set('o', { a: 1, b: 2 }, { ttl: 600 });
    const before = (await t.getEntry('o'))?.expires_at as Date;
    expect(await t.patch('o', { c: 3 }, { remove: ['a'] })).toEqual({ b: 2, c: 3 });
    expect((await t.getEntry('o'))?.expires_at.getTime()).toBe(before.getTime());
    expect(await t.patch('missing', { c: 3 })).toBeUndefined();
    await t.set('arr', [1] as never);
    await expect(t.patch('arr', { c: 1 })).rejects.toBeInstanceOf(NotAnObjectError);
  });

  it('16 concurrent patches of different fields all land', async () => {
    const t = cache.type<Record<string, number>>('vector_search');
    await t.set('shared', {});
    await Promise.all(Array.from({ length: 16 }, (_, i) => t.patch('shared', { [`f${i}`]: i })));
    expect(Object.keys((await t.get('shared')) ?? {})).toHaveLength(16);
  });

  it('refuses bad patches locally', async () => {
    const t = cache.type('default');
    for (const fields of [null, [1], 'x', 5, Buffer.from('x')]) {
      await refusedLocally(() => t.patch('k', fields as never), InvalidArgumentError, 'PC010');
    }
    await refusedLocally(() => t.patch('k', {}, { remove: 'a' as never }), InvalidArgumentError, 'PC010');
    await refusedLocally(() => t.patch('k', {}, { remove: [1 as never] }), InvalidArgumentError, 'PC010');
    await refusedLocally(() => t.patch('k', { a: Number.NaN }), WrongValueKindError, 'PC005');
    await refusedLocally(() => cache.type('llm_responses').patch('k', {}), WrongValueKindError, 'PC005');
    await refusedLocally(() => cache.type('embeddings').add('k', [1]), WrongValueKindError, 'PC005');
  });
});

describe('lock', () => {
  it('hands out exclusive leases with growing fencing tokens; release and extend', async () => {
    const a = await cache.lock('job', { ttl: 10 });
    expect(a).toBeDefined();
    expect(await cache.lock('job')).toBeUndefined();
    expect(await a?.extend(20)).toBe(true);
    expect(await a?.release()).toBe(true);
    expect(await a?.release()).toBe(false);
    const b = await cache.lock('job');
    expect(b?.token).toBeGreaterThan(a?.token as bigint);
    await b?.release();
  });

  it('waits for a lease that frees, and gives up after wait', async () => {
    const held = await cache.lock('wait', { ttl: 0.3 });
    expect(held).toBeDefined();
    const started = Date.now();
    expect(await cache.lock('wait', { wait: 0.1 })).toBeUndefined();
    const next = await cache.lock('wait', { wait: 5 });
    expect(next).toBeDefined();
    expect(Date.now() - started).toBeLessThan(4000);
    expect(await held?.extend()).toBe(false); // expired and taken over
    await next?.release();
  });

  it('leases through a pool of one connection serve many concurrent holders in turn', async () => {
    const pool = new pg.Pool({ connectionString: db.url, max: 1 });
    const one = await createCache({ pool });
    let inside = 0;
    let overlap = false;
    try {
      await Promise.all(
        Array.from({ length: 8 }, async () => {
          const lease = await one.lock('serial', { ttl: 10, wait: 20 });
          expect(lease).toBeDefined();
          inside++;
          if (inside > 1) overlap = true;
          await new Promise((r) => setTimeout(r, 5));
          inside--;
          await lease?.release();
        }),
      );
    } finally {
      await one.close();
      await pool.end();
    }
    expect(overlap).toBe(false);
  }, 60_000);

  it('are separate per tenant view', async () => {
    const acme = await cache.forTenant('acme').lock('t');
    const globex = await cache.forTenant('globex').lock('t');
    expect(acme).toBeDefined();
    expect(globex).toBeDefined();
    await acme?.release();
    await globex?.release();
  });

  it('refuses bad input locally', async () => {
    await refusedLocally(() => cache.lock(''), InvalidArgumentError, 'PC010');
    await refusedLocally(() => cache.lock('x'.repeat(1025)), InvalidArgumentError, 'PC010');
    await refusedLocally(() => cache.lock(5 as unknown as string), InvalidArgumentError, 'PC010');
    for (const ttl of [0, -1, Number.NaN, Number.POSITIVE_INFINITY, 86401, '5' as unknown as number]) {
      await refusedLocally(() => cache.lock('x', { ttl }), InvalidTtlError, 'PC004');
    }
    for (const wait of [-1, Number.NaN, '1' as unknown as number]) {
      await refusedLocally(() => cache.lock('x', { wait }), InvalidArgumentError, 'PC010');
    }
    await refusedLocally(() => cache.lock('x', { owner: '' }), InvalidArgumentError, 'PC010');
    await refusedLocally(() => cache.lock('x', null as never), InvalidArgumentError, 'PC010');
  });
});

describe('no expiry', () => {
  it("'never' stores entries that do not expire, with expiresAt NEVER_EXPIRES; Infinity stays PC004", async () => {
    const t = cache.type('default');
    expect(await t.set('persist:1', 1, { ttl: 'never' })).toEqual(NEVER_EXPIRES);
    expect(await t.set('persist:2', 2, { ttl: 'never' })).toEqual(NEVER_EXPIRES);
    await expect(t.set('persist:3', 2, { ttl: Number.POSITIVE_INFINITY })).rejects.toBeInstanceOf(InvalidTtlError);
    await refusedLocally(() => t.incr('persist:4', 1, { ttl: Number.POSITIVE_INFINITY }), InvalidTtlError, 'PC004');
    expect((await t.getEntry('persist:1'))?.expires_at).toEqual(NEVER_EXPIRES);
    expect(await t.touch('persist:1', 60)).toBe(true);
    expect((await t.getEntry('persist:1'))?.expires_at).not.toEqual(NEVER_EXPIRES);
    expect(await t.touch('persist:1', 'never')).toBe(true);
    expect((await t.getEntry('persist:1'))?.expires_at).toEqual(NEVER_EXPIRES);
    const scanned = [];
    for await (const entry of t.scan({ prefix: 'persist:' })) scanned.push(entry.expires_at);
    expect(scanned).toEqual([NEVER_EXPIRES, NEVER_EXPIRES]);
    await t.setMany([['p3', 3]], { ttl: 'never' });
    expect((await t.getEntry('p3'))?.expires_at).toEqual(NEVER_EXPIRES);
  });

  it('types can default to no expiry', async () => {
    await cache.createType({ name: 'persistent', defaultTtl: 'never' });
    const t = cache.type('persistent');
    expect(await t.set('k', 1)).toEqual(NEVER_EXPIRES);
  });
});

describe('getOrCompute', () => {
  it('counts one miss once (the re-read under the lock counts nothing)', async () => {
    const pool = new pg.Pool({ connectionString: db.url, max: 2 });
    const fresh = await createCache({ pool });
    try {
      await fresh.createType({ name: 'miss_count' });
      const t = fresh.type('miss_count');
      for (const lock of ['advisory', 'lease'] as const) {
        expect(await t.getOrCompute(`k:${lock}`, () => 1, { lock })).toBe(1);
      }
      expect(await t.getOrCompute('k:advisory', () => 2)).toBe(1);
      const stats = (await fresh.stats()).find((s) => s.cacheType === 'miss_count');
      expect(stats).toMatchObject({ hits: 1, misses: 2 });
    } finally {
      await fresh.close();
      await pool.end();
    }
  });

  it('with leases, 20 concurrent misses on a pool of 1 compute once', async () => {
    const pool = new pg.Pool({ connectionString: db.url, max: 1 });
    const caches = await Promise.all(Array.from({ length: 4 }, () => createCache({ pool, computeLock: 'lease' })));
    let computed = 0;
    try {
      const values = await Promise.all(
        Array.from({ length: 20 }, (_, i) =>
          (caches[i % 4] as Cache).type('default').getOrCompute('lease-cold', async () => {
            computed++;
            await new Promise((r) => setTimeout(r, 200));
            return 'v';
          }),
        ),
      );
      expect(values.every((v) => v === 'v')).toBe(true);
      expect(computed).toBe(1);
    } finally {
      for (const c of caches) await c.close();
      await pool.end();
    }
  }, 60_000);

  it('stale-while-revalidate refreshes under a lease when the lock is a lease', async () => {
    const t = cache.type('default');
    await t.getOrCompute('swr', () => 'old', { ttl: 0.05, staleWhileRevalidate: 60, lock: 'lease' });
    await new Promise((r) => setTimeout(r, 100));
    expect(await t.getOrCompute('swr', () => 'new', { ttl: 60, staleWhileRevalidate: 60, lock: 'lease' })).toBe('old');
    await t.idle();
    expect(await t.get('swr')).toBe('new');
  });

  it('refuses an unknown lock kind', async () => {
    await expect(cache.type('default').getOrCompute('k', () => 1, { lock: 'mutex' as never })).rejects.toMatchObject({
      code: 'PC010',
    });
    await expect(createCache({ pool: db.pool, computeLock: 'x' as never })).rejects.toMatchObject({ code: 'PC010' });
  });
});

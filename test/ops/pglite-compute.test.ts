// getOrCompute on PGlite: one backend session behind a one-connection pool, where advisory locks exclude
// nothing. Concurrent misses on one key and on many keys all return, each key computed once (in-process).
import { afterAll, beforeAll, expect, it } from 'vitest';
import { type EmbeddedPostgres, startEmbedded } from '../../src/embedded/server.js';
import { type Cache, createCache } from '../../src/index.js';
import { migrate } from '../../src/install/migrate.js';

let embedded: EmbeddedPostgres;
let cache: Cache;

beforeAll(async () => {
  embedded = await startEmbedded();
  const client = await embedded.pool.connect();
  try {
    await migrate({ client });
  } finally {
    await client.query('RESET search_path');
    client.release();
  }
  cache = await createCache({ pool: embedded.pool });
}, 120_000);
afterAll(async () => {
  await cache?.close();
  await embedded?.stop();
});

function within<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`did not finish within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

it('concurrent misses on one key and on distinct keys return on a pool of 1', async () => {
  const t = cache.type('default');
  const computed = new Map<string, number>();
  const compute = (key: string) => async () => {
    computed.set(key, (computed.get(key) ?? 0) + 1);
    await new Promise((resolve) => setTimeout(resolve, 20));
    return key;
  };
  const distinct = Array.from({ length: 20 }, (_, i) => t.getOrCompute(`lite:${i}`, compute(`lite:${i}`)));
  const same = Array.from({ length: 20 }, () => t.getOrCompute('lite:same', compute('lite:same')));
  const results = await within(Promise.all([...distinct, ...same]), 30_000);
  expect(results).toEqual([...Array.from({ length: 20 }, (_, i) => `lite:${i}`), ...Array(20).fill('lite:same')]);
  for (const count of computed.values()) expect(count).toBe(1);
  expect(await t.get('lite:same')).toBe('lite:same');
}, 60_000);

it('with computeLock lease, two caches on PGlite (where advisory locks exclude nothing) compute a key once', async () => {
  const [a, b] = await Promise.all([
    createCache({ pool: embedded.pool, computeLock: 'lease' }),
    createCache({ pool: embedded.pool, computeLock: 'lease' }),
  ]);
  let computed = 0;
  const compute = async () => {
    computed++;
    await new Promise((resolve) => setTimeout(resolve, 100));
    return 'once';
  };
  try {
    const results = await within(
      Promise.all([
        a.type('default').getOrCompute('lite:lease', compute),
        b.type('default').getOrCompute('lite:lease', compute),
      ]),
      30_000,
    );
    expect(results).toEqual(['once', 'once']);
    expect(computed).toBe(1);
    const lease = await a.lock('lite:job', { ttl: 5 });
    expect(await b.lock('lite:job')).toBeUndefined();
    expect(await lease?.release()).toBe(true);
  } finally {
    await a.close();
    await b.close();
  }
}, 60_000);

// Bad input from JavaScript is refused with the package's error classes and stable codes before any round
// trip: nothing is coerced (a number key is not its string form, a string is not bytes), and JSON that cannot
// be encoded (circular, too deep, symbols) fails as PC005, not as a bare TypeError or RangeError.
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type Cache,
  createCache,
  EmbeddingCache,
  PgcacheError,
  type PgcacheSqlState,
  SemanticLlmCache,
  VectorSearchCache,
} from '../../src/index.js';
import { KeyvPgcache } from '../../src/keyv.js';
import { countRoundTrips, useDatabase } from '../helpers/db.js';

const db = useDatabase();
let pool: pg.Pool;
let cache: Cache;
let roundTrips: { count: number };

beforeAll(async () => {
  pool = new pg.Pool({ connectionString: db.url, max: 2 });
  cache = await createCache({ pool });
  roundTrips = countRoundTrips(pool, ['query', 'connect']);
});
afterAll(async () => {
  await pool.end();
});

/** Runs `call` and expects a PgcacheError with `code` (and argument), without a query reaching the pool. */
async function refused(call: () => unknown, code: PgcacheSqlState, argument?: string): Promise<void> {
  const before = roundTrips.count;
  let error: unknown;
  try {
    const result = call();
    if (result && typeof (result as AsyncIterator<unknown>).next === 'function' && !(result instanceof Promise)) {
      await (result as AsyncIterator<unknown>).next();
    } else {
      await result;
    }
  } catch (caught) {
    error = caught;
  }
  expect(error, `expected ${code}`).toBeInstanceOf(PgcacheError);
  expect((error as PgcacheError).code).toBe(code);
  if (argument !== undefined) expect((error as PgcacheError).argument).toBe(argument);
  expect(roundTrips.count - before, 'round trips before the refusal').toBe(0);
}

const BAD_KEYS: [string, unknown][] = [
  ['number', 1],
  ['object', { a: 1 }],
  ['array', ['k']],
  ['Symbol', Symbol('k')],
  ['Buffer', Buffer.from('k')],
  ['Date', new Date(0)],
  ['null', null],
  ['undefined', undefined],
  ['bigint', 1n],
  ['empty string', ''],
];

const circular: Record<string, unknown> = { a: 1 };
circular.self = circular;
let deep: unknown = 1;
for (let i = 0; i < 10_000; i++) deep = [deep];

describe('keys', () => {
  for (const [what, key] of BAD_KEYS) {
    it(`a ${what} key is PC002 for every method`, async () => {
      const t = cache.type('default');
      const k = key as string;
      await refused(() => t.get(k), 'PC002', 'key');
      await refused(() => t.getEntry(k), 'PC002', 'key');
      await refused(() => t.set(k, 1), 'PC002', 'key');
      await refused(() => t.delete(k), 'PC002', 'key');
      await refused(() => t.touch(k), 'PC002', 'key');
      await refused(() => t.getOrCompute(k, () => 1), 'PC002', 'key');
      await refused(() => t.setFresh(k, 1, 10, 10), 'PC002', 'key');
      await refused(() => t.getMany([k]), 'PC002', 'key');
      await refused(() => t.setMany([[k, 1]]), 'PC002', 'key');
      await refused(() => cache.type('audio_chunks').stream(k), 'PC002', 'key');
    });
  }

  it('getMany needs an array, setMany an iterable of pairs', async () => {
    const t = cache.type('default');
    await refused(() => t.getMany('abc' as unknown as string[]), 'PC010', 'keys');
    await refused(() => t.setMany(42 as unknown as []), 'PC010', 'entries');
    await refused(() => t.setMany([['k'] as unknown as [string, unknown]]), 'PC010', 'entries');
  });
});

describe('values', () => {
  it('text types take strings only', async () => {
    // Untyped, as for a name known only at run time: these values are wrong on purpose.
    const t = cache.type('llm_responses' as string);
    for (const value of [1, { a: 1 }, Buffer.from('x'), null, undefined, ['a']]) {
      await refused(() => t.set('k', value), 'PC005', 'value');
    }
  });

  it('bytea types take Buffers or Uint8Arrays only', async () => {
    const t = cache.type('audio_chunks' as string);
    for (const value of ['bytes', 1, { a: 1 }, [1, 2], null, undefined]) {
      await refused(() => t.set('k', value), 'PC005', 'value');
    }
    await t.set('u8', new Uint8Array([1, 2, 3]));
    expect(await t.get('u8')).toEqual(Buffer.from([1, 2, 3]));
  });

  it('vector types take arrays of numbers only', async () => {
    const t = cache.type('embeddings' as string);
    await refused(() => t.set('k', 'vector', { model: 'm' }), 'PC010', 'value');
    await refused(() => t.set('k', [1, '2'], { model: 'm' }), 'PC010', 'value');
    await refused(() => t.set('k', undefined, { model: 'm' }), 'PC005', 'value');
  });

  it('JSON that cannot be encoded is PC005: circular, 10,000 deep, symbols, functions, undefined', async () => {
    const t = cache.type('default');
    for (const value of [circular, deep, Symbol('s'), () => 1, undefined, { s: Symbol('s') }, [1, () => 1]]) {
      await refused(() => t.set('k', value), 'PC005', 'value');
    }
    await refused(() => t.set('k', 1, { meta: circular }), 'PC005', 'meta');
    await refused(() => t.set('k', 1, { meta: 'x' as unknown as Record<string, unknown> }), 'PC010', 'meta');
    // 2048 levels is the documented limit, and still stored.
    let ok: unknown = 1;
    for (let i = 0; i < 2048; i++) ok = [ok];
    await t.set('deep-ok', ok);
  });
});

describe('other arguments', () => {
  it('prefixes, patterns, models and TTLs of the wrong type', async () => {
    const t = cache.type('default');
    await refused(() => t.invalidatePrefix(1 as unknown as string), 'PC010', 'prefix');
    await refused(() => t.invalidatePattern({} as unknown as string), 'PC010', 'pattern');
    await refused(() => t.scan({ prefix: 1 as unknown as string }), 'PC010', 'prefix');
    await refused(() => t.set('k', 1, { model: 5 as unknown as string }), 'PC010', 'model');
    await refused(() => t.set('k', 1, { ttl: {} as unknown as number }), 'PC004', 'ttl');
    await refused(() => t.touch('k', [] as unknown as number), 'PC004', 'ttl');
    await refused(() => t.getOrCompute('k', 'not a function' as unknown as () => number), 'PC010', 'compute');
  });

  it('the keyv store refuses non-string keys the same way', async () => {
    const store = new KeyvPgcache({ pool: db.pool });
    await store.set('warm', 1); // creates the type
    for (const key of [1, {}, Symbol('k'), Buffer.from('k')]) {
      await expect(store.get(key as string)).rejects.toMatchObject({ code: 'PC002' });
      await expect(store.set(key as string, 1)).rejects.toMatchObject({ code: 'PC002' });
      await expect(store.delete(key as string)).rejects.toMatchObject({ code: 'PC002' });
    }
  });

  it('the AI helpers refuse bad texts, prompts, responses, vectors and filters before embedding', async () => {
    let embedded = 0;
    const embedder = (texts: string[]) => {
      embedded++;
      return texts.map(() => [1, 0, 0]);
    };
    const embeddings = new EmbeddingCache(cache);
    await refused(() => embeddings.embed([1 as unknown as string], 'm', embedder), 'PC010', 'texts');
    await refused(() => embeddings.embed('text' as unknown as string[], 'm', embedder), 'PC010', 'texts');
    await refused(() => embeddings.embed(['a'], 7 as unknown as string, embedder), 'PC010', 'model');
    expect(embedded).toBe(0);

    const semantic = new SemanticLlmCache(cache, 'm');
    await refused(() => semantic.lookup(1 as unknown as string), 'PC010', 'prompt');
    await refused(() => semantic.lookup('p', 'v' as unknown as number[]), 'PC010', 'embedding');
    await refused(() => semantic.store('p', [1, 0], 1 as unknown as string), 'PC005', 'response');
    await refused(() => semantic.store({} as unknown as string, [1, 0], 'r'), 'PC010', 'prompt');

    const search = new VectorSearchCache(cache);
    await refused(() => search.getOrSearch([1, 0], {}, 1 as unknown as string, () => []), 'PC010', 'kbVersion');
    await refused(() => search.getOrSearch([1, 0], circular, 'v1', () => []), 'PC005', 'filters');
    await refused(() => search.getOrSearch('q' as unknown as number[], {}, 'v1', () => []), 'PC010', 'query');
  });
});

// Property-based tests of keys, values and TTLs against the real server, through the TypeScript client:
// every input either round-trips exactly or is rejected with the documented error (a PgcacheError with the
// README's SQLSTATE), and nothing else in the cache changes (sentinel entries in every type, the registry,
// settings and models are compared whole after every run).
//
// Inputs PostgreSQL text cannot carry (U+0000, unpaired surrogates), values JSON cannot carry (NaN, Infinity,
// BigInt, undefined array elements) and numbers outside float4/interval range were bugs these properties
// found: each has its own property below, whose comment gives the bug and its minimal counterexample (kept as
// the property's first example); the broader properties cover every other input.
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { type Cache, createCache } from '../../src/client/cache.js';
import { useDatabase } from '../helpers/db.js';
import {
  anyKey,
  badChar,
  cleanJson,
  deepJson,
  expectDocumented,
  expectSameJson,
  outcome,
  RUNS,
  SEED_TYPES,
  SENTINEL_KEYS,
  seedSentinels,
  text,
  textChar,
  textWith,
  untouched,
  utf8Bytes,
} from './helpers.js';

const db = useDatabase();
let cache: Cache;
let baseline: string[];

/** Types the properties write into; everything outside them (and their sentinels) must stay as it was. */
const SCRATCH = ['prop_keys', 'prop_json', 'prop_json_big', 'prop_text', 'prop_bytes', 'prop_vec'];
const SCRATCH_SENTINELS = [
  { name: 'prop_keys', kind: 'jsonb' },
  { name: 'prop_json', kind: 'jsonb' },
  { name: 'prop_text', kind: 'text' },
  { name: 'prop_bytes', kind: 'bytea' },
] as const;
const LIMIT = 65536;
/** Generous: the properties take seconds on an idle machine, but CI machines are often busy. */
const TIMEOUT = 180_000; // max_value_bytes of the small scratch types
const MAX_TTL_SECONDS = 100 * 360 * 86400; // interval '100 years' compares as 36,000 days

const notSentinel = (key: string) => !SENTINEL_KEYS.includes(key);
const acc = (name: string) => cache.type(name);
const checkUntouched = async () => expect(await untouched(db.pool, SCRATCH, SENTINEL_KEYS)).toEqual(baseline);
/**
 * Runs a regression property; whatever a regression did to the sentinels is put back afterwards, so its
 * damage cannot also fail the properties after it.
 */
async function isolated(property: () => Promise<void>): Promise<void> {
  try {
    await property();
  } finally {
    await db.pool.query(`DELETE FROM pgcache.entries WHERE key = ANY ($1::text[])`, [SENTINEL_KEYS]);
    await seedSentinels(db.pool, SENTINEL_KEYS, SEED_TYPES);
    await seedSentinels(db.pool, SENTINEL_KEYS, SCRATCH_SENTINELS);
    baseline = await untouched(db.pool, SCRATCH, SENTINEL_KEYS);
  }
}

beforeAll(async () => {
  cache = await createCache({ pool: db.pool });
  await cache.createType({ name: 'prop_keys', valueKind: 'jsonb' });
  await cache.createType({ name: 'prop_json', valueKind: 'jsonb', maxValueBytes: LIMIT });
  await cache.createType({ name: 'prop_json_big', valueKind: 'jsonb' });
  await cache.createType({ name: 'prop_text', valueKind: 'text', maxValueBytes: LIMIT });
  await cache.createType({ name: 'prop_bytes', valueKind: 'bytea', maxValueBytes: LIMIT });
  await cache.createType({ name: 'prop_vec', valueKind: 'vector' });
  await seedSentinels(db.pool, SENTINEL_KEYS, SEED_TYPES);
  await seedSentinels(db.pool, SENTINEL_KEYS, SCRATCH_SENTINELS);
  baseline = await untouched(db.pool, SCRATCH, SENTINEL_KEYS);
});

/** The stored row of a key, read directly (bypassing the read path, so expired rows show too). */
async function rawRow(type: string, key: string) {
  const { rows } = await db.pool.query(
    `SELECT e.key, e.value_json, e.value_text, e.value_bytes, e.value_vector,
            (extract(epoch FROM e.expires_at - e.created_at) * 1000000)::float8 AS ttl_us,
            (extract(epoch FROM e.expires_at - e.last_accessed_at) * 1000000)::float8 AS touch_ttl_us
       FROM pgcache.entries e JOIN pgcache.cache_types t ON t.id = e.type_id WHERE t.name = $1 AND e.key = $2`,
    [type, key],
  );
  return rows[0];
}

const smallJson = fc.jsonValue({ maxDepth: 2, stringUnit: textChar });

describe('keys', () => {
  it(
    'every key round-trips through set, get, getEntry, getMany, scan and delete, or is rejected with PC002/PC003',
    async () => {
      const keys = acc('prop_keys');
      await fc.assert(
        fc.asyncProperty(anyKey.filter(notSentinel), smallJson, async (key, value) => {
          const set = await outcome(keys.set(key, value));
          if (key === '') {
            expectDocumented(set, ['PC002'], 'key');
            expectDocumented(await outcome(keys.get(key)), ['PC002'], 'key');
            expectDocumented(await outcome(keys.delete(key)), ['PC002'], 'key');
          } else if (utf8Bytes(key) > 1024) {
            expectDocumented(set, ['PC003'], 'key');
            expectDocumented(await outcome(keys.get(key)), ['PC003'], 'key');
            expectDocumented(await outcome(keys.getMany([key])), ['PC003'], 'key');
            expect(await rawRow('prop_keys', key)).toBeUndefined();
          } else {
            expect(set).toMatchObject({ ok: true });
            expectSameJson(await keys.get(key), value);
            expect((await keys.getEntry(key))?.key).toBe(key);
            const [many] = await keys.getMany([key]);
            expectSameJson(many, value);
            const scanned: string[] = [];
            for await (const e of keys.scan({ prefix: key })) scanned.push(e.key);
            expect(scanned).toContain(key);
            expect(scanned.every((k) => k.startsWith(key))).toBe(true);
            expect(await keys.delete(key)).toBe(true);
            expect(await keys.get(key)).toBeUndefined();
          }
          await checkUntouched();
        }),
        { numRuns: RUNS },
      );
    },
    TIMEOUT,
  );

  it(
    'setMany stores a whole batch (the later of two equal keys wins) or rejects it whole with PC002/PC003',
    async () => {
      const keys = acc('prop_keys');
      await fc.assert(
        fc.asyncProperty(fc.array(fc.tuple(anyKey.filter(notSentinel), smallJson), { maxLength: 8 }), async (batch) => {
          const result = await outcome(keys.setMany(batch));
          const distinct = [...new Set(batch.map(([k]) => k))];
          const storable = distinct.filter((k) => k !== '' && utf8Bytes(k) <= 1024);
          if (distinct.includes('')) expectDocumented(result, ['PC002'], 'key');
          else if (storable.length < distinct.length) expectDocumented(result, ['PC003'], 'key');
          else expect(result).toEqual({ ok: true, value: batch.length });
          const got = await keys.getMany(storable);
          storable.forEach((key, i) => {
            if (!result.ok) expect(got[i]).toBeUndefined();
            else expectSameJson(got[i], [...batch].reverse().find(([k]) => k === key)?.[1]);
          });
          for (const key of storable) await keys.delete(key);
          await checkUntouched();
        }),
        { numRuns: RUNS },
      );
    },
    TIMEOUT,
  );

  it(
    'batches over their limits are rejected whole with PC012',
    async () => {
      const keys = acc('prop_keys');
      const batch = Array.from({ length: 1001 }, (_, i) => [`over:${i}`, i] as [string, number]);
      expectDocumented(await outcome(keys.setMany(batch)), ['PC012'], undefined);
      expectDocumented(await outcome(keys.getMany(Array.from({ length: 10001 }, (_, i) => `k${i}`))), ['PC012']);
      expect(await keys.getMany(['over:0', 'over:1000'])).toEqual([undefined, undefined]);
      await checkUntouched();
    },
    TIMEOUT,
  );

  // Regression (found here, fixed in the client layer, baaaa4d): a key containing U+0000 reaches PostgreSQL, which rejects the bind parameter with a
  // raw 22021 (invalid byte sequence for encoding "UTF8": 0x00) instead of PC002 InvalidKeyError.
  // Minimal counterexample: set('\u0000', 1) -> DatabaseError 22021. Fix: the client rejects such keys
  // before sending (InvalidKeyError, argument "key"); SQL never sees the value, so it cannot check it.
  it(
    'keys containing U+0000 are rejected with PC002 InvalidKeyError (was: raw 22021)',
    async () => {
      const keys = acc('prop_keys');
      await isolated(() =>
        fc.assert(
          fc.asyncProperty(textWith(fc.constant('\u0000')), async (key) => {
            expectDocumented(await outcome(keys.set(key, 1)), ['PC002'], 'key');
            expectDocumented(await outcome(keys.get(key)), ['PC002'], 'key');
            await checkUntouched();
          }),
          { numRuns: Math.ceil(RUNS / 2), examples: [['\u0000']] },
        ),
      );
    },
    TIMEOUT,
  );

  // Regression (found here, fixed in the client layer, baaaa4d): pg encodes an unpaired surrogate as U+FFFD, so distinct keys merge: set('\uD800', 1)
  // overwrites the entry of '\uFFFD' (and of '\uDC00', ...), and getEntry('\uD800').key is '\uFFFD'.
  // Minimal counterexample: set('\uD800', 1) changes the sentinel entry '\uFFFD'. Fix: the client rejects keys
  // that are not well-formed UTF-16 (!key.isWellFormed()) with InvalidKeyError, argument "key".
  it(
    'keys with an unpaired surrogate round-trip or are rejected with PC002 (was: merged into U+FFFD)',
    async () => {
      const keys = acc('prop_keys');
      const surrogate = fc.integer({ min: 0xd800, max: 0xdfff }).map((cp) => String.fromCharCode(cp));
      await isolated(() =>
        fc.assert(
          fc.asyncProperty(textWith(surrogate), async (key) => {
            const set = await outcome(keys.set(key, 1));
            if (set.ok) {
              expect((await keys.getEntry(key))?.key).toBe(key);
              await keys.delete(key);
            } else expectDocumented(set, ['PC002'], 'key');
            await checkUntouched();
          }),
          { numRuns: Math.ceil(RUNS / 2), examples: [['\ud800']] },
        ),
      );
    },
    TIMEOUT,
  );
});

describe('values', () => {
  /** jsonb values around the scratch types' 64 KiB limit. */
  const largeJson = fc
    .tuple(fc.integer({ min: 30_000, max: 70_000 }), textChar, fc.boolean())
    .map(([bytes, ch, asArray]) => {
      const n = Math.max(1, Math.round(bytes / utf8Bytes(ch)));
      return asArray ? Array.from({ length: Math.round(n / 8) }, (_, i) => i * 1.5) : { big: ch.repeat(n) };
    });

  async function jsonSize(value: unknown): Promise<number> {
    const { rows } = await db.pool.query('SELECT pg_column_size($1::jsonb) AS n', [JSON.stringify(value)]);
    return rows[0].n;
  }

  it(
    'jsonb values (unicode, deep, large) round-trip exactly or are rejected with PC007 over max_value_bytes',
    async () => {
      const json = acc('prop_json');
      await fc.assert(
        fc.asyncProperty(
          fc.oneof({ weight: 4, arbitrary: cleanJson }, deepJson, largeJson),
          text({ minLength: 1, maxLength: 12 }).filter(notSentinel),
          async (value, key) => {
            const set = await outcome(json.set(key, value));
            if ((await jsonSize(value)) > LIMIT) {
              expectDocumented(set, ['PC007'], 'value');
              expect(await json.get(key)).toBeUndefined();
            } else {
              expect(set).toMatchObject({ ok: true });
              expectSameJson(await json.get(key), value);
              expectSameJson((await rawRow('prop_json', key)).value_json, value);
              await json.delete(key);
            }
            await checkUntouched();
          },
        ),
        { numRuns: RUNS },
      );
    },
    TIMEOUT,
  );

  it(
    'jsonb values near the default 1 MiB limit round-trip or are rejected with PC007',
    async () => {
      const json = acc('prop_json_big');
      await fc.assert(
        fc.asyncProperty(fc.integer({ min: 1_048_500, max: 1_048_600 }), textChar, async (bytes, ch) => {
          const value = { v: ch.repeat(Math.max(1, Math.round(bytes / utf8Bytes(ch)))) };
          const set = await outcome(json.set('big', value));
          if ((await jsonSize(value)) > 1_048_576) expectDocumented(set, ['PC007'], 'value');
          else {
            expect(set).toMatchObject({ ok: true });
            expect(await json.get('big')).toEqual(value);
            await json.delete('big');
          }
          await checkUntouched();
        }),
        { numRuns: 12 },
      );
    },
    TIMEOUT,
  );

  it(
    'undefined as a value is rejected with PC005 and stores nothing',
    async () => {
      const json = acc('prop_json');
      expectDocumented(await outcome(json.set('undef', undefined)), ['PC005'], 'value');
      expect(await rawRow('prop_json', 'undef')).toBeUndefined();
      await checkUntouched();
    },
    TIMEOUT,
  );

  it(
    'text values round-trip exactly (empty, unicode, large) or are rejected with PC007 over max_value_bytes',
    async () => {
      const texts = acc('prop_text');
      const large = fc
        .tuple(fc.integer({ min: 60_000, max: 70_000 }), textChar)
        .map(([bytes, ch]) => ch.repeat(Math.max(1, Math.round(bytes / utf8Bytes(ch)))));
      await fc.assert(
        fc.asyncProperty(
          fc.oneof({ weight: 4, arbitrary: text({ maxLength: 200 }) }, large),
          text({ minLength: 1, maxLength: 12 }).filter(notSentinel),
          async (value, key) => {
            const set = await outcome(texts.set(key, value));
            if (utf8Bytes(value) > LIMIT) expectDocumented(set, ['PC007'], 'value');
            else {
              expect(set).toMatchObject({ ok: true });
              expect(await texts.get(key)).toBe(value);
              await texts.delete(key);
            }
            await checkUntouched();
          },
        ),
        { numRuns: RUNS },
      );
    },
    TIMEOUT,
  );

  it(
    'bytea values round-trip byte for byte (get and chunked stream) or are rejected with PC007',
    async () => {
      const bytes = acc('prop_bytes');
      const large = fc
        .integer({ min: 60_000, max: 70_000 })
        .map((n) => new Uint8Array(n).map((_, i) => (i * 31) % 256));
      await fc.assert(
        fc.asyncProperty(
          fc.oneof({ weight: 4, arbitrary: fc.uint8Array({ maxLength: 300 }) }, large),
          fc.integer({ min: 1, max: 70_000 }),
          async (raw, chunk) => {
            const chunkBytes = Math.max(chunk, Math.ceil(raw.length / 64)); // at most 64 round trips
            const value = Buffer.from(raw);
            const set = await outcome(bytes.set('b', value));
            if (value.length > LIMIT) expectDocumented(set, ['PC007'], 'value');
            else {
              expect(set).toMatchObject({ ok: true });
              expect(Buffer.compare((await bytes.get('b')) as Buffer, value)).toBe(0);
              const chunks: Buffer[] = [];
              for await (const chunk of bytes.stream('b', { chunkBytes })) chunks.push(chunk);
              expect(Buffer.compare(Buffer.concat(chunks), value)).toBe(0);
              await bytes.delete('b');
            }
            await checkUntouched();
          },
        ),
        { numRuns: RUNS },
      );
    },
    TIMEOUT,
  );

  it(
    'vectors round-trip at float4 precision, or are rejected with PC010 (non-finite, empty) or PC006 (width)',
    async () => {
      const vectors = acc('prop_vec');
      let run = 0;
      await fc.assert(
        fc.asyncProperty(
          fc.array(fc.float(), { minLength: 0, maxLength: 24 }),
          fc.boolean(),
          async (vector, otherWidth) => {
            // A fresh model per run registers the width of its first vector; `otherWidth` then sends one more.
            const model = `prop-${run++}`;
            const sent = otherWidth && vector.length > 0 ? [...vector, 1] : vector;
            if (otherWidth && vector.length > 0 && vector.every(Number.isFinite)) {
              await vectors.set('v0', vector, { model });
            }
            const set = await outcome(vectors.set('v', sent, { model }));
            if (sent.length === 0 || !sent.every(Number.isFinite)) expectDocumented(set, ['PC010'], 'value');
            else if (otherWidth) expectDocumented(set, ['PC006'], 'value');
            else {
              expect(set).toMatchObject({ ok: true });
              const got = (await vectors.get('v')) as number[];
              // float4 precision; -0 reads as 0 (pg sends String(-0), "0"), as JSON does.
              const f4 = (x: number) => (x === 0 ? 0 : Math.fround(x));
              expect(got.map(f4)).toEqual(sent.map(f4));
            }
            await checkUntouched();
          },
        ),
        { numRuns: RUNS },
      );
    },
    TIMEOUT,
  );

  const nonFinite = fc.constantFrom(Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY);

  // Regression (found here, fixed in the client layer, baaaa4d): JSON.stringify turns NaN and ±Infinity into null, and an array element undefined into
  // null, so the cache stores a different value and reports success. Minimal counterexample: set(k, NaN) then
  // get(k) === null (also [undefined] -> [null], {a: Infinity} -> {a: null}). Fix: the client's jsonb encoding
  // rejects non-finite numbers and undefined array elements (WrongValueKindError PC005, argument "value").
  it(
    'jsonb values with NaN, ±Infinity or undefined array elements are rejected, not stored as null',
    async () => {
      const json = acc('prop_json');
      const poisoned = fc.oneof(
        nonFinite,
        fc.tuple(cleanJson, nonFinite).map(([v, n]) => ({ v, n })),
        fc.tuple(cleanJson, fc.constant(undefined)).map(([v, u]) => [v, u]),
      );
      await isolated(() =>
        fc.assert(
          fc.asyncProperty(poisoned, async (value) => {
            const set = await outcome(json.set('nf', value));
            if (set.ok) expectSameJson(await json.get('nf'), value);
            else expectDocumented(set, ['PC005', 'PC010'], 'value');
            await checkUntouched();
          }),
          { numRuns: Math.ceil(RUNS / 2), examples: [[Number.NaN]] },
        ),
      );
    },
    TIMEOUT,
  );

  // Regression (found here, fixed in the client layer, baaaa4d): a BigInt anywhere in a jsonb value makes JSON.stringify throw a raw TypeError ("Do not
  // know how to serialize a BigInt"). Minimal counterexample: set(k, 0n). Fix: reject it with
  // WrongValueKindError PC005 (or encode it as a JSON number when it is exact, and say so).
  it(
    'jsonb values with a BigInt are rejected with a documented error (was: raw TypeError)',
    async () => {
      const json = acc('prop_json');
      await isolated(() =>
        fc.assert(
          fc.asyncProperty(
            fc.oneof(
              fc.bigInt(),
              fc.bigInt().map((b) => ({ b })),
            ),
            async (value) => {
              const set = await outcome(json.set('bi', value));
              expectDocumented(set, ['PC005', 'PC010'], 'value');
              await checkUntouched();
            },
          ),
          { numRuns: Math.ceil(RUNS / 2), examples: [[0n]] },
        ),
      );
    },
    TIMEOUT,
  );

  // Regression (found here, fixed in the client layer, baaaa4d): a JSON string holding U+0000 is rejected by jsonb with a raw 22P05 (unsupported Unicode
  // escape sequence), one holding an unpaired surrogate with a raw 22P02 (invalid input syntax for type json).
  // Minimal counterexamples: set(k, '\u0000') -> 22P05, set(k, '\uD800') -> 22P02. Fix: reject in the client
  // (WrongValueKindError PC005, argument "value"), or map 22P05/22P02 raised by the $3::jsonb cast to it.
  it(
    'jsonb strings with U+0000 or an unpaired surrogate are rejected with a documented error',
    async () => {
      const json = acc('prop_json');
      await isolated(() =>
        fc.assert(
          fc.asyncProperty(
            textWith(badChar).chain((s) => fc.constantFrom<unknown>(s, { s }, [s], { [s]: 1 })),
            async (value) => {
              expectDocumented(await outcome(json.set('bad', value)), ['PC005', 'PC010'], 'value');
              await checkUntouched();
            },
          ),
          { numRuns: Math.ceil(RUNS / 2), examples: [['\u0000']] },
        ),
      );
    },
    TIMEOUT,
  );

  // Regression (found here, fixed in the client layer, baaaa4d): a text value holding U+0000 raises a raw 22021; one holding an unpaired surrogate is
  // stored with U+FFFD in its place and reported as stored. Minimal counterexamples: set(k, '\u0000') -> 22021;
  // set(k, '\uD800') then get(k) === '\uFFFD'. Fix: the client rejects text values that contain U+0000 or are
  // not well-formed UTF-16 (WrongValueKindError PC005, argument "value").
  it(
    'text values with U+0000 or an unpaired surrogate round-trip or are rejected',
    async () => {
      const texts = acc('prop_text');
      await isolated(() =>
        fc.assert(
          fc.asyncProperty(textWith(badChar), async (value) => {
            const set = await outcome(texts.set('bad', value));
            if (set.ok) expect(await texts.get('bad')).toBe(value);
            else expectDocumented(set, ['PC005', 'PC010'], 'value');
            await checkUntouched();
          }),
          { numRuns: Math.ceil(RUNS / 2), examples: [['\u0000']] },
        ),
      );
    },
    TIMEOUT,
  );

  // Regression (found here, fixed in the client layer, baaaa4d): the $3::real[] cast rejects elements outside float4's range with a raw 22003 ("1e+39" is
  // out of range for type real; also underflow such as 1e-50) before cache_set can check the vector. Minimal
  // counterexample: set(k, [1e39], { model }). Fix: the client checks each element (finite after Math.fround,
  // and not a non-zero that rounds to 0) and raises InvalidArgumentError PC010, argument "value", as SQL does
  // for NaN.
  it(
    'vector elements outside float4 range are rejected with PC010 (was: raw 22003)',
    async () => {
      const vectors = acc('prop_vec');
      const outOfRange = fc.oneof(
        fc.double({ min: 3.5e38, max: 1e308, noNaN: true }),
        fc.double({ min: -1e308, max: -3.5e38, noNaN: true }),
        fc.double({ min: 1e-320, max: 1e-46, noNaN: true }),
      );
      await isolated(() =>
        fc.assert(
          fc.asyncProperty(outOfRange, async (x) => {
            expectDocumented(await outcome(vectors.set('r', [x], { model: 'prop-range' })), ['PC010'], 'value');
            await checkUntouched();
          }),
          { numRuns: Math.ceil(RUNS / 2), examples: [[1e39]] },
        ),
      );
    },
    TIMEOUT,
  );
});

describe('TTLs', () => {
  const specialTtls = fc.constantFrom(
    0,
    -0,
    -1,
    Number.NaN,
    Number.POSITIVE_INFINITY,
    Number.NEGATIVE_INFINITY,
    Number.MIN_VALUE,
    1e-7,
    4.9e-7,
    5e-7,
    5.1e-7,
    1e-6,
    0.5,
    1,
    MAX_TTL_SECONDS - 1e-6,
    MAX_TTL_SECONDS,
    MAX_TTL_SECONDS + 1e-6,
    MAX_TTL_SECONDS + 1,
    9e12,
    -9e12,
  );
  // Beyond about 9.2e12 seconds the client's float8 -> interval conversion overflows (the bug below).
  const ttlSeconds = fc.oneof(
    specialTtls,
    fc.double({ min: -9e12, max: 9e12, noNaN: true }),
    fc.double({ min: 0, max: 1e-5, noNaN: true }),
    fc.integer({ min: -10, max: 4_000_000_000 }),
  );
  const ttlClass = fc.oneof(
    fc.constantFrom('short', 'medium', 'long', 'Short', 'ttl.short', ''),
    text({ maxLength: 10 }),
  );
  const CLASS_SECONDS: Record<string, number> = { short: 300, medium: 3600, long: 86400 };

  it(
    'numeric and class TTLs on set, setMany and touch store exactly now() + ttl, or are rejected with PC004',
    async () => {
      const json = acc('prop_json');
      await fc.assert(
        fc.asyncProperty(
          fc.oneof({ weight: 3, arbitrary: ttlSeconds }, ttlClass),
          fc.constantFrom('set', 'setMany', 'touch'),
          async (ttl, op) => {
            if (op === 'touch') await json.set('t', 1);
            const call: Promise<unknown> =
              op === 'set'
                ? json.set('t', 1, { ttl: ttl as never })
                : op === 'setMany'
                  ? json.setMany([['t', 1]], { ttl: ttl as never })
                  : json.touch('t', ttl as never);
            const result = await outcome(call);
            let expectedUs: number | undefined;
            let mustReject: boolean;
            if (typeof ttl === 'string') {
              expectedUs = Object.hasOwn(CLASS_SECONDS, ttl) ? (CLASS_SECONDS[ttl] as number) * 1e6 : undefined;
              mustReject = expectedUs === undefined;
              if (mustReject) expectDocumented(result, ['PC004'], 'class');
            } else {
              const us = ttl * 1e6;
              mustReject = !Number.isFinite(ttl) || us < 0.5 || ttl > MAX_TTL_SECONDS + 1e-6;
              const mustAccept = Number.isFinite(ttl) && us >= 1 && ttl <= MAX_TTL_SECONDS;
              if (mustReject) expectDocumented(result, ['PC004'], 'ttl');
              else if (mustAccept) expect(result.ok).toBe(true);
              else if (!result.ok) expectDocumented(result, ['PC004'], 'ttl'); // rounds to 0 or 1 microsecond
              expectedUs = us;
            }
            const row = await rawRow('prop_json', 't');
            if (result.ok) {
              if (op === 'touch') expect(result.value).toBe(true);
              const storedUs = op === 'touch' ? row.touch_ttl_us : row.ttl_us;
              expect(Math.abs(storedUs - (expectedUs as number))).toBeLessThanOrEqual(1);
              expect(storedUs).toBeGreaterThanOrEqual(1);
            } else if (op !== 'touch') {
              expect(row).toBeUndefined();
            } else {
              expect(row.touch_ttl_us).toBe(3600e6); // the default TTL of the set before, unchanged
            }
            await db.pool.query(`DELETE FROM pgcache.cache_prop_json WHERE key = 't'`);
            await checkUntouched();
          },
        ),
        { numRuns: RUNS },
      );
    },
    TIMEOUT,
  );

  // Regression (found here, fixed in the client layer, baaaa4d): the client converts seconds with `$4::float8 * interval '1 second'`, which overflows for
  // |ttl| > ~9.2e12 s and raises a raw 22008 (interval out of range) instead of PC004. Minimal counterexample:
  // set(k, v, { ttl: 1e13 }). createType({ defaultTtl }) and touch share the conversion. Fix: in the client,
  // send any number outside (0, 100 years] as NULL (as it does for NaN and Infinity), or clamp it in the
  // statement (least/greatest) so the SQL check raises PC004.
  it(
    'TTLs beyond the interval range are rejected with PC004 (was: raw 22008)',
    async () => {
      const json = acc('prop_json');
      const huge = fc.oneof(
        fc.double({ min: 1e13, max: Number.MAX_VALUE, noNaN: true }),
        fc.double({ min: -Number.MAX_VALUE, max: -1e13, noNaN: true }),
      );
      await isolated(() =>
        fc.assert(
          fc.asyncProperty(huge, async (ttl) => {
            expectDocumented(await outcome(json.set('huge', 1, { ttl })), ['PC004'], 'ttl');
            await checkUntouched();
          }),
          { numRuns: Math.ceil(RUNS / 2), examples: [[1e13]] },
        ),
      );
    },
    TIMEOUT,
  );
});

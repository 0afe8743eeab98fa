// Shared pieces of the reliability tests: input generators, the "documented error" check, a snapshot of
// everything a call must leave alone, and a reference model of LIKE.
import { inspect } from 'node:util';
import fc from 'fast-check';
import type pg from 'pg';
import { expect } from 'vitest';
import { PgcacheError, type PgcacheSqlState } from '../../src/client/errors.js';

/** How many runs each property gets: bounded so the whole directory stays well under a minute. */
export const RUNS = Number(process.env.PGCACHE_PROPERTY_RUNS ?? 100);

export type Outcome<T> = { ok: true; value: T } | { ok: false; error: unknown };

/** Settles a promise into a value or an error, so a property can branch on which it was. */
export async function outcome<T>(promise: Promise<T>): Promise<Outcome<T>> {
  try {
    return { ok: true, value: await promise };
  } catch (error) {
    return { ok: false, error };
  }
}

/** Asserts that a call failed the documented way: a PgcacheError subclass with one of `codes`. */
export function expectDocumented(result: Outcome<unknown>, codes: PgcacheSqlState[], argument?: string): void {
  if (result.ok) throw new Error(`expected a documented error (${codes.join(' or ')}), but the call succeeded`);
  const error = result.error as { code?: string; message?: string; constructor?: { name?: string } };
  if (!(result.error instanceof PgcacheError)) {
    throw new Error(
      `expected a PgcacheError (${codes.join(' or ')}), got ${error?.constructor?.name} ${error?.code ?? ''}: ${error?.message}`,
    );
  }
  expect(codes).toContain(result.error.code);
  if (argument !== undefined) expect(result.error.argument).toBe(argument);
}

// ---------------------------------------------------------------------------------------------------------
// Strings

const isSurrogate = (cp: number) => cp >= 0xd800 && cp <= 0xdfff;

/** Characters that break naive code: LIKE wildcards and escape, quotes, separators, lookalikes, wide ones. */
const AWKWARD = [
  '%',
  '_',
  '\\',
  "'",
  '"',
  ';',
  '-',
  '$',
  '|',
  ':',
  '*',
  '[',
  '\n',
  '\r',
  '\t',
  ' ',
  '\u00a0',
  '\u200b',
  '\ufeff',
  '\ufffd',
  '\uffff',
  'é',
  'e\u0301',
  'İ',
  'ß',
  'а',
  '😀',
  '👩‍👩‍👧',
  '𝔘',
  '\u{10ffff}',
  '\u007f',
  '\u0001',
];

/** One code point PostgreSQL text can hold: anything but U+0000 and the surrogate halves. */
export const textChar: fc.Arbitrary<string> = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom(...AWKWARD) },
  { weight: 3, arbitrary: fc.string({ unit: 'grapheme-ascii', minLength: 1, maxLength: 1 }) },
  {
    weight: 2,
    arbitrary: fc
      .integer({ min: 1, max: 0x10ffff })
      .filter((cp) => !isSurrogate(cp))
      .map((cp) => String.fromCodePoint(cp)),
  },
);

/** A string PostgreSQL text can hold (no U+0000, no unpaired surrogate). */
export const text = (constraints: { minLength?: number; maxLength?: number } = {}) =>
  fc.string({ unit: textChar, ...constraints });

/** One character PostgreSQL text cannot hold as sent: U+0000 or an unpaired surrogate half. */
export const badChar: fc.Arbitrary<string> = fc.oneof(
  fc.constant('\u0000'),
  fc.integer({ min: 0xd800, max: 0xdfff }).map((cp) => String.fromCharCode(cp)),
);

/** A text string with at least one character PostgreSQL text cannot hold, somewhere in it. */
export const textWith = (bad: fc.Arbitrary<string>) =>
  fc.tuple(text({ maxLength: 8 }), bad, text({ maxLength: 8 })).map(([a, b, c]) => a + b + c);

export const utf8Bytes = (s: string) => Buffer.byteLength(s, 'utf8');

/** Keys: short and awkward, long around the 1024-byte limit, multi-byte at the limit, and empty. */
export const anyKey: fc.Arbitrary<string> = fc.oneof(
  { weight: 6, arbitrary: text({ minLength: 1, maxLength: 40 }) },
  { weight: 2, arbitrary: text({ minLength: 200, maxLength: 600 }) },
  {
    weight: 2,
    arbitrary: fc
      .tuple(fc.integer({ min: 1000, max: 1050 }), fc.constantFrom('a', 'é', '€', '😀'))
      .map(([bytes, ch]) => ch.repeat(Math.max(1, Math.round(bytes / utf8Bytes(ch))))),
  },
  { weight: 1, arbitrary: fc.constant('') },
);

// ---------------------------------------------------------------------------------------------------------
// JSON

/**
 * Whether a jsonb value came back as sent. JSON has no negative zero (JSON.stringify(-0) is "0"), and an
 * object property holding undefined is absent in JSON: both are read as equal. Nothing else is forgiven: an
 * array element undefined that comes back null, or NaN that comes back null, is a different value.
 * (Hand-written: util.isDeepStrictEqual overflows the stack on values about 1,500 levels deep.)
 */
export function sameJson(got: unknown, sent: unknown): boolean {
  if (typeof sent === 'number') return typeof got === 'number' && (Object.is(got, sent) || (got === 0 && sent === 0));
  if (sent === null || typeof sent !== 'object') return got === sent;
  if (Array.isArray(sent)) {
    return Array.isArray(got) && got.length === sent.length && sent.every((v, i) => sameJson(got[i], v));
  }
  if (got === null || typeof got !== 'object' || Array.isArray(got)) return false;
  const sentKeys = Object.keys(sent).filter((k) => (sent as Record<string, unknown>)[k] !== undefined);
  const gotKeys = Object.keys(got);
  return (
    sentKeys.length === gotKeys.length &&
    sentKeys.every(
      (k) =>
        Object.hasOwn(got, k) && sameJson((got as Record<string, unknown>)[k], (sent as Record<string, unknown>)[k]),
    )
  );
}

/** Fails with both values shown when a jsonb value did not come back as sent. */
export function expectSameJson(got: unknown, sent: unknown): void {
  if (!sameJson(got, sent)) {
    const show = (v: unknown) =>
      inspect(v, { depth: 4, maxStringLength: 80, maxArrayLength: 8, breakLength: Infinity });
    throw new Error(`the value came back changed: sent ${show(sent)}, got ${show(got)}`);
  }
}

/** JSON values PostgreSQL can hold: strings without U+0000 or unpaired surrogates, finite numbers. */
export const cleanJson: fc.Arbitrary<unknown> = fc.jsonValue({ maxDepth: 6, stringUnit: textChar });

/** A value nested `depth` levels deep, alternating arrays and objects. */
export const deepJson = fc
  .tuple(fc.integer({ min: 1, max: 2000 }), fc.jsonValue({ maxDepth: 1, stringUnit: textChar }))
  .map(([depth, leaf]) => {
    let v: unknown = leaf;
    for (let i = 0; i < depth; i++) v = i % 2 ? [v] : { d: v };
    return v;
  });

// ---------------------------------------------------------------------------------------------------------
// LIKE

/** PostgreSQL's LIKE with the default escape `\`, as a reference model (pattern must not end in an escape). */
export function likeMatches(pattern: string, key: string): boolean {
  let source = '';
  const chars = [...pattern];
  for (let i = 0; i < chars.length; i++) {
    const c = chars[i] as string;
    if (c === '\\') {
      i++;
      if (i >= chars.length) throw new Error('pattern ends in an escape');
      source += escapeRegExp(chars[i] as string);
    } else if (c === '%') source += '.*';
    else if (c === '_') source += '.';
    else source += escapeRegExp(c);
  }
  return new RegExp(`^${source}$`, 'su').test(key);
}

const escapeRegExp = (s: string) => s.replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&');

/** Whether a LIKE pattern ends in an escape character that escapes nothing. */
export function endsInLoneEscape(pattern: string): boolean {
  const trailing = /\\+$/.exec(pattern)?.[0].length ?? 0;
  return trailing % 2 === 1;
}

/** Keys in the primary key's order (COLLATE "C": bytes of UTF-8). */
export const byteOrder = (a: string, b: string) => Buffer.compare(Buffer.from(a), Buffer.from(b));

// ---------------------------------------------------------------------------------------------------------
// What a call must leave alone

/**
 * Every row a property must not change: all entries of the types outside `scratch`, the sentinel keys inside
 * them, the registry rows of the other types, the settings and the models not named `prop-*`. Rows are
 * compared whole (row_to_json), so a changed value, expiry, version, hit score or touch all show.
 */
export async function untouched(pool: pg.Pool, scratch: string[], sentinelKeys: string[]): Promise<string[]> {
  const { rows } = await pool.query<{ r: string }>(
    `SELECT 'entry ' || t.name || ' ' || row_to_json(e)::text AS r
       FROM pgcache.entries e JOIN pgcache.cache_types t ON t.id = e.type_id
      WHERE t.name <> ALL ($1::text[]) OR e.key = ANY ($2::text[])
     UNION ALL
     SELECT 'type ' || row_to_json(t)::text FROM pgcache.cache_types t WHERE t.name <> ALL ($1::text[])
     UNION ALL
     SELECT 'setting ' || row_to_json(s)::text FROM pgcache.cache_settings s
     UNION ALL
     SELECT 'model ' || row_to_json(m)::text FROM pgcache.cache_models m WHERE m.model NOT LIKE 'prop-%'
     UNION ALL
     SELECT 'table ' || c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = 'pgcache' AND c.relname NOT LIKE ALL (SELECT 'cache\\_' || x || '%' FROM unnest($1::text[]) x)
     ORDER BY 1`,
    [scratch, sentinelKeys],
  );
  return rows.map((r) => r.r);
}

/** Sentinel entries under `keys` in each of `types`, so a stray write or delete anywhere shows in `untouched`. */
export async function seedSentinels(
  pool: pg.Pool,
  keys: string[],
  types: readonly { name: string; kind: 'jsonb' | 'text' | 'bytea' | 'vector' }[] = SEED_TYPES,
): Promise<void> {
  for (const { name, kind } of types) {
    for (const key of keys) {
      const [cast, value] =
        kind === 'jsonb'
          ? ['jsonb', JSON.stringify({ sentinel: key })]
          : kind === 'text'
            ? ['text', `sentinel ${key}`]
            : kind === 'bytea'
              ? ['bytea', Buffer.from(key)]
              : ['real[]', [1, 2, 3]];
      const model = kind === 'vector' ? `, 'sentinel-model'` : '';
      await pool.query(`SELECT pgcache.cache_set($1, $2, $3::${cast}${model})`, [name, key, value]);
    }
  }
}

export const SEED_TYPES = [
  { name: 'default', kind: 'jsonb' },
  { name: 'llm_responses', kind: 'text' },
  { name: 'audio_chunks', kind: 'bytea' },
  { name: 'embeddings', kind: 'vector' },
  { name: 'vector_search', kind: 'jsonb' },
] as const satisfies { name: string; kind: 'jsonb' | 'text' | 'bytea' | 'vector' }[];

/**
 * Sentinel keys: plain ones, the replacement character (where an unpaired surrogate would land if it were
 * replaced), LIKE's special characters, and one character in composed and decomposed form.
 */
export const SENTINEL_KEYS = ['sentinel', '\ufffd', 'a', 'A', '%', '_', '\\', 'a%', 'a_b', 'é', 'e\u0301', '😀'];

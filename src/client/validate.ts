// Checks on what the client sends that PostgreSQL cannot carry or check itself: text with U+0000 or unpaired
// surrogates (pg would fail with a raw 22021, or silently store U+FFFD), JSON that JSON.stringify would
// change (NaN, Infinity, undefined array elements, BigInt) and numbers a float4 cannot hold. Each raises the
// documented error the SQL raises for the same kind of mistake.
import {
  InvalidArgumentError,
  InvalidKeyError,
  InvalidTagsError,
  InvalidTtlError,
  PgcacheError,
  WrongValueKindError,
} from './errors.js';
import type { EntryCost } from './types.js';

const UNSENDABLE = /\u0000|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** True for text PostgreSQL stores exactly as given. */
export function sendableText(text: string): boolean {
  return !UNSENDABLE.test(text);
}

function fail(
  Class: new (code: never, message: string) => PgcacheError,
  code: string,
  argument: string,
  why: string,
): never {
  throw new Class(code as never, `pgcache: argument "${argument}" ${why}`);
}

/** A JavaScript type name for messages: "number", "array", "Buffer", "Date", "null", ... */
export function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (Buffer.isBuffer(value)) return 'a Buffer';
  if (value instanceof Date) return 'a Date';
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`;
}

/** A key: a non-empty string PostgreSQL text can hold (PC002). Nothing is coerced: 1 and '1' differ. */
export function checkKey(key: unknown, argument = 'key'): asserts key is string {
  if (typeof key !== 'string') fail(InvalidKeyError, 'PC002', argument, `must be a string, got ${describe(key)}`);
  if (key === '') fail(InvalidKeyError, 'PC002', argument, 'must not be empty');
  if (!sendableText(key)) {
    fail(
      InvalidKeyError,
      'PC002',
      argument,
      'contains U+0000 or an unpaired surrogate, which PostgreSQL text cannot hold',
    );
  }
}

/** An array of keys (PC010 if not an array; PC002 for a bad key in it). */
export function checkKeys(keys: unknown, argument = 'keys'): asserts keys is readonly string[] {
  if (!Array.isArray(keys))
    fail(InvalidArgumentError, 'PC010', argument, `must be an array of keys, got ${describe(keys)}`);
  for (const key of keys) checkKey(key); // named "key", as the SQL names a bad key of a batch
}

/**
 * Tags: an array of 1-256-byte strings, at most `limit` (64 on an entry; invalidation takes up to 10000), PC018
 * as the SQL's _check_tags. Checked here so a value pg cannot send (U+0000) never reaches the server.
 */
export function checkTags(tags: unknown, limit = 64): asserts tags is readonly string[] {
  if (!Array.isArray(tags))
    fail(InvalidTagsError, 'PC018', 'tags', `must be an array of strings, got ${describe(tags)}`);
  if (tags.length > limit) fail(InvalidTagsError, 'PC018', 'tags', `has ${tags.length} tags; the limit is ${limit}`);
  for (const tag of tags) {
    if (typeof tag !== 'string' || tag === '' || !sendableText(tag) || Buffer.byteLength(tag) > 256) {
      fail(InvalidTagsError, 'PC018', 'tags', `must hold non-empty strings of at most 256 bytes, got ${describe(tag)}`);
    }
  }
}

/** Prefixes, patterns, models, scopes: PC010 like the SQL's own argument checks. null/undefined pass (optional). */
export function checkText(text: unknown, argument: string): asserts text is string | null | undefined {
  if (text === null || text === undefined) return;
  if (typeof text !== 'string')
    fail(InvalidArgumentError, 'PC010', argument, `must be a string, got ${describe(text)}`);
  if (!sendableText(text)) {
    fail(
      InvalidArgumentError,
      'PC010',
      argument,
      'contains U+0000 or an unpaired surrogate, which PostgreSQL text cannot hold',
    );
  }
}

/** A required string argument (PC010). */
export function checkString(text: unknown, argument: string): asserts text is string {
  if (typeof text !== 'string')
    fail(InvalidArgumentError, 'PC010', argument, `must be a string, got ${describe(text)}`);
  checkText(text, argument);
}

/** A TTL: seconds (a number) or a TTL class name (a string); anything else is PC004 before any round trip. */
export function checkTtl(ttl: unknown, argument = 'ttl'): void {
  if (ttl === undefined || typeof ttl === 'number' || typeof ttl === 'string') return;
  fail(InvalidTtlError, 'PC004', argument, `must be seconds (a number) or a TTL class name, got ${describe(ttl)}`);
}

/** A caller's callback (compute, search, embedder). */
export function checkFunction(fn: unknown, argument: string): void {
  if (typeof fn !== 'function')
    fail(InvalidArgumentError, 'PC010', argument, `must be a function, got ${describe(fn)}`);
}

/**
 * jsonb nests at most this deep (PostgreSQL itself takes about 10,000): deeper values are refused (PC005) before
 * JSON.stringify runs out of stack (which, should it happen first, is PC005 too).
 */
export const MAX_JSON_DEPTH = 2048;

/**
 * Whether JSON.stringify gives `value` as encodeJson's checked path would, with nothing to refuse but perhaps
 * its strings: plain objects and arrays (no toJSON, no other prototype) of strings, finite numbers, booleans
 * and null, at most MAX_JSON_DEPTH deep. Anything else takes the checked path, which encodes or refuses it.
 */
function plainJson(value: unknown, depth: number): boolean {
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return true;
  if (typeof value === 'number') return Number.isFinite(value);
  if (typeof value !== 'object' || depth > MAX_JSON_DEPTH) return false;
  if (Array.isArray(value)) {
    if (Object.getPrototypeOf(value) !== Array.prototype) return false;
    for (const item of value) if (!plainJson(item, depth + 1)) return false;
    return true;
  }
  const prototype = Object.getPrototypeOf(value);
  if ((prototype !== Object.prototype && prototype !== null) || 'toJSON' in value) return false;
  for (const key in value) {
    if (!Object.hasOwn(value, key)) return false;
    const item = (value as Record<string, unknown>)[key];
    // An undefined property is left out by both paths.
    if (item !== undefined && !plainJson(item, depth + 1)) return false;
  }
  return true;
}

/** In JSON.stringify's output, the escapes it writes for U+0000 and lone surrogates (and for nothing else
 * PostgreSQL text holds); text the user wrote as a backslash and "u0000" matches too, and is then checked. */
const UNSENDABLE_ESCAPE = /\\u(?:0000|d[89a-f])/;

/** JSON text for a jsonb value, or PC005 where JSON.stringify would not round-trip it. */
export function encodeJson(value: unknown, argument = 'value'): string {
  // The common value, plain JSON data: one JSON.stringify and one scan of its text, no replacer.
  if (plainJson(value, 1)) {
    const text = JSON.stringify(value);
    if (!UNSENDABLE_ESCAPE.test(text)) return text;
  }
  const depths = new WeakMap<object, number>();
  let text: string | undefined;
  try {
    text = JSON.stringify(value, function (this: unknown, key: string, item: unknown) {
      if (!sendableText(key))
        fail(WrongValueKindError, 'PC005', argument, 'has a property name PostgreSQL text cannot hold');
      if (typeof item === 'number' && !Number.isFinite(item)) {
        fail(WrongValueKindError, 'PC005', argument, `holds ${item}, which JSON cannot represent`);
      }
      if (typeof item === 'bigint')
        fail(WrongValueKindError, 'PC005', argument, 'holds a BigInt, which JSON cannot represent');
      if (typeof item === 'symbol' || typeof item === 'function') {
        fail(WrongValueKindError, 'PC005', argument, `holds a ${typeof item}, which JSON cannot represent`);
      }
      if (item === undefined && (Array.isArray(this) || key === '')) {
        fail(WrongValueKindError, 'PC005', argument, 'holds undefined, which JSON cannot represent');
      }
      if (typeof item === 'string' && !sendableText(item)) {
        fail(
          WrongValueKindError,
          'PC005',
          argument,
          'holds a string with U+0000 or an unpaired surrogate, which jsonb cannot hold',
        );
      }
      if (typeof item === 'object' && item !== null) {
        const depth = (typeof this === 'object' && this !== null ? (depths.get(this) ?? 0) : 0) + 1;
        if (depth > MAX_JSON_DEPTH) {
          fail(WrongValueKindError, 'PC005', argument, `nests deeper than ${MAX_JSON_DEPTH} levels`);
        }
        depths.set(item, depth);
      }
      return item;
    });
  } catch (error) {
    if (error instanceof PgcacheError) throw error;
    // A circular structure (TypeError), a toJSON that throws, or a stack overflow (RangeError).
    fail(WrongValueKindError, 'PC005', argument, `cannot be encoded as JSON (${(error as Error).message})`);
  }
  if (text === undefined) fail(WrongValueKindError, 'PC005', argument, 'cannot be encoded as JSON');
  return text;
}

/** A value of a text type: a string PostgreSQL text can hold (PC005). */
export function checkTextValue(value: unknown, argument = 'value'): asserts value is string {
  if (typeof value !== 'string') {
    fail(WrongValueKindError, 'PC005', argument, `must be a string for a text type, got ${describe(value)}`);
  }
  if (!sendableText(value)) {
    fail(
      WrongValueKindError,
      'PC005',
      argument,
      'contains U+0000 or an unpaired surrogate, which PostgreSQL text cannot hold',
    );
  }
}

/** A value of a bytea type: a Buffer or Uint8Array (PC005); strings are not silently encoded. */
export function checkBytesValue(value: unknown, argument = 'value'): Buffer {
  if (Buffer.isBuffer(value)) return value;
  if (value instanceof Uint8Array) return Buffer.from(value.buffer, value.byteOffset, value.byteLength);
  return fail(
    WrongValueKindError,
    'PC005',
    argument,
    `must be a Buffer or Uint8Array for a bytea type, got ${describe(value)}`,
  );
}

/** Every element must survive float4: finite, and not a non-zero that rounds to zero. */
export function checkVector(vector: unknown, argument = 'value'): asserts vector is ArrayLike<number> {
  if (vector === null || vector === undefined) return;
  if (!Array.isArray(vector) && !(ArrayBuffer.isView(vector) && !(vector instanceof DataView))) {
    fail(InvalidArgumentError, 'PC010', argument, `must be an array of numbers, got ${describe(vector)}`);
  }
  const list = vector as ArrayLike<unknown>;
  for (let i = 0; i < list.length; i++) {
    const x = list[i];
    if (typeof x !== 'number' || !Number.isFinite(Math.fround(x)) || (Math.fround(x) === 0 && x !== 0)) {
      fail(InvalidArgumentError, 'PC010', argument, `element ${i} (${String(x)}) is not a finite float4`);
    }
  }
}

/** The seconds parameter of a TTL: NULL (rejected by the SQL with PC004) unless in (0, 100 years]. */
export function ttlSeconds(ttl: number): number | null {
  return Number.isFinite(ttl) && ttl > 0 && ttl <= 100 * 365 * 86400 ? ttl : null;
}

/**
 * The parameters of a TTL for statements that take seconds or a class (TTL_PARAM): [seconds, class], both
 * null for the type's default. A number outside (0, 100 years] (Infinity too: say 'never') is PC004 here,
 * before any round trip (these statements would otherwise read NULL as the default).
 */
export function ttlParams(ttl: unknown, argument = 'ttl'): [number | null, string | null] {
  checkTtl(ttl, argument);
  if (ttl === undefined) return [null, null];
  if (typeof ttl === 'string') {
    if (!sendableText(ttl)) fail(InvalidTtlError, 'PC004', argument, 'must be a TTL class name');
    return [null, ttl];
  }
  const seconds = ttlSeconds(ttl as number);
  if (seconds === null) {
    fail(
      InvalidTtlError,
      'PC004',
      argument,
      `must be seconds above 0 and at most 100 years, or a TTL class name ('never': no expiry), got ${String(ttl)}`,
    );
  }
  return [seconds, null];
}

const COST_FIELDS = {
  model: 'model',
  inputTokens: 'input_tokens',
  outputTokens: 'output_tokens',
  characters: 'characters',
  voice: 'voice',
  computeMs: 'compute_ms',
} as const satisfies Record<keyof EntryCost, string>;

/** Meta with the cost attribute (pgcache_cost, as core/22_savings.sql names it) added; the SQL checks its fields. */
export function withCost(meta: Record<string, unknown>, cost: EntryCost | undefined): Record<string, unknown> {
  if (cost === undefined) return meta;
  if (typeof cost !== 'object' || cost === null || Array.isArray(cost)) {
    throw new InvalidArgumentError('PC010', `pgcache: argument "cost" must be an object, got ${describe(cost)}`);
  }
  const stored: Record<string, unknown> = {};
  for (const [field, value] of Object.entries(cost)) {
    const name = COST_FIELDS[field as keyof EntryCost];
    if (name === undefined) {
      throw new InvalidArgumentError(
        'PC010',
        `pgcache: argument "cost" has an unknown field "${field}" (known: ${Object.keys(COST_FIELDS).join(', ')})`,
      );
    }
    if (value !== undefined) stored[name] = value;
  }
  return { ...meta, pgcache_cost: stored };
}

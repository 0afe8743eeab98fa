// Checks on what the client sends that PostgreSQL cannot carry or check itself: text with U+0000 or unpaired
// surrogates (pg would fail with a raw 22021, or silently store U+FFFD), JSON that JSON.stringify would
// change (NaN, Infinity, undefined array elements, BigInt) and numbers a float4 cannot hold. Each raises the
// documented error the SQL raises for the same kind of mistake.
import { InvalidArgumentError, InvalidKeyError, type PgcacheError, WrongValueKindError } from './errors.js';

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

export function checkKey(key: string, argument = 'key'): void {
  if (typeof key === 'string' && !sendableText(key)) {
    fail(
      InvalidKeyError,
      'PC002',
      argument,
      'contains U+0000 or an unpaired surrogate, which PostgreSQL text cannot hold',
    );
  }
}

/** Prefixes, patterns, models, scopes: PC010 like the SQL's own argument checks. */
export function checkText(text: string | null | undefined, argument: string): void {
  if (typeof text === 'string' && !sendableText(text)) {
    fail(
      InvalidArgumentError,
      'PC010',
      argument,
      'contains U+0000 or an unpaired surrogate, which PostgreSQL text cannot hold',
    );
  }
}

/** JSON text for a jsonb value, or PC005 where JSON.stringify would not round-trip it. */
export function encodeJson(value: unknown): string {
  return JSON.stringify(value, function (this: unknown, key: string, item: unknown) {
    if (!sendableText(key))
      fail(WrongValueKindError, 'PC005', 'value', 'has a property name PostgreSQL text cannot hold');
    if (typeof item === 'number' && !Number.isFinite(item)) {
      fail(WrongValueKindError, 'PC005', 'value', `holds ${item}, which JSON cannot represent`);
    }
    if (typeof item === 'bigint')
      fail(WrongValueKindError, 'PC005', 'value', 'holds a BigInt, which JSON cannot represent');
    if (item === undefined && Array.isArray(this)) {
      fail(WrongValueKindError, 'PC005', 'value', 'holds undefined in an array, which JSON cannot represent');
    }
    if (typeof item === 'string' && !sendableText(item)) {
      fail(
        WrongValueKindError,
        'PC005',
        'value',
        'holds a string with U+0000 or an unpaired surrogate, which jsonb cannot hold',
      );
    }
    return item;
  });
}

export function checkTextValue(value: unknown): void {
  if (typeof value === 'string' && !sendableText(value)) {
    fail(
      WrongValueKindError,
      'PC005',
      'value',
      'contains U+0000 or an unpaired surrogate, which PostgreSQL text cannot hold',
    );
  }
}

/** Every element must survive float4: finite, and not a non-zero that rounds to zero. */
export function checkVector(vector: ArrayLike<number> | null | undefined, argument = 'value'): void {
  if (!vector) return;
  for (let i = 0; i < vector.length; i++) {
    const x = vector[i] as number;
    const f = Math.fround(x);
    if (typeof x !== 'number' || !Number.isFinite(f) || (f === 0 && x !== 0)) {
      fail(InvalidArgumentError, 'PC010', argument, `element ${i} (${x}) is not a finite float4`);
    }
  }
}

/** The seconds parameter of a TTL: NULL (rejected by the SQL with PC004) unless in (0, 100 years]. */
export function ttlSeconds(ttl: number): number | null {
  return Number.isFinite(ttl) && ttl > 0 && ttl <= 100 * 365 * 86400 ? ttl : null;
}

// Rate limiting through cache_rate_limit (sql/core/13_rate_limit.sql): argument checks made before any round
// trip, the statements, and the typed result. The counting itself is the SQL's: one row per key, a fixed
// window opened by the key's first hit, counted under the row's lock.
import pg from 'pg';
import { InvalidArgumentError, KeyTooLongError } from './errors.js';
import { checkKey, checkString, describe } from './validate.js';

export interface RateLimitOptions {
  /** Units allowed per window: an integer from 1 to 2,147,483,647. */
  limit: number;
  /** Length of the window in seconds (fractions allowed), at most 100 years. The window opens at the key's first hit. */
  window: number;
  /** Units this call consumes: an integer from 1 to `limit`. Default 1. */
  cost?: number | undefined;
}

export interface RateLimitResult {
  /** Whether the call passed (and consumed `cost`). A denied call consumes nothing. */
  allowed: boolean;
  /** Units left in the current window after this call. */
  remaining: number;
  /** Milliseconds until a call of the same cost can pass: 0 when allowed. */
  retryAfterMs: number;
  /** When the current window ends and the whole limit is available again. */
  resetAt: Date;
}

const MAX_BUCKET_BYTES = 255;
const MAX_KEY_BYTES = 1024;
const MAX_INTEGER = 2_147_483_647;
const MAX_WINDOW_SECONDS = 100 * 365 * 86400;

function invalid(argument: string, why: string): never {
  throw new InvalidArgumentError('PC010', `pgcache: argument "${argument}" ${why}`);
}

/** Bucket and key: what the SQL checks (PC010 for the bucket, PC002/PC003 for the key), before any round trip. */
export function checkLimiterKey(bucket: unknown, key: unknown): asserts bucket is string {
  checkString(bucket, 'bucket');
  if (bucket === '') invalid('bucket', 'must not be empty');
  if (Buffer.byteLength(bucket) > MAX_BUCKET_BYTES) {
    invalid('bucket', `is ${Buffer.byteLength(bucket)} bytes; the limit is ${MAX_BUCKET_BYTES}`);
  }
  checkKey(key);
  if (Buffer.byteLength(key) > MAX_KEY_BYTES) {
    throw new KeyTooLongError(
      'PC003',
      `pgcache: argument "key" is ${Buffer.byteLength(key)} bytes; the limit is ${MAX_KEY_BYTES}`,
    );
  }
}

function isCount(value: unknown, max: number): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= 1 && value <= max;
}

/** A cost to give back (refund): an integer from 1 to 2,147,483,647. */
export function checkCost(cost: unknown): number {
  if (cost === undefined) return 1;
  if (!isCount(cost, MAX_INTEGER)) {
    invalid(
      'cost',
      `must be an integer from 1 to ${MAX_INTEGER}, got ${typeof cost === 'number' ? cost : describe(cost)}`,
    );
  }
  return cost;
}

/** limit, window and cost as the SQL takes them: [limit, window seconds, cost]. */
export function limiterArguments(options: unknown): [number, number, number] {
  if (typeof options !== 'object' || options === null) {
    invalid('options', `must be an object with limit and window, got ${describe(options)}`);
  }
  const { limit, window, cost = 1 } = options as Partial<RateLimitOptions>;
  if (!isCount(limit, MAX_INTEGER)) {
    invalid(
      'limit',
      `must be an integer from 1 to ${MAX_INTEGER}, got ${typeof limit === 'number' ? limit : describe(limit)}`,
    );
  }
  if (typeof window !== 'number' || !Number.isFinite(window) || window <= 0 || window > MAX_WINDOW_SECONDS) {
    invalid(
      'window',
      `must be a positive number of seconds, at most 100 years, got ${typeof window === 'number' ? window : describe(window)}`,
    );
  }
  if (!isCount(cost, limit)) {
    invalid(
      'cost',
      `must be an integer from 1 to the limit (${limit}), got ${typeof cost === 'number' ? cost : describe(cost)}`,
    );
  }
  return [limit, window, cost];
}

/** The statements of the limiter functions for one install schema. */
export function rateLimitStatements(schema: string) {
  const S = pg.escapeIdentifier(schema);
  const n = (name: string) => `pgcache:${schema}:${name}`;
  const result = `allowed, remaining, (extract(epoch FROM retry_after) * 1000)::float8 AS retry_after_ms, reset_at`;
  const args = `$1, $2, $3::integer, $4::float8 * interval '1 second', $5::integer`;
  return {
    consume: { name: n('rate_limit'), text: `SELECT ${result} FROM ${S}.cache_rate_limit(${args})` },
    peek: { name: n('rate_limit_peek'), text: `SELECT ${result} FROM ${S}.cache_rate_limit_peek(${args})` },
    refund: { name: n('rate_limit_refund'), text: `SELECT ${S}.cache_rate_limit_refund($1, $2, $3::integer) AS hits` },
    reset: { name: n('rate_limit_reset'), text: `SELECT ${S}.cache_rate_limit_reset($1, $2) AS existed` },
  };
}

/** A row of cache_rate_limit / cache_rate_limit_peek as the client returns it. */
export function toRateLimitResult(row: Record<string, unknown> | undefined): RateLimitResult {
  if (!row) throw new Error('pgcache: cache_rate_limit returned no row');
  return {
    allowed: row.allowed === true,
    remaining: Number(row.remaining),
    retryAfterMs: Math.max(0, Math.ceil(Number(row.retry_after_ms))),
    resetAt: row.reset_at as Date,
  };
}

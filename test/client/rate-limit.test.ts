// cache.rateLimit and its peek, refund and reset from TypeScript: typed results, bad input refused with the
// package's error classes before any round trip, tenant views, and a pool of one connection with many callers.
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type Cache,
  createCache,
  InvalidArgumentError,
  InvalidKeyError,
  KeyTooLongError,
  type PgcacheSqlState,
  type RateLimitResult,
} from '../../src/index.js';
import { countRoundTrips, useDatabase } from '../helpers/db.js';

const db = useDatabase();
let pool: pg.Pool;
let cache: Cache;
let roundTrips: { count: number };

beforeAll(async () => {
  pool = new pg.Pool({ connectionString: db.url, max: 4 });
  cache = await createCache({ pool });
  roundTrips = countRoundTrips(pool, ['query']);
});
afterAll(async () => {
  await cache.close();
  await pool.end();
});

describe('cache.rateLimit', () => {
  it('returns allowed, remaining, retryAfterMs and resetAt, typed', async () => {
    const first: RateLimitResult = await cache.rateLimit('api', 'user:42', { limit: 3, window: 60 });
    expect(first).toMatchObject({ allowed: true, remaining: 2, retryAfterMs: 0 });
    expect(first.resetAt).toBeInstanceOf(Date);
    expect(first.resetAt.getTime() - Date.now()).toBeGreaterThan(55_000);
    expect(await cache.rateLimit('api', 'user:42', { limit: 3, window: 60, cost: 2 })).toMatchObject({
      allowed: true,
      remaining: 0,
    });
    const denied = await cache.rateLimit('api', 'user:42', { limit: 3, window: 60 });
    expect(denied).toMatchObject({ allowed: false, remaining: 0 });
    expect(denied.retryAfterMs).toBeGreaterThan(55_000);
    expect(denied.retryAfterMs).toBeLessThanOrEqual(60_000);
    expect(Number.isInteger(denied.retryAfterMs)).toBe(true);
    expect(denied.resetAt).toEqual(first.resetAt);
  });

  it('peeks without consuming, refunds and resets', async () => {
    const opts = { limit: 5, window: 60 };
    expect(await cache.rateLimitPeek('p', 'k', opts)).toMatchObject({ allowed: true, remaining: 5 });
    await cache.rateLimit('p', 'k', { ...opts, cost: 5 });
    expect(await cache.rateLimitPeek('p', 'k', opts)).toMatchObject({ allowed: false, remaining: 0 });
    expect(await cache.rateLimitRefund('p', 'k', 2)).toBe(3);
    expect(await cache.rateLimitRefund('p', 'k')).toBe(2);
    expect(await cache.rateLimitPeek('p', 'k', { ...opts, cost: 3 })).toMatchObject({ allowed: true, remaining: 3 });
    expect(await cache.rateLimitReset('p', 'k')).toBe(true);
    expect(await cache.rateLimitReset('p', 'k')).toBe(false);
    expect(await cache.rateLimitRefund('p', 'k')).toBe(0);
  });

  it('opens a new window after a short one ends (fractions of a second)', async () => {
    const opts = { limit: 1, window: 0.2 };
    expect((await cache.rateLimit('frac', 'k', opts)).allowed).toBe(true);
    const denied = await cache.rateLimit('frac', 'k', opts);
    expect(denied.allowed).toBe(false);
    expect(denied.retryAfterMs).toBeLessThanOrEqual(200);
    await new Promise((r) => setTimeout(r, denied.retryAfterMs + 20));
    expect((await cache.rateLimit('frac', 'k', opts)).allowed).toBe(true);
  });

  it('refuses bad input with the package error classes before any round trip', async () => {
    const before = roundTrips.count;
    const cases: Array<[() => Promise<unknown>, new (...a: never[]) => Error, PgcacheSqlState, string]> = [
      [() => cache.rateLimit('', 'k', { limit: 1, window: 1 }), InvalidArgumentError, 'PC010', 'bucket'],
      [() => cache.rateLimit(1 as never, 'k', { limit: 1, window: 1 }), InvalidArgumentError, 'PC010', 'bucket'],
      [() => cache.rateLimit('b'.repeat(256), 'k', { limit: 1, window: 1 }), InvalidArgumentError, 'PC010', 'bucket'],
      [() => cache.rateLimit('b\u0000', 'k', { limit: 1, window: 1 }), InvalidArgumentError, 'PC010', 'bucket'],
      [() => cache.rateLimit('b', '', { limit: 1, window: 1 }), InvalidKeyError, 'PC002', 'key'],
      [() => cache.rateLimit('b', 42 as never, { limit: 1, window: 1 }), InvalidKeyError, 'PC002', 'key'],
      [() => cache.rateLimit('b', 'é'.repeat(513), { limit: 1, window: 1 }), KeyTooLongError, 'PC003', 'key'],
      [() => cache.rateLimit('b', 'k', undefined as never), InvalidArgumentError, 'PC010', 'options'],
      [() => cache.rateLimit('b', 'k', { window: 1 } as never), InvalidArgumentError, 'PC010', 'limit'],
      [() => cache.rateLimit('b', 'k', { limit: 0, window: 1 }), InvalidArgumentError, 'PC010', 'limit'],
      [() => cache.rateLimit('b', 'k', { limit: -1, window: 1 }), InvalidArgumentError, 'PC010', 'limit'],
      [() => cache.rateLimit('b', 'k', { limit: 1.5, window: 1 }), InvalidArgumentError, 'PC010', 'limit'],
      [() => cache.rateLimit('b', 'k', { limit: 2 ** 31, window: 1 }), InvalidArgumentError, 'PC010', 'limit'],
      [() => cache.rateLimit('b', 'k', { limit: Number.NaN, window: 1 }), InvalidArgumentError, 'PC010', 'limit'],
      [() => cache.rateLimit('b', 'k', { limit: '5' as never, window: 1 }), InvalidArgumentError, 'PC010', 'limit'],
      [() => cache.rateLimit('b', 'k', { limit: 1 } as never), InvalidArgumentError, 'PC010', 'window'],
      [() => cache.rateLimit('b', 'k', { limit: 1, window: 0 }), InvalidArgumentError, 'PC010', 'window'],
      [() => cache.rateLimit('b', 'k', { limit: 1, window: -60 }), InvalidArgumentError, 'PC010', 'window'],
      [() => cache.rateLimit('b', 'k', { limit: 1, window: Infinity }), InvalidArgumentError, 'PC010', 'window'],
      [() => cache.rateLimit('b', 'k', { limit: 1, window: 1e12 }), InvalidArgumentError, 'PC010', 'window'],
      [
        () => cache.rateLimit('b', 'k', { limit: 1, window: '1 minute' as never }),
        InvalidArgumentError,
        'PC010',
        'window',
      ],
      [() => cache.rateLimit('b', 'k', { limit: 5, window: 1, cost: 6 }), InvalidArgumentError, 'PC010', 'cost'],
      [() => cache.rateLimit('b', 'k', { limit: 5, window: 1, cost: 0 }), InvalidArgumentError, 'PC010', 'cost'],
      [() => cache.rateLimit('b', 'k', { limit: 5, window: 1, cost: 0.5 }), InvalidArgumentError, 'PC010', 'cost'],
      [
        () => cache.rateLimit('b', 'k', { limit: 5, window: 1, cost: null as never }),
        InvalidArgumentError,
        'PC010',
        'cost',
      ],
      [() => cache.rateLimitPeek('b', 'k', { limit: 5, window: 1, cost: 6 }), InvalidArgumentError, 'PC010', 'cost'],
      [() => cache.rateLimitRefund('b', 'k', 0), InvalidArgumentError, 'PC010', 'cost'],
      [() => cache.rateLimitRefund('b', 'k', -3), InvalidArgumentError, 'PC010', 'cost'],
      [() => cache.rateLimitReset('b', null as never), InvalidKeyError, 'PC002', 'key'],
    ];
    for (const [call, Class, code, argument] of cases) {
      const error = await call().then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error, `${call}`).toBeInstanceOf(Class);
      expect((error as { code: string }).code, `${call}`).toBe(code);
      expect((error as { argument: string }).argument, `${call}`).toBe(argument);
    }
    expect(roundTrips.count).toBe(before);
  });

  it('a window of a microsecond-fraction reaches the SQL and comes back as PC010', async () => {
    await expect(cache.rateLimit('b', 'k', { limit: 1, window: 1e-9 })).rejects.toMatchObject({
      code: 'PC010',
      argument: 'window',
    });
  });
});

describe('tenants and pools', () => {
  it("a tenant view counts the tenant's own keys", async () => {
    const acme = cache.forTenant('acme');
    const globex = cache.forTenant('globex');
    const opts = { limit: 1, window: 60 };
    expect((await acme.rateLimit('t', 'user:1', opts)).allowed).toBe(true);
    expect((await acme.rateLimit('t', 'user:1', opts)).allowed).toBe(false);
    expect((await globex.rateLimit('t', 'user:1', opts)).allowed).toBe(true);
    expect((await cache.rateLimit('t', 'user:1', opts)).allowed).toBe(true);
    expect(await globex.rateLimitReset('t', 'user:1')).toBe(true);
    expect((await acme.rateLimitPeek('t', 'user:1', opts)).allowed).toBe(false);
    // The tenant setting lasted for its own statement: the pooled connections carry nothing over.
    const { rows } = await pool.query(`SELECT current_setting('pgcache.tenant', true) AS t`);
    expect(rows[0].t ?? '').toBe('');
  });

  it('a pool of one connection serves 200 concurrent callers, exactly the limit passing', async () => {
    const single = new pg.Pool({ connectionString: db.url, max: 1 });
    const one = await createCache({ pool: single });
    try {
      const results = await Promise.all(
        Array.from({ length: 200 }, (_, i) =>
          (i % 2 ? one.forTenant('solo') : one).rateLimit('pool1', 'k', { limit: 40, window: 60 }),
        ),
      );
      expect(results.filter((r) => r.allowed)).toHaveLength(80); // 40 per key space
      expect(results.filter((r) => !r.allowed).every((r) => r.retryAfterMs > 0)).toBe(true);
    } finally {
      await one.close();
      await single.end();
    }
  });
});

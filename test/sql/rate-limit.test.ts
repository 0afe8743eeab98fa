// cache_rate_limit and its peek, refund and reset, from SQL: the contract, exact counting under 16 concurrent
// clients, windows, hostile arguments, tenants, HOT updates of the hot row, and clean-up by maintenance.
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { sqlState, useDatabase } from '../helpers/db.js';

const db = useDatabase();

interface Verdict {
  allowed: boolean;
  remaining: number;
  retry_after_ms: number;
  reset_at: Date;
}

async function limit(bucket: string, key: string, max: number, window: string, cost = 1): Promise<Verdict> {
  const { rows } = await db.pool.query(
    `SELECT allowed, remaining, extract(epoch FROM retry_after)::float8 * 1000 AS retry_after_ms, reset_at
       FROM pgcache.cache_rate_limit($1, $2, $3, $4::interval, $5)`,
    [bucket, key, max, window, cost],
  );
  return rows[0];
}

async function peek(bucket: string, key: string, max: number, window: string, cost = 1): Promise<Verdict> {
  const { rows } = await db.pool.query(
    `SELECT allowed, remaining, extract(epoch FROM retry_after)::float8 * 1000 AS retry_after_ms, reset_at
       FROM pgcache.cache_rate_limit_peek($1, $2, $3, $4::interval, $5)`,
    [bucket, key, max, window, cost],
  );
  return rows[0];
}

describe('cache_rate_limit', () => {
  it('returns one row (allowed, remaining, retry_after, reset_at) and counts down to a denial', async () => {
    const { rows, fields } = await db.pool.query(
      `SELECT * FROM pgcache.cache_rate_limit('api', 'user:42', 100, interval '1 minute')`,
    );
    expect(fields.map((f) => f.name)).toEqual(['allowed', 'remaining', 'retry_after', 'reset_at']);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ allowed: true, remaining: 99 });
    const first = rows[0].reset_at as Date;
    expect(first.getTime() - Date.now()).toBeGreaterThan(55_000);
    expect(first.getTime() - Date.now()).toBeLessThanOrEqual(60_000);

    for (let i = 98; i >= 0; i--)
      expect(await limit('api', 'user:42', 100, '1 minute')).toMatchObject({ allowed: true, remaining: i });
    const denied = await limit('api', 'user:42', 100, '1 minute');
    expect(denied).toMatchObject({ allowed: false, remaining: 0 });
    expect(denied.reset_at).toEqual(first);
    // retry_after is the time left in the window, when the whole limit comes back.
    expect(denied.retry_after_ms).toBeGreaterThan(50_000);
    expect(Math.abs(Date.now() + denied.retry_after_ms - first.getTime())).toBeLessThan(2_000);
    // Another key of the bucket, and the same key in another bucket, are untouched.
    expect(await limit('api', 'user:43', 100, '1 minute')).toMatchObject({ allowed: true, remaining: 99 });
    expect(await limit('login', 'user:42', 100, '1 minute')).toMatchObject({ allowed: true, remaining: 99 });
  });

  it('takes a cost per call; a denied call consumes nothing', async () => {
    expect(await limit('cost', 'k', 10, '1 minute', 4)).toMatchObject({ allowed: true, remaining: 6 });
    expect(await limit('cost', 'k', 10, '1 minute', 4)).toMatchObject({ allowed: true, remaining: 2 });
    expect(await limit('cost', 'k', 10, '1 minute', 3)).toMatchObject({ allowed: false, remaining: 2 });
    expect(await limit('cost', 'k', 10, '1 minute', 2)).toMatchObject({ allowed: true, remaining: 0 });
    expect(await limit('cost', 'k', 10, '1 minute', 1)).toMatchObject({ allowed: false, remaining: 0 });
    expect(await limit('cost', 'k', 10, '1 minute', 10)).toMatchObject({ allowed: false, remaining: 0 });
  });

  it('gives the whole limit back when the window ends, and opens the next window at the next hit', async () => {
    for (let i = 0; i < 3; i++) expect((await limit('short', 'k', 3, '300 milliseconds')).allowed).toBe(true);
    const denied = await limit('short', 'k', 3, '300 milliseconds');
    expect(denied.allowed).toBe(false);
    expect(denied.retry_after_ms).toBeGreaterThan(0);
    expect(denied.retry_after_ms).toBeLessThanOrEqual(300);
    await new Promise((r) => setTimeout(r, denied.retry_after_ms + 20));
    const next = await limit('short', 'k', 3, '300 milliseconds');
    expect(next).toMatchObject({ allowed: true, remaining: 2, retry_after_ms: 0 });
    expect(next.reset_at.getTime()).toBeGreaterThan(denied.reset_at.getTime());
  });

  it('lets exactly the limit pass when 16 clients send 2,000 requests at one key', async () => {
    const clients = await Promise.all(
      Array.from({ length: 16 }, async () => {
        const c = new pg.Client({ connectionString: db.url });
        await c.connect();
        return c;
      }),
    );
    try {
      let sent = 0;
      let allowed = 0;
      const remainders: number[] = [];
      await Promise.all(
        clients.map(async (c) => {
          while (sent < 2000) {
            sent++;
            const { rows } = await c.query(
              `SELECT * FROM pgcache.cache_rate_limit('burst', 'hot', 100, interval '1 minute')`,
            );
            if (rows[0].allowed) {
              allowed++;
              remainders.push(rows[0].remaining);
            }
          }
        }),
      );
      expect(sent).toBe(2000);
      expect(allowed).toBe(100);
      // Each pass saw its own count: the remainders are 99..0, each once.
      expect(remainders.sort((a, b) => a - b)).toEqual(Array.from({ length: 100 }, (_, i) => i));
      const { rows } = await db.pool.query(`SELECT hits FROM pgcache.rate_limits WHERE bucket = 'burst'`);
      expect(rows).toEqual([{ hits: 100 }]);
    } finally {
      await Promise.all(clients.map((c) => c.end()));
    }
  });

  it('never lets more than the limit pass with mixed costs from 16 clients', async () => {
    const clients = await Promise.all(
      Array.from({ length: 16 }, async () => {
        const c = new pg.Client({ connectionString: db.url });
        await c.connect();
        return c;
      }),
    );
    try {
      let consumed = 0;
      await Promise.all(
        clients.map(async (c, i) => {
          for (let n = 0; n < 60; n++) {
            const cost = 1 + ((i + n) % 7);
            const { rows } = await c.query(
              `SELECT allowed FROM pgcache.cache_rate_limit('mixed', 'k', 250, interval '1 hour', $1)`,
              [cost],
            );
            if (rows[0].allowed) consumed += cost;
          }
        }),
      );
      const { rows } = await db.pool.query(`SELECT hits FROM pgcache.rate_limits WHERE bucket = 'mixed'`);
      expect(rows[0].hits).toBe(consumed);
      expect(consumed).toBeLessThanOrEqual(250);
      expect(consumed).toBeGreaterThan(250 - 7);
    } finally {
      await Promise.all(clients.map((c) => c.end()));
    }
  });

  it('updates the hot row in place (HOT): the table has its primary key as its only index', async () => {
    const { rows: indexes } = await db.pool.query(
      `SELECT indexrelid::regclass::text AS name FROM pg_index WHERE indrelid = 'pgcache.rate_limits'::regclass`,
    );
    expect(indexes.map((r) => r.name)).toEqual(['pgcache.rate_limits_pkey']);
    const c = await db.pool.connect();
    try {
      const updates = async () =>
        (
          await c.query(
            `SELECT pg_stat_get_xact_tuples_updated('pgcache.rate_limits'::regclass)::int AS updated,
                    pg_stat_get_xact_tuples_hot_updated('pgcache.rate_limits'::regclass)::int AS hot`,
          )
        ).rows[0];
      await c.query('BEGIN');
      await c.query(`SELECT pgcache.cache_rate_limit('hot', 'k', 1000, interval '1 hour')`);
      const before = await updates();
      for (let i = 0; i < 49; i++)
        await c.query(`SELECT pgcache.cache_rate_limit('hot', 'k', 1000, interval '1 hour')`);
      const after = await updates();
      await c.query('COMMIT');
      expect(after.updated - before.updated).toBe(49);
      expect(after.hot - before.hot).toBe(49);
    } finally {
      c.release();
    }
  });
  it('denies a spent key without a write or a row lock', async () => {
    await limit('spent', 'k', 1, '1 hour');
    const c = await db.pool.connect();
    try {
      const written = async () =>
        (
          await c.query(
            `SELECT pg_stat_get_xact_tuples_updated('pgcache.rate_limits'::regclass)::int AS updated,
                    pg_stat_get_xact_tuples_inserted('pgcache.rate_limits'::regclass)::int AS inserted`,
          )
        ).rows[0];
      await c.query('BEGIN');
      const before = await written();
      for (let i = 0; i < 20; i++) {
        const { rows } = await c.query(
          `SELECT allowed FROM pgcache.cache_rate_limit('spent', 'k', 1, interval '1 hour')`,
        );
        expect(rows[0].allowed).toBe(false);
      }
      expect(await written()).toEqual(before); // pending counts of the session's earlier statements aside
      // The transaction holds no lock on the row: another session takes it at once.
      const other = await db.pool.connect();
      try {
        await other.query('BEGIN');
        await other.query(`SELECT 1 FROM pgcache.rate_limits WHERE bucket = 'spent' FOR UPDATE NOWAIT`);
        await other.query('ROLLBACK');
      } finally {
        other.release();
      }
      await c.query('COMMIT');
    } finally {
      c.release();
    }
  });
});

describe('cache_rate_limit_peek, _refund and _reset', () => {
  it('peek answers without consuming; refund gives back; reset forgets the window', async () => {
    const fresh = await peek('p', 'k', 5, '1 minute');
    expect(fresh).toMatchObject({ allowed: true, remaining: 5, retry_after_ms: 0 });
    expect(await peek('p', 'k', 5, '1 minute', 5)).toMatchObject({ allowed: true, remaining: 5 });
    for (let i = 0; i < 4; i++) await limit('p', 'k', 5, '1 minute');
    expect(await peek('p', 'k', 5, '1 minute')).toMatchObject({ allowed: true, remaining: 1 });
    expect(await peek('p', 'k', 5, '1 minute')).toMatchObject({ allowed: true, remaining: 1 });
    const tooDear = await peek('p', 'k', 5, '1 minute', 2);
    expect(tooDear).toMatchObject({ allowed: false, remaining: 1 });
    expect(tooDear.retry_after_ms).toBeGreaterThan(50_000);

    const refund = async (cost: number) =>
      (await db.pool.query(`SELECT pgcache.cache_rate_limit_refund('p', 'k', $1) AS n`, [cost])).rows[0].n;
    expect(await refund(1)).toBe(3);
    expect(await refund(100)).toBe(0); // never below 0
    expect(await limit('p', 'k', 5, '1 minute')).toMatchObject({ allowed: true, remaining: 4 });
    expect((await db.pool.query(`SELECT pgcache.cache_rate_limit_refund('p', 'none') AS n`)).rows[0].n).toBe(0);

    const reset = async (key: string) =>
      (await db.pool.query(`SELECT pgcache.cache_rate_limit_reset('p', $1) AS ok`, [key])).rows[0].ok;
    expect(await reset('k')).toBe(true);
    expect(await reset('k')).toBe(false);
    expect(await peek('p', 'k', 5, '1 minute')).toMatchObject({ allowed: true, remaining: 5 });
  });
});

describe('hostile arguments', () => {
  const call = (args: string) => sqlState(db.pool.query(`SELECT * FROM pgcache.cache_rate_limit(${args})`));

  it('rejects NULL, zero, negative and out-of-range limits, windows and costs with PC010 naming the argument', async () => {
    for (const [args, argument] of [
      [`'b', 'k', NULL, interval '1 minute'`, 'limit'],
      [`'b', 'k', 0, interval '1 minute'`, 'limit'],
      [`'b', 'k', -5, interval '1 minute'`, 'limit'],
      [`'b', 'k', 5, NULL`, 'window'],
      [`'b', 'k', 5, interval '0'`, 'window'],
      [`'b', 'k', 5, interval '-1 minute'`, 'window'],
      [`'b', 'k', 5, interval '-1 year 361 days'`, 'window'],
      [`'b', 'k', 5, interval '1 month -31 days'`, 'window'],
      [`'b', 'k', 5, interval '101 years'`, 'window'],
      [`'b', 'k', 5, interval '1000000 hours'`, 'window'],
      [`'b', 'k', 5, interval '0.1 microseconds'`, 'window'],
      [`'b', 'k', 5, interval '1 minute', NULL`, 'cost'],
      [`'b', 'k', 5, interval '1 minute', 0`, 'cost'],
      [`'b', 'k', 5, interval '1 minute', -1`, 'cost'],
      [`'b', 'k', 5, interval '1 minute', 6`, 'cost'],
      [`NULL, 'k', 5, interval '1 minute'`, 'bucket'],
      [`'', 'k', 5, interval '1 minute'`, 'bucket'],
      [`repeat('b', 256), 'k', 5, interval '1 minute'`, 'bucket'],
    ] as const) {
      const error = await db.pool.query(`SELECT * FROM pgcache.cache_rate_limit(${args})`).then(
        () => undefined,
        (e) => e,
      );
      expect(error?.code, args).toBe('PC010');
      expect(error?.message, args).toContain(`argument "${argument}"`);
      const peeked = await db.pool.query(`SELECT * FROM pgcache.cache_rate_limit_peek(${args})`).then(
        () => undefined,
        (e) => e,
      );
      expect(peeked?.code, args).toBe('PC010');
    }
    expect(await call(`'b', 'k', 5, interval '1 minute', 2147483647`)).toBe('PC010');
    expect(await call(`'b', 'k', 2147483648, interval '1 minute'`)).toBe('42883'); // no such integer overload
    expect(
      (await db.pool.query(`SELECT count(*)::int AS n FROM pgcache.rate_limits WHERE bucket = 'b'`)).rows[0].n,
    ).toBe(0);
  });

  it('rejects NULL, empty and over-long keys as the cache does (PC002, PC003); takes 1024-byte keys', async () => {
    expect(await call(`'b', NULL, 5, interval '1 minute'`)).toBe('PC002');
    expect(await call(`'b', '', 5, interval '1 minute'`)).toBe('PC002');
    expect(await call(`'b', repeat('k', 1025), 5, interval '1 minute'`)).toBe('PC003');
    expect(await call(`'b', repeat('é', 513), 5, interval '1 minute'`)).toBe('PC003');
    const long = await limit(`b${'x'.repeat(254)}`, 'é'.repeat(512), 5, '1 minute');
    expect(long).toMatchObject({ allowed: true, remaining: 4 });
    expect(await sqlState(db.pool.query(`SELECT pgcache.cache_rate_limit_reset('b', NULL)`))).toBe('PC002');
    expect(await sqlState(db.pool.query(`SELECT pgcache.cache_rate_limit_refund('b', 'k', 0)`))).toBe('PC010');
    expect(await sqlState(db.pool.query(`SELECT pgcache.cache_rate_limit_refund('b', 'k', NULL)`))).toBe('PC010');
  });

  it('takes the largest limit and a 100-year window without overflow', async () => {
    const big = await limit('huge', 'k', 2147483647, '100 years', 2147483647);
    expect(big).toMatchObject({ allowed: true, remaining: 0 });
    const next = await limit('huge', 'k', 2147483647, '100 years', 1);
    expect(next.allowed).toBe(false);
    expect(next.retry_after_ms).toBeGreaterThan(99 * 365 * 86400_000);
  });

  it('treats keys and buckets as data: quotes, LIKE wildcards and separators match nothing else', async () => {
    await limit('w', "a%_'\\", 1, '1 minute');
    expect((await limit('w', "a__'\\", 1, '1 minute')).allowed).toBe(true);
    expect((await limit('w', "a%_'\\", 1, '1 minute')).allowed).toBe(false);
    expect((await db.pool.query(`SELECT pgcache.cache_rate_limit_reset('w', '%') AS ok`)).rows[0].ok).toBe(false);
  });
});

describe('tenants', () => {
  async function asTenant<T>(tenant: string | null, sql: string, params: unknown[] = []): Promise<T[]> {
    const c = await db.pool.connect();
    try {
      await c.query(`SELECT set_config('pgcache.tenant', $1, false)`, [tenant ?? '']);
      return (await c.query(sql, params)).rows;
    } finally {
      await c.query('RESET pgcache.tenant');
      c.release();
    }
  }
  const hit = (tenant: string | null) =>
    asTenant<Verdict>(tenant, `SELECT * FROM pgcache.cache_rate_limit('t', 'user:1', 2, interval '1 minute')`);

  it("keeps each tenant's limiter keys its own; sessions without a tenant share the global ones", async () => {
    expect((await hit('acme'))[0]).toMatchObject({ allowed: true, remaining: 1 });
    expect((await hit('acme'))[0]).toMatchObject({ allowed: true, remaining: 0 });
    expect((await hit('acme'))[0]).toMatchObject({ allowed: false });
    // Another tenant, and the global key space, each have their own count of the same key.
    expect((await hit('globex'))[0]).toMatchObject({ allowed: true, remaining: 1 });
    expect((await hit(null))[0]).toMatchObject({ allowed: true, remaining: 1 });
    // A tenant cannot peek at, refund or reset another's key, nor spell it with the separator.
    expect(
      (
        await asTenant<Verdict>(
          'globex',
          `SELECT * FROM pgcache.cache_rate_limit_peek('t', 'user:1', 2, interval '1 minute')`,
        )
      )[0],
    ).toMatchObject({ remaining: 1 });
    expect(
      (await asTenant<{ ok: boolean }>('globex', `SELECT pgcache.cache_rate_limit_reset('t', 'user:1') AS ok`))[0]?.ok,
    ).toBe(true);
    expect((await hit('acme'))[0]).toMatchObject({ allowed: false });
    await asTenant('globex', `SELECT pgcache.cache_rate_limit_refund('t', 'user:1', 2)`);
    expect((await hit('acme'))[0]).toMatchObject({ allowed: false });
    expect(
      (
        await asTenant<Verdict>('globex', `SELECT * FROM pgcache.cache_rate_limit('t', $1, 2, interval '1 minute')`, [
          `acme${String.fromCharCode(31)}user:1`,
        ])
      )[0],
    ).toMatchObject({ allowed: true, remaining: 1 });
    const { rows } = await db.pool.query(
      `SELECT tenant, key, hits FROM pgcache.rate_limits WHERE bucket = 't' ORDER BY tenant, key`,
    );
    expect(rows).toEqual([
      { tenant: '', key: 'user:1', hits: 1 },
      { tenant: 'acme', key: 'user:1', hits: 2 },
      { tenant: 'globex', key: `acme${String.fromCharCode(31)}user:1`, hits: 1 },
    ]);
  });

  it('refuses a malformed tenant name (PC013)', async () => {
    for (const tenant of ['bad tenant', 'x'.repeat(129), `a${String.fromCharCode(31)}b`]) {
      expect(await sqlState(hit(tenant))).toBe('PC013');
    }
  });
});

describe('maintenance', () => {
  it('deletes ended windows in bounded batches, skips live ones, and reports them as (rate_limits)', async () => {
    await db.pool.query(`DELETE FROM pgcache.rate_limits`);
    await db.pool.query(
      `SELECT pgcache.cache_rate_limit('gc', 'old' || i, 5, interval '1 millisecond') FROM generate_series(1, 25) i`,
    );
    await db.pool.query(`SELECT pgcache.cache_rate_limit('gc', 'live', 5, interval '1 hour')`);
    await new Promise((r) => setTimeout(r, 20));
    await db.pool.query(`UPDATE pgcache.cache_settings SET value = '10' WHERE name = 'maintenance.batch_size'`);
    try {
      const { rows } = await db.pool.query(
        `SELECT * FROM pgcache.cache_maintenance() WHERE cache_type = '(rate_limits)'`,
      );
      expect(rows).toEqual([expect.objectContaining({ expired: '25', evicted: '0', complete: true, error: null })]);
      const left = await db.pool.query(`SELECT key FROM pgcache.rate_limits WHERE bucket = 'gc'`);
      expect(left.rows).toEqual([{ key: 'live' }]);
      // Nothing to delete: no row for the limiters in the report.
      const again = await db.pool.query(`SELECT cache_type FROM pgcache.cache_maintenance()`);
      expect(again.rows.map((r) => r.cache_type)).not.toContain('(rate_limits)');
    } finally {
      await db.pool.query(`UPDATE pgcache.cache_settings SET value = '5000' WHERE name = 'maintenance.batch_size'`);
    }
  });

  it('leaves a row a caller holds locked for the next run', async () => {
    await db.pool.query(`SELECT pgcache.cache_rate_limit('gc', 'held', 5, interval '1 millisecond')`);
    await new Promise((r) => setTimeout(r, 5));
    const holder = await db.pool.connect();
    try {
      await holder.query('BEGIN');
      await holder.query(`SELECT 1 FROM pgcache.rate_limits WHERE bucket = 'gc' AND key = 'held' FOR UPDATE`);
      await db.pool.query(`SELECT count(*) FROM pgcache.cache_maintenance()`);
      expect(
        (await db.pool.query(`SELECT count(*)::int AS n FROM pgcache.rate_limits WHERE key = 'held'`)).rows[0].n,
      ).toBe(1);
      await holder.query('COMMIT');
    } finally {
      holder.release();
    }
    await db.pool.query(`SELECT count(*) FROM pgcache.cache_maintenance()`);
    expect(
      (await db.pool.query(`SELECT count(*)::int AS n FROM pgcache.rate_limits WHERE key = 'held'`)).rows[0].n,
    ).toBe(0);
  });
});

// Leased locks from SQL: fencing tokens, release and extend only with the token, take-over after expiry,
// mutual exclusion under concurrency, tenants, hostile input and clean-up by maintenance.
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { sqlState, useDatabase } from '../helpers/db.js';

const db = useDatabase();
const one = async (sql: string, params: unknown[] = []) => (await db.pool.query(sql, params)).rows[0];
const acquire = async (name: string, ttl = '10 seconds', owner = 'me') =>
  (await one(`SELECT pgcache.cache_lease_acquire($1, $2::interval, $3) AS t`, [name, ttl, owner])).t as string | null;

describe('leases', () => {
  it('are exclusive, and give increasing fencing tokens', async () => {
    const t1 = await acquire('job');
    expect(t1).not.toBeNull();
    expect(await acquire('job', '10 seconds', 'other')).toBeNull();
    const holder = await one(`SELECT * FROM pgcache.cache_lease_holder('job')`);
    expect(holder).toMatchObject({ owner: 'me', token: t1 });
    expect((await one(`SELECT pgcache.cache_lease_release('job', $1) AS ok`, [t1])).ok).toBe(true);
    const t2 = await acquire('job');
    expect(BigInt(t2 as string)).toBeGreaterThan(BigInt(t1 as string));
    await one(`SELECT pgcache.cache_lease_release('job', $1)`, [t2]);
    expect(await one(`SELECT * FROM pgcache.cache_lease_holder('job')`)).toBeUndefined();
  });

  it('release and extend only with the holder token', async () => {
    const t = (await acquire('guarded')) as string;
    const wrong = String(BigInt(t) + 1000n);
    expect((await one(`SELECT pgcache.cache_lease_release('guarded', $1) AS ok`, [wrong])).ok).toBe(false);
    expect((await one(`SELECT pgcache.cache_lease_extend('guarded', $1, interval '1 minute') AS ok`, [wrong])).ok).toBe(
      false,
    );
    expect(await acquire('guarded', '1 second', 'thief')).toBeNull();
    expect((await one(`SELECT pgcache.cache_lease_extend('guarded', $1, interval '1 minute') AS ok`, [t])).ok).toBe(
      true,
    );
    const { left } = await one(
      `SELECT expires_at - now() > interval '50 seconds' AS left FROM pgcache.cache_lease_holder('guarded')`,
    );
    expect(left).toBe(true);
    expect((await one(`SELECT pgcache.cache_lease_release('guarded', $1) AS ok`, [t])).ok).toBe(true);
    expect((await one(`SELECT pgcache.cache_lease_release('guarded', $1) AS ok`, [t])).ok).toBe(false);
  });

  it('can be taken over once expired; the old holder can then neither extend nor release', async () => {
    const old = (await acquire('short', '100 milliseconds', 'slow')) as string;
    await new Promise((r) => setTimeout(r, 150));
    expect((await one(`SELECT pgcache.cache_lease_extend('short', $1, interval '1 minute') AS ok`, [old])).ok).toBe(
      false,
    );
    const taken = (await acquire('short', '10 seconds', 'fast')) as string;
    expect(BigInt(taken)).toBeGreaterThan(BigInt(old));
    expect((await one(`SELECT pgcache.cache_lease_release('short', $1) AS ok`, [old])).ok).toBe(false);
    expect((await one(`SELECT owner FROM pgcache.cache_lease_holder('short')`)).owner).toBe('fast');
  });

  it('one of 16 concurrent takers wins each round, and a critical section never overlaps', async () => {
    let inside = 0;
    let overlaps = 0;
    let entered = 0;
    await Promise.all(
      Array.from({ length: 16 }, async (_, id) => {
        const client = new pg.Client({ connectionString: db.url });
        await client.connect();
        try {
          for (let i = 0; i < 40; i++) {
            const { rows } = await client.query(
              `SELECT pgcache.cache_lease_acquire('mutex', interval '10 seconds', $1) AS t`,
              [`w${id}`],
            );
            const token = rows[0].t;
            if (token === null) continue;
            inside++;
            entered++;
            if (inside > 1) overlaps++;
            await new Promise((r) => setTimeout(r, 1));
            inside--;
            await client.query(`SELECT pgcache.cache_lease_release('mutex', $1)`, [token]);
          }
        } finally {
          await client.end();
        }
      }),
    );
    expect(overlaps).toBe(0);
    expect(entered).toBeGreaterThan(0);
  }, 120_000);

  it('are per tenant', async () => {
    const as = async (tenant: string, sql: string) => {
      const client = await db.pool.connect();
      try {
        await client.query(`SELECT set_config('pgcache.tenant', $1, false)`, [tenant]);
        return (await client.query(sql)).rows[0];
      } finally {
        await client.query(`RESET pgcache.tenant`);
        client.release();
      }
    };
    const acme = await as('acme', `SELECT pgcache.cache_lease_acquire('t', interval '10 seconds', 'a') AS t`);
    const globex = await as('globex', `SELECT pgcache.cache_lease_acquire('t', interval '10 seconds', 'g') AS t`);
    expect(acme.t).not.toBeNull();
    expect(globex.t).not.toBeNull();
    // a tenant cannot release another's lease, even with its token
    expect((await as('globex', `SELECT pgcache.cache_lease_release('t', ${acme.t}) AS ok`)).ok).toBe(false);
    expect((await as('acme', `SELECT owner FROM pgcache.cache_lease_holder('t')`)).owner).toBe('a');
    expect(await sqlState(as('bad tenant', `SELECT pgcache.cache_lease_acquire('t', interval '1 second', 'x')`))).toBe(
      'PC013',
    );
  });

  it('validates its arguments', async () => {
    const bad: [string, string][] = [
      [`SELECT pgcache.cache_lease_acquire(NULL, interval '1 second', 'o')`, 'PC010'],
      [`SELECT pgcache.cache_lease_acquire('', interval '1 second', 'o')`, 'PC010'],
      [`SELECT pgcache.cache_lease_acquire(repeat('x', 1025), interval '1 second', 'o')`, 'PC010'],
      [`SELECT pgcache.cache_lease_acquire('n', NULL, 'o')`, 'PC004'],
      [`SELECT pgcache.cache_lease_acquire('n', interval '0', 'o')`, 'PC004'],
      [`SELECT pgcache.cache_lease_acquire('n', interval '-1 year 370 days', 'o')`, 'PC004'],
      [`SELECT pgcache.cache_lease_acquire('n', interval '2 days', 'o')`, 'PC004'],
      [`SELECT pgcache.cache_lease_acquire('n', pgcache.cache_ttl('never'), 'o')`, 'PC004'],
      [`SELECT pgcache.cache_lease_acquire('n', interval '1 second', NULL)`, 'PC010'],
      [`SELECT pgcache.cache_lease_acquire('n', interval '1 second', '')`, 'PC010'],
      [`SELECT pgcache.cache_lease_acquire('n', interval '1 second', repeat('o', 201))`, 'PC010'],
      [`SELECT pgcache.cache_lease_extend('n', NULL, interval '1 second')`, 'PC010'],
      [`SELECT pgcache.cache_lease_extend('n', 1, interval '2 days')`, 'PC004'],
      [`SELECT pgcache.cache_lease_release('n', NULL)`, 'PC010'],
      [`SELECT pgcache.cache_lease_release('', 1)`, 'PC010'],
    ];
    for (const [sql, code] of bad) expect(await sqlState(db.pool.query(sql)), sql).toBe(code);
  });

  it('expired leases are deleted by cache_maintenance(), live ones stay', async () => {
    for (let i = 0; i < 30; i++) await acquire(`old:${i}`, '10 milliseconds');
    const live = await acquire('live', '1 minute');
    await new Promise((r) => setTimeout(r, 50));
    await one(`SELECT count(*) FROM pgcache.cache_maintenance()`);
    const { n } = await one(`SELECT count(*)::int AS n FROM pgcache.cache_leases WHERE name LIKE 'old:%'`);
    expect(n).toBe(0);
    expect((await one(`SELECT token::text AS t FROM pgcache.cache_lease_holder('live')`)).t).toBe(live);
  });
});

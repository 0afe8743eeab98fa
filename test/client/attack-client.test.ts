// Attack from TypeScript: a pool of one connection and 50 concurrent callers of every method (the near-cache and
// the Keyv store included), with type DDL and version bumps beside them; a backend terminated while it holds a
// compute lock; tenants with crafted keys, prefixes and patterns and hostile tenant names; prototype-pollution
// keys in values; 200 rate-limit callers and 50 lease takers on one connection, and a backend terminated while
// it holds a limiter's row lock or a lease. Everything ends in bounded time with the right values, or with the
// package's error class.
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCache, PgcacheError } from '../../src/index.js';
import { KeyvPgcache } from '../../src/keyv.js';
import { useDatabase } from '../helpers/db.js';
import { sleep, within } from '../helpers/timing.js';

const db = useDatabase();
const pools: pg.Pool[] = [];

function onePool(): pg.Pool {
  const pool = new pg.Pool({ connectionString: db.url, max: 1 });
  // pg requires a listener on an application's own pool: this file terminates backends, and an idle
  // connection that dies would otherwise surface as an unhandled error (test/helpers/db.ts does the same).
  pool.on('error', () => undefined);
  pools.push(pool);
  return pool;
}

beforeAll(async () => {
  await db.pool.query(`SELECT pgcache.cache_create_type('tsess', 'jsonb', interval '1 hour');
    SELECT pgcache.cache_configure_tenant_scoped('tsess', true);
    SELECT pgcache.cache_create_type('nearby', 'jsonb', interval '1 hour');
    SELECT pgcache.cache_configure_notify('nearby', true)`);
});

afterAll(async () => {
  await Promise.all(pools.map((pool) => pool.end()));
});

describe('a pool of one connection', () => {
  it('serves 50 concurrent callers of every method, beside type DDL and version bumps', async () => {
    const cache = await createCache({ pool: onePool(), nearCache: true });
    const t = cache.type('default');
    const near = cache.type('nearby' as 'default');
    const keyv = new KeyvPgcache({ pool: onePool() });
    const ddl = (async () => {
      for (let i = 0; i < 5; i++) {
        await db.pool.query(`SELECT pgcache.cache_create_type('churn_${i}', 'jsonb', interval '1 hour')`);
        await db.pool.query(`SELECT pgcache.cache_bump_version('default')`);
        await db.pool.query(`SELECT pgcache.cache_drop_type('churn_${i}')`);
      }
    })();
    const work = Promise.all(
      Array.from({ length: 50 }, async (_, i) => {
        await t.set(`k${i}`, { i });
        const got = await t.get(`k${i}`); // a bump may hide it meanwhile: a miss, never another value
        if (got !== undefined) expect(got).toEqual({ i });
        expect(await t.getOrCompute(`c${i % 5}`, async () => ({ c: i % 5 }))).toEqual({ c: i % 5 });
        await t.setMany([
          [`m${i}a`, { i }],
          [`m${i}b`, { i }],
        ]);
        const many = await t.getMany([`m${i}a`, `m${i}b`, 'absent']);
        for (const v of many.slice(0, 2)) if (v !== undefined) expect(v).toEqual({ i });
        expect(many[2]).toBeUndefined();
        await t.touch(`k${i}`);
        await t.delete(`k${i}`);
        await t.invalidatePrefix(`m${i}`);
        for await (const _e of t.scan({ prefix: `m${i}`, pageSize: 2 })) {
          /* pages of nothing or a few */
        }
        await near.set(`n${i}`, { i });
        expect(await near.get(`n${i}`)).toEqual({ i });
        expect(await near.get(`n${i}`)).toEqual({ i });
        await keyv.set(`kv${i}`, { i });
        expect(await keyv.get(`kv${i}`)).toEqual({ i });
        await keyv.delete(`kv${i}`);
      }),
    );
    await within(Promise.all([work, ddl]), 60_000, '50 callers on a pool of 1');
    // The near-cache hears a write made elsewhere: no stale read after the change commits.
    await db.pool.query(`SELECT pgcache.cache_set('nearby', 'n1', '{"changed": true}'::jsonb)`);
    let seen: unknown;
    for (let i = 0; i < 50; i++) {
      seen = await near.get('n1');
      if ((seen as { changed?: boolean }).changed) break;
      await sleep(20);
    }
    expect(seen).toEqual({ changed: true });
    await keyv.disconnect?.();
    await cache.close();
  }, 90_000);
});

describe('a backend terminated while it computes a value', () => {
  it('releases its compute lock: the next caller computes at once, and nothing partial is stored', async () => {
    const pool = new pg.Pool({ connectionString: db.url, max: 2 });
    pools.push(pool);
    pool.on('error', () => {});
    const cache = await createCache({ pool });
    const t = cache.type('default');
    let started!: () => void;
    const computing = new Promise<void>((resolve) => {
      started = resolve;
    });
    const victim = t
      .getOrCompute('slow', async () => {
        started();
        await sleep(1500);
        return { from: 'victim' };
      })
      .then(
        (v) => ({ ok: v }),
        (e) => ({ error: e as Error }),
      );
    await computing;
    // Whoever holds a lock on the compute key: that is the victim's connection.
    const { rows } = await db.pool.query(
      `SELECT pg_terminate_backend(pid) AS t FROM pg_stat_activity
        WHERE datname = current_database() AND pid <> pg_backend_pid() AND application_name = ''
          AND pid IN (SELECT pid FROM pg_locks WHERE locktype = 'advisory')`,
    );
    expect(rows.length).toBeGreaterThan(0);
    const other = await createCache({ pool: onePool() });
    const t0 = Date.now();
    expect(
      await within(
        other.type('default').getOrCompute('slow', () => ({ from: 'other' })),
        5_000,
        'next',
      ),
    ).toEqual({ from: 'other' });
    expect(Date.now() - t0).toBeLessThan(3_000);
    const outcome = await victim;
    // The victim either failed (its connection is gone) or stored nothing over the other's value.
    expect(await other.type('default').get('slow')).toEqual(
      'ok' in outcome ? expect.objectContaining({ from: expect.any(String) }) : { from: 'other' },
    );
  }, 30_000);
});

describe('tenants from TypeScript', () => {
  it('cannot reach each other through crafted keys, prefixes, patterns, scans, batches or versions', async () => {
    const cache = await createCache({ pool: db.pool });
    const a = cache.forTenant('acme').type('tsess' as 'default');
    const b = cache.forTenant('bad').type('tsess' as 'default');
    await a.set('secret', { owner: 'acme' });
    await a.set('user:1', { owner: 'acme' });
    for (const key of ['acme\u001fsecret', '\u001fsecret', 'acme\u001f', 'secret\u001facme', '%', '_ecret']) {
      expect(await b.get(key)).toBeUndefined();
      expect(await b.delete(key)).toBe(false);
      expect(await b.touch(key)).toBe(false);
    }
    expect(await b.getMany(['secret', 'acme\u001fsecret', 'user:1'])).toEqual([undefined, undefined, undefined]);
    expect(await b.invalidatePattern('%')).toBe(0);
    expect(await b.invalidatePattern('%secret%')).toBe(0);
    expect(await b.invalidatePrefix('\u001f')).toBe(0);
    expect(await b.invalidatePrefix('acme')).toBe(0);
    const seen: string[] = [];
    for await (const e of b.scan()) seen.push(e.key);
    for await (const e of b.scan({ prefix: 'acme\u001f' })) seen.push(e.key);
    expect(seen).toEqual([]);
    await b.bumpVersion();
    expect(await a.get('secret')).toEqual({ owner: 'acme' });
    expect(await a.getMany(['secret', 'user:1'])).toEqual([{ owner: 'acme' }, { owner: 'acme' }]);
    const scanned: string[] = [];
    for await (const e of a.scan()) scanned.push(e.key);
    expect(scanned.sort()).toEqual(['secret', 'user:1']);
  });

  it('refuses hostile tenant names with the package error class', async () => {
    const cache = await createCache({ pool: db.pool });
    for (const name of ['', 'a\u001fb', 'x'.repeat(129), "a'b", 'a b', 'ä', 'a;RESET ALL', '\u0000', 'a%']) {
      expect(() => cache.forTenant(name), JSON.stringify(name)).toThrow(PgcacheError);
    }
    for (const name of [undefined, null, 1, {}, ['a']]) {
      expect(() => cache.forTenant(name as unknown as string)).toThrow(PgcacheError);
    }
    // Names that look like object internals are plain tenants.
    const proto = cache.forTenant('__proto__').type('tsess' as 'default');
    await proto.set('k', { v: 1 });
    expect(await proto.get('k')).toEqual({ v: 1 });
    expect(
      await cache
        .forTenant('constructor')
        .type('tsess' as 'default')
        .get('k'),
    ).toBeUndefined();
  });
});

describe('prototype-pollution keys', () => {
  it('round-trip as plain data and pollute nothing', async () => {
    const cache = await createCache({ pool: db.pool });
    const t = cache.type('default');
    const value = JSON.parse('{"__proto__": {"polluted": true}, "constructor": {"prototype": {"polluted": true}}}');
    await t.set('__proto__', value);
    await t.setMany([['constructor', value]]);
    const got = (await t.get('__proto__')) as Record<string, unknown>;
    expect(Object.hasOwn(got, '__proto__')).toBe(true);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect((await t.getMany(['constructor', '__proto__'])).length).toBe(2);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    // Undeclared attributes named like object internals are refused by the database, as any other.
    await expect(t.set('m', { v: 1 }, { meta: JSON.parse('{"__proto__": {"x": 1}}') })).rejects.toBeInstanceOf(
      PgcacheError,
    );
  });
});

describe('rate limits and leases through a pool of one connection', () => {
  it('count exactly under 200 concurrent callers, per tenant, and hand a lease to exactly one of 50', async () => {
    const cache = await createCache({ pool: onePool() });
    const results = await within(
      Promise.all(Array.from({ length: 200 }, () => cache.rateLimit('api', 'u1', { limit: 37, window: 60 }))),
      30_000,
      '200 rate-limit callers on a pool of 1',
    );
    const allowed = results.filter((r) => r.allowed);
    expect(allowed).toHaveLength(37);
    expect(allowed.map((r) => r.remaining).sort((a, b) => a - b)).toEqual(Array.from({ length: 37 }, (_, i) => i));
    for (const r of results.filter((x) => !x.allowed)) expect(r.retryAfterMs).toBeGreaterThan(0);
    // Tenants: the same bucket and key are each tenant's own, and a global caller's too.
    const [a, b] = [cache.forTenant('acme'), cache.forTenant('globex')];
    const perTenant = await Promise.all(
      Array.from({ length: 60 }, (_, i) => (i % 2 ? a : b).rateLimit('api', 'u1', { limit: 10, window: 60 })),
    );
    expect(perTenant.filter((r) => r.allowed)).toHaveLength(20);
    expect(await a.rateLimitReset('api', 'u1')).toBe(true);
    expect((await b.rateLimitPeek('api', 'u1', { limit: 10, window: 60 })).allowed).toBe(false);
    expect((await cache.rateLimitPeek('api', 'u1', { limit: 37, window: 60 })).allowed).toBe(false);

    const leases = await within(
      Promise.all(Array.from({ length: 50 }, (_, i) => cache.lock('job', { ttl: 30, owner: `w${i}` }))),
      30_000,
      '50 lease takers on a pool of 1',
    );
    const held = leases.filter((l) => l !== undefined);
    expect(held).toHaveLength(1);
    // Another tenant's lease of the same name is its own; the holder's token is needed to let go.
    expect(await a.lock('job', { ttl: 30 })).toBeDefined();
    const [holder] = held;
    expect(await holder?.release()).toBe(true);
    expect(await holder?.release()).toBe(false);
    await cache.close();
  }, 60_000);
});

describe('a backend terminated mid rate-limit or holding a lease', () => {
  it('blocks no one past its death: queued callers count exactly, and its lease is taken over with a larger token', async () => {
    const victim = new pg.Client({ connectionString: db.url });
    await victim.connect();
    victim.on('error', () => undefined);
    const pid = (await victim.query('SELECT pg_backend_pid() AS pid')).rows[0].pid;
    // The victim's hit holds the key's row lock in an open transaction when it dies.
    await victim.query(`BEGIN; SELECT * FROM pgcache.cache_rate_limit('kill', 'k', 5, interval '1 minute')`);
    const cache = await createCache({ pool: onePool() });
    const queued = Promise.all(
      Array.from({ length: 20 }, () => cache.rateLimit('kill', 'k', { limit: 5, window: 60 })),
    );
    await sleep(300);
    await db.pool.query('SELECT pg_terminate_backend($1)', [pid]);
    const results = await within(queued, 10_000, 'callers queued behind a terminated hit');
    // The dead transaction's unit was never committed: the whole limit went to the living.
    expect(results.filter((r) => r.allowed)).toHaveLength(5);

    // A lease taken by a connection that then dies stays until its TTL, then goes to the next taker.
    const dying = new pg.Client({ connectionString: db.url });
    await dying.connect();
    dying.on('error', () => undefined);
    const dyingPid = (await dying.query('SELECT pg_backend_pid() AS pid')).rows[0].pid;
    const token = BigInt(
      (await dying.query(`SELECT pgcache.cache_lease_acquire('dead', interval '1 second', 'dying') AS t`)).rows[0].t,
    );
    await db.pool.query('SELECT pg_terminate_backend($1)', [dyingPid]);
    expect(await cache.lock('dead', { ttl: 5 })).toBeUndefined();
    const next = await within(cache.lock('dead', { ttl: 5, wait: 5 }), 8_000, 'take-over of an expired lease');
    expect(next?.token).toBeGreaterThan(token);
    // The dead holder's token frees nothing now.
    expect(
      (await db.pool.query(`SELECT pgcache.cache_lease_release('dead', $1) AS ok`, [token.toString()])).rows[0].ok,
    ).toBe(false);
    expect(await next?.release()).toBe(true);
    await dying.end().catch(() => undefined);
    await victim.end().catch(() => undefined);
    await cache.close();
  }, 60_000);
});

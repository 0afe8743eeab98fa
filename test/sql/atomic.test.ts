// Counters (cache_incr), set-if-absent (cache_add), partial updates (cache_patch) and the no-expiry TTL, from
// SQL: Redis semantics, concurrency counts, hostile input and tenants.
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { sqlState, useDatabase } from '../helpers/db.js';

const db = useDatabase();
const one = async (sql: string, params: unknown[] = []) => (await db.pool.query(sql, params)).rows[0];

/** n clients, each on its own connection, run `work` `rounds` times. */
async function clients(
  n: number,
  rounds: number,
  work: (client: pg.Client, id: number, round: number) => Promise<void>,
) {
  await Promise.all(
    Array.from({ length: n }, async (_, id) => {
      const client = new pg.Client({ connectionString: db.url });
      await client.connect();
      try {
        for (let round = 0; round < rounds; round++) await work(client, id, round);
      } finally {
        await client.end();
      }
    }),
  );
}

describe('cache_incr', () => {
  it('has INCRBY semantics: a missing key starts at 0, delta defaults to 1, negative deltas count down', async () => {
    expect((await one(`SELECT pgcache.cache_incr('default', 'c1') AS n`)).n).toBe('1');
    expect((await one(`SELECT pgcache.cache_incr('default', 'c1', 41) AS n`)).n).toBe('42');
    expect((await one(`SELECT pgcache.cache_incr('default', 'c1', -50) AS n`)).n).toBe('-8');
    expect((await one(`SELECT pgcache.cache_get('default', 'c1') AS v`)).v).toBe(-8);
    // text types hold decimal text, as Redis stores counters
    expect((await one(`SELECT pgcache.cache_incr('llm_responses', 'c1', 5) AS n`)).n).toBe('5');
    expect((await one(`SELECT pgcache.cache_get_text('llm_responses', 'c1') AS v`)).v).toBe('5');
    await one(`SELECT pgcache.cache_set('llm_responses', 'c2', '-17'::text)`);
    expect((await one(`SELECT pgcache.cache_incr('llm_responses', 'c2') AS n`)).n).toBe('-16');
  });

  it('applies the TTL when it creates the key and keeps the expiry on later increments', async () => {
    await one(`SELECT pgcache.cache_incr('default', 'ttl1', 1, interval '1 minute')`);
    const created = await one(`SELECT expires_at AS e FROM pgcache.cache_peek('default', 'ttl1')`);
    await one(`SELECT pgcache.cache_incr('default', 'ttl1', 1, interval '1 day')`);
    const after = await one(`SELECT expires_at AS e FROM pgcache.cache_peek('default', 'ttl1')`);
    expect(after.e.getTime()).toBe(created.e.getTime());
    expect(created.e.getTime() - Date.now()).toBeLessThan(61_000);
    // without a ttl: the type's default
    await one(`SELECT pgcache.cache_incr('default', 'ttl2')`);
    const { left } = await one(
      `SELECT extract(epoch FROM expires_at - now())::float8 AS left FROM pgcache.cache_peek('default', 'ttl2')`,
    );
    expect(left).toBeGreaterThan(3500);
    expect(left).toBeLessThanOrEqual(3600);
  });

  it('restarts an expired or invalidated key at 0 with a new expiry', async () => {
    await one(`SELECT pgcache.cache_incr('default', 'exp', 10, interval '50 milliseconds')`);
    await new Promise((r) => setTimeout(r, 80));
    expect((await one(`SELECT pgcache.cache_incr('default', 'exp', 3) AS n`)).n).toBe('3');
    await one(`SELECT pgcache.cache_create_type('counters')`);
    await one(`SELECT pgcache.cache_incr('counters', 'k', 7)`);
    await one(`SELECT pgcache.cache_bump_version('counters')`);
    expect((await one(`SELECT pgcache.cache_incr('counters', 'k') AS n`)).n).toBe('1');
  });

  it('16 clients x 1,000 increments end at exactly 16,000', async () => {
    await clients(16, 1000, async (client) => {
      await client.query(`SELECT pgcache.cache_incr('default', 'hot')`);
    });
    expect((await one(`SELECT pgcache.cache_get('default', 'hot') AS v`)).v).toBe(16000);
  }, 240_000);

  it('16 clients racing to create one fresh key each round lose no increment', async () => {
    await clients(16, 50, async (client, _id, round) => {
      await client.query(`SELECT pgcache.cache_incr('counters', $1)`, [`race:${round}`]);
    });
    const { rows } = await db.pool.query(
      `SELECT count(*)::int AS keys, sum((value_json)::int)::int AS total FROM pgcache.cache_counters WHERE key LIKE 'race:%'`,
    );
    expect(rows[0]).toEqual({ keys: 50, total: 800 });
  }, 120_000);

  it('refuses entries that are not integers and sums beyond bigint (PC015), leaving them unchanged', async () => {
    for (const [key, value] of [
      ['obj', '{"a": 1}'],
      ['str', '"5"'],
      ['frac', '1.5'],
      ['null', 'null'],
      ['huge', '1e30'],
    ]) {
      await one(`SELECT pgcache.cache_set('default', $1, $2::jsonb)`, [key, value]);
      expect(await sqlState(db.pool.query(`SELECT pgcache.cache_incr('default', $1)`, [key])), key).toBe('PC015');
    }
    await one(`SELECT pgcache.cache_set('llm_responses', 'word', 'ten'::text)`);
    expect(await sqlState(db.pool.query(`SELECT pgcache.cache_incr('llm_responses', 'word')`))).toBe('PC015');
    await one(`SELECT pgcache.cache_set('default', 'max', '9223372036854775807'::jsonb)`);
    expect(await sqlState(db.pool.query(`SELECT pgcache.cache_incr('default', 'max')`))).toBe('PC015');
    expect((await one(`SELECT pgcache.cache_get('default', 'max')::text AS v`)).v).toBe('9223372036854775807');
    await one(`SELECT pgcache.cache_incr('default', 'min', -9223372036854775807)`);
    expect(await sqlState(db.pool.query(`SELECT pgcache.cache_incr('default', 'min', -2)`))).toBe('PC015');
  });

  it('validates its arguments', async () => {
    const bad: [string, string][] = [
      [`SELECT pgcache.cache_incr('nope', 'k')`, 'PC001'],
      [`SELECT pgcache.cache_incr(NULL, 'k')`, 'PC001'],
      [`SELECT pgcache.cache_incr('default', NULL)`, 'PC002'],
      [`SELECT pgcache.cache_incr('default', '')`, 'PC002'],
      [`SELECT pgcache.cache_incr('default', repeat('x', 1025))`, 'PC003'],
      [`SELECT pgcache.cache_incr('default', 'k', NULL)`, 'PC010'],
      [`SELECT pgcache.cache_incr('default', 'k', 1, interval '-1 second')`, 'PC004'],
      [`SELECT pgcache.cache_incr('default', 'k', 1, interval '101 years')`, 'PC004'],
      [`SELECT pgcache.cache_incr('audio_chunks', 'k')`, 'PC005'],
      [`SELECT pgcache.cache_incr('embeddings', 'k')`, 'PC005'],
      [`SELECT pgcache.cache_incr('default', 'k', 1, pgcache.cache_ttl('forever'))`, 'PC004'],
    ];
    for (const [sql, code] of bad) expect(await sqlState(db.pool.query(sql)), sql).toBe(code);
  });
});

describe('cache_add', () => {
  it('creates only where no live entry holds the key', async () => {
    expect((await one(`SELECT pgcache.cache_add('default', 'a', '"first"'::jsonb) AS ok`)).ok).toBe(true);
    expect((await one(`SELECT pgcache.cache_add('default', 'a', '"second"'::jsonb) AS ok`)).ok).toBe(false);
    expect((await one(`SELECT pgcache.cache_get('default', 'a') AS v`)).v).toBe('first');
    expect((await one(`SELECT pgcache.cache_add('llm_responses', 'a', 'x'::text, interval '1 hour') AS ok`)).ok).toBe(
      true,
    );
    expect((await one(`SELECT pgcache.cache_add('audio_chunks', 'a', '\\x01'::bytea) AS ok`)).ok).toBe(true);
  });

  it('counts an expired entry as absent', async () => {
    await one(`SELECT pgcache.cache_set('default', 'gone', '1'::jsonb, interval '50 milliseconds')`);
    await new Promise((r) => setTimeout(r, 80));
    expect((await one(`SELECT pgcache.cache_add('default', 'gone', '2'::jsonb) AS ok`)).ok).toBe(true);
    expect((await one(`SELECT pgcache.cache_get('default', 'gone') AS v`)).v).toBe(2);
  });

  it('lets exactly one of 16 concurrent callers create each key', async () => {
    const winners = new Map<string, number[]>();
    await clients(16, 40, async (client, id, round) => {
      const { rows } = await client.query(`SELECT pgcache.cache_add('default', $1, $2::jsonb) AS ok`, [
        `nx:${round}`,
        String(id),
      ]);
      if (rows[0].ok) winners.set(`nx:${round}`, [...(winners.get(`nx:${round}`) ?? []), id]);
    });
    expect(winners.size).toBe(40);
    for (const [key, ids] of winners) {
      expect(ids, key).toHaveLength(1);
      expect((await one(`SELECT pgcache.cache_get('default', $1) AS v`, [key])).v).toBe(ids[0]);
    }
  }, 120_000);

  it('validates its arguments', async () => {
    const bad: [string, string][] = [
      [`SELECT pgcache.cache_add('nope', 'k', '1'::jsonb)`, 'PC001'],
      [`SELECT pgcache.cache_add('default', '', '1'::jsonb)`, 'PC002'],
      [`SELECT pgcache.cache_add('default', 'k', NULL::jsonb)`, 'PC005'],
      [`SELECT pgcache.cache_add('default', 'k', 'x'::text)`, 'PC005'],
      [`SELECT pgcache.cache_add('default', 'k', '1'::jsonb, interval '0')`, 'PC004'],
      [`SELECT pgcache.cache_add('audio_chunks', 'big', decode(repeat('00', 17000000), 'hex'))`, 'PC007'],
    ];
    for (const [sql, code] of bad) expect(await sqlState(db.pool.query(sql)), sql).toBe(code);
  });
});

describe('cache_patch', () => {
  it('merges top-level fields and removes others, keeping the expiry', async () => {
    await one(
      `SELECT pgcache.cache_set('default', 'p', '{"a": 1, "b": {"x": 1}, "c": 3}'::jsonb, interval '10 minutes')`,
    );
    const before = await one(`SELECT expires_at AS e FROM pgcache.cache_peek('default', 'p')`);
    const { v } = await one(
      `SELECT pgcache.cache_patch('default', 'p', '{"a": 2, "b": {"y": 2}, "d": 4}'::jsonb, ARRAY['c']) AS v`,
    );
    expect(v).toEqual({ a: 2, b: { y: 2 }, d: 4 });
    expect((await one(`SELECT pgcache.cache_get('default', 'p') AS v`)).v).toEqual(v);
    const after = await one(`SELECT expires_at AS e FROM pgcache.cache_peek('default', 'p')`);
    expect(after.e.getTime()).toBe(before.e.getTime());
    expect((await one(`SELECT pgcache.cache_patch('default', 'p', NULL, ARRAY['a', 'absent']) AS v`)).v).toEqual({
      b: { y: 2 },
      d: 4,
    });
  });

  it('returns NULL and creates nothing for a missing or expired key', async () => {
    expect((await one(`SELECT pgcache.cache_patch('default', 'none', '{"a": 1}') AS v`)).v).toBeNull();
    expect((await one(`SELECT count(*)::int AS n FROM pgcache.cache_default WHERE key = 'none'`)).n).toBe(0);
  });

  it('16 clients patching different fields of one key lose none', async () => {
    await one(`SELECT pgcache.cache_set('default', 'shared', '{}'::jsonb)`);
    await clients(16, 50, async (client, id, round) => {
      await client.query(`SELECT pgcache.cache_patch('default', 'shared', $1::jsonb)`, [
        JSON.stringify({ [`f${id}_${round}`]: round }),
      ]);
    });
    const { v } = await one(`SELECT pgcache.cache_get('default', 'shared') AS v`);
    expect(Object.keys(v)).toHaveLength(800);
  }, 120_000);

  it('refuses non-objects (PC016), bad patches and oversize results', async () => {
    await one(`SELECT pgcache.cache_set('default', 'arr', '[1, 2]'::jsonb)`);
    await one(`SELECT pgcache.cache_create_type('tiny', 'jsonb', interval '1 hour', p_max_value_bytes => 64)`);
    await one(`SELECT pgcache.cache_set('tiny', 'o', '{}'::jsonb)`);
    const bad: [string, string][] = [
      [`SELECT pgcache.cache_patch('default', 'arr', '{"a": 1}')`, 'PC016'],
      [`SELECT pgcache.cache_patch('default', 'p', '[1]')`, 'PC010'],
      [`SELECT pgcache.cache_patch('default', 'p', '"s"')`, 'PC010'],
      [`SELECT pgcache.cache_patch('default', 'p', NULL)`, 'PC010'],
      [`SELECT pgcache.cache_patch('default', 'p', '{}', ARRAY[NULL]::text[])`, 'PC010'],
      [`SELECT pgcache.cache_patch('default', 'p', '{}', ARRAY[['a'],['b']])`, 'PC010'],
      [`SELECT pgcache.cache_patch('llm_responses', 'a', '{}')`, 'PC005'],
      [`SELECT pgcache.cache_patch('default', '', '{}')`, 'PC002'],
      [`SELECT pgcache.cache_patch('tiny', 'o', jsonb_build_object('x', repeat('y', 200)))`, 'PC007'],
    ];
    for (const [sql, code] of bad) expect(await sqlState(db.pool.query(sql)), sql).toBe(code);
    expect((await one(`SELECT pgcache.cache_get('tiny', 'o') AS v`)).v).toEqual({});
  });
});

describe('no-expiry entries', () => {
  it("cache_ttl('never') stores expires_at = infinity, live for reads, views, stats and scans", async () => {
    await one(`SELECT pgcache.cache_create_type('forever')`);
    const { e } = await one(`SELECT pgcache.cache_set('forever', 'k', '1'::jsonb, pgcache.cache_ttl('never')) AS e`);
    expect(e).toBe(Number.POSITIVE_INFINITY);
    expect((await one(`SELECT pgcache.cache_get('forever', 'k') AS v`)).v).toBe(1);
    expect((await one(`SELECT value_json AS v FROM pgcache.cache_forever_live WHERE key = 'k'`)).v).toBe(1);
    expect((await one(`SELECT expires_at::text AS e FROM pgcache.cache_peek('forever', 'k')`)).e).toBe('infinity');
    expect((await one(`SELECT count(*)::int AS n FROM pgcache.cache_scan('forever')`)).n).toBe(1);
    const stats = await one(`SELECT entries, valid_entries FROM pgcache.cache_stats() WHERE cache_type = 'forever'`);
    expect(stats).toEqual({ entries: '1', valid_entries: '1' });
    // clean-up leaves it; touch can make an entry persist or expire again
    await one(`SELECT pgcache.cache_cleanup_expired('forever')`);
    await one(`SELECT * FROM pgcache.cache_maintenance()`);
    expect((await one(`SELECT pgcache.cache_get('forever', 'k') AS v`)).v).toBe(1);
    await one(`SELECT pgcache.cache_touch('forever', 'k', interval '1 hour')`);
    expect((await one(`SELECT expires_at::text AS e FROM pgcache.cache_peek('forever', 'k')`)).e).not.toBe('infinity');
    await one(`SELECT pgcache.cache_touch('forever', 'k', pgcache.cache_ttl('never'))`);
    expect((await one(`SELECT expires_at::text AS e FROM pgcache.cache_peek('forever', 'k')`)).e).toBe('infinity');
  });

  it('works for batches, counters, add and as a type default; eviction still bounds such entries', async () => {
    await one(
      `SELECT pgcache.cache_set_many('forever', ARRAY['b1', 'b2'], ARRAY['1', '2']::jsonb[], pgcache.cache_ttl('never'))`,
    );
    await one(`SELECT pgcache.cache_incr('forever', 'n', 1, pgcache.cache_ttl('never'))`);
    await one(`SELECT pgcache.cache_add('forever', 'a', '1'::jsonb, pgcache.cache_ttl('never'))`);
    await one(`SELECT pgcache.cache_create_type('forever_default', 'jsonb', pgcache.cache_ttl('never'))`);
    await one(`SELECT pgcache.cache_set('forever_default', 'k', '1'::jsonb)`);
    const { n } = await one(
      `SELECT count(*)::int AS n FROM (SELECT expires_at FROM pgcache.cache_forever UNION ALL SELECT expires_at FROM pgcache.cache_forever_default) x WHERE expires_at = 'infinity'`,
    );
    expect(n).toBeGreaterThanOrEqual(5);
    await one(`SELECT pgcache.cache_set('forever', 'finite', '1'::jsonb, interval '1 hour')`);
    // policy ttl evicts the soonest expiry first: entries that never expire go last
    expect((await one(`SELECT pgcache.cache_evict('forever', 4, NULL, 'ttl') AS n`)).n).toBe('2');
    expect((await one(`SELECT count(*)::int AS n FROM pgcache.cache_forever WHERE key = 'finite'`)).n).toBe(0);
  });

  it('accepts only the exact no-expiry interval beyond 100 years', async () => {
    for (const ttl of ['999999 years', '1000001 years', '200 years']) {
      expect(
        await sqlState(db.pool.query(`SELECT pgcache.cache_set('default', 'x', '1'::jsonb, $1::interval)`, [ttl])),
        ttl,
      ).toBe('PC004');
    }
  });
});

describe('tenants', () => {
  it('keep counters, adds and patches of a tenant-scoped type apart', async () => {
    await one(`SELECT pgcache.cache_create_type('per_tenant')`);
    await one(`SELECT pgcache.cache_configure_tenant_scoped('per_tenant', true)`);
    const as = async (tenant: string | null, sql: string) => {
      const client = await db.pool.connect();
      try {
        await client.query(`SELECT set_config('pgcache.tenant', $1, false)`, [tenant ?? '']);
        return (await client.query(sql)).rows[0];
      } finally {
        await client.query(`RESET pgcache.tenant`);
        client.release();
      }
    };
    expect((await as('acme', `SELECT pgcache.cache_incr('per_tenant', 'n', 5) AS n`)).n).toBe('5');
    expect((await as('globex', `SELECT pgcache.cache_incr('per_tenant', 'n') AS n`)).n).toBe('1');
    expect((await as('acme', `SELECT pgcache.cache_add('per_tenant', 'o', '{"a": 1}'::jsonb) AS ok`)).ok).toBe(true);
    expect((await as('globex', `SELECT pgcache.cache_add('per_tenant', 'o', '{"b": 1}'::jsonb) AS ok`)).ok).toBe(true);
    expect((await as('globex', `SELECT pgcache.cache_patch('per_tenant', 'o', '{"c": 1}') AS v`)).v).toEqual({
      b: 1,
      c: 1,
    });
    expect((await as('acme', `SELECT pgcache.cache_get('per_tenant', 'o') AS v`)).v).toEqual({ a: 1 });
    expect(await sqlState(as(null, `SELECT pgcache.cache_incr('per_tenant', 'n')`))).toBe('PC013');
  });
});

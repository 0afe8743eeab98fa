// Attack: hostile arguments and stored values for the atomic operations, tags, rate limits and leases, from a
// writer: int8 overflow both ways, JSON numbers beyond bigint (1e100000), nested JSON bombs, arrays with NULLs
// or of two dimensions, windows and TTLs that overflow or end in the past. Each is refused with its package
// SQLSTATE and a short message, or handled exactly.
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clusterInfo } from '../../scripts/lib/cluster.js';
import { useDatabase } from '../helpers/db.js';

const db = useDatabase();
const info = clusterInfo();
const writer = `${db.name}_w`;
let pool: pg.Pool;

/** The SQLSTATE and message length of a statement run by the writer ('ok' when it succeeds). */
async function outcome(sql: string): Promise<string> {
  try {
    await pool.query(sql);
    return 'ok';
  } catch (error) {
    const e = error as { code?: string; message: string };
    return e.message.length > 500 ? `${e.code} (message of ${e.message.length} chars)` : String(e.code);
  }
}

beforeAll(async () => {
  const { rows } = await db.pool.query(`SELECT writer_role FROM pgcache.pgcache_install`);
  await db.pool.query(`CREATE ROLE ${writer} LOGIN NOSUPERUSER; GRANT ${rows[0].writer_role} TO ${writer};
    SELECT pgcache.cache_create_type('counters', 'jsonb', interval '1 hour');
    SELECT pgcache.cache_create_type('tcounters', 'text', interval '1 hour')`);
  pool = new pg.Pool({ connectionString: `postgres://${writer}@${info.host}:${info.port}/${db.name}`, max: 2 });
});

afterAll(async () => {
  await pool.end();
  await db.pool.query(`DROP OWNED BY ${writer}; DROP ROLE ${writer}`);
});

describe('counters', () => {
  it('refuse to leave bigint either way (PC015) and keep the value', async () => {
    for (const type of ['counters', 'tcounters']) {
      expect(await outcome(`SELECT pgcache.cache_incr('${type}', 'max', 9223372036854775807)`)).toBe('ok');
      expect(await outcome(`SELECT pgcache.cache_incr('${type}', 'max', 1)`)).toBe('PC015');
      expect(await outcome(`SELECT pgcache.cache_incr('${type}', 'min', -9223372036854775808)`)).toBe('ok');
      expect(await outcome(`SELECT pgcache.cache_incr('${type}', 'min', -1)`)).toBe('PC015');
      expect((await pool.query(`SELECT pgcache.cache_incr('${type}', 'max', 0) AS v`)).rows[0].v).toBe(
        '9223372036854775807',
      );
    }
  });

  it('refuse stored numbers beyond bigint or with fractions (PC015), with a message of bounded length', async () => {
    for (const [key, json] of [
      ['huge', '1e100000'],
      ['tiny', '1e-400'],
      ['frac', '12345678901234567890.5'],
    ]) {
      await pool.query(`SELECT pgcache.cache_set('counters', '${key}', '${json}'::jsonb)`);
      expect(await outcome(`SELECT pgcache.cache_incr('counters', '${key}', 1)`)).toBe('PC015');
    }
    await pool.query(`SELECT pgcache.cache_set('tcounters', 'spaced', ' 1')`);
    expect(await outcome(`SELECT pgcache.cache_incr('tcounters', 'spaced', 1)`)).toBe('PC015');
  });
});

describe('cache_patch and cache_add', () => {
  it('take nested JSON as data, refuse what outgrows the type (PC007), and NULLs or 2-D arrays (PC010)', async () => {
    await pool.query(`SELECT pgcache.cache_set('counters', 'obj', '{}'::jsonb)`);
    const deep = `('{"a":' || repeat('{"a":', 5000) || '1' || repeat('}', 5000) || '}')::jsonb`;
    expect(await outcome(`SELECT pgcache.cache_patch('counters', 'obj', ${deep})`)).toBe('ok');
    expect(
      await outcome(
        `SELECT pgcache.cache_patch('counters', 'obj', (SELECT jsonb_object_agg(g::text, g) FROM generate_series(1, 200000) g))`,
      ),
    ).toBe('PC007');
    expect(await outcome(`SELECT pgcache.cache_patch('counters', 'obj', '{}'::jsonb, ARRAY[NULL]::text[])`)).toBe(
      'PC010',
    );
    expect(
      await outcome(`SELECT pgcache.cache_patch('counters', 'obj', '{}'::jsonb, ARRAY[ARRAY['a'], ARRAY['b']])`),
    ).toBe('PC010');
    expect(await outcome(`SELECT pgcache.cache_patch('counters', 'obj', 'null'::jsonb)`)).toBe('PC010');
    expect(await outcome(`SELECT pgcache.cache_add('counters', 'added', NULL::jsonb)`)).toBe('PC005');
    expect(await outcome(`SELECT pgcache.cache_add('counters', repeat('k', 1025), '1'::jsonb)`)).toBe('PC003');
    expect(await outcome(`SELECT pgcache.cache_add('counters', 'added', '1'::jsonb, interval '-1 second')`)).toBe(
      'PC004',
    );
  });
});

describe('tags', () => {
  it('refuse NULL, empty, over-long and 2-D tags (PC018) and over 10,000 of them (PC012)', async () => {
    for (const tags of [
      `ARRAY[NULL]::text[]`,
      `ARRAY['']`,
      `ARRAY[repeat('t', 257)]`,
      `ARRAY[ARRAY['a'], ARRAY['b']]`,
    ]) {
      expect(await outcome(`SELECT pgcache.cache_invalidate_tags(${tags})`)).toBe('PC018');
      expect(
        await outcome(
          `SELECT pgcache.cache_set('counters', 'tagged', '1'::jsonb, interval '1 hour', p_tags => ${tags})`,
        ),
      ).toBe('PC018');
    }
    expect(
      await outcome(`SELECT pgcache.cache_invalidate_tags(ARRAY(SELECT g::text FROM generate_series(1, 10001) g))`),
    ).toBe('PC012');
  });
});

describe('rate limits and leases', () => {
  it('refuse limits, costs, windows and TTLs that are not positive or overflow, whatever their parts', async () => {
    const limit = (l: string, w: string, c = '1') =>
      outcome(`SELECT * FROM pgcache.cache_rate_limit('b', 'k', ${l}, interval '${w}', ${c})`);
    expect(await limit('0', '1 second')).toBe('PC010');
    expect(await limit('-2147483648', '1 second')).toBe('PC010');
    expect(await limit('10', '1 second', '11')).toBe('PC010');
    expect(await limit('10', '1 second', '0')).toBe('PC010');
    for (const w of ['-1 second', '0', '178000000 years', '2147483647 days', '2562047788 hours', '-1 mon 1 day']) {
      expect(await limit('10', w)).toBe('PC010');
    }
    // The whole of int4 as limit and cost: counted without overflow, and a refund never goes below 0.
    expect(await limit('2147483647', '1 hour', '2147483647')).toBe('ok');
    expect(await limit('2147483647', '1 hour')).toBe('ok'); // denied, not an error
    expect((await pool.query(`SELECT pgcache.cache_rate_limit_refund('b', 'k', 2147483647) AS v`)).rows[0].v).toBe(0);

    const lease = (ttl: string) => outcome(`SELECT pgcache.cache_lease_acquire('job', interval '${ttl}', 'me')`);
    for (const ttl of ['0', '-1 second', '1 day 1 second', '1 mon -29 days', '2562047788 hours']) {
      expect(await lease(ttl)).toBe('PC004');
    }
    expect(await outcome(`SELECT pgcache.cache_lease_acquire('job', interval '1 second', repeat('o', 201))`)).toBe(
      'PC010',
    );
    expect(await outcome(`SELECT pgcache.cache_lease_extend('job', NULL, interval '1 second')`)).toBe('PC010');
    expect(await outcome(`SELECT pgcache.cache_lease_release(repeat('n', 1025), 1)`)).toBe('PC010');
    // Hostile tenant names are refused before any row is touched (PC013).
    for (const sql of [
      `SELECT * FROM pgcache.cache_rate_limit('b', 'k', 1, interval '1 second')`,
      `SELECT pgcache.cache_lease_acquire('job', interval '1 second', 'me')`,
      `SELECT pgcache.cache_invalidate_tags(ARRAY['x'])`,
    ]) {
      expect(await outcome(`SET pgcache.tenant = 'a''b'; ${sql}`)).toBe('PC013');
    }
  });
});

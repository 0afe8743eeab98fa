// Limits and argument checks at their edges: each bad input gets the package's SQLSTATE, never a server one
// (23502, 54000, 22003, 22023, ...) and never a silent NULL; from SQL and, where a method exists, from TS.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { repoRoot } from '../../scripts/lib/cluster.js';
import {
  type Cache,
  createCache,
  InvalidArgumentError,
  TenantRequiredError,
  ValueTooLargeError,
} from '../../src/index.js';
import { sqlState, useDatabase } from '../helpers/db.js';

const db = useDatabase();
const q = (sql: string, params: unknown[] = []) => db.pool.query(sql, params);
let cache: Cache;

beforeAll(async () => {
  await q(`SELECT pgcache.cache_create_type('lim', 'jsonb', p_max_value_bytes => 1000,
             p_attributes => '{"note": "string"}')`);
  await q(`SELECT pgcache.cache_create_type('lim_tenant', 'jsonb')`);
  await q(`SELECT pgcache.cache_configure_tenant_scoped('lim_tenant', true)`);
  await q(`SELECT pgcache.cache_create_type('lim_bytes', 'bytea')`);
  await q(`SELECT pgcache.cache_set('lim_bytes', 'b', '\\x010203'::bytea)`);
  await q(`SELECT pgcache.cache_set('lim', 'live', '1'::jsonb)`);
  cache = await createCache({ pool: db.pool });
});

const big = `repeat('x', 20 * 1024 * 1024)`;
const cases: [string, string, string][] = [
  [
    'mixed-sign ttl ending in the past',
    'PC004',
    `SELECT pgcache.cache_set('lim', 'k', '1'::jsonb, interval '-1 year 361 days')`,
  ],
  [
    'mixed-sign ttl, months and days',
    'PC004',
    `SELECT pgcache.cache_set('lim', 'k', '1'::jsonb, interval '1 month -31 days')`,
  ],
  [
    'huge parts that cancel out',
    'PC004',
    `SELECT pgcache.cache_set('lim', 'k', '1'::jsonb, interval '-100000 years 36500000 days')`,
  ],
  ['mixed-sign ttl in touch', 'PC004', `SELECT pgcache.cache_touch('lim', 'live', interval '-1 year 361 days')`],
  [
    'mixed-sign ttl in set_many',
    'PC004',
    `SELECT pgcache.cache_set_many('lim', ARRAY['a'], ARRAY['1']::jsonb[], interval '-1 year 361 days')`,
  ],
  [
    'mixed-sign default ttl',
    'PC004',
    `SELECT pgcache.cache_create_type('lim_x', p_default_ttl => interval '-1 year 361 days')`,
  ],
  [
    '20 MB of meta',
    'PC007',
    `SELECT pgcache.cache_set('lim', 'k', '1'::jsonb, interval '1 hour', NULL, jsonb_build_object('note', ${big}))`,
  ],
  ['20 MB model name', 'PC010', `SELECT pgcache.cache_set('lim', 'k', '1'::jsonb, interval '1 hour', ${big})`],
  [
    '20 MB scope',
    'PC010',
    `SELECT pgcache.cache_set_with_embedding('llm_responses', 'k', 'v'::text, '{1,0}'::real[], 'm2', interval '1 hour', ${big})`,
  ],
  [
    'model name over 2.7 kB with a vector',
    'PC010',
    `SELECT pgcache.cache_set('embeddings', 'e', '{1,2}'::real[], repeat('m', 3000))`,
  ],
  ['NULL unlogged', 'PC008', `SELECT pgcache.cache_create_type('lim_u', p_unlogged => NULL)`],
  ['lock wait of 30 days', 'PC010', `SELECT pgcache.cache_lock('lim', 'k', interval '30 days')`],
  ['unlock of a NULL key', 'PC002', `SELECT pgcache.cache_unlock('lim', NULL)`],
  ['cache_key of no parts', 'PC010', `SELECT pgcache.cache_key(VARIADIC '{}'::text[])`],
  ['cache_key of a NULL array', 'PC010', `SELECT pgcache.cache_key(VARIADIC NULL::text[])`],
  [
    'semantic lookup with a NULL model',
    'PC010',
    `SELECT * FROM pgcache.cache_semantic_get('llm_responses', '[1,0]'::vector, NULL)`,
  ],
  [
    'register a model twice at two widths',
    'PC006',
    `SELECT pgcache.cache_register_model('embeddings-m', 2), pgcache.cache_register_model('embeddings-m', 3)`,
  ],
  ['bump of a tenant-scoped type without a tenant', 'PC013', `SELECT pgcache.cache_bump_version('lim_tenant')`],
  // A bad cron schedule (PC010) is tested in the cron database: test/ops/cron.test.ts.
];

describe('from SQL', () => {
  it.each(cases)('%s: %s', async (_name, code, sql) => {
    expect(await sqlState(q(sql))).toMatch(new RegExp(`^(${code})$`));
  });

  it('a mixed-sign ttl whose effect is positive is accepted, and expires in the future', async () => {
    const { rows } = await q(
      `SELECT pgcache.cache_set('lim', 'k', '1'::jsonb, interval '1 year -364 days') > now() AS future`,
    );
    expect(rows[0].future).toBe(true);
  });

  it('reads at an offset near 2^31 return an empty chunk, not 22003', async () => {
    const { rows } = await q(
      `SELECT total, chunk FROM pgcache.cache_get_bytea_slice('lim_bytes', 'b', 2147483647, 10)`,
    );
    expect(rows).toEqual([{ total: 3, chunk: Buffer.alloc(0) }]);
    const tail = await q(`SELECT chunk FROM pgcache.cache_get_bytea_slice('lim_bytes', 'b', 1, 2147483647)`);
    expect(tail.rows[0].chunk).toEqual(Buffer.from([2, 3]));
  });

  it('HNSW index names differ for models whose md5 share a prefix', async () => {
    // 'm-a' and 'm-b' stand in for a colliding pair: the name carries the whole hash, not a prefix of it.
    const { rows } =
      await q(`SELECT pgcache._semantic_index_name(t, 'm-a') AS a, pgcache._semantic_index_name(t, 'm-b') AS b,
                                     length(pgcache._semantic_index_name(t, 'm-a')) AS n
                                FROM pgcache.cache_types t WHERE name = 'llm_responses'`);
    expect(rows[0].a).not.toBe(rows[0].b);
    expect(rows[0].a).toMatch(/^cache_llm_responses_hnsw_[0-9a-f]{32}$/);
    const long = await q(`SELECT pgcache.cache_create_type(repeat('a', 48)) IS NOT NULL`);
    expect(long.rowCount).toBe(1);
    const names = await q(
      `SELECT octet_length(pgcache._semantic_index_name(t, 'x')) AS n FROM pgcache.cache_types t WHERE name = repeat('a', 48)`,
    );
    expect(names.rows[0].n).toBeLessThanOrEqual(63);
  });
});

describe('install', () => {
  // The schema is an identifier (63 bytes, PC008); the role names <database>_<schema>_reader... must fit in 63
  // bytes too (PC020), which a short role prefix makes true of any schema name.
  it.each([
    ['a'.repeat(63), 'p', null],
    ['a'.repeat(64), 'p', 'PC008'],
    ['a'.repeat(63), '', 'PC020'],
    ['a'.repeat(64 - 7 - db.name.length - 1), '', 'PC020'],
    ['a'.repeat(63 - 7 - db.name.length - 1), '', null],
  ])('schema %s, role prefix %j: %s', async (schema, prefix, code) => {
    const client = await db.pool.connect();
    try {
      await client.query('BEGIN');
      await client.query(`SELECT set_config('pgcache.schema', $1, true), set_config('pgcache.role_prefix', $2, true)`, [
        schema,
        prefix,
      ]);
      const outcome = await client.query(readFileSync(join(repoRoot, 'sql/prelude.sql'), 'utf8')).then(
        () => null,
        (e: { code?: string }) => e.code,
      );
      expect(outcome).toBe(code);
    } finally {
      await client.query('ROLLBACK');
      client.release();
    }
  });
});

describe('from TypeScript', () => {
  it('maps the codes to their error classes', async () => {
    const lim = cache.type('lim');
    await expect(lim.set('k', 1, { meta: { note: 'x'.repeat(5000) } })).rejects.toBeInstanceOf(ValueTooLargeError);
    await expect(lim.set('k', 1, { model: 'm'.repeat(3000) })).rejects.toBeInstanceOf(InvalidArgumentError);
    await expect(cache.type('lim_tenant').bumpVersion()).rejects.toBeInstanceOf(TenantRequiredError);
  });
});

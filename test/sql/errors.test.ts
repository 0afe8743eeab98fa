// Every bad input raises the package's documented SQLSTATE, names the argument, and leaves other entries alone.
import { beforeAll, describe, expect, it } from 'vitest';
import { sqlState, useDatabase } from '../helpers/db.js';

const db = useDatabase();
const q = (sql: string, params: unknown[] = []) => db.pool.query(sql, params);

async function snapshot(): Promise<string> {
  const { rows } = await q(
    `SELECT string_agg(format('%s/%s=%s', type_id, key, md5(coalesce(value_json::text, value_text, encode(value_bytes, 'hex'), value_vector::text))), ',' ORDER BY type_id, key) AS s FROM pgcache.entries`,
  );
  return rows[0].s;
}

beforeAll(async () => {
  await q(`SELECT pgcache.cache_set('default', 'keep', '{"keep": true}'::jsonb)`);
  await q(`SELECT pgcache.cache_set('embeddings', 'e', '{1,2,3}'::real[], 'm3')`);
  await q(`SELECT pgcache.cache_set('audio_chunks', 'a', '\\x00'::bytea)`);
  await q(`UPDATE pgcache.cache_types SET max_value_bytes = 100 WHERE name = 'vector_search'`);
});

const cases: [string, string, string, unknown[]?][] = [
  ['unknown type', 'PC001', `SELECT pgcache.cache_get('nope', 'k')`],
  ['unknown type on set', 'PC001', `SELECT pgcache.cache_set('nope', 'k', '1'::jsonb)`],
  ['NULL key', 'PC002', `SELECT pgcache.cache_get('default', NULL)`],
  ['empty key', 'PC002', `SELECT pgcache.cache_set('default', '', '1'::jsonb)`],
  ['key over 1024 bytes', 'PC003', `SELECT pgcache.cache_set('default', repeat('é', 513), '1'::jsonb)`],
  ['NULL ttl', 'PC004', `SELECT pgcache.cache_set('default', 'k', '1'::jsonb, NULL)`],
  ['zero ttl', 'PC004', `SELECT pgcache.cache_set('default', 'k', '1'::jsonb, interval '0')`],
  ['negative ttl', 'PC004', `SELECT pgcache.cache_set('default', 'k', '1'::jsonb, interval '-1 second')`],
  ['unknown TTL class', 'PC004', `SELECT pgcache.cache_ttl('forever')`],
  ['text value for a jsonb type', 'PC005', `SELECT pgcache.cache_set('default', 'k', 'x'::text)`],
  ['jsonb getter on a text type', 'PC005', `SELECT pgcache.cache_get('llm_responses', 'k')`],
  ['NULL value', 'PC005', `SELECT pgcache.cache_set('default', 'k', NULL::jsonb)`],
  [
    'vector width differs from the model',
    'PC006',
    `SELECT pgcache.cache_set('embeddings', 'e2', '{1,2}'::real[], 'm3')`,
  ],
  [
    'value over the type limit',
    'PC007',
    `SELECT pgcache.cache_set('vector_search', 'big', to_jsonb(repeat('x', 200)))`,
  ],
  ['bad type name', 'PC008', `SELECT pgcache.cache_create_type('Robert"); DROP TABLE x; --')`],
  ['existing type', 'PC009', `SELECT pgcache.cache_create_type('default')`],
  ['vector without model', 'PC010', `SELECT pgcache.cache_set('embeddings', 'e3', '{1,2,3}'::real[], NULL::text)`],
  ['non-finite vector', 'PC010', `SELECT pgcache.cache_set('embeddings', 'e3', '{1,NaN,3}'::real[], 'm3')`],
  [
    'undeclared attribute',
    'PC010',
    `SELECT pgcache.cache_set('default', 'k', '1'::jsonb, interval '1 hour', NULL, '{"x": 1}')`,
  ],
  [
    'attribute of the wrong JSON type',
    'PC010',
    `SELECT pgcache.cache_set('audio_chunks', 'k', '\\x00'::bytea, interval '1 hour', NULL, '{"duration_ms": "long"}')`,
  ],
  ['empty prefix', 'PC010', `SELECT pgcache.cache_invalidate_prefix('default', '')`],
  [
    'keys and values of different lengths',
    'PC010',
    `SELECT pgcache.cache_set_many('default', ARRAY['a','b'], ARRAY['1']::jsonb[])`,
  ],
  ['batch over the limit', 'PC012', `SELECT pgcache.cache_get_many('default', array_fill('k'::text, ARRAY[10001]))`],
];

describe('error codes', () => {
  it.each(cases)('%s raises %s', async (_name, code, sql) => {
    const before = await snapshot();
    expect(await sqlState(q(sql))).toBe(code);
    expect(await snapshot()).toBe(before);
  });

  it('messages name the argument', async () => {
    await expect(q(`SELECT pgcache.cache_set('default', 'k', '1'::jsonb, interval '-1 day')`)).rejects.toThrow(
      /argument "ttl"/,
    );
    await expect(q(`SELECT pgcache.cache_get('default', '')`)).rejects.toThrow(/argument "key"/);
    await expect(q(`SELECT pgcache.cache_set('embeddings', 'x', '{1}'::real[], 'm3')`)).rejects.toThrow(
      /1 dimensions; model "m3" is registered with 3/,
    );
  });

  it('a failed call in a batch stores nothing of the batch', async () => {
    const before = await snapshot();
    expect(
      await sqlState(q(`SELECT pgcache.cache_set_many('default', ARRAY['ok1', ''], ARRAY['1','2']::jsonb[])`)),
    ).toBe('PC002');
    expect(await snapshot()).toBe(before);
  });
});

// The HNSW build of semantic lookups: cache_semantic_index builds with the semantic.hnsw_* settings (validated
// before any DDL runs), and each lookup function searches at the ef_search its index's build calls for.
import { beforeAll, expect, it } from 'vitest';
import { type Cache, createCache, SemanticLlmCache } from '../../src/index.js';
import { sqlState, useDatabase } from '../helpers/db.js';
import { fakeEmbed } from './fake-models.js';

const db = useDatabase();
let cache: Cache;

beforeAll(async () => {
  cache = await createCache({ pool: db.pool });
});

const setting = (name: string, value: string) =>
  db.pool.query('UPDATE pgcache.cache_settings SET value = $2 WHERE name = $1', [name, value]);

/** The hnsw.ef_search the lookup function of (llm_responses, model) sets before its graph search. */
async function bakedEfSearch(model: string): Promise<string | undefined> {
  const { rows } = await db.pool.query(
    `SELECT pg_get_functiondef(p.oid) AS def FROM pg_proc p
      WHERE p.pronamespace = 'pgcache'::regnamespace
        AND p.proname = '_semantic_lookup_' || 'pgcache.cache_llm_responses'::regclass::oid || '_' || md5($1)`,
    [model],
  );
  return /set_config\('hnsw\.ef_search', '(\d+)', true\)/.exec(rows[0]?.def ?? '')?.[1];
}

it('builds with m = 32, ef_construction = 64 by default, and rejects settings pgvector would refuse', async () => {
  const llm = new SemanticLlmCache(cache, 'build-8');
  await llm.store('q', fakeEmbed('q', 8), 'a');
  const sql = async () =>
    (await db.pool.query(`SELECT pgcache.cache_semantic_index_sql('llm_responses', 'build-8') AS s`)).rows[0].s;
  expect(await sql()).toMatch(/USING hnsw .* WITH \(m = 32, ef_construction = 64\) WHERE model = 'build-8'$/);
  for (const [name, bad] of [
    ['semantic.hnsw_m', '1'],
    ['semantic.hnsw_m', '101'],
    ['semantic.hnsw_m', '16); DROP TABLE x; --'],
    ['semantic.hnsw_m', ''],
    ['semantic.hnsw_ef_construction', '63'], // below 2 x m = 64
    ['semantic.hnsw_ef_construction', '1001'],
    ['semantic.hnsw_ef_construction', '1e2'],
  ] as const) {
    await setting(name, bad);
    const err = (await db.pool
      .query(`SELECT pgcache.cache_semantic_index('llm_responses', 'build-8')`)
      .catch((e) => e)) as Error & { code?: string };
    expect(err.code, `${name} = ${bad}`).toBe('PC010');
    expect(err.message).toContain(`setting "${name}"`);
    await setting(name, name === 'semantic.hnsw_m' ? '32' : '64');
  }
  await setting('semantic.hnsw_m', '8');
  await setting('semantic.hnsw_ef_construction', '16');
  expect(await sql()).toMatch(/WITH \(m = 8, ef_construction = 16\)/);
  await setting('semantic.hnsw_m', '32');
  await setting('semantic.hnsw_ef_construction', '64');
});

it('searches a graph of m >= 32 at ef_search 40 and a sparser one (pgvector default m = 16) at 200, unless set', async () => {
  for (const model of ['dense-8', 'sparse-8']) {
    await new SemanticLlmCache(cache, model).store('q', fakeEmbed('q', 8), 'a');
  }
  await db.pool.query(`SELECT pgcache.cache_semantic_index('llm_responses', 'dense-8')`);
  expect(await bakedEfSearch('dense-8')).toBe('40');
  // An index built without options, as 0.1.0 built them (or by hand): pgvector's m = 16.
  const { rows } = await db.pool.query(
    `SELECT regexp_replace(pgcache.cache_semantic_index_sql('llm_responses', 'sparse-8'), ' WITH \\([^)]*\\)', '') AS s`,
  );
  await db.pool.query(rows[0].s);
  await db.pool.query(`SELECT pgcache.cache_semantic_index('llm_responses', 'sparse-8')`);
  expect(await bakedEfSearch('sparse-8')).toBe('200');

  await setting('semantic.ef_search', '64');
  await db.pool.query(`SELECT pgcache.cache_semantic_index('llm_responses', 'sparse-8')`);
  expect(await bakedEfSearch('sparse-8')).toBe('64');
  for (const bad of ['0', '1001', 'Auto', '40 ', '']) {
    await setting('semantic.ef_search', bad);
    expect(
      await sqlState(db.pool.query(`SELECT pgcache.cache_semantic_index('llm_responses', 'dense-8')`)),
      bad,
    ).toBe('PC010');
  }
  await setting('semantic.ef_search', 'auto');
  // Lookups still answer from the dense and the sparse index.
  for (const model of ['dense-8', 'sparse-8']) {
    const hit = await new SemanticLlmCache(cache, model).lookup('other words', fakeEmbed('q', 8));
    expect(hit?.response).toBe('a');
  }
});

// Semantic LLM lookup: cosine-distance threshold (0 = exact only), scope isolation, the per-model HNSW index.
import { beforeAll, describe, expect, it } from 'vitest';
import { type Cache, createCache, PgcacheError, SemanticLlmCache } from '../../src/index.js';
import { sqlState, useDatabase } from '../helpers/db.js';
import { fakeEmbed, nudge } from '../helpers/fake-models.js';
import { plansOf } from '../helpers/plans.js';

const db = useDatabase();
let cache: Cache;
let llm: SemanticLlmCache;
const q1 = fakeEmbed('What is the capital of France?', 32);

beforeAll(async () => {
  cache = await createCache({ pool: db.pool });
  llm = new SemanticLlmCache(cache, 'fake-32');
  await llm.store('What is the capital of France?', q1, 'Paris', { scope: 'tenant-a', meta: { tokens_used: 3 } });
  await llm.store('Who wrote Faust?', fakeEmbed('Who wrote Faust?', 32), 'Goethe', { scope: 'tenant-a' });
  await llm.store('What is the capital of France?', q1, 'Paris (b)', { scope: 'tenant-b' });
  await llm.ensureIndex();
});

describe('lookup', () => {
  it('exact prompt hits by key without an embedding (the fast path)', async () => {
    const hit = await llm.lookup('What is the capital of France?', undefined, { scope: 'tenant-a' });
    expect(hit).toMatchObject({ response: 'Paris', exact: true, cosineDistance: 0, meta: { tokens_used: 3 } });
    expect(await llm.lookup('what is the capital of france', undefined, { scope: 'tenant-a' })).toBeUndefined();
  });

  it('a paraphrase hits within the threshold and misses beyond it', async () => {
    const near = nudge(q1, 0.1);
    const hit = await llm.lookup('capital of France?', near, { scope: 'tenant-a' });
    expect(hit?.response).toBe('Paris');
    expect(hit?.exact).toBe(false);
    expect(hit?.cosineDistance).toBeGreaterThan(0);
    expect(hit?.cosineDistance).toBeLessThan(0.05);
    expect(
      await llm.lookup('capital of France?', near, { scope: 'tenant-a', maxCosineDistance: 0.001 }),
    ).toBeUndefined();
    const unrelated = fakeEmbed('How do I bake bread?', 32);
    expect(await llm.lookup('bread?', unrelated, { scope: 'tenant-a', maxCosineDistance: 0.5 })).toBeUndefined();
  });

  it('threshold 0 means identical embeddings only', async () => {
    expect((await llm.lookup('other words', q1, { scope: 'tenant-a', maxCosineDistance: 0 }))?.response).toBe('Paris');
    expect(
      await llm.lookup('other words', nudge(q1, 0.01), { scope: 'tenant-a', maxCosineDistance: 0 }),
    ).toBeUndefined();
  });

  it('never crosses scopes: tenant b gets its own answer, the global scope none', async () => {
    expect((await llm.lookup('x', nudge(q1, 0.1), { scope: 'tenant-b' }))?.response).toBe('Paris (b)');
    expect(await llm.lookup('x', nudge(q1, 0.1))).toBeUndefined();
    expect(await llm.lookup('x', nudge(q1, 0.1), { scope: 'tenant-c' })).toBeUndefined();
  });

  it('rejects thresholds outside 0..2 and embeddings of the wrong width', async () => {
    for (const bad of [-0.1, 2.5, Number.NaN]) {
      await expect(llm.lookup('x', q1, { maxCosineDistance: bad })).rejects.toBeInstanceOf(PgcacheError);
    }
    await expect(llm.lookup('x', fakeEmbed('x', 8))).rejects.toMatchObject({ code: 'PC006', argument: 'embedding' });
  });
});

describe('from psql', () => {
  it('cache_semantic_get returns the response with its cosine distance', async () => {
    const { rows } = await db.pool.query(
      `SELECT key, value_text, cosine_distance FROM pgcache.cache_semantic_get('llm_responses', $1::vector, 'fake-32', 0.05, 'tenant-a')`,
      [JSON.stringify(nudge(q1, 0.05))],
    );
    expect(rows).toHaveLength(1);
    expect(rows[0].value_text).toBe('Paris');
    expect(rows[0].cosine_distance).toBeLessThan(0.05);
    expect(
      await sqlState(
        db.pool.query(`SELECT * FROM pgcache.cache_semantic_get('llm_responses', '[1,2]'::vector, 'fake-32', NULL)`),
      ),
    ).toBe('PC010');
  });

  it('uses the per-model partial HNSW index (768, 1536, 3072 wide models each get one)', async () => {
    // pgvector costs an HNSW scan by the tuples ef_search visits: over these 1,000 rows per model an ef_search
    // of 200 would visit them all, so the planner would sort them instead. The default (auto) searches a graph
    // of 1,000 rows at 40, which keeps the index cheaper.
    const { rows: setting } = await db.pool.query(
      `SELECT value FROM pgcache.cache_settings WHERE name = 'semantic.ef_search'`,
    );
    expect(setting[0].value).toBe('auto');
    for (const width of [768, 1536, 3072]) {
      const model = `m${width}`;
      const other = new SemanticLlmCache(cache, model);
      await other.store('q', fakeEmbed('q', width), 'a');
      // The planner takes the index on cost: over a handful of rows a sort of all of them is cheaper.
      if (width !== 768)
        await db.pool.query(
          `INSERT INTO pgcache.cache_llm_responses (type_id, key, version, value_text, embedding, model, byte_size, expires_at)
           SELECT t.id, $1 || ':filler' || g, t.version, 'filler',
                  ARRAY(SELECT (hashint8extended(g::bigint * 4096 + i, 7) & 16777215) * (1.0::real / 16777215) - 0.5::real
                          FROM generate_series(1, $2::int) i), $1, 100, now() + interval '1 hour'
             FROM pgcache.cache_types t, generate_series(1, 1000) g WHERE t.name = 'llm_responses'`,
          [model, width],
        );
      expect(await other.ensureIndex()).toMatch(/^cache_llm_responses_hnsw_/);
    }
    await db.pool.query('ANALYZE pgcache.cache_llm_responses');
    const client = await db.pool.connect();
    try {
      for (const width of [1536, 3072]) {
        const plans = await plansOf(
          client,
          `SELECT * FROM pgcache.cache_semantic_get('llm_responses', $1::vector, $2, 0.05)`,
          // Not the stored vector itself, which the exact-repeat probe answers without a graph search.
          [JSON.stringify(fakeEmbed('q', width).map((x, i) => (i === 0 ? x + 0.01 : x))), `m${width}`],
        );
        expect(plans).toMatch(/Index Scan using cache_llm_responses_hnsw_\w+/);
        if (width === 3072) expect(plans).toMatch(/halfvec\(3072\)/);
        // An exact repeat is answered by the B-tree on (model, hash_array(embedding)), without a graph search.
        const exact = await plansOf(
          client,
          `SELECT * FROM pgcache.cache_semantic_get('llm_responses', $1::vector, $2, 0.05)`,
          [JSON.stringify(fakeEmbed('q', width)), `m${width}`],
        );
        expect(exact).toMatch(/Index Scan using cache_llm_responses_hash_\w+/);
        expect(exact).not.toMatch(/Index Scan using cache_llm_responses_hnsw_/);
      }
    } finally {
      client.release();
    }
  }, 180_000); // builds HNSW indexes over 1,000 rows of 1536 and of 3072 dimensions

  it('searches at an ef_search that grows with the graph, or at the one the setting fixes', async () => {
    const client = await db.pool.connect();
    try {
      const lookup = async () => {
        const { rows } = await client.query(
          `SELECT count(*) AS n FROM pgcache.cache_semantic_get('llm_responses', $1::vector, 'fake-32', 0.05, 'tenant-a')`,
          [JSON.stringify(nudge(q1, 0.05))],
        );
        return rows[0];
      };
      const body = async () =>
        (
          await client.query(
            `SELECT string_agg(prosrc, '') AS src FROM pg_proc WHERE proname ~ ('^_semantic_lookup_[0-9]+_' || md5('fake-32') || '$')`,
          )
        ).rows[0].src as string;
      // auto: 40 at least, one per 500 rows of the index above that, 200 at most. The size is the index's
      // reltuples (CREATE INDEX, VACUUM and ANALYZE keep it); set here to stand for a larger graph.
      const auto = (await body()).match(/set_config\('hnsw.ef_search', (\(SELECT CASE[\s\S]*?isleaf\)\)), true\)/);
      expect(auto).not.toBeNull();
      const index = await llm.ensureIndex();
      for (const [rows, ef] of [
        [0, '40'],
        [10_000, '40'],
        [60_000, '120'],
        [100_000, '200'],
        [1_000_000, '200'],
      ] as const) {
        await client.query('BEGIN');
        await client.query(`UPDATE pg_class SET reltuples = $1 WHERE oid = $2::regclass`, [rows, `pgcache.${index}`]);
        expect((await client.query(`SELECT ${(auto as RegExpMatchArray)[1]} AS ef`)).rows[0].ef, `${rows} rows`).toBe(
          ef,
        );
        await client.query('ROLLBACK');
      }
      expect(await lookup()).toMatchObject({ n: '1' });
      await db.pool.query(`UPDATE pgcache.cache_settings SET value = '64' WHERE name = 'semantic.ef_search'`);
      await llm.ensureIndex();
      expect(await body()).toContain(`set_config('hnsw.ef_search', '64', true)`);
      expect(await lookup()).toMatchObject({ n: '1' });
      await db.pool.query(`UPDATE pgcache.cache_settings SET value = 'many' WHERE name = 'semantic.ef_search'`);
      expect(await sqlState(llm.ensureIndex())).toBe('PC010');
    } finally {
      await db.pool.query(`UPDATE pgcache.cache_settings SET value = 'auto' WHERE name = 'semantic.ef_search'`);
      client.release();
    }
  });
});

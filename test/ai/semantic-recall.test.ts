// Semantic lookup at scale: 100,000 stored 1536-wide embeddings (seeded random), the lookup uses the HNSW
// index, and its top hit matches exact search for at least 95 of 100 queries. The slowest test in the suite
// (the HNSW build): latency is measured in the benchmark, never here.
import { expect, it } from 'vitest';
import { useDatabase } from '../helpers/db.js';
import { plansOf } from '../helpers/plans.js';

const db = useDatabase();
const ENTRIES = 100_000;
const QUERIES = 100;

it('recall@1 >= 0.95 against exact search at 100,000 vectors of 1536 dimensions', async () => {
  const client = await db.pool.connect();
  try {
    await client.query('SELECT setseed(0.42)');
    await client.query(`INSERT INTO pgcache.cache_models VALUES ('rand-1536', 1536)`);
    // Bulk load straight into the type's table: cache_set_with_embedding per row would take minutes.
    await client.query(`
      INSERT INTO pgcache.cache_llm_responses (type_id, key, version, value_text, embedding, model, byte_size, expires_at)
      SELECT t.id, 'r' || g, t.version, 'response ' || g,
             (SELECT array_agg((random() - 0.5)::real) FROM generate_series(1, 1536) WHERE g > 0),
             'rand-1536', 6200, now() + interval '1 day'
        FROM pgcache.cache_types t, generate_series(1, ${ENTRIES}) g WHERE t.name = 'llm_responses'`);
    await client.query(`SET maintenance_work_mem = '1GB'`);
    await client.query(`SELECT pgcache.cache_semantic_index('llm_responses', 'rand-1536')`);
    await client.query('ANALYZE pgcache.cache_llm_responses');

    // Queries: stored vectors with noise, so each has one clear nearest neighbour.
    await client.query(`
      CREATE TEMP TABLE queries AS
      SELECT row_number() OVER () AS id,
             (SELECT array_agg(x + (random() - 0.5)::real * 0.3) FROM unnest(embedding) x)::vector(1536) AS q
        FROM (SELECT embedding FROM pgcache.cache_llm_responses ORDER BY key LIMIT ${QUERIES}) s`);
    await client.query(
      `CREATE TEMP TABLE exact_space AS SELECT key, embedding::vector(1536) AS v FROM pgcache.cache_llm_responses`,
    );
    const { rows } = await client.query(`
      SELECT q.id,
             (SELECT key FROM pgcache.cache_semantic_get('llm_responses', q.q, 'rand-1536', 2.0)) AS approximate,
             (SELECT key FROM exact_space ORDER BY v <=> q.q LIMIT 1) AS exact
        FROM queries q`);
    const recall = rows.filter((r) => r.approximate === r.exact).length / rows.length;
    expect(rows).toHaveLength(QUERIES);
    expect(recall).toBeGreaterThanOrEqual(0.95);

    const plans = await plansOf(
      client,
      `SELECT * FROM pgcache.cache_semantic_get('llm_responses', (SELECT q FROM queries WHERE id = 1), 'rand-1536', 0.05)`,
    );
    expect(plans).toMatch(/Index Scan using cache_llm_responses_hnsw_/);
  } finally {
    client.release();
  }
}, 1_200_000);

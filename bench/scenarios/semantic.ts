// Semantic lookup latency: cache_semantic_get (HNSW, cosine distance <= 0.05) over N stored 1536-wide
// embeddings, queried with stored vectors plus noise, c=1 and c=16. N is 10,000 by default so the whole run
// stays within minutes on 2 cores; `--semantic` measures 100,000 (the HNSW build alone then takes minutes).
import { performance } from 'node:perf_hooks';
import { type BenchContext, record } from '../lib/context.js';
import { type Case, measureGroup } from '../lib/harness.js';

const TYPE = 'bench_semantic';
const MODEL = 'bench-1536';
const DIMENSIONS = 1536;
const QUERIES = 200;
const CHUNK = 10_000;
const MAX_DISTANCE = 0.05;

export async function runSemantic(ctx: BenchContext): Promise<void> {
  const n = ctx.flags.semanticVectors;
  ctx.log(`semantic lookup: ${n.toLocaleString('en-US')} vectors of ${DIMENSIONS} dimensions (--semantic for 100,000)`);
  await ctx.cache.createType({ name: TYPE, valueKind: 'text', defaultTtl: 86_400 });
  const client = await ctx.pool.connect();
  let loadSeconds: number;
  let buildSeconds: number;
  try {
    await client.query(`INSERT INTO pgcache.cache_models (model, dimensions) VALUES ($1, $2)`, [MODEL, DIMENSIONS]);
    await client.query('SELECT setseed(0.42)');
    const t0 = performance.now();
    // Straight into the type's table, as test/ai/semantic-recall.test.ts does: one set per row takes minutes.
    for (let from = 1; from <= n; from += CHUNK) {
      await client.query(
        `INSERT INTO pgcache.cache_${TYPE} (type_id, key, version, value_text, embedding, model, byte_size, expires_at)
         SELECT t.id, 'r' || g, t.version, 'response ' || g,
                (SELECT array_agg((random() - 0.5)::real) FROM generate_series(1, ${DIMENSIONS}) WHERE g > 0),
                $1, 6200, now() + interval '1 day'
           FROM pgcache.cache_types t, generate_series($2::int, $3::int) g WHERE t.name = '${TYPE}'`,
        [MODEL, from, Math.min(n, from + CHUNK - 1)],
      );
    }
    loadSeconds = (performance.now() - t0) / 1000;
    await client.query(`SET maintenance_work_mem = '1GB'`);
    const t1 = performance.now();
    await client.query('SELECT pgcache.cache_semantic_index($1, $2)', [TYPE, MODEL]);
    buildSeconds = (performance.now() - t1) / 1000;
    await client.query(`RESET maintenance_work_mem`);
    await client.query(`ANALYZE pgcache.cache_${TYPE}`);
  } finally {
    client.release();
  }
  ctx.log(`  loaded in ${loadSeconds.toFixed(1)} s, HNSW index built in ${buildSeconds.toFixed(1)} s`);

  // Queries: stored vectors plus noise (cosine distance about 0.04 from their source), as pgvector text.
  const ids = Array.from({ length: QUERIES }, () => `r${1 + Math.floor(Math.random() * n)}`);
  const { rows } = await ctx.pool.query(`SELECT embedding FROM pgcache.cache_${TYPE} WHERE key = ANY ($1)`, [ids]);
  const queries = rows.map(
    (r) => `[${(r.embedding as number[]).map((x) => (x + (Math.random() - 0.5) * 0.3).toFixed(5)).join(',')}]`,
  );
  let asked = 0;
  let hits = 0;
  let next = 0;
  const lookup = async () => {
    const q = queries[next++ % queries.length];
    const found = await ctx.pool.query({
      name: 'bench_semantic_get',
      text: 'SELECT key, cosine_distance FROM pgcache.cache_semantic_get($1, $2::vector, $3, $4, NULL, 1)',
      values: [TYPE, q, MODEL, MAX_DISTANCE],
    });
    asked++;
    if (found.rowCount) hits++;
  };
  for (const concurrency of ctx.concurrencies) {
    const cases: Case[] = [{ id: 'semantic.get', concurrency, op: lookup }];
    await measureGroup(cases, ctx.timing, (c, s) =>
      record(ctx, 'semantic', c.id, `semantic lookup (${n.toLocaleString('en-US')} x ${DIMENSIONS}, HNSW)`, s),
    );
  }
  ctx.results.scenarios.semantic = {
    vectors: n,
    dimensions: DIMENSIONS,
    loadSeconds,
    buildSeconds,
    maxCosineDistance: MAX_DISTANCE,
    hitRate: asked ? hits / asked : 0,
  };
  ctx.log(
    `  lookups within distance ${MAX_DISTANCE}: ${((100 * hits) / Math.max(1, asked)).toFixed(1)}% found an entry`,
  );
}

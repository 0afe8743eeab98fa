// Semantic lookup: cache_semantic_get (HNSW, cosine distance <= 0.05) over N stored 1536-wide unit vectors,
// against a bare pgvector query on the same index. N is 10,000 by default so the whole run stays within
// minutes on 2 cores; `--semantic` measures 100,000 (the HNSW build alone then takes minutes).
// The vectors are deterministic (a hash of row and dimension, centred, normalised by pgvector's l2_normalize),
// so every run stores the same ones. Three query sets of 1,000 each:
//   exact repeats   a stored vector as it is (found = its own key comes back)
//   near repeats    a stored vector plus gaussian noise of norm 0.1 (cosine ~0.995; found = its own key)
//   never stored    a fresh random unit vector (found = anything comes back; nothing should)
// One counted pass over all three gives the found rates and the rows and WAL written while looking up; then
// timed rounds (c=1 and c=16) of each set and of the bare pgvector query on the near repeats.
import { performance } from 'node:perf_hooks';
import { type BenchContext, record } from '../lib/context.js';
import { type Case, measureGroup, sleep } from '../lib/harness.js';
import type { SemanticFigures } from '../lib/targets.js';

const TYPE = 'bench_semantic';
const MODEL = 'bench-1536';
const DIMENSIONS = 1536;
const QUERIES = 1000;
const CHUNK = 10_000;
const MAX_DISTANCE = 0.05;
const NOISE_NORM = 0.1;
const TABLE = `pgcache.cache_${TYPE}`;

/** A standard normal deviate (Box-Muller). */
function gaussian(): number {
  const u = 1 - Math.random();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * Math.random());
}

function normalise(v: number[]): number[] {
  const norm = Math.hypot(...v);
  return v.map((x) => x / norm);
}

// Shortest round-trip text: an exact repeat has to be the stored real[] bit for bit (7 significant digits are
// not always enough for a float4, and such a "repeat" misses the exact-repeat probe).
const asVector = (v: number[]) => `[${v.map((x) => String(x)).join(',')}]`;

async function writeCounters(ctx: BenchContext): Promise<{ rows: number; lsn: string }> {
  await sleep(1200); // backends report their table counters about once a second
  const { rows } = await ctx.pool.query(
    `SELECT pg_stat_clear_snapshot(),
            (SELECT n_tup_ins + n_tup_upd + n_tup_del FROM pg_stat_user_tables WHERE relid = $1::regclass) AS rows,
            pg_current_wal_insert_lsn()::text AS lsn`,
    [TABLE],
  );
  return { rows: Number(rows[0].rows), lsn: rows[0].lsn };
}

export async function runSemantic(ctx: BenchContext): Promise<void> {
  const n = ctx.flags.semanticVectors;
  ctx.log(
    `semantic lookup: ${n.toLocaleString('en-US')} unit vectors of ${DIMENSIONS} dimensions (--semantic for 100,000)`,
  );
  await ctx.cache.createType({ name: TYPE, valueKind: 'text', defaultTtl: 86_400 });
  const client = await ctx.pool.connect();
  let loadSeconds: number;
  let buildSeconds: number;
  try {
    await client.query(`INSERT INTO pgcache.cache_models (model, dimensions) VALUES ($1, $2)`, [MODEL, DIMENSIONS]);
    const t0 = performance.now();
    // Straight into the type's table, as test/ai/semantic-recall.test.ts does: one set per row takes minutes.
    for (let from = 1; from <= n; from += CHUNK) {
      await client.query(
        `INSERT INTO ${TABLE} (type_id, key, version, value_text, embedding, model, byte_size, expires_at)
         SELECT t.id, 'r' || g, t.version, 'response ' || g,
                l2_normalize(ARRAY(SELECT (hashint8extended(g::bigint * 4096 + i, 7) & 16777215) * (1.0::real / 16777215) - 0.5::real
                                     FROM generate_series(1, ${DIMENSIONS}) i)::vector)::real[],
                $1, 6200, now() + interval '1 day'
           FROM pgcache.cache_types t, generate_series($2::int, $3::int) g
          WHERE t.name = '${TYPE}'`,
        [MODEL, from, Math.min(n, from + CHUNK - 1)],
      );
    }
    loadSeconds = (performance.now() - t0) / 1000;
    await client.query(`SET maintenance_work_mem = '1GB'`);
    const t1 = performance.now();
    await client.query('SELECT pgcache.cache_semantic_index($1, $2)', [TYPE, MODEL]);
    buildSeconds = (performance.now() - t1) / 1000;
    await client.query(`RESET maintenance_work_mem`);
    await client.query(`VACUUM ANALYZE ${TABLE}`);
  } finally {
    client.release();
  }
  ctx.log(`  loaded in ${loadSeconds.toFixed(1)} s, HNSW index built in ${buildSeconds.toFixed(1)} s`);

  // The query sets: 1,000 distinct stored rows; near = the stored vector plus gaussian noise of norm 0.1.
  const picked = new Set<number>();
  while (picked.size < Math.min(QUERIES, n)) picked.add(1 + Math.floor(Math.random() * n));
  const { rows } = await ctx.pool.query(`SELECT key, embedding FROM ${TABLE} WHERE key = ANY ($1)`, [
    [...picked].map((i) => `r${i}`),
  ]);
  const exact = rows.map((r) => ({ key: r.key as string, vector: asVector(r.embedding as number[]) }));
  const near = rows.map((r) => {
    const noise = normalise(Array.from({ length: DIMENSIONS }, gaussian)).map((x) => x * NOISE_NORM);
    return {
      key: r.key as string,
      vector: asVector((r.embedding as number[]).map((x, i) => x + (noise[i] as number))),
    };
  });
  const never = exact.map(() => ({
    key: '',
    vector: asVector(normalise(Array.from({ length: DIMENSIONS }, gaussian))),
  }));

  const lookup = async (vector: string) =>
    (
      await ctx.pool.query({
        name: 'bench_semantic_get',
        text: 'SELECT key, cosine_distance FROM pgcache.cache_semantic_get($1, $2::vector, $3, $4, NULL, 1)',
        values: [TYPE, vector, MODEL, MAX_DISTANCE],
      })
    ).rows[0]?.key as string | undefined;
  // The floor: pgvector alone on the same partial HNSW index (same expression, same model filter).
  const bare = async (vector: string) =>
    (
      await ctx.pool.query({
        name: 'bench_semantic_bare',
        text: `SELECT key FROM ${TABLE} WHERE model = $1
                ORDER BY embedding::vector(${DIMENSIONS}) <=> $2::vector(${DIMENSIONS}) LIMIT 1`,
        values: [MODEL, vector],
      })
    ).rows[0]?.key as string | undefined;

  // The anchor has to run on the HNSW index: pgvector prices a scan by 2 m x ef_search tuples, and near the
  // crossover (a denser graph, or a size in between) the planner sorts every row instead, seconds per call; a
  // ratio against that says nothing.
  const { rows: plan } = await ctx.pool.query(
    `EXPLAIN SELECT key FROM ${TABLE} WHERE model = $1
      ORDER BY embedding::vector(${DIMENSIONS}) <=> $2::vector(${DIMENSIONS}) LIMIT 1`,
    [MODEL, (near[0] as { vector: string }).vector],
  );
  const bareOnIndex = plan.some((r) => / using \S+_hnsw_/.test(String(r['QUERY PLAN'])));
  if (!bareOnIndex) ctx.log('  the bare pgvector query does not use the HNSW index here: its ratio is void');

  // The counted pass (2 workers), with the rows and WAL written meanwhile.
  const before = await writeCounters(ctx);
  const count = async (set: { key: string; vector: string }[], hit: (want: string, got?: string) => boolean) => {
    let found = 0;
    let next = 0;
    await Promise.all(
      [0, 1].map(async () => {
        while (next < set.length) {
          const q = set[next++] as { key: string; vector: string };
          if (hit(q.key, await lookup(q.vector))) found++;
        }
      }),
    );
    return { found, asked: set.length };
  };
  const t2 = performance.now();
  const exactFound = await count(exact, (want, got) => got === want);
  const nearFound = await count(near, (want, got) => got === want);
  const neverFound = await count(never, (_, got) => got !== undefined);
  const countSeconds = (performance.now() - t2) / 1000;
  const after = await writeCounters(ctx);
  const { rows: wal } = await ctx.pool.query('SELECT pg_wal_lsn_diff($1, $2)::bigint AS bytes', [
    after.lsn,
    before.lsn,
  ]);
  const lookups = exact.length + near.length + never.length;
  ctx.log(
    `  found: exact ${exactFound.found}/${exactFound.asked}, near ${nearFound.found}/${nearFound.asked}, ` +
      `never stored ${neverFound.found}/${neverFound.asked} (answered); ${lookups} lookups in ${countSeconds.toFixed(1)} s ` +
      `wrote ${after.rows - before.rows} rows, ${wal[0].bytes} WAL bytes`,
  );

  let i = 0;
  const pick = (set: { vector: string }[]) => (set[i++ % set.length] as { vector: string }).vector;
  const labels: Record<string, string> = {
    'semantic.get.exact': 'semantic get, exact repeats',
    'semantic.get.near': 'semantic get, near repeats',
    'semantic.get.never': 'semantic get, never stored',
    'semantic.bare.near': 'bare pgvector query, near repeats',
  };
  const scale = `(${n.toLocaleString('en-US')} x ${DIMENSIONS})`;
  for (const concurrency of ctx.concurrencies) {
    const cases: Case[] = [
      { id: 'semantic.get.exact', concurrency, op: () => lookup(pick(exact)) },
      { id: 'semantic.get.near', concurrency, op: () => lookup(pick(near)) },
      { id: 'semantic.get.never', concurrency, op: () => lookup(pick(never)) },
      { id: 'semantic.bare.near', concurrency, op: () => bare(pick(near)) },
    ];
    await measureGroup(cases, ctx.timing, (c, s) => record(ctx, 'semantic', c.id, `${labels[c.id]} ${scale}`, s));
  }
  const figures: SemanticFigures & Record<string, unknown> = {
    vectors: n,
    dimensions: DIMENSIONS,
    loadSeconds,
    buildSeconds,
    maxCosineDistance: MAX_DISTANCE,
    noiseNorm: NOISE_NORM,
    exact: exactFound,
    near: nearFound,
    never: neverFound,
    writes: { lookups, rowsWritten: after.rows - before.rows, walBytes: Number(wal[0].bytes) },
    bareOnIndex,
  };
  ctx.results.scenarios.semantic = figures;
}

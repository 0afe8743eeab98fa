// Tags and watches. (1) Invalidating one tag among 1,000,000 entries of which 100 carry it (and 100,000 carry
// other tags): the plan's rows and buffers read (EXPLAIN ANALYZE of the row selection) and the time of
// cache_invalidate_tags, each run rolled back so the next finds the same rows. (2) What a watch costs the
// source table: UPDATE of 1 row (by primary key, c=1) and of 10,000 rows (one statement) per second, without
// and with a watch on it; the cache holds the 1,000,000 entries and the watched rows' tags match none of them
// after the first run (the steady state: the trigger looks the tags up and finds nothing to delete).
import { performance } from 'node:perf_hooks';
import { type BenchContext, fmtMs } from '../lib/context.js';
import { median, runLoop } from '../lib/harness.js';

export const TYPE = 'bench_tags';
const ENTRIES = 1_000_000;
const NEEDLES = 100;
const OTHER_TAGGED = 100_000;
const SOURCE_ROWS = 10_000;

interface PlanFigures {
  rowsReturned: number;
  heapRowsRead: number;
  heapBlocks: number;
  sharedBuffers: number;
  indexUsed: boolean;
}

/** The figures of an EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) plan: rows out, heap rows and blocks read. */
function planFigures(plan: Record<string, unknown>): PlanFigures {
  const out: PlanFigures = { rowsReturned: 0, heapRowsRead: 0, heapBlocks: 0, sharedBuffers: 0, indexUsed: false };
  const top = plan.Plan as Record<string, unknown>;
  out.rowsReturned = Number(top['Actual Rows'] ?? 0);
  out.sharedBuffers = Number(top['Shared Hit Blocks'] ?? 0) + Number(top['Shared Read Blocks'] ?? 0);
  const walk = (node: Record<string, unknown>) => {
    const type = String(node['Node Type']);
    if (type === 'Bitmap Heap Scan' || type === 'Seq Scan' || type === 'Index Scan') {
      out.heapRowsRead +=
        Number(node['Actual Rows'] ?? 0) +
        Number(node['Rows Removed by Filter'] ?? 0) +
        Number(node['Rows Removed by Index Recheck'] ?? 0);
      out.heapBlocks += Number(node['Exact Heap Blocks'] ?? 0) + Number(node['Lossy Heap Blocks'] ?? 0);
    }
    if (type === 'Bitmap Index Scan' && String(node['Index Name']).includes('tags')) out.indexUsed = true;
    for (const child of (node.Plans as Record<string, unknown>[] | undefined) ?? []) walk(child);
  };
  walk(top);
  return out;
}

export async function runTags(ctx: BenchContext): Promise<void> {
  const entries = ctx.flags.quick ? 100_000 : ENTRIES;
  ctx.log(
    `tags: invalidate 1 tag over ${entries.toLocaleString('en-US')} entries with ${NEEDLES} tagged; UPDATE with and without a watch`,
  );
  await ctx.cache.createType({ name: TYPE, valueKind: 'jsonb', defaultTtl: 86_400 });
  // Straight into the type's table: a set per row would take minutes.
  await ctx.pool.query(
    `INSERT INTO pgcache.cache_${TYPE} (type_id, key, version, value_json, byte_size, expires_at, tags)
     SELECT t.id, 'k' || g, t.version, '{"v": 1}'::jsonb, 20, now() + interval '1 day',
            CASE WHEN g <= $2 THEN ARRAY['doc:needle'] WHEN g <= $2 + $3 THEN ARRAY['doc:' || g] END
       FROM pgcache.cache_types t, generate_series(1, $1::int) g WHERE t.name = $4`,
    [entries, NEEDLES, OTHER_TAGGED, TYPE],
  );
  await ctx.pool.query(`VACUUM ANALYZE pgcache.cache_${TYPE}`);

  const client = await ctx.db.pool(1).connect();
  const invalidate: Record<string, unknown> = {};
  try {
    await client.query('BEGIN');
    const [explained] = (
      await client.query(
        `EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON)
         SELECT e.type_id, e.key FROM pgcache.entries e WHERE e.tags && ARRAY['doc:needle']`,
      )
    ).rows;
    await client.query('ROLLBACK');
    const plan = planFigures((explained['QUERY PLAN'] as Record<string, unknown>[])[0] as Record<string, unknown>);
    const times: number[] = [];
    let removed = 0;
    for (let i = 0; i < (ctx.flags.quick ? 3 : 15); i++) {
      await client.query('BEGIN');
      const t0 = performance.now();
      removed = Number(
        (await client.query(`SELECT pgcache.cache_invalidate_tags(ARRAY['doc:needle']) AS n`)).rows[0]?.n,
      );
      times.push(performance.now() - t0);
      await client.query('ROLLBACK');
    }
    if (removed !== NEEDLES) throw new Error(`pgcache bench: invalidated ${removed} entries, want ${NEEDLES}`);
    Object.assign(invalidate, {
      entries,
      tagged: NEEDLES,
      otherTagged: OTHER_TAGGED,
      removed,
      medianMs: median(times),
      ...plan,
    });
    ctx.log(
      `  cache_invalidate_tags, 1 tag: ${removed} entries in ${fmtMs(median(times))} (median of ${times.length}); ` +
        `plan read ${plan.heapRowsRead} heap rows in ${plan.heapBlocks} blocks (${plan.sharedBuffers} buffers), tag index ${plan.indexUsed ? 'used' : 'NOT used'}`,
    );
  } finally {
    client.release();
  }

  // (2) The source table's UPDATE cost.
  await ctx.pool.query(`DROP TABLE IF EXISTS public.bench_docs`);
  await ctx.pool.query(`CREATE TABLE public.bench_docs (id int PRIMARY KEY, body text NOT NULL)`);
  await ctx.pool.query(`INSERT INTO public.bench_docs SELECT g, 'v0' FROM generate_series(1, $1::int) g`, [
    SOURCE_ROWS,
  ]);
  await ctx.pool.query(`VACUUM ANALYZE public.bench_docs`);
  const updater = ctx.db.pool(1);
  const roundMs = ctx.flags.quick ? 500 : 3000;
  const measure = async (label: string) => {
    let n = 0;
    const one = await runLoop(
      () =>
        updater.query({
          name: 'bench_docs_one',
          text: 'UPDATE public.bench_docs SET body = $1 WHERE id = $2',
          values: [`v${n++}`, 1 + Math.floor(Math.random() * SOURCE_ROWS)],
        }),
      1,
      roundMs,
      1_000_000,
    );
    const many = await runLoop(
      () => updater.query(`UPDATE public.bench_docs SET body = body || '' WHERE id <= ${SOURCE_ROWS}`),
      1,
      roundMs * 2,
      1000,
    );
    await ctx.pool.query(`VACUUM public.bench_docs`);
    const oneRow = one.count / (one.elapsedMs / 1000);
    const manyRows = many.count / (many.elapsedMs / 1000);
    const sortedMany = Float64Array.from(many.latencies).sort();
    ctx.log(
      `  UPDATE ${label.padEnd(13)} 1 row: ${Math.round(oneRow).toLocaleString('en-US').padStart(6)} statements/s; ` +
        `${SOURCE_ROWS.toLocaleString('en-US')} rows: ${manyRows.toFixed(2)} statements/s (${fmtMs(sortedMany[Math.floor(sortedMany.length / 2)] ?? Number.NaN)} each)`,
    );
    return {
      oneRowPerSec: oneRow,
      manyStatementsPerSec: manyRows,
      manyMedianMs: sortedMany[Math.floor(sortedMany.length / 2)],
    };
  };
  const without = await measure('without watch');
  await ctx.pool.query(`SELECT pgcache.cache_watch_table('public.bench_docs', 'bdoc:{id}')`);
  // Some entries computed from the source rows, so the first statements have something to delete.
  await ctx.pool.query(
    `UPDATE pgcache.cache_${TYPE} SET tags = ARRAY['bdoc:' || substr(key, 2)] WHERE key IN (SELECT 'k' || g FROM generate_series($1::int, $2::int) g)`,
    [NEEDLES + OTHER_TAGGED + 1, NEEDLES + OTHER_TAGGED + SOURCE_ROWS],
  );
  const watched = await measure('with watch');
  await ctx.pool.query(`SELECT pgcache.cache_unwatch_table('public.bench_docs')`);
  await ctx.pool.query(`DROP TABLE public.bench_docs`);
  await ctx.cache.dropType(TYPE);
  ctx.results.scenarios.tags = {
    invalidate,
    update: { sourceRows: SOURCE_ROWS, without, watched },
  };
}

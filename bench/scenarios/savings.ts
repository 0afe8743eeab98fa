// Savings on and off, in the same run: reads of the same data through the client's view and through
// cache_get, on a type whose entries record what producing them cost (every hit adds to the savings) and on
// one whose entries record none (nothing to count), against the bare primary-key SELECT.
import { isDeepStrictEqual } from 'node:util';
import { type BenchContext, record } from '../lib/context.js';
import { loadCacheType, randomKey, VALUE } from '../lib/fixtures.js';
import { type Case, measureGroup } from '../lib/harness.js';

export const SAVINGS_CASES = {
  'savings.bare.select.named': 'bare PK SELECT (named prepared)',
  'savings.get.off': 'pgcache cache.get, no cost recorded',
  'savings.get.on': 'pgcache cache.get, cost recorded (savings on)',
  'savings.sql.get.off': 'cache_get(), no cost recorded',
  'savings.sql.get.on': 'cache_get(), cost recorded (savings on)',
} as const;
export type SavingsCase = keyof typeof SAVINGS_CASES;

const COSTED = 'bench_costed';

export async function runSavings(ctx: BenchContext): Promise<void> {
  ctx.log('savings: random key of 10,000, ~1 KB JSON values, with and without a recorded cost');
  await ctx.cache.createType({ name: COSTED, valueKind: 'jsonb', defaultTtl: 86_400 }).catch(async () => {
    await ctx.cache.refreshTypes();
  });
  await loadCacheType(ctx.cache.accessor(COSTED));
  // The cost each entry would carry had it been set with { cost } (loaded in batches, which take none).
  await ctx.pool.query(
    `UPDATE pgcache.cache_${COSTED}
        SET meta = pgcache.cache_cost('bench-llm', 812, 240, p_compute_ms => 1800)`,
  );
  await ctx.pool.query(`SELECT pgcache.cache_configure_price('bench-llm', 2.5, 10)`);
  await ctx.pool.query(`VACUUM ANALYZE pgcache.cache_${COSTED}`);

  const plain = ctx.cache.accessor('bench');
  const costed = ctx.cache.accessor(COSTED);
  const sqlGet = (type: string) => async (k: string) =>
    (
      await ctx.pool.query({
        name: `bench_sql_get_${type}`,
        text: 'SELECT pgcache.cache_get($1, $2) AS v',
        values: [type, k],
      })
    ).rows[0]?.v;
  const ops: Record<SavingsCase, (k: string) => Promise<unknown>> = {
    'savings.bare.select.named': async (k) =>
      (await ctx.pool.query({ name: 'bench_bare_get', text: 'SELECT v FROM kv WHERE k = $1', values: [k] })).rows[0]?.v,
    'savings.get.off': (k) => plain.get(k),
    'savings.get.on': (k) => costed.get(k),
    'savings.sql.get.off': sqlGet('bench'),
    'savings.sql.get.on': sqlGet(COSTED),
  };
  for (const [id, op] of Object.entries(ops)) {
    if (!isDeepStrictEqual(await op('k7'), VALUE)) throw new Error(`pgcache bench: ${id} did not return k7's value`);
  }
  const savedBefore = await savedHits(ctx);
  for (const concurrency of ctx.concurrencies) {
    const cases: Case[] = (Object.keys(SAVINGS_CASES) as SavingsCase[]).map((id) => ({
      id,
      concurrency,
      op: () => ops[id](randomKey()),
      // The savings rows the SQL path updates on every hit: vacuumed between rounds, untimed.
      after: id === 'savings.sql.get.on' ? () => ctx.pool.query('VACUUM pgcache.cache_savings_counts') : undefined,
    }));
    await measureGroup(cases, ctx.timing, (c, s) =>
      record(ctx, 'savings', c.id, SAVINGS_CASES[c.id as SavingsCase], s),
    );
  }
  await ctx.cache.stats(); // reports the client's last counts
  const counted = (await savedHits(ctx)) - savedBefore;
  ctx.results.scenarios.savings = { savedHits: counted };
  ctx.log(`  hits counted as savings during the scenario: ${counted.toLocaleString('en-US')}`);
}

async function savedHits(ctx: BenchContext): Promise<number> {
  const { rows } = await ctx.pool.query(
    `SELECT coalesce(sum(hits), 0)::bigint AS n FROM pgcache.cache_savings WHERE cache_type = $1`,
    [COSTED],
  );
  return Number(rows[0].n);
}

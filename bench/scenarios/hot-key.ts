// Hot key: 16 clients reading one key. The naive table cache's get updates the row on every read, so its readers queue on
// the row lock; pgcache's get does not write (a touch at most once per touch_interval, skipping locked rows).
import { type BenchContext, record } from '../lib/context.js';
import { type Case, measureGroup } from '../lib/harness.js';
import { naiveAfter, readOps } from './reads.js';

export const HOT_KEY = 'k1';
export const HOT_CONCURRENCY = 16;

const HOT_CASES = {
  'pgcache.get': 'hot key: pgcache cache.get',
  'naive.get': 'hot key: naive table get (UPDATE per read)',
  'bare.select.named': 'hot key: bare PK SELECT (named)',
  'redis.get': 'hot key: Redis GET',
} as const;

export async function runHotKey(ctx: BenchContext): Promise<void> {
  ctx.log(`hot key: ${HOT_CONCURRENCY} clients on one key`);
  const ops = readOps(ctx);
  const cases: Case[] = (Object.keys(HOT_CASES) as (keyof typeof HOT_CASES)[]).map((id) => ({
    id,
    concurrency: HOT_CONCURRENCY,
    op: () => ops[id](HOT_KEY),
    after: id === 'naive.get' ? naiveAfter(ctx) : undefined,
  }));
  await measureGroup(cases, ctx.timing, (c, s) =>
    record(ctx, 'hot-key', `hot.${c.id}`, HOT_CASES[c.id as keyof typeof HOT_CASES], s),
  );
}

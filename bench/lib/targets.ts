// The targets of issue 8, computed from anchors measured in the same run: a ratio (or a value) per row and
// PASS or MISS. Rows whose inputs were not measured (a skipped scenario) show as n/a.
import { type BenchResults, findCase } from './context.js';

export interface TargetRow {
  name: string;
  /** "≥ 0.9×", "< 2 ms", ... */
  goal: string;
  /** The measured value, e.g. "0.82×" or "1.41 ms", and what it was computed from. */
  value: number | null;
  unit: 'x' | 'ms';
  /** The goal as a number: at least (`min`) or at most (`max`). */
  threshold: number | null;
  direction: 'min' | 'max';
  detail: string;
  status: 'PASS' | 'MISS' | 'n/a' | 'info';
}

const fmtRate = (n: number) => `${Math.round(n).toLocaleString('en-US')}/s`;

export function computeTargets(results: BenchResults): TargetRow[] {
  const rows: TargetRow[] = [];
  const rate = (id: string, c: number) => findCase(results, id, c)?.opsPerSec;
  const sample = (id: string, c: number) => findCase(results, id, c);

  const ratio = (name: string, num: string, den: string, c: number, min: number | null, what: string) => {
    const a = rate(num, c);
    const b = rate(den, c);
    const value = a !== undefined && b !== undefined ? a / b : null;
    rows.push({
      name: `${name} (c=${c})`,
      goal: min === null ? '—' : `≥ ${min}×`,
      value,
      unit: 'x',
      threshold: min,
      direction: 'min',
      detail: value === null ? 'not measured' : `${fmtRate(a as number)} vs ${what} ${fmtRate(b as number)}`,
      status: value === null ? 'n/a' : min === null ? 'info' : value >= min ? 'PASS' : 'MISS',
    });
  };
  const bound = (name: string, value: number | null, max: number, unit: 'x' | 'ms', detail: string, strict = false) => {
    rows.push({
      name,
      goal: `${strict ? '<' : '≤'} ${max}${unit === 'x' ? '×' : ' ms'}`,
      value,
      unit,
      threshold: max,
      direction: 'max',
      detail: value === null ? 'not measured' : detail,
      status: value === null ? 'n/a' : (strict ? value < max : value <= max) ? 'PASS' : 'MISS',
    });
  };

  for (const c of [1, 16]) ratio('get / bare PK SELECT (unnamed)', 'pgcache.get', 'bare.select', c, 0.9, 'SELECT');
  for (const c of [1, 16]) ratio('get / bare PK SELECT (named)', 'pgcache.get', 'bare.select.named', c, 0.9, 'SELECT');
  for (const c of [1, 16]) ratio('get / seed get', 'pgcache.get', 'seed.get', c, 3, 'seed');
  for (const c of [1, 16]) ratio('get / Keyv (@keyv/postgres) get', 'pgcache.get', 'keyv.postgres.get', c, 1, 'Keyv');
  ratio('hot key: get / seed get', 'hot.pgcache.get', 'hot.seed.get', 16, 10, 'seed');
  const hot = sample('hot.pgcache.get', 16);
  bound('hot key: get p99 (c=16)', hot?.p99Ms ?? null, 2, 'ms', `p50 ${hot?.p50Ms.toFixed(3)} ms`, true);
  for (const c of [1, 16]) ratio('set / bare upsert (durable)', 'pgcache.set', 'bare.upsert', c, 0.9, 'upsert');
  for (const c of [1, 16]) ratio('set UNLOGGED / bare upsert', 'pgcache.set.unlogged', 'bare.upsert', c, 2, 'upsert');
  for (const c of [1, 16]) ratio('set async commit / bare upsert', 'pgcache.set.async', 'bare.upsert', c, 2, 'upsert');
  ratio('getMany(100) / 100 sequential gets', 'pgcache.getMany100', 'pgcache.get.x100', 1, 20, '100 gets');
  const floor = 'bare.selectAny100';

  const l1 = results.scenarios.nearCache as { staleness?: { p99Ms: number; p50Ms: number } } | undefined;
  ratio('L1 hit / Redis GET', 'l1.get', 'l1.redis.get', 1, 10, 'Redis');
  bound(
    'L1 staleness after a committed write, p99',
    l1?.staleness?.p99Ms ?? null,
    50,
    'ms',
    `p50 ${l1?.staleness?.p50Ms.toFixed(2)} ms`,
    true,
  );

  const churn = results.scenarios.churn as
    | { pgcache: { ratio: number; before: { total: number }; after: { total: number } }; seed?: { ratio: number } }
    | undefined;
  const mb = (b: number) => `${(b / 2 ** 20).toFixed(1)} MB`;
  bound(
    'size after 200k churn ops / after load',
    churn?.pgcache.ratio ?? null,
    1.5,
    'x',
    churn
      ? `${mb(churn.pgcache.before.total)} → ${mb(churn.pgcache.after.total)}; seed table ${churn.seed?.ratio.toFixed(2)}×`
      : '',
  );
  const cleanup = results.scenarios.cleanup as
    | Record<'cleanup' | 'eviction', { p99Ratio: number; readerP99Ms: number; quietP99Ms: number; seconds: number }>
    | undefined;
  for (const phase of ['cleanup', 'eviction'] as const) {
    const p = cleanup?.[phase];
    bound(
      `${phase === 'cleanup' ? 'clean-up' : 'eviction'} of 100k rows: reader p99 / quiet`,
      p?.p99Ratio ?? null,
      5,
      'x',
      p ? `${p.readerP99Ms.toFixed(2)} ms vs ${p.quietP99Ms.toFixed(2)} ms; took ${p.seconds.toFixed(2)} s` : '',
    );
  }

  // For orientation, no target.
  for (const c of [1, 16]) ratio('get / Redis GET', 'pgcache.get', 'redis.get', c, null, 'Redis');
  for (const c of [1, 16]) ratio('set / Redis SET', 'pgcache.set', 'redis.set', c, null, 'Redis');
  for (const c of [1, 16])
    ratio(
      'Keyv get: pgcache/keyv / @keyv/postgres',
      'keyv.pgcache.get',
      'keyv.postgres.get',
      c,
      null,
      '@keyv/postgres',
    );
  return rows;
}

export function formatValue(row: TargetRow): string {
  if (row.value === null) return '—';
  return row.unit === 'x' ? `${row.value.toFixed(2)}×` : `${row.value.toFixed(2)} ms`;
}

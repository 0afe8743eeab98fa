// The performance targets, computed from anchors measured in the same run: a ratio (or a value) per row and
// PASS or MISS. Rows whose inputs were not measured (a skipped scenario) show as n/a.
import { type BenchResults, findCase } from './context.js';

export interface TargetRow {
  name: string;
  /** "≥ 0.9×", "< 2 ms", ... */
  goal: string;
  /** The measured value, e.g. "0.82×" or "1.41 ms", and what it was computed from. */
  value: number | null;
  unit: 'x' | 'ms' | '%' | 'n';
  /** The goal as a number: at least (`min`) or at most (`max`). */
  threshold: number | null;
  direction: 'min' | 'max';
  detail: string;
  status: 'PASS' | 'MISS' | 'n/a' | 'info';
}

const fmtRate = (n: number) => `${Math.round(n).toLocaleString('en-US')}/s`;

/** What the semantic scenario records (bench/scenarios/semantic.ts). */
export interface SemanticFigures {
  vectors: number;
  dimensions: number;
  exact: { found: number; asked: number };
  near: { found: number; asked: number };
  never: { found: number; asked: number };
  writes: { lookups: number; rowsWritten: number; walBytes: number };
  /** Whether the bare anchor's plan scans the HNSW index (false: it sorts every row, and the ratio is void). */
  bareOnIndex?: boolean;
}

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
  const bound = (name: string, value: number | null, max: number, unit: TargetRow['unit'], detail: string) => {
    rows.push({
      name,
      goal: `≤ ${max}${unit === 'x' ? '×' : unit === 'ms' ? ' ms' : unit === '%' ? ' %' : ''}`,
      value,
      unit,
      threshold: max,
      direction: 'max',
      detail: value === null ? 'not measured' : detail,
      status: value === null ? 'n/a' : value <= max ? 'PASS' : 'MISS',
    });
  };

  // Read path: against the floor of a Postgres read (named prepared, as the client's statements are) and Keyv.
  for (const c of [1, 16]) ratio('get / bare PK SELECT (named)', 'pgcache.get', 'bare.select.named', c, 0.9, 'SELECT');
  for (const c of [1, 16]) ratio('get / Keyv (@keyv/postgres) get', 'pgcache.get', 'keyv.postgres.get', c, 1, 'Keyv');
  // Savings on and off (bench/scenarios/savings.ts), information: the same reads of entries with and without a
  // recorded cost, through the client's view and through cache_get().
  for (const c of [1, 16]) ratio('get, savings on / off', 'savings.get.on', 'savings.get.off', c, null, 'off');
  for (const c of [1, 16])
    ratio('get with savings / bare PK SELECT', 'savings.get.on', 'savings.bare.select.named', c, null, 'SELECT');
  for (const c of [1, 16])
    ratio('cache_get(), savings on / off', 'savings.sql.get.on', 'savings.sql.get.off', c, null, 'off');
  // Write path.
  for (const c of [1, 16]) ratio('set durable / bare upsert', 'pgcache.set', 'bare.upsert', c, 0.9, 'upsert');
  ratio('set UNLOGGED / durable bare upsert', 'pgcache.set.unlogged', 'bare.upsert', 1, 1.5, 'upsert');
  // Batches.
  ratio('getMany(100) / bare = ANY (100 keys)', 'pgcache.getMany100', 'bare.selectAny100', 1, 0.9, '= ANY');
  ratio('setMany(100) / bare multi-row upsert', 'pgcache.setMany100', 'bare.upsertMany100', 1, 0.9, 'upsert');
  // Keyv store against Keyv's own Postgres store.
  for (const c of [1, 16])
    ratio('Keyv get: pgcache/keyv / @keyv/postgres', 'keyv.pgcache.get', 'keyv.postgres.get', c, 1, '@keyv/postgres');
  for (const c of [1, 16])
    ratio('Keyv set: pgcache/keyv / @keyv/postgres', 'keyv.pgcache.set', 'keyv.postgres.set', c, 1, '@keyv/postgres');
  const batches = results.scenarios.batches as { deleteManyRoundTrips: number; deleteManyKeys: number } | undefined;
  bound(
    'Keyv deleteMany: round trips',
    batches?.deleteManyRoundTrips ?? null,
    1,
    'n',
    batches ? `statements sent by one deleteMany of ${batches.deleteManyKeys} keys` : '',
  );
  // Hot key: 16 clients on one key.
  ratio('hot key: get / naive get (UPDATE per read)', 'hot.pgcache.get', 'hot.naive.get', 16, 10, 'naive');
  const hot = sample('hot.pgcache.get', 16);
  const hotBare = sample('hot.bare.select.named', 16);
  bound(
    'hot key: get p99 / bare SELECT p99 (c=16)',
    hot && hotBare ? hot.p99Ms / hotBare.p99Ms : null,
    1.5,
    'x',
    `${hot?.p99Ms.toFixed(2)} ms vs ${hotBare?.p99Ms.toFixed(2)} ms`,
  );

  const churn = results.scenarios.churn as
    | { pgcache: { ratio: number; before: { total: number }; after: { total: number } }; naive?: { ratio: number } }
    | undefined;
  const mb = (b: number) => `${(b / 2 ** 20).toFixed(1)} MB`;
  bound(
    'size after churn / after load (default settings)',
    churn?.pgcache.ratio ?? null,
    1.3,
    'x',
    churn
      ? `${mb(churn.pgcache.before.total)} → ${mb(churn.pgcache.after.total)}; naive table cache ${churn.naive?.ratio.toFixed(2)}×`
      : '',
  );

  // Semantic lookup (`--semantic`: 100,000 x 1536).
  const sem = results.scenarios.semantic as SemanticFigures | undefined;
  const pct = (x: number | undefined) => (x === undefined ? null : 100 * x);
  const atLeast = (name: string, value: number | null, min: number, unit: TargetRow['unit'], detail: string) =>
    rows.push({
      name,
      goal: `≥ ${min}${unit === 'x' ? '×' : unit === '%' ? ' %' : ''}`,
      value,
      unit,
      threshold: min,
      direction: 'min',
      detail: value === null ? 'not measured' : detail,
      status: value === null ? 'n/a' : value >= min ? 'PASS' : 'MISS',
    });
  const of = (f: { found: number; asked: number } | undefined) => (f ? `${f.found}/${f.asked}` : '');
  const scale = sem ? `${sem.vectors.toLocaleString('en-US')} x ${sem.dimensions}` : '';
  atLeast(
    'semantic: near repeats found',
    pct(sem && sem.near.found / sem.near.asked),
    99,
    '%',
    `${of(sem?.near)} at ${scale}`,
  );
  atLeast(
    'semantic: exact repeats found',
    pct(sem && sem.exact.found / sem.exact.asked),
    100,
    '%',
    `${of(sem?.exact)}`,
  );
  const hitP50 = sample('semantic.get.near', 1)?.p50Ms;
  const missP50 = sample('semantic.get.never', 1)?.p50Ms;
  bound(
    'semantic: never-stored p50 / near-repeat p50 (c=1)',
    hitP50 && missP50 ? missP50 / hitP50 : null,
    1,
    'x',
    `${missP50?.toFixed(2)} ms vs ${hitP50?.toFixed(2)} ms`,
  );
  const nearC1 = sample('semantic.get.near', 1);
  bound(
    'semantic: p99 / p50 (c=1, near repeats)',
    nearC1 ? nearC1.p99Ms / nearC1.p50Ms : null,
    2,
    'x',
    nearC1 ? `p99 ${nearC1.p99Ms.toFixed(2)} ms, p50 ${nearC1.p50Ms.toFixed(2)} ms` : '',
  );
  bound(
    'semantic: rows written per lookup',
    sem ? sem.writes.rowsWritten / sem.writes.lookups : null,
    0,
    'n',
    sem ? `${sem.writes.rowsWritten} rows, ${sem.writes.walBytes} WAL bytes in ${sem.writes.lookups} lookups` : '',
  );
  for (const c of [1, 16]) {
    ratio('semantic: cache_semantic_get / bare pgvector', 'semantic.get.near', 'semantic.bare.near', c, 0.8, 'bare');
    const row = rows[rows.length - 1] as TargetRow;
    if (sem?.bareOnIndex === false && row.value !== null) {
      row.status = 'MISS';
      row.detail = `void: the bare query sorted every row instead of using the HNSW index (${row.detail})`;
    }
  }

  // For orientation, no target.
  for (const c of [1, 16]) ratio('get / bare PK SELECT (unnamed)', 'pgcache.get', 'bare.select', c, null, 'SELECT');
  for (const c of [1, 16]) ratio('get / naive get (UPDATE per read)', 'pgcache.get', 'naive.get', c, null, 'naive');
  ratio('set UNLOGGED / durable bare upsert', 'pgcache.set.unlogged', 'bare.upsert', 16, null, 'upsert');
  for (const c of [1, 16])
    ratio('set async commit / bare upsert', 'pgcache.set.async', 'bare.upsert', c, null, 'upsert');
  ratio('getMany(100) / 100 sequential gets', 'pgcache.getMany100', 'pgcache.get.x100', 1, null, '100 gets');
  for (const c of [1, 16]) ratio('get / Redis GET', 'pgcache.get', 'redis.get', c, null, 'Redis');
  for (const c of [1, 16]) ratio('set / Redis SET', 'pgcache.set', 'redis.set', c, null, 'Redis');
  // Rate limiting: a limiter hit against a Redis fixed-window limiter and a bare counter UPDATE.
  for (const c of [1, 16]) ratio('rateLimit / Redis INCR + PEXPIRE', 'rl.pgcache', 'rl.redis.incr', c, null, 'Redis');
  for (const c of [1, 16]) ratio('rateLimit / bare UPDATE n + 1', 'rl.pgcache', 'rl.bare.update', c, null, 'UPDATE');
  ratio('hot limiter key: rateLimit / Redis', 'rl.hot.pgcache', 'rl.hot.redis.incr', 16, null, 'Redis');
  ratio('hot limiter key: rateLimit / bare UPDATE', 'rl.hot.pgcache', 'rl.hot.bare.update', 16, null, 'UPDATE');
  ratio('hot limiter key: denials / allowed hits', 'rl.hot.pgcache.denied', 'rl.hot.pgcache', 16, null, 'allowed');
  // Counters (bench/scenarios/counters.ts).
  for (const c of [1, 16]) ratio('incr / Redis INCR', 'pgcache.incr', 'redis.incr', c, null, 'Redis');
  for (const c of [1, 16]) ratio('incr / bare UPDATE n = n + 1', 'pgcache.incr', 'bare.update.incr', c, null, 'UPDATE');
  const l1 = results.scenarios.nearCache as { staleness?: { p99Ms: number; p50Ms: number } } | undefined;
  ratio('L1 hit / Redis GET', 'l1.get', 'l1.redis.get', 1, null, 'Redis');
  if (l1?.staleness)
    rows.push({
      name: 'L1 staleness after a committed write, p99',
      goal: '—',
      value: l1.staleness.p99Ms,
      unit: 'ms',
      threshold: null,
      direction: 'max',
      detail: `p50 ${l1.staleness.p50Ms.toFixed(2)} ms`,
      status: 'info',
    });
  const cleanup = results.scenarios.cleanup as
    | Record<'cleanup' | 'eviction', { p99Ratio: number; readerP99Ms: number; quietP99Ms: number; seconds: number }>
    | undefined;
  for (const phase of ['cleanup', 'eviction'] as const) {
    const p = cleanup?.[phase];
    if (!p) continue;
    rows.push({
      name: `${phase === 'cleanup' ? 'clean-up' : 'eviction'} of 100k rows: reader p99 / quiet`,
      goal: '—',
      value: p.p99Ratio,
      unit: 'x',
      threshold: null,
      direction: 'max',
      detail: `${p.readerP99Ms.toFixed(2)} ms vs ${p.quietP99Ms.toFixed(2)} ms; took ${p.seconds.toFixed(2)} s`,
      status: 'info',
    });
  }
  return rows;
}

export function formatValue(row: TargetRow): string {
  if (row.value === null) return '—';
  if (row.unit === 'x') return `${row.value.toFixed(2)}×`;
  if (row.unit === '%') return `${row.value.toFixed(1)} %`;
  if (row.unit === 'n') return Number.isInteger(row.value) ? String(row.value) : row.value.toFixed(3);
  return `${row.value.toFixed(2)} ms`;
}

// The outputs: the printed table of targets, bench/results/latest.json, latest.md (machine, targets, every
// measurement) and latest.svg.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { renderChart } from './chart.js';
import type { BenchFlags, BenchResults } from './context.js';
import type { Timing } from './harness.js';
import { type Machine, machineLine } from './machine.js';
import { formatValue, type SemanticFigures, type TargetRow } from './targets.js';

export interface Report {
  machine: Machine;
  flags: BenchFlags;
  timing: Timing;
  seconds: number;
  results: BenchResults;
  targets: TargetRow[];
}

function pad(cells: string[][]): string[] {
  const widths = cells[0]?.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? '').length))) ?? [];
  return cells.map((r) =>
    r
      .map((c, i) => c.padEnd(widths[i] ?? 0))
      .join('  ')
      .trimEnd(),
  );
}

export function targetTable(targets: TargetRow[]): string {
  const rows = [
    ['target', 'goal', 'measured', 'result', 'from'],
    ...targets.map((t) => [t.name, t.goal, formatValue(t), t.status, t.detail]),
  ];
  const lines = pad(rows);
  lines.splice(1, 0, '-'.repeat(Math.max(...lines.map((l) => l.length))));
  return lines.join('\n');
}

const ms = (v: number) => (Number.isFinite(v) ? (v < 10 ? v.toFixed(3) : v.toFixed(1)) : '—');

function markdown(r: Report): string {
  const m = r.machine;
  const out: string[] = [];
  out.push('# pgcache benchmark', '');
  out.push(
    `Taken ${m.date.slice(0, 16).replace('T', ' ')} UTC with \`npm run bench\`${r.flags.quick ? ' --quick (numbers not comparable)' : ''} in ${Math.round(r.seconds)} s, commit \`${m.gitCommit}\`${m.gitDirty ? ' plus uncommitted changes to src/sql' : ''}.`,
    '',
  );
  out.push(`**Machine:** ${machineLine(m)}.`, '');
  out.push(
    `PostgreSQL: the private cluster (${m.cluster}), ${Object.entries(m.pgSettings)
      .map(([k, v]) => `${k}=${v}`)
      .join(
        ', ',
      )}. Redis: a private redis-server without persistence. Every ratio compares two paths measured in the same run, interleaved in ${r.timing.rounds} rounds of ${r.timing.roundMs / 1000} s after a ${r.timing.warmupMs / 1000} s warm-up; ops/s is the median round, p50/p99 are over all rounds. Client and servers share the machine's cores.`,
    '',
  );
  out.push('## Targets', '');
  out.push('| target | goal | measured | result | from |', '|---|---|---|---|---|');
  for (const t of r.targets)
    out.push(
      `| ${t.name} | ${t.goal} | ${formatValue(t)} | ${t.status === 'PASS' ? '**PASS**' : t.status === 'MISS' ? '**MISS**' : t.status} | ${t.detail} |`,
    );
  out.push('', '![pgcache benchmark chart](latest.svg)', '');
  out.push(
    'What each path does: every op picks a random key of 10,000 and moves a ~1 KB JSON value. pgcache goes through the',
    'TypeScript client (`createCache`, named prepared statements). The bare anchors are a plain `kv (k text PRIMARY KEY,',
    'v jsonb)` table. The naive table cache is a table and queries as written, without its `JSON.parse` of an already parsed jsonb.',
    'Redis GET parses and SET stringifies the JSON, as the pg paths do. Keyv runs through `keyv` with its own',
    'serialization. Durable writes wait for the WAL flush on this disk. The async-commit case sets',
    '`synchronous_commit=off` on its session; there is no per-type setting. The L1 case uses',
    '`createCache({ nearCache })` on a type with notify on. A case that writes (the naive get too) has its table',
    "vacuumed, untimed, after each of its rounds, so its dead tuples are not cleaned up during another case's round.",
    '',
  );
  out.push('## Every measurement', '');
  out.push('| scenario | case | c | ops/s | p50 ms | p99 ms | max ms |', '|---|---|---|---|---|---|---|');
  for (const c of r.results.cases) {
    const s = c.sample;
    out.push(
      `| ${c.group} | ${c.label} | ${s.concurrency} | ${Math.round(s.opsPerSec).toLocaleString('en-US')} | ${ms(s.p50Ms)} | ${ms(s.p99Ms)} | ${ms(s.maxMs)} |`,
    );
  }
  const sc = r.results.scenarios;
  if (sc.cleanup) {
    const c = sc.cleanup as Record<string, Record<string, number>>;
    out.push('', '## Clean-up and eviction of 100,000 rows', '');
    out.push(
      'Each phase ran several times, with one reader on live keys of the same table; the row shown is the run with the median p99 ratio.',
      '',
      '| phase | rows | seconds | statements | reader p50 ms | reader p99 ms | quiet p99 ms | p99 ratio | every run |',
      '|---|---|---|---|---|---|---|---|---|',
    );
    const runs = sc.cleanup as Record<string, { p99Ratio: number }[] | undefined>;
    for (const [name, p, all] of [
      [`cache_cleanup_expired, batches of ${c.batch}`, c.cleanup, runs.cleanupRuns],
      ['cache_evict (lru), one call', c.eviction, runs.evictionRuns],
    ] as const) {
      const q = p as Record<string, number>;
      const every = (all ?? []).map((r) => `${r.p99Ratio.toFixed(2)}×`).join(', ');
      out.push(
        `| ${name} | ${q.rows} | ${q.seconds?.toFixed(2)} | ${q.statements} | ${ms(q.readerP50Ms ?? Number.NaN)} | ${ms(q.readerP99Ms ?? Number.NaN)} | ${ms(q.quietP99Ms ?? Number.NaN)} | ${q.p99Ratio?.toFixed(2)}× | ${every} |`,
      );
    }
  }
  if (sc.churn) {
    const c = sc.churn as Record<string, Record<string, unknown>>;
    out.push('', '## Size after churn', '');
    out.push(
      `60% get, 28% set, 10% set expiring in 2 s, 2% delete over 10,000 keys at c=16; cache_maintenance() every ${Number(c.maintenanceEveryMs) / 1000} s for pgcache; autovacuum at the table settings and the server's naptime.`,
      '',
    );
    out.push(
      '| table | ops | ops/s | before | after | ratio | autovacuum runs | heap before → after | indexes after |',
      '|---|---|---|---|---|---|---|---|---|',
    );
    const mb = (b: number) => `${(b / 2 ** 20).toFixed(1)} MB`;
    for (const name of ['pgcache', 'naive']) {
      const x = c[name] as
        | {
            ops: number;
            opsPerSec: number;
            ratio: number;
            autovacuumRuns: number;
            before: { total: number; heap: number };
            after: { total: number; heap: number; indexes: Record<string, number> };
          }
        | undefined;
      if (!x) continue;
      const idx = Object.entries(x.after.indexes)
        .map(([k, v]) => `${k.replace(/^.*\./, '')} ${mb(v)}`)
        .join(', ');
      out.push(
        `| ${name} | ${x.ops.toLocaleString('en-US')} | ${Math.round(x.opsPerSec).toLocaleString('en-US')} | ${mb(x.before.total)} | ${mb(x.after.total)} | ${x.ratio.toFixed(2)}× | ${x.autovacuumRuns} | ${mb(x.before.heap)} → ${mb(x.after.heap)} | ${idx} |`,
      );
    }
  }
  if (sc.semantic) {
    const s = sc.semantic as Record<string, number>;
    const f = sc.semantic as Partial<SemanticFigures>;
    out.push('', '## Semantic lookup', '');
    out.push(
      `${s.vectors?.toLocaleString('en-US')} vectors of ${s.dimensions} dimensions${s.vectors === 100_000 ? '' : ' (the default; `npm run bench -- --semantic` measures 100,000)'}: bulk-loaded in ${s.loadSeconds?.toFixed(1)} s, HNSW index built in ${s.buildSeconds?.toFixed(1)} s; lookups within cosine distance ${s.maxCosineDistance}: exact repeats found ${f.exact?.found}/${f.exact?.asked}, near repeats (noise of norm ${s.noiseNorm}) ${f.near?.found}/${f.near?.asked}, never-stored vectors answered ${f.never?.found}/${f.never?.asked}; the counted pass wrote ${f.writes?.rowsWritten} rows and ${f.writes?.walBytes} WAL bytes in ${f.writes?.lookups} lookups. Latencies are in the table above.`,
    );
  }
  if (sc.tags) {
    const t = sc.tags as {
      invalidate: Record<string, number | boolean>;
      update: {
        sourceRows: number;
        without: Record<string, number>;
        watched: Record<string, number>;
      };
    };
    const i = t.invalidate;
    out.push('', '## Tags and watched tables', '');
    out.push(
      `cache_invalidate_tags of 1 tag over ${Number(i.entries).toLocaleString('en-US')} entries, ${i.tagged} carrying it (and ${Number(i.otherTagged).toLocaleString('en-US')} other tags): ${i.removed} entries removed in ${ms(Number(i.medianMs))} ms (median, each run rolled back); the row selection read ${i.heapRowsRead} heap rows in ${i.heapBlocks} blocks, ${i.sharedBuffers} buffers in all, through the tag index${i.indexUsed ? '' : ' (NOT used)'}.`,
      '',
      `| UPDATE of the source table | 1 row (statements/s, c=1) | ${t.update.sourceRows.toLocaleString('en-US')} rows (statements/s) | ${t.update.sourceRows.toLocaleString('en-US')} rows (ms each) |`,
      '|---|---|---|---|',
    );
    for (const [name, u] of [
      ['without a watch', t.update.without],
      ['with a watch', t.update.watched],
    ] as const) {
      out.push(
        `| ${name} | ${Math.round(u.oneRowPerSec ?? 0).toLocaleString('en-US')} | ${(u.manyStatementsPerSec ?? 0).toFixed(2)} | ${ms(u.manyMedianMs ?? Number.NaN)} |`,
      );
    }
  }
  if (sc.nearCache) {
    const n = sc.nearCache as { skipped?: string; staleness?: Record<string, number> };
    out.push('', '## L1 near-cache', '');
    out.push(
      n.skipped ??
        `Staleness after a committed write on another connection, over ${n.staleness?.samples} writes: p50 ${n.staleness?.p50Ms?.toFixed(2)} ms, p99 ${n.staleness?.p99Ms?.toFixed(2)} ms, max ${n.staleness?.maxMs?.toFixed(2)} ms.`,
    );
  }
  out.push('');
  return out.join('\n');
}

export function writeReport(dir: string, r: Report): void {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'latest.json'), `${JSON.stringify(r, null, 2)}\n`);
  writeFileSync(join(dir, 'latest.md'), markdown(r));
  const m = r.machine;
  const passed = r.targets.filter((t) => t.status === 'PASS').length;
  const judged = r.targets.filter((t) => t.status === 'PASS' || t.status === 'MISS').length;
  const title = `pgcache benchmark, ${m.date.slice(0, 10)}: ${passed} of ${judged} targets met`;
  const subtitle = `${m.cores} cores, ${m.memoryGiB} GiB, PostgreSQL ${m.postgres.split(' ')[0]}, Redis ${m.redis}, Node ${m.node}; load average ${m.loadStart[0]} → ${m.loadEnd?.[0] ?? '?'}; commit ${m.gitCommit}`;
  writeFileSync(join(dir, 'latest.svg'), renderChart(r.targets, r.results.cases, title, subtitle));
}

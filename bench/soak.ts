// Soak: several worker processes (bench/soak-worker.ts) do mixed get/set/delete and batches for a set time
// against a fresh database on the private cluster, while this process runs cache_maintenance() every few
// seconds and samples the table sizes. Prints throughput, errors (must be zero), table size over time (must
// level off) and the lost-write checks (each worker reads back its own last acknowledged writes). Exits 1 when
// any of the three fails. Not part of `npm test`.
//
//   npm run soak -- [--seconds 120] [--workers 4] [--concurrency 4] [--keys 20000] [--max-entries 10000]
//                   [--owned-keys 400] [--maintenance-ms 2000] [--sample-ms 10000] [--keep]
import { fork } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { CRON_DATABASE, clusterInfo, startCluster } from '../scripts/lib/cluster.js';
import { dropDatabase, ensureDatabase, withClient } from '../scripts/lib/databases.js';
import { migrate } from '../src/install/migrate.js';
import type { Done, Op, Tick, WorkerConfig } from './soak-worker.js';

const { values: args } = parseArgs({
  options: {
    seconds: { type: 'string', default: '120' },
    workers: { type: 'string', default: '4' },
    concurrency: { type: 'string', default: '4' },
    keys: { type: 'string', default: '20000' },
    'max-entries': { type: 'string', default: '10000' },
    'owned-keys': { type: 'string', default: '400' },
    'maintenance-ms': { type: 'string', default: '2000' },
    'sample-ms': { type: 'string', default: '10000' },
    keep: { type: 'boolean', default: false },
  },
});
const seconds = Number(args.seconds);
const workers = Number(args.workers);
const concurrency = Number(args.concurrency);
const keys = Number(args.keys);
const maxEntries = Number(args['max-entries']);
const ownedKeys = Number(args['owned-keys']);
const maintenanceMs = Number(args['maintenance-ms']);
const sampleMs = Number(args['sample-ms']);

const here = dirname(fileURLToPath(import.meta.url));
const info = clusterInfo();
await startCluster(info);
await ensureDatabase(info, CRON_DATABASE);
const database = `pgcache_soak_${randomBytes(4).toString('hex')}`;
await ensureDatabase(info, database);
const url = info.url(database);
await migrate({ databaseUrl: url });
await withClient(url, (c) =>
  c.query(
    `SELECT pgcache.cache_create_type('soak', 'jsonb', interval '30 seconds', p_max_entries => $1, p_eviction_policy => 'lru'),
            pgcache.cache_create_type('soak_owned', 'jsonb', interval '1 day')`,
    [maxEntries],
  ),
);

console.log(
  `pgcache soak: ${workers} worker processes x ${concurrency} loops, ${seconds} s, ${keys} shared keys (budget ${maxEntries} entries, TTL 5-60 s), ` +
    `${ownedKeys} owned keys per worker, maintenance every ${maintenanceMs} ms; database ${database} on port ${info.port}`,
);

// ---------------------------------------------------------------------------------------------------------
// Workers

const totals: Partial<Record<Op, number>> = {};
let intervalOps = 0;
let intervalErrors = 0;
let workerErrors = 0;
const done: Done[] = [];
const children = Array.from({ length: workers }, (_, id) => {
  const config: WorkerConfig = { id, url, concurrency, keys, ownedKeys };
  const child = fork(join(here, 'soak-worker.ts'), [JSON.stringify(config)], {
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  child.on('message', (message: Tick | Done) => {
    if (message.type === 'tick') {
      for (const [op, n] of Object.entries(message.ops) as [Op, number][]) {
        totals[op] = (totals[op] ?? 0) + n;
        intervalOps += n;
      }
      intervalErrors += message.errors;
      workerErrors += message.errors;
    } else done.push(message);
  });
  const exit = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, exit };
});

// ---------------------------------------------------------------------------------------------------------
// Maintenance and sampling

const admin = new pg.Pool({ connectionString: url, max: 2 });
const maintenance = { runs: 0, expired: 0, evicted: 0, incomplete: 0, errors: [] as string[] };
const started = Date.now();
const deadline = started + seconds * 1000;

async function maintain(): Promise<void> {
  while (Date.now() < deadline) {
    try {
      const { rows } = await admin.query(`SELECT expired, evicted, complete FROM pgcache.cache_maintenance()`);
      maintenance.runs++;
      for (const r of rows) {
        maintenance.expired += Number(r.expired);
        maintenance.evicted += Number(r.evicted);
        if (!r.complete) maintenance.incomplete++;
      }
    } catch (error) {
      maintenance.errors.push(String((error as Error).message));
    }
    await new Promise((r) => setTimeout(r, maintenanceMs));
  }
}

interface Sample {
  t: number;
  opsPerSecond: number;
  errors: number;
  rows: number;
  deadRows: number;
  totalMb: number;
  heapMb: number;
  indexMb: number;
  toastMb: number;
  autovacuums: number;
}
const samples: Sample[] = [];
let lastSampleAt = started;
const mb = (bytes: unknown) => Number(bytes) / 1048576;

async function sample(): Promise<void> {
  const { rows } = await admin.query(
    `SELECT s.total_bytes, s.table_bytes, s.index_bytes, s.toast_bytes, s.dead_rows, s.autovacuum_count,
            (SELECT count(*) FROM pgcache.cache_soak) AS rows
       FROM pgcache.cache_sizes s WHERE s.cache_type = 'soak'`,
  );
  const r = rows[0];
  const now = Date.now();
  const s: Sample = {
    t: Math.round((now - started) / 1000),
    opsPerSecond: Math.round(intervalOps / ((now - lastSampleAt) / 1000)),
    errors: intervalErrors,
    rows: Number(r.rows),
    deadRows: Number(r.dead_rows ?? 0),
    totalMb: mb(r.total_bytes),
    heapMb: mb(r.table_bytes),
    indexMb: mb(r.index_bytes),
    toastMb: mb(r.toast_bytes),
    autovacuums: Number(r.autovacuum_count ?? 0),
  };
  intervalOps = 0;
  intervalErrors = 0;
  lastSampleAt = now;
  samples.push(s);
  console.log(
    `${String(s.t).padStart(5)} s ${String(s.opsPerSecond).padStart(8)} ops/s ${String(s.errors).padStart(6)} errors ` +
      `${String(s.rows).padStart(8)} rows ${String(s.deadRows).padStart(8)} dead ${String(s.autovacuums).padStart(3)} ` +
      `${s.totalMb.toFixed(1).padStart(7)} MB (heap ${s.heapMb.toFixed(1)}, toast ${s.toastMb.toFixed(1)}, indexes ${s.indexMb.toFixed(1)})`,
  );
}

console.log(
  '    t     throughput          errors   soak table    dead rows av  size of the soak table (av: autovacuum runs)',
);
const sampler = (async () => {
  while (Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, Math.min(sampleMs, Math.max(0, deadline - Date.now()))));
    await sample();
  }
})();
await Promise.all([maintain(), sampler]);
for (const { child } of children) child.send({ type: 'stop' });
const exits = await Promise.all(children.map(({ exit }) => exit));
await admin.end();

// ---------------------------------------------------------------------------------------------------------
// Summary

const elapsed = (Date.now() - started) / 1000;
const totalOps = Object.values(totals).reduce((a, b) => a + (b ?? 0), 0);
const merged: Partial<Record<Op, number[]>> = {};
const errorKinds: Record<string, number> = {};
let verified = 0;
const lost: string[] = [];
for (const d of done) {
  for (const [op, list] of Object.entries(d.latencies) as [Op, number[]][]) (merged[op] ??= []).push(...list);
  for (const [kind, n] of Object.entries(d.errors)) errorKinds[kind] = (errorKinds[kind] ?? 0) + n;
  verified += d.verified;
  lost.push(...d.lost);
}
const pct = (list: number[], p: number) => {
  const sorted = [...list].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
};

console.log(
  `\nthroughput: ${totalOps} operations in ${elapsed.toFixed(0)} s = ${Math.round(totalOps / seconds)} ops/s`,
);
for (const op of Object.keys(totals) as Op[]) {
  const list = merged[op] ?? [];
  console.log(
    `  ${op.padEnd(12)} ${String(totals[op]).padStart(9)}  p50 ${pct(list, 50).toFixed(2)} ms  p99 ${pct(list, 99).toFixed(2)} ms`,
  );
}
console.log(
  `maintenance: ${maintenance.runs} runs, ${maintenance.expired} expired, ${maintenance.evicted} evicted, ` +
    `${maintenance.incomplete} type-runs left work for the next run, ${maintenance.errors.length} errors`,
);
const errorCount = Object.values(errorKinds).reduce((a, b) => a + b, 0) + maintenance.errors.length;
console.log(`errors: ${errorCount}${errorCount ? '' : ' (none)'}`);
for (const [kind, n] of Object.entries(errorKinds)) console.log(`  ${n} x ${kind}`);
for (const m of maintenance.errors.slice(0, 10)) console.log(`  maintenance: ${m}`);

// Levelled off: the largest size in the last third of the run is within 15% of the largest in the middle third.
const third = Math.max(1, Math.floor(samples.length / 3));
const middle = samples.slice(third, 2 * third);
const lastThird = samples.slice(2 * third);
const maxOf = (list: Sample[]) => Math.max(...list.map((s) => s.totalMb));
const growth = middle.length && lastThird.length ? maxOf(lastThird) / maxOf(middle) : Number.NaN;
const levelled = growth <= 1.15;
const vacuums = (samples.at(-1)?.autovacuums ?? 0) - (samples[0]?.autovacuums ?? 0);
const { rows: naptime } = await withClient(url, (c) => c.query(`SELECT current_setting('autovacuum_naptime') AS v`));
console.log(
  `table size: ${samples[0]?.totalMb.toFixed(1)} MB at ${samples[0]?.t} s, ${samples.at(-1)?.totalMb.toFixed(1)} MB at the end; ` +
    `largest in the last third / middle third = ${growth.toFixed(2)} -> ${levelled ? 'levelled off' : 'STILL GROWING'}` +
    `\n  autovacuum ran ${vacuums} times on it after the first sample (autovacuum_naptime = ${naptime[0]?.v}: ` +
    'between its visits dead rows pile up, so a run shorter than a few naptimes shows the first cycles, not the steady state)',
);
console.log(
  `lost writes: ${lost.length} (${verified} read-backs of owned keys matched their last acknowledged write)` +
    (lost.length ? `\n  ${lost.slice(0, 20).join('\n  ')}` : ''),
);
const crashed = exits.filter((code) => code !== 0).length;
if (crashed) console.log(`worker processes that did not exit cleanly: ${crashed}`);

if (!args.keep) await dropDatabase(info, database);
else console.log(`kept database ${database}`);
const ok =
  errorCount === 0 && workerErrors === 0 && lost.length === 0 && levelled && crashed === 0 && done.length === workers;
console.log(ok ? 'soak: PASS' : 'soak: FAIL');
process.exit(ok ? 0 : 1);

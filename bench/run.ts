// `npm run bench`: pgcache against the floor of PostgreSQL (bare SELECT and upsert), a naive table cache (an UPDATE per read), Keyv
// on @keyv/postgres and Redis, in one run on this machine; prints the performance targets with PASS/MISS and
// writes bench/results/latest.{json,md,svg}.
//   --quick            short rounds, to check the harness (results go to a temporary directory)
//   --semantic[=N]     semantic lookup over N vectors (default with the flag: 100,000; without: 10,000)
//   --only=a,b         run only these scenarios (reads, savings, hot-key, get-many, near-cache, writes, counters, cleanup,
//                      churn, rate-limit, semantic, tags); results go to a temporary directory
//   --keep-cluster     leave the private PostgreSQL running if this run started it
//   --out=DIR          where to write the results
import { tmpdir } from 'node:os';
import { isAbsolute, join, relative, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import KeyvPostgres from '@keyv/postgres';
import Keyv from 'keyv';
import { repoRoot } from '../scripts/lib/cluster.js';
import { createCache } from '../src/client/cache.js';
import { KeyvPgcache } from '../src/keyv.js';
import type { BenchContext, BenchFlags, BenchResults } from './lib/context.js';
import { openBenchDatabase } from './lib/database.js';
import { loadCacheType, loadKeyv, loadKv, loadNaive, loadRedis } from './lib/fixtures.js';
import type { Timing } from './lib/harness.js';
import { describeMachine, finishMachine, machineLine } from './lib/machine.js';
import { startRedis } from './lib/redis.js';
import { targetTable, writeReport } from './lib/report.js';
import { computeTargets } from './lib/targets.js';
import { runChurn } from './scenarios/churn.js';
import { runCleanup } from './scenarios/cleanup.js';
import { runCounters } from './scenarios/counters.js';
import { runGetMany } from './scenarios/get-many.js';
import { runHotKey } from './scenarios/hot-key.js';
import { runNearCache } from './scenarios/near-cache.js';
import { runRateLimit } from './scenarios/rate-limit.js';
import { NAIVE_TABLE, runReads } from './scenarios/reads.js';
import { runSavings } from './scenarios/savings.js';
import { runSemantic } from './scenarios/semantic.js';
import { runTags } from './scenarios/tags.js';
import { runWrites } from './scenarios/writes.js';

const SCENARIOS: Record<string, (ctx: BenchContext) => Promise<void>> = {
  reads: runReads,
  savings: runSavings,
  'hot-key': runHotKey,
  'get-many': runGetMany,
  'near-cache': runNearCache,
  writes: runWrites,
  counters: runCounters,
  cleanup: runCleanup,
  churn: runChurn,
  'rate-limit': runRateLimit,
  semantic: runSemantic,
  tags: runTags,
};

function parseFlags(argv: string[]): BenchFlags & { out?: string } {
  const flags: BenchFlags & { out?: string } = { quick: false, semanticVectors: 10_000, only: [], keepCluster: false };
  for (const arg of argv) {
    const [name, value] = arg.split('=', 2) as [string, string | undefined];
    if (name === '--quick') flags.quick = true;
    else if (name === '--semantic') flags.semanticVectors = value ? Number(value) : 100_000;
    else if (name === '--only') flags.only = (value ?? '').split(',').filter(Boolean);
    else if (name === '--keep-cluster') flags.keepCluster = true;
    else if (name === '--out') flags.out = value;
    else throw new Error(`pgcache bench: unknown argument ${arg} (see the head of bench/run.ts)`);
  }
  for (const s of flags.only) if (!SCENARIOS[s]) throw new Error(`pgcache bench: unknown scenario ${s}`);
  if (!Number.isInteger(flags.semanticVectors) || flags.semanticVectors < 1000) {
    throw new Error('pgcache bench: --semantic=N needs N >= 1000');
  }
  return flags;
}

const flags = parseFlags(process.argv.slice(2));
const partial = flags.quick || flags.only.length > 0;
const outDir = resolve(
  flags.out ?? (partial ? join(tmpdir(), 'pgcache-bench-partial') : join(repoRoot, 'bench/results')),
);
const timing: Timing = flags.quick
  ? { rounds: 1, roundMs: 400, warmupMs: 150, maxOpsPerRound: 200_000 }
  : { rounds: 5, roundMs: 1000, warmupMs: 500, maxOpsPerRound: 1_000_000 };
const log = (line: string) => console.log(line);
const began = performance.now();

const db = await openBenchDatabase({ keepCluster: flags.keepCluster });
const redisServer = await startRedis().catch(async (error) => {
  await db.close();
  throw error;
});
const redis = redisServer.client();
const pool = db.pool(16);
const keyvStore = new KeyvPostgres({ uri: db.url, table: 'keyv_bench', max: 16 });
const keyvPostgres = new Keyv({ store: keyvStore });
const keyvPgcache = new Keyv({ store: new KeyvPgcache({ pool }) });
for (const k of [keyvPostgres, keyvPgcache]) k.on('error', (error) => console.error('keyv error:', error));
try {
  const cache = await createCache({ pool });
  await cache.createType({ name: 'bench', valueKind: 'jsonb', defaultTtl: 86_400 });
  await cache.createType({ name: 'bench_unlogged', valueKind: 'jsonb', defaultTtl: 86_400, unlogged: true });
  log(
    `pgcache bench: loading 10,000 keys of ~1 KB JSON into each system (${db.info.url('pgcache_bench')}, redis :${redisServer.port})`,
  );
  await loadKv(pool);
  await loadNaive(pool, NAIVE_TABLE);
  await loadCacheType(cache.type('bench'));
  await loadCacheType(cache.type('bench_unlogged'));
  await loadRedis(redis);
  await loadKeyv(keyvPostgres);
  await loadKeyv(keyvPgcache);
  for (const table of ['pgcache.cache_bench', 'pgcache.cache_bench_unlogged', 'pgcache.cache_keyv', 'keyv_bench']) {
    await pool.query(`VACUUM ANALYZE ${table}`);
  }
  // The data directory relative to the repository, never a path of this machine.
  const dataDir = relative(repoRoot, db.info.dataDir);
  const cluster = `port ${db.info.port}, ${dataDir.startsWith('..') || isAbsolute(dataDir) ? 'a private data directory' : dataDir}`;
  const machine = await describeMachine(pool, redisServer.version, cluster);
  log(`machine: ${machineLine(machine)}`);
  if (partial)
    log(`partial run (${flags.quick ? '--quick' : `--only=${flags.only.join(',')}`}): results go to ${outDir}`);

  const results: BenchResults = { cases: [], scenarios: {} };
  const ctx: BenchContext = {
    db,
    pool,
    cache,
    redis,
    keyvPostgres,
    keyvPgcache,
    timing,
    concurrencies: [1, 16],
    flags,
    results,
    log,
  };
  for (const [name, run] of Object.entries(SCENARIOS)) {
    if (flags.only.length && !flags.only.includes(name)) continue;
    const t0 = performance.now();
    await run(ctx);
    log(`  (${name}: ${((performance.now() - t0) / 1000).toFixed(0)} s)`);
  }

  finishMachine(machine);
  const targets = computeTargets(results);
  const seconds = (performance.now() - began) / 1000;
  log('');
  log(targetTable(targets));
  log('');
  log(`machine: ${machineLine(machine)}`);
  writeReport(outDir, { machine, flags, timing, seconds, results, targets });
  log(`wrote ${join(outDir, 'latest.json')}, latest.md, latest.svg (${Math.round(seconds)} s in all)`);
} finally {
  redis.disconnect();
  await keyvStore.disconnect().catch(() => undefined);
  await redisServer.stop();
  await db.close();
}

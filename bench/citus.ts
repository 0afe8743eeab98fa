// `npm run bench:citus`: one node against a coordinator and two workers, on this one machine, at 16 clients.
// Both installs live on the Citus cluster of scripts/lib/citus.ts: the single node is a database of the
// coordinator without Citus, the distributed one the coordinator's `pgcache` database after pgcache
// distribute. The same PostgreSQL, settings and cores serve both, so only the ratio means anything: every
// node here shares the same two cores, and a distributed call adds a hop from coordinator to worker.
//   --seconds=N   length of one round (default 5); rounds alternate between the two installs, 3 each
import pg from 'pg';
import { CITUS_DATABASE, citusCluster, startCitus, stopCitus } from '../scripts/lib/citus.js';
import { withClient } from '../scripts/lib/databases.js';
import { type Cache, createCache } from '../src/client/cache.js';
import { distribute } from '../src/install/distribute.js';
import { migrate, uninstall } from '../src/install/migrate.js';
import { median, runLoop } from './lib/harness.js';

const CONCURRENCY = 16;
const ROUNDS = 3;
const KEYS = 10_000;
const SINGLE_DATABASE = 'pgcache_single';
const seconds = Number(process.argv.find((a) => a.startsWith('--seconds='))?.split('=')[1] ?? 5);

interface Target {
  name: string;
  pool: pg.Pool;
  cache: Cache;
}

async function open(name: string, url: string): Promise<Target> {
  const pool = new pg.Pool({ connectionString: url, max: CONCURRENCY });
  const cache = await createCache({ pool });
  // Batches of 1000, set_many's limit.
  await pool.query(
    `SELECT pgcache.cache_set_many('default', array_agg('k' || g), array_agg(to_jsonb(g)))
       FROM generate_series(1, $1) g GROUP BY g / 1000`,
    [KEYS],
  );
  return { name, pool, cache };
}

const key = () => `k${1 + Math.floor(Math.random() * KEYS * 1.1)}`; // about 9 reads in 10 hit
const workloads: Record<string, (t: Target) => Promise<unknown>> = {
  'client get (read view)': (t) => t.cache.type('default').get(key()),
  'client set (type writer)': (t) => t.cache.type('default').set(key(), { n: 1 }),
  'SQL cache_get': (t) => t.pool.query('SELECT pgcache.cache_get($1, $2)', ['default', key()]),
  'SQL cache_set': (t) => t.pool.query('SELECT pgcache.cache_set($1, $2, $3::jsonb)', ['default', key(), '{"n":1}']),
};

const cluster = citusCluster();
const { started } = await startCitus(cluster);
try {
  const coordinator = cluster.coordinator;
  await withClient(coordinator.url(), async (admin) => {
    const { rowCount } = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [SINGLE_DATABASE]);
    if (rowCount === 0) await admin.query(`CREATE DATABASE ${SINGLE_DATABASE}`);
  });
  await withClient(coordinator.url(SINGLE_DATABASE), (db) => db.query('CREATE EXTENSION IF NOT EXISTS vector'));
  const singleUrl = coordinator.url(SINGLE_DATABASE);
  const distributedUrl = coordinator.url(CITUS_DATABASE);
  for (const url of [singleUrl, distributedUrl]) {
    await uninstall({ databaseUrl: url });
    await migrate({ databaseUrl: url });
  }
  await distribute({ databaseUrl: distributedUrl });
  const targets = [await open('one node', singleUrl), await open('coordinator + 2 workers', distributedUrl)];

  console.log(`c=${CONCURRENCY}, ${ROUNDS} alternating rounds of ${seconds} s per install, median ops/s`);
  console.log('| workload | one node | coordinator + 2 workers | ratio |');
  console.log('| --- | ---: | ---: | ---: |');
  for (const [name, op] of Object.entries(workloads)) {
    const rates = new Map<string, number[]>(targets.map((t) => [t.name, []]));
    for (const t of targets) await runLoop(() => op(t), CONCURRENCY, 1000, 1_000_000); // warm-up
    for (let round = 0; round < ROUNDS; round++) {
      for (const t of targets) {
        const loop = await runLoop(() => op(t), CONCURRENCY, seconds * 1000, 10_000_000);
        rates.get(t.name)?.push(loop.count / (loop.elapsedMs / 1000));
      }
    }
    const [single, distributed] = targets.map((t) => median(rates.get(t.name) ?? []));
    console.log(
      `| ${name} | ${Math.round(single ?? 0)} | ${Math.round(distributed ?? 0)} | ${((distributed ?? 0) / (single ?? 1)).toFixed(2)} |`,
    );
  }
  for (const t of targets) {
    await t.cache.close();
    await t.pool.end();
  }
} finally {
  if (started) stopCitus(cluster);
}

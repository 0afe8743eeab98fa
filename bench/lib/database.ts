// The benchmark's PostgreSQL: the private cluster (scripts/lib/cluster.ts, honouring PGCACHE_TEST_PORT and
// PGCACHE_CLUSTER_DIR) and its own database, dropped and reinstalled with migrate() on every run.
import pg from 'pg';
import { type ClusterInfo, CRON_DATABASE, clusterInfo, startCluster, stopCluster } from '../../scripts/lib/cluster.js';
import { dropDatabase, ensureDatabase } from '../../scripts/lib/databases.js';
import { migrate } from '../../src/install/migrate.js';

export const BENCH_DATABASE = 'pgcache_bench';

export interface BenchDatabase {
  info: ClusterInfo;
  url: string;
  /** A pool of `max` connections; extra session settings through `options` (e.g. `-c synchronous_commit=off`). */
  pool(max: number, options?: string): pg.Pool;
  close(): Promise<void>;
}

export async function openBenchDatabase(options: { keepCluster?: boolean } = {}): Promise<BenchDatabase> {
  const info = clusterInfo();
  const { started } = await startCluster(info);
  await ensureDatabase(info, CRON_DATABASE);
  await dropDatabase(info, BENCH_DATABASE);
  await ensureDatabase(info, BENCH_DATABASE);
  const url = info.url(BENCH_DATABASE);
  await migrate({ databaseUrl: url });
  const pools: pg.Pool[] = [];
  return {
    info,
    url,
    pool(max, extra) {
      const p = new pg.Pool({ connectionString: url, max, options: extra });
      pools.push(p);
      return p;
    },
    async close() {
      await Promise.all(pools.map((p) => p.end()));
      if (started && !options.keepCluster) stopCluster(info);
    },
  };
}

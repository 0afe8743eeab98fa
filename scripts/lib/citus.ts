// A Citus cluster on this machine for the opt-in Citus suite: a coordinator and two workers, each a private
// PostgreSQL 15 cluster on its own port (the coordinator's port and the next two), with Citus preloaded.
// Citus is not packaged for Debian: it must have been built and installed into PostgreSQL 15 beforehand.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import {
  type ClusterInfo,
  ClusterError,
  clusterInfoAt,
  repoRoot,
  restartCluster,
  startCluster,
  stopCluster,
} from './cluster.js';
import { ensureDatabase, withClient } from './databases.js';

export const CITUS_DATABASE = 'pgcache';
const CITUS_LIBRARY = '/usr/lib/postgresql/15/lib/citus.so';
const CITUS_CONTROL = '/usr/share/postgresql/15/extension/citus.control';

export interface CitusCluster {
  coordinator: ClusterInfo;
  workers: ClusterInfo[];
}

/** Why Citus cannot run here, or null when it is installed into PostgreSQL 15. */
export function citusMissing(): string | null {
  for (const file of [CITUS_LIBRARY, CITUS_CONTROL]) {
    if (!existsSync(file)) return `Citus is not installed into PostgreSQL 15 (${file} is missing)`;
  }
  return null;
}

/** The three nodes: PGCACHE_CITUS_PORT (default 54381) and the next two ports, under PGCACHE_CITUS_DIR. */
export function citusCluster(): CitusCluster {
  const port = Number(process.env.PGCACHE_CITUS_PORT ?? 54381);
  const dir = process.env.PGCACHE_CITUS_DIR ?? join(repoRoot, '.pgcache-citus');
  return {
    coordinator: clusterInfoAt(port, join(dir, 'coordinator')),
    workers: [1, 2].map((n) => clusterInfoAt(port + n, join(dir, `worker${n}`))),
  };
}

/** Starts a node and makes sure Citus is preloaded (first, as Citus requires) and created in the database. */
async function startNode(info: ClusterInfo): Promise<void> {
  await startCluster(info);
  const preload = await withClient(info.url(), async (admin) => {
    const { rows } = await admin.query(`SELECT current_setting('shared_preload_libraries') AS libs`);
    return rows[0].libs as string;
  });
  if (!preload.split(',').map((s) => s.trim()).includes('citus')) {
    await withClient(info.url(), (admin) => admin.query(`ALTER SYSTEM SET shared_preload_libraries = citus, pg_cron`));
    await restartCluster(info, 'fast');
  }
  await ensureDatabase(info, CITUS_DATABASE);
  await withClient(info.url(CITUS_DATABASE), (db) => db.query('CREATE EXTENSION IF NOT EXISTS citus'));
}

/** Starts the coordinator and both workers and joins the workers (idempotent). Returns the coordinator. */
export async function startCitus(cluster = citusCluster()): Promise<ClusterInfo> {
  const missing = citusMissing();
  if (missing) throw new ClusterError(`pgcache: ${missing}`);
  for (const node of [cluster.coordinator, ...cluster.workers]) await startNode(node);
  await withClient(cluster.coordinator.url(CITUS_DATABASE), async (db) => {
    await db.query('SELECT citus_set_coordinator_host($1, $2)', [cluster.coordinator.host, cluster.coordinator.port]);
    for (const worker of cluster.workers) {
      const { rowCount } = await db.query('SELECT 1 FROM pg_dist_node WHERE nodename = $1 AND nodeport = $2', [
        worker.host,
        worker.port,
      ]);
      if (rowCount === 0) await db.query('SELECT citus_add_node($1, $2)', [worker.host, worker.port]);
    }
  });
  return cluster.coordinator;
}

export function stopCitus(cluster = citusCluster()): void {
  for (const node of [...cluster.workers, cluster.coordinator]) stopCluster(node);
}

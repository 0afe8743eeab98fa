// A Citus cluster on this machine for the opt-in Citus suite: a coordinator and two workers, each a private
// PostgreSQL 15 cluster on its own port (the coordinator's port and the next two), with Citus preloaded.
// Citus is not packaged for Debian: it must have been built and installed into PostgreSQL 15 beforehand.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import {
  ClusterError,
  type ClusterInfo,
  clusterInfoAt,
  repoRoot,
  restartCluster,
  startCluster,
  stopCluster,
} from './cluster.js';
import { withClient } from './databases.js';

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
async function startNode(info: ClusterInfo): Promise<boolean> {
  const { started } = await startCluster(info);
  const preload = await withClient(info.url(), async (admin) => {
    const { rows } = await admin.query(`SELECT current_setting('shared_preload_libraries') AS libs`);
    return rows[0].libs as string;
  });
  if (
    !preload
      .split(',')
      .map((s) => s.trim())
      .includes('citus')
  ) {
    await withClient(info.url(), (admin) => admin.query(`ALTER SYSTEM SET shared_preload_libraries = citus, pg_cron`));
    await restartCluster(info, 'fast');
  }
  await withClient(info.url(), async (admin) => {
    const { rowCount } = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [CITUS_DATABASE]);
    if (rowCount === 0) await admin.query(`CREATE DATABASE ${CITUS_DATABASE}`);
  });
  // Citus first; once a worker has joined, Citus refuses CREATE EXTENSION there (even IF NOT EXISTS) for
  // extensions the coordinator created and propagated.
  await withClient(info.url(CITUS_DATABASE), async (db) => {
    for (const extension of ['citus', 'vector', 'pg_cron']) {
      const { rowCount } = await db.query('SELECT 1 FROM pg_extension WHERE extname = $1', [extension]);
      if (rowCount === 0) await db.query(`CREATE EXTENSION ${extension}`);
    }
  });
  return started;
}

/**
 * Starts the coordinator and both workers and joins the workers (idempotent). Returns whether this call
 * started any node, so the caller that started the cluster is the one that stops it.
 */
export async function startCitus(cluster = citusCluster()): Promise<{ started: boolean }> {
  const missing = citusMissing();
  if (missing) throw new ClusterError(`pgcache: ${missing}`);
  let started = false;
  for (const node of [cluster.coordinator, ...cluster.workers]) started = (await startNode(node)) || started;
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
  return { started };
}

export function stopCitus(cluster = citusCluster()): void {
  for (const node of [...cluster.workers, cluster.coordinator]) stopCluster(node);
}

// Global setup of the opt-in Citus suite: a coordinator and two workers (scripts/lib/citus.ts), and the
// coordinator's database for every file (each file reinstalls and distributes pgcache there).
import { CITUS_DATABASE, citusCluster, startCitus, stopCitus } from '../../scripts/lib/citus.js';
import { CITUS_URL_VARIABLE } from './database.js';

export default async function setup(): Promise<() => void> {
  const cluster = citusCluster();
  const { started } = await startCitus(cluster);
  process.env[CITUS_URL_VARIABLE] = cluster.coordinator.url(CITUS_DATABASE);
  // Tests that connect as other roles build their URLs from the test cluster's port: the coordinator's here.
  process.env.PGCACHE_TEST_PORT = String(cluster.coordinator.port);
  return () => {
    if (started) stopCitus(cluster);
  };
}

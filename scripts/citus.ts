// `npm run citus:start` / `npm run citus:stop`: a Citus coordinator and two workers on this machine, for the
// opt-in Citus suite and for trying a distributed install by hand. Needs Citus built into PostgreSQL 15.

import { CITUS_DATABASE, citusCluster, startCitus, stopCitus } from './lib/citus.js';
import { ClusterError } from './lib/cluster.js';

const command = process.argv[2] ?? 'start';
const cluster = citusCluster();
try {
  if (command === 'start') {
    await startCitus(cluster);
    console.log(cluster.coordinator.url(CITUS_DATABASE));
  } else if (command === 'stop') {
    stopCitus(cluster);
  } else if (command === 'url') {
    console.log(cluster.coordinator.url(process.argv[3] ?? CITUS_DATABASE));
  } else {
    console.error('usage: tsx scripts/citus.ts start|stop|url [database]');
    process.exit(2);
  }
} catch (error) {
  if (error instanceof ClusterError) {
    console.error(error.message);
    process.exit(1);
  }
  throw error;
}

// `npm run db:start` / `npm run db:stop`: the private cluster by hand, for psql sessions and debugging.
import { ClusterError, clusterInfo, startCluster, stopCluster } from './lib/cluster.js';
import { ensureDatabase } from './lib/databases.js';

const command = process.argv[2] ?? 'start';
const info = clusterInfo();
try {
  if (command === 'start') {
    await startCluster(info);
    await ensureDatabase(info, 'pgcache');
    console.log(info.url('pgcache'));
  } else if (command === 'stop') {
    stopCluster(info);
  } else if (command === 'url') {
    console.log(info.url(process.argv[3] ?? 'pgcache'));
  } else {
    console.error('usage: tsx scripts/cluster.ts start|stop|url [database]');
    process.exit(2);
  }
} catch (error) {
  if (error instanceof ClusterError) {
    console.error(error.message);
    process.exit(1);
  }
  throw error;
}

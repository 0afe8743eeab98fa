// Vitest global setup: the private cluster, the pg_cron home database and the templates test files clone.
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { CRON_DATABASE, clusterInfo, repoRoot, startCluster, stopCluster } from '../../scripts/lib/cluster.js';
import { ensureDatabase, ensureTemplate } from '../../scripts/lib/databases.js';
import { migrate } from '../../src/install/migrate.js';

export const BARE_TEMPLATE = 'pgcache_tpl_bare';
export const INSTALLED_TEMPLATE = 'pgcache_tpl_installed';

/** A hash of everything an install applies, so the installed template is rebuilt when any of it changes. */
function installFingerprint(): string {
  const hash = createHash('sha256');
  const walk = (dir: string): void => {
    for (const name of readdirSync(dir).sort()) {
      const path = join(dir, name);
      if (statSync(path).isDirectory()) walk(path);
      else hash.update(path).update(readFileSync(path));
    }
  };
  walk(join(repoRoot, 'sql'));
  walk(join(repoRoot, 'migrations'));
  return hash.digest('hex');
}

export default async function setup(): Promise<() => void> {
  const info = clusterInfo();
  const { started } = await startCluster(info);
  await ensureDatabase(info, CRON_DATABASE);
  await ensureTemplate(info, BARE_TEMPLATE, 'bare-v1', async () => {});
  await ensureTemplate(info, INSTALLED_TEMPLATE, installFingerprint(), async (url) => {
    // As on any fresh database: 0.1.0 from its frozen files, then every upgrade to the current version, so the
    // whole suite runs on an upgraded install (test/versions.test.ts shows it equals a fresh one).
    await migrate({ databaseUrl: url });
  });
  process.env.PGCACHE_TEST_PORT = String(info.port);
  return () => {
    if (started) stopCluster(info);
  };
}

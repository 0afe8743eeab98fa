// Zapatos types for pgcache's tables and views, generated from a fresh install on the private cluster.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as zapatos from 'zapatos/generate';
import { clusterInfo, repoRoot } from './cluster.js';
import { cloneDatabase, dropDatabase } from './databases.js';

/** The public tables and views of the package; type partitions (cache_<name>) are instances of entries. */
export const TYPED_RELATIONS = [
  'cache_settings',
  'cache_types',
  'cache_models',
  'entries',
  // Operations (core/11..13): maintenance history, snapshots and the monitoring views.
  'cache_maintenance_history',
  'cache_stats_snapshots',
  'cache_sizes',
  'cache_top_keys',
  'cache_hit_rate_history',
  'cache_cron_jobs',
];
export const SCHEMA_FILE = 'zapatos/schema.d.ts';

/** Generates into outDir from a throwaway database cloned from the installed template. */
export async function generateTypes(outDir: string): Promise<string> {
  const info = clusterInfo();
  const name = `pgcache_types_${process.pid}`;
  const url = await cloneDatabase(info, 'pgcache_tpl_installed', name);
  try {
    await zapatos.generate({
      db: { connectionString: url },
      outDir,
      schemas: { pgcache: { include: TYPED_RELATIONS, exclude: [] } },
      progressListener: false,
      warningListener: false,
    });
  } finally {
    await dropDatabase(info, name);
  }
  return readFileSync(join(outDir, SCHEMA_FILE), 'utf8');
}

export const committedTypesDir = join(repoRoot, 'src/generated');

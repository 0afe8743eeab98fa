// Operations. Self-maintenance (cache_maintenance with its history and hit-rate snapshots),
// pg_cron scheduling, storage settings for tables under churn, monitoring views.
// core/02_types.sql is re-applied because cache_create_type now takes its storage options from
// _entries_storage_options(), which core/10_storage.sql also applies to existing type tables.
import { applySqlFiles } from './lib/install-files.js';

// Released in pgcache 0.1.0: applies the frozen files of sql/releases/0.1.0/.
const VERSION = '0.1.0';

export const files = [
  'core/02_types.sql',
  'core/10_storage.sql',
  'core/11_maintenance_run.sql',
  'core/12_cron.sql',
  'core/13_monitoring.sql',
];

/** @param {import('node-pg-migrate').MigrationBuilder} pgm */
export async function up(pgm) {
  await applySqlFiles(pgm, files, VERSION);
}

export const down = false;

// Change notifications (pgcache_changes) for client near-caches, per type (cache_types.notify).
import { applySqlFiles } from './lib/install-files.js';

// Released in pgcache 0.1.0: applies the frozen files of sql/releases/0.1.0/.
const VERSION = '0.1.0';

export const files = [
  'core/00_schema.sql',
  'core/02_types.sql',
  'core/04_write.sql',
  'core/05_invalidate.sql',
  'core/06_maintenance.sql',
  'core/14_notify.sql',
];

/** @param {import('node-pg-migrate').MigrationBuilder} pgm */
export async function up(pgm) {
  await applySqlFiles(pgm, files, VERSION);
}

export const down = false;

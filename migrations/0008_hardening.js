// pgcache 0.6: per-tenant versions of tenant-scoped types, type locks that order writes against version
// bumps, tenant switches and drops, effect-based TTL checks and argument limits.
import { applySqlFiles } from './lib/install-files.js';

export const files = [
  'core/00_schema.sql',
  'core/01_checks.sql',
  'core/02_types.sql',
  'core/03_read.sql',
  'core/04_write.sql',
  'core/05_invalidate.sql',
  'core/06_maintenance.sql',
  'core/07_stats.sql',
  'core/09_ai.sql',
  'core/11_maintenance_run.sql',
  'core/12_cron.sql',
  'core/13_monitoring.sql',
  'core/20_replica.sql',
  'vector/01_semantic.sql',
  'core/30_security.sql',
];

/** @param {import('node-pg-migrate').MigrationBuilder} pgm */
export async function up(pgm) {
  await applySqlFiles(pgm, files);
}

export const down = false;

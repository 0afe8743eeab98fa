// Least privilege (reader/writer/admin roles, SECURITY DEFINER functions, no table access) and
// tenant-scoped types (keys scoped to SET pgcache.tenant).
import { applySqlFiles } from './lib/install-files.js';

// Released in pgcache 0.1.0: applies the frozen files of sql/releases/0.1.0/.
const VERSION = '0.1.0';

export const files = [
  'core/00_schema.sql',
  'core/01_checks.sql',
  'core/02_types.sql',
  'core/03_read.sql',
  'core/04_write.sql',
  'core/05_invalidate.sql',
  'core/09_ai.sql',
  'core/20_replica.sql',
  'vector/01_semantic.sql',
  'core/30_security.sql',
];

/** @param {import('node-pg-migrate').MigrationBuilder} pgm */
export async function up(pgm) {
  await applySqlFiles(pgm, files, VERSION);
}

export const down = false;

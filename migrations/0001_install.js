// pgcache 0.1: schema, type registry, cache functions, seed types, pgvector overloads.
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
  'core/08_seed_types.sql',
  'vector/00_vector.sql',
];

/** @param {import('node-pg-migrate').MigrationBuilder} pgm */
export async function up(pgm) {
  await applySqlFiles(pgm, files);
}

export const down = false;

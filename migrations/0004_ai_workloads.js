// AI workloads. Entries gain scope and stale_at; embeddings batches, semantic lookup on
// per-model HNSW indexes, vector-search keys, cross-process compute locks, chunked bytea reads.
import { applySqlFiles } from './lib/install-files.js';

// Released in pgcache 0.1.0: applies the frozen files of sql/releases/0.1.0/.
const VERSION = '0.1.0';

export const files = [
  'core/00_schema.sql',
  'core/03_read.sql',
  'core/04_write.sql',
  'core/09_ai.sql',
  'vector/01_semantic.sql',
];

/** @param {import('node-pg-migrate').MigrationBuilder} pgm */
export async function up(pgm) {
  await applySqlFiles(pgm, files, VERSION);
}

export const down = false;

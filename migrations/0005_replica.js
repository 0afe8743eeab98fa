// Read replicas and partitioning. cache_peek() is the standby-safe lookup (no count, no touch, no
// write; works on a hot standby even where unlogged types exist), cache_replica_status() shows replay
// progress; cache_hash_partition_type() splits a type's table into HASH(key) partitions, cache_partitions lists
// the tables that hold each type's entries.
import { applySqlFiles } from './lib/install-files.js';

// Released in pgcache 0.1.0: applies the frozen files of sql/releases/0.1.0/.
const VERSION = '0.1.0';

export const files = ['core/20_replica.sql', 'core/21_partitioning.sql'];

/** @param {import('node-pg-migrate').MigrationBuilder} pgm */
export async function up(pgm) {
  await applySqlFiles(pgm, files, VERSION);
}

export const down = false;

// pgcache 0.6: isolated installs. The install refuses shared or foreign schemas and records itself in
// pgcache_install (uninstall looks for it); its roles are per database and schema (<database>_<schema>_reader,
// ...) instead of one name per schema across the cluster; every function's search_path is pinned to the
// install's schema alone (pg_catalog first, pg_temp last), with pgvector reached by qualified name.
import { applySqlFiles } from './lib/install-files.js';

export const files = ['vector/00_vector.sql', 'vector/01_semantic.sql', 'core/30_security.sql'];

/** @param {import('node-pg-migrate').MigrationBuilder} pgm */
export async function up(pgm) {
  await applySqlFiles(pgm, files);
}

export const down = false;

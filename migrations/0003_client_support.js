// cache_scan() pages through live entries in key order (the Keyv iterator uses it);
// cache_default_ttl() gives a type's default TTL; vectors over 16000 dimensions are rejected with PC010;
// hot-path functions force generic plans (no re-planning per call).
import { applySqlFiles } from './lib/install-files.js';

// Released in pgcache 0.1.0: applies the frozen files of sql/releases/0.1.0/.
const VERSION = '0.1.0';

export const files = ['core/02_types.sql', 'core/03_read.sql', 'core/04_write.sql', 'core/05_invalidate.sql'];

/** @param {import('node-pg-migrate').MigrationBuilder} pgm */
export async function up(pgm) {
  await applySqlFiles(pgm, files, VERSION);
}

export const down = false;

// Applying sql/ files inside a node-pg-migrate migration. Each migration lists the files it (re)applies;
// the files are idempotent current-state SQL (IF NOT EXISTS, CREATE OR REPLACE), so a fresh install that
// runs every migration and an upgrade that runs only the new ones end in the same state.
// sql/install.sql lists every file for psql users; a test checks the migrations cover the same list.
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const sqlDir = resolve(dirname(fileURLToPath(import.meta.url)), '../../sql');

/** The files sql/install.sql includes, in order (its \ir lines). */
export function installFiles() {
  const manifest = readFileSync(join(sqlDir, 'install.sql'), 'utf8');
  return [...manifest.matchAll(/^\\ir\s+(\S+)\s*$/gm)].map((m) => m[1]);
}

/**
 * Runs sql/prelude.sql, the given files and last sql/core/30_security.sql in the migration's transaction, in
 * the schema the runner was given. Files under vector/ are skipped where pgvector is not installed.
 * @param {import('node-pg-migrate').MigrationBuilder} pgm
 * @param {string[]} files paths relative to sql/
 */
export async function applySqlFiles(pgm, files) {
  const { rows } = await pgm.db.query('SELECT current_schema() AS schema');
  await pgm.db.query("SELECT set_config('pgcache.schema', $1, true)", [rows[0].schema]);
  await pgm.db.query(readFileSync(join(sqlDir, 'prelude.sql'), 'utf8'));
  const vector = await pgm.db.query("SELECT 1 FROM pg_extension WHERE extname = 'vector'");
  for (const file of [...files.filter((f) => f !== SECURITY), SECURITY]) {
    if (file.startsWith('vector/') && vector.rowCount === 0) continue;
    await pgm.db.query(readFileSync(join(sqlDir, file), 'utf8'));
  }
}

/** Grants and SECURITY DEFINER, re-applied after every migration: CREATE OR REPLACE resets both. */
const SECURITY = 'core/30_security.sql';

// The SQL files that sql/install.sql includes, in order, read from its \ir lines: psql installs and
// node-pg-migrate installs apply the same files. Files under vector/ apply only where pgvector exists.
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const sqlDir = resolve(dirname(fileURLToPath(import.meta.url)), '../../sql');

/** @returns {{ path: string, needsVector: boolean }[]} */
export function installFiles() {
  const manifest = readFileSync(join(sqlDir, 'install.sql'), 'utf8');
  return [...manifest.matchAll(/^\\ir\s+(\S+)\s*$/gm)].map((m) => ({
    path: m[1],
    needsVector: m[1].startsWith('vector/'),
  }));
}

/**
 * Applies sql/ inside the migration's transaction, into the schema the runner was given.
 * @param {import('node-pg-migrate').MigrationBuilder} pgm
 */
export async function applyInstallSql(pgm) {
  const { rows } = await pgm.db.query('SELECT current_schema() AS schema');
  await pgm.db.query("SELECT set_config('pgcache.schema', $1, true)", [rows[0].schema]);
  const files = installFiles();
  const [prelude, ...rest] = files;
  await pgm.db.query(readFileSync(join(sqlDir, prelude.path), 'utf8'));
  const vector = await pgm.db.query("SELECT 1 FROM pg_extension WHERE extname = 'vector'");
  for (const file of rest) {
    if (file.needsVector && vector.rowCount === 0) continue;
    await pgm.db.query(readFileSync(join(sqlDir, file.path), 'utf8'));
  }
}

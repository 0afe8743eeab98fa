// The versions of pgcache's SQL and how a migration applies them (docs/versions.md).
//   sql/                      the current state: install.sql lists the files, in order
//   sql/releases/<version>/   a released version's files, frozen (hashes in sql/releases/SHA256SUMS)
//   sql/upgrades/pgcache--<from>--<to>.sql   the DDL that takes an install of <from> to <to>
// The newest upgrade step whose target is not released yet names the current (unreleased) version.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const sqlDir = resolve(dirname(fileURLToPath(import.meta.url)), '../../sql');
export const releasesDir = join(sqlDir, 'releases');
export const upgradesDir = join(sqlDir, 'upgrades');

const VERSION = /^\d+\.\d+\.\d+$/;
const STEP = /^pgcache--(\d+\.\d+\.\d+)--(\d+\.\d+\.\d+)\.sql$/;

/** Orders x.y.z versions numerically. */
export function compareVersions(a, b) {
  const pa = a.split('.').map(Number);
  const pb = b.split('.').map(Number);
  for (let i = 0; i < 3; i++) if (pa[i] !== pb[i]) return pa[i] - pb[i];
  return 0;
}

/** Released versions, oldest first. */
export function releasedVersions() {
  return readdirSync(releasesDir, { withFileTypes: true })
    .filter((d) => d.isDirectory() && VERSION.test(d.name))
    .map((d) => d.name)
    .sort(compareVersions);
}

/** Every upgrade step, oldest first: { from, to, file } with file relative to sql/. */
export function upgradeSteps() {
  return readdirSync(upgradesDir)
    .map((name) => STEP.exec(name))
    .filter(Boolean)
    .map((m) => ({ from: m[1], to: m[2], file: `upgrades/${m[0]}` }))
    .sort((a, b) => compareVersions(a.to, b.to));
}

/** The version sql/ holds: the target of an unreleased upgrade step, else the newest release. */
export function currentVersion() {
  const released = releasedVersions();
  const latest = released[released.length - 1];
  const pending = upgradeSteps().filter((s) => !released.includes(s.to));
  if (pending.length > 1)
    throw new Error(`pgcache: more than one unreleased upgrade step: ${pending.map((s) => s.file)}`);
  if (pending.length === 0) return latest;
  if (pending[0].from !== latest) {
    throw new Error(`pgcache: ${pending[0].file} must start from the newest release, ${latest}`);
  }
  return pending[0].to;
}

/** The directory holding a version's install files: its frozen copy once released, sql/ while current. */
export function versionDir(version = currentVersion()) {
  if (existsSync(join(releasesDir, version, 'install.sql'))) return join(releasesDir, version);
  if (version === currentVersion()) return sqlDir;
  throw new Error(`pgcache: no SQL for version ${version}`);
}

/** The upgrade step that ends at `version`. */
export function upgradeStep(version) {
  const step = upgradeSteps().find((s) => s.to === version);
  if (!step) throw new Error(`pgcache: no upgrade step to ${version} in sql/upgrades`);
  return step;
}

/** The files a version's install.sql includes, in order (its \ir lines), relative to its directory. */
export function installFiles(version = currentVersion()) {
  const manifest = readFileSync(join(versionDir(version), 'install.sql'), 'utf8');
  return [...manifest.matchAll(/^\\ir\s+(\S+)\s*$/gm)].map((m) => m[1]);
}

/** Reads a file of a version (path relative to that version's directory). */
export function readVersionFile(version, file) {
  return readFileSync(join(versionDir(version), file), 'utf8');
}

async function begin(pgm, version) {
  const { rows } = await pgm.db.query('SELECT current_schema() AS schema');
  await pgm.db.query("SELECT set_config('pgcache.schema', $1, true)", [rows[0].schema]);
  await pgm.db.query(readVersionFile(version, 'prelude.sql'));
  const vector = await pgm.db.query("SELECT 1 FROM pg_extension WHERE extname = 'vector'");
  return vector.rowCount > 0;
}

/**
 * Runs a version's prelude.sql, the given files and last core/30_security.sql in the migration's transaction,
 * in the schema the runner was given. Files under vector/ are skipped where pgvector is not installed.
 * @param {import('node-pg-migrate').MigrationBuilder} pgm
 * @param {string[]} files paths relative to the version's directory
 * @param {string} [version] default: the current version (sql/)
 */
export async function applySqlFiles(pgm, files, version = currentVersion()) {
  const hasVector = await begin(pgm, version);
  for (const file of [...files.filter((f) => f !== SECURITY), SECURITY]) {
    if (file.startsWith('vector/') && !hasVector) continue;
    await pgm.db.query(readVersionFile(version, file));
  }
}

/**
 * Upgrades an install of the previous version to `version`: its prelude, the upgrade step's DDL, then every
 * file of its install.sql (CREATE OR REPLACE brings functions, views and grants to that version).
 * @param {import('node-pg-migrate').MigrationBuilder} pgm
 * @param {string} version
 */
export async function upgradeTo(pgm, version) {
  const hasVector = await begin(pgm, version);
  await pgm.db.query(readFileSync(join(sqlDir, upgradeStep(version).file), 'utf8'));
  for (const file of installFiles(version).filter((f) => f !== 'prelude.sql')) {
    if (file.startsWith('vector/') && !hasVector) continue;
    await pgm.db.query(readVersionFile(version, file));
  }
}

/** Grants and SECURITY DEFINER, re-applied after every migration: CREATE OR REPLACE resets both. */
const SECURITY = 'core/30_security.sql';

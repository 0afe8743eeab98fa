// Releasing a version of the SQL (docs/versions.md). Works on a given sql/ directory so a test can try it on a copy.
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

const STEP = /^pgcache--(\d+\.\d+\.\d+)--(\d+\.\d+\.\d+)\.sql$/;
const VERSION = /^\d+\.\d+\.\d+$/;

function sha256(path: string): string {
  return createHash('sha256').update(readFileSync(path)).digest('hex');
}

/** The files a psql install of `dir` reads: install.sql and its \ir lines. */
function installTree(dir: string): string[] {
  const manifest = readFileSync(join(dir, 'install.sql'), 'utf8');
  return ['install.sql', ...[...manifest.matchAll(/^\\ir\s+(\S+)\s*$/gm)].map((m) => m[1] as string)];
}

/**
 * Freezes the current sql/ as `version`: copies install.sql and every file it includes into
 * releases/<version>/, and records their hashes and the upgrade step's in releases/SHA256SUMS.
 * From then on those files never change; the migration of that version reads the frozen copy.
 */
export function freeze(sqlDir: string, version: string): string[] {
  if (!VERSION.test(version)) throw new Error(`not a version: ${version}`);
  const target = join(sqlDir, 'releases', version);
  if (existsSync(target)) throw new Error(`${version} is already released`);
  const step = readdirSync(join(sqlDir, 'upgrades')).find((f) => STEP.exec(f)?.[2] === version);
  if (!step)
    throw new Error(`no sql/upgrades/pgcache--<previous>--${version}.sql: ${version} is not the version in progress`);
  const recorded: string[] = [];
  for (const file of installTree(sqlDir)) {
    mkdirSync(dirname(join(target, file)), { recursive: true });
    copyFileSync(join(sqlDir, file), join(target, file));
    recorded.push(`releases/${version}/${file}`);
  }
  recorded.push(`upgrades/${step}`);
  const sumsPath = join(sqlDir, 'releases', 'SHA256SUMS');
  const lines = readFileSync(sumsPath, 'utf8').trim().split('\n');
  for (const path of recorded.sort()) lines.push(`${sha256(join(sqlDir, path))}  ${path}`);
  writeFileSync(sumsPath, `${lines.join('\n')}\n`);
  return recorded;
}

/**
 * Starts the next version after the newest release: an empty upgrade step, its migration, and its line in
 * sql/upgrade.sql. Returns the files it wrote.
 */
export function start(sqlDir: string, migrationsDir: string, next: string): string[] {
  if (!VERSION.test(next)) throw new Error(`not a version: ${next}`);
  const released = readdirSync(join(sqlDir, 'releases')).filter((v) => VERSION.test(v));
  const latest = released.sort((a, b) => a.localeCompare(b, 'en', { numeric: true })).at(-1) as string;
  const pending = readdirSync(join(sqlDir, 'upgrades')).filter((f) => {
    const to = STEP.exec(f)?.[2];
    return to !== undefined && !released.includes(to);
  });
  if (pending.length > 0) throw new Error(`${pending[0]} is still unreleased: release it first`);
  const step = `pgcache--${latest}--${next}.sql`;
  writeFileSync(
    join(sqlDir, 'upgrades', step),
    `-- pgcache ${latest} -> ${next}: the DDL an install of ${latest} needs before the ${next} files are applied.
-- Runs in the install transaction after the prelude (search_path = the install schema), before every file
-- sql/install.sql lists is re-applied; those re-create the functions, views and grants of ${next}.
-- Put here what CREATE ... IF NOT EXISTS and CREATE OR REPLACE cannot do on an existing install: new columns
-- of existing tables, changed defaults or constraints, dropped or renamed functions (a changed signature
-- leaves the old one behind), data fixes. Keep each statement re-runnable (IF EXISTS / IF NOT EXISTS).
`,
  );
  const numbers = readdirSync(migrationsDir)
    .map((f) => /^(\d{4})_.*\.js$/.exec(f)?.[1])
    .filter((n): n is string => n !== undefined)
    .map(Number);
  const migration = `${String(Math.max(...numbers) + 1).padStart(4, '0')}_upgrade_${next.replaceAll('.', '_')}.js`;
  writeFileSync(
    join(migrationsDir, migration),
    `// pgcache ${next}: the upgrade from ${latest} (sql/upgrades/${step}, then every file of ${next}).
// Until ${next} is released its files are the current sql/; the release freezes them in sql/releases/${next}/.
import { installFiles, upgradeTo } from './lib/install-files.js';

const VERSION = '${next}';

export const files = installFiles(VERSION).filter((f) => f !== 'prelude.sql');

/** @param {import('node-pg-migrate').MigrationBuilder} pgm */
export async function up(pgm) {
  await upgradeTo(pgm, VERSION);
}

export const down = false;
`,
  );
  const upgradePath = join(sqlDir, 'upgrade.sql');
  const upgrade = readFileSync(upgradePath, 'utf8');
  const last = [...upgrade.matchAll(/^\\ir upgrades\/\S+\n/gm)].at(-1);
  if (!last || last.index === undefined) throw new Error('sql/upgrade.sql has no \\ir upgrades/ line');
  const at = last.index + last[0].length;
  writeFileSync(upgradePath, `${upgrade.slice(0, at)}\\ir upgrades/${step}\n${upgrade.slice(at)}`);
  return [`sql/upgrades/${step}`, `migrations/${migration}`, 'sql/upgrade.sql'];
}

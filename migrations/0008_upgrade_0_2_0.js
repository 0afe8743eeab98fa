// pgcache 0.2.0: the upgrade from 0.1.0 (sql/upgrades/pgcache--0.1.0--0.2.0.sql, then every file of 0.2.0).
// Until 0.2.0 is released its files are the current sql/; the release freezes them in sql/releases/0.2.0/.
import { installFiles, upgradeTo } from './lib/install-files.js';

const VERSION = '0.2.0';

export const files = installFiles(VERSION).filter((f) => f !== 'prelude.sql');

/** @param {import('node-pg-migrate').MigrationBuilder} pgm */
export async function up(pgm) {
  await upgradeTo(pgm, VERSION);
}

export const down = false;

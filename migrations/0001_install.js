// pgcache 0.1: the schema, registry, cache functions and seed types of sql/ as of this release.
import { applyInstallSql } from './lib/install-files.js';

/** @param {import('node-pg-migrate').MigrationBuilder} pgm */
export async function up(pgm) {
  await applyInstallSql(pgm);
}

export const down = false;

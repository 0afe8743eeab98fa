// pgcache 0.6: change notifications carry keyed tags instead of type names and keys (LISTEN needs no
// privilege), on a channel of the install's own (cache_settings notify.channel, notify.secret).
import { applySqlFiles } from './lib/install-files.js';

export const files = ['core/14_notify.sql'];

/** @param {import('node-pg-migrate').MigrationBuilder} pgm */
export async function up(pgm) {
  await applySqlFiles(pgm, files);
}

export const down = false;

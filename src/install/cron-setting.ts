// Where pg_cron runs, as far as the connected role may know, and the one check that a URL given for pg_cron's
// database really is it. The SQL functions decide the same for psql users (_cron_database() in
// sql/core/19_cron.sql); this copy serves connections where pgcache may not be installed: pg_cron's own
// database, and a server before its install. cron.database_name is readable only by a superuser or a member of
// pg_read_all_settings: current_setting(..., true) returns NULL when the setting is missing (pg_cron not
// loaded) but raises 42501 when it exists and the role may not read it.
import type pg from 'pg';
import { FeatureUnavailableError, translated } from '../client/errors.js';
import { withClient } from '../client/session.js';

export interface CronSetting {
  database: string;
  /** pg_cron's database; null when pg_cron is not loaded, or when it is unreadable and not this database. */
  cronDatabase: string | null;
  /** False when pg_cron is loaded but this role may not read cron.database_name. */
  readable: boolean;
  /** Whether pg_cron's extension (its cron.job table) exists in this database. */
  extensionHere: boolean;
}

export async function readCronSetting(client: pg.ClientBase): Promise<CronSetting> {
  const { rows } = await client.query<{ database: string; here: boolean }>(
    `SELECT current_database() AS database, EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'pg_cron') AS here`,
  );
  const { database, here } = rows[0] as { database: string; here: boolean };
  try {
    const setting = await client.query<{ cron_database: string | null }>(
      `SELECT nullif(current_setting('cron.database_name', true), '') AS cron_database`,
    );
    return { database, cronDatabase: setting.rows[0]?.cron_database ?? null, readable: true, extensionHere: here };
  } catch (error) {
    if ((error as { code?: string }).code !== '42501') throw error;
    // pg_cron's extension can only be created in its own database: where it exists, that is this one.
    return { database, cronDatabase: here ? database : null, readable: false, extensionHere: here };
  }
}

/** What to tell a role that may not read cron.database_name. */
export const UNREADABLE_CRON_SETTING =
  'pg_cron is loaded, but this role may not read cron.database_name (it needs superuser or pg_read_all_settings)';

/** Runs fn on a client of `url` after checking that it is pg_cron's database `expected` (PC011 otherwise). */
export function inCronDatabase<T>(url: string, expected: string, fn: (client: pg.Client) => Promise<T>): Promise<T> {
  return translated(() =>
    withClient({ connectionString: url }, async (cron) => {
      const { database } = await readCronSetting(cron);
      if (database !== expected) {
        throw new FeatureUnavailableError(
          'PC011',
          `pgcache: cronDatabaseUrl points at database "${database}", but pg_cron runs in "${expected}" (cron.database_name)`,
        );
      }
      return fn(cron);
    }),
  );
}

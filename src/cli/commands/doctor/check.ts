// What every doctor check takes and gives: the options, the facts read once from the server, and a verdict.
import type pg from 'pg';
import type { ConnectionOptions } from '../../connection.js';

export type Status = 'ok' | 'warn' | 'fail' | 'skip';

export interface Check {
  name: string;
  status: Status;
  summary: string;
  /** What to change, for warn and fail. */
  fix?: string;
}

export interface DoctorOptions extends ConnectionOptions {
  cron: boolean;
  cronDatabaseUrl?: string;
  bloatRatio: string;
  bloatMinDead: string;
  json?: boolean;
}

/** What the checks need to know of the server, read once (see readFacts). */
export interface ServerFacts {
  version: string;
  serverVersion: string;
  db: string;
  user: string;
  autovacuum: boolean;
  /** PGlite, served by the embedded mode. */
  pglite: boolean;
  /** cron.database_name, or null when pg_cron is not loaded (or the setting is not readable). */
  cronDb: string | null;
  cronReadable: boolean;
  /** pgcache is installed in the schema. */
  installed: boolean;
  /** ... and its migrations table is there. */
  hasMigrations: boolean;
}

/** One check: what it reads, from the connection, the options and the facts. */
export interface DoctorContext {
  client: pg.ClientBase;
  options: DoctorOptions;
  url: string;
  facts: ServerFacts;
}

export type DoctorCheck = (context: DoctorContext) => Promise<Check | Check[]>;

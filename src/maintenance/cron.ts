// The pg_cron jobs that run cache_maintenance(): created and removed from pgcache's database, or from the cron
// database (cron.database_name) when pgcache lives in another one, which the SQL cannot do by itself.
import type pg from 'pg';
import { FeatureUnavailableError, translated } from '../client/errors.js';
import { quotedSchemaName } from '../client/schema.js';
import { withClient } from '../client/session.js';
import { inCronDatabase, readCronSetting, UNREADABLE_CRON_SETTING } from '../install/cron-setting.js';

export interface ScheduleMaintenanceOptions {
  /** The database pgcache lives in. */
  databaseUrl: string;
  /** pg_cron's database (cron.database_name), needed when it is not the one pgcache lives in. */
  cronDatabaseUrl?: string | undefined;
  /** Schema pgcache lives in. Default `pgcache`. */
  schema?: string | undefined;
  /** A pg_cron schedule (minutes at the finest in pg_cron 1.4). Default every minute. */
  schedule?: string | undefined;
}

export interface ScheduledJob {
  jobName: string;
  jobId: string;
  schedule: string;
  command: string;
  database: string;
}

/** One client on `url`, errors translated to their classes. */
function withUrl<T>(url: string, fn: (client: pg.Client) => Promise<T>): Promise<T> {
  return translated(() => withClient({ connectionString: url }, fn));
}

function noCron(schema: string, readable = true): FeatureUnavailableError {
  return new FeatureUnavailableError(
    'PC011',
    readable
      ? `pgcache: pg_cron is not available on this server; run maintenance on a timer with startMaintenance({ databaseUrl, schema: '${schema}', intervalMs: 60000 })`
      : `pgcache: ${UNREADABLE_CRON_SETTING} and its extension is not in this database, so pgcache cannot tell where its jobs go. ` +
          `Ask for GRANT pg_read_all_settings TO <this role>, or run maintenance on a timer with startMaintenance({ databaseUrl, schema: '${schema}', intervalMs: 60000 })`,
  );
}

/**
 * Creates or updates the pg_cron jobs that run cache_maintenance() (idempotent: named jobs). Where pgcache lives
 * in pg_cron's database this is cache_schedule_maintenance(); elsewhere the jobs are created from cronDatabaseUrl
 * with cron.schedule_in_database (a superuser's right unless granted), from the list cache_maintenance_commands()
 * gives. Throws FeatureUnavailableError (PC011) without pg_cron, or when cronDatabaseUrl is needed and missing.
 */
export async function scheduleMaintenance(options: ScheduleMaintenanceOptions): Promise<ScheduledJob[]> {
  const schema = quotedSchemaName(options.schema);
  const cronSchedule = options.schedule ?? '* * * * *';
  return withUrl(options.databaseUrl, async (db) => {
    const place = await readCronSetting(db);
    if (!place.cronDatabase) throw noCron(options.schema ?? 'pgcache', place.readable);
    const { rows: specs } = await db.query<{ job_name: string; schedule: string; command: string; database: string }>(
      `SELECT * FROM ${schema}.cache_maintenance_commands($1)`,
      [cronSchedule],
    );
    if (place.cronDatabase === place.database) {
      const { rows } = await db.query<{ id: string | null }>(`SELECT ${schema}.cache_schedule_maintenance($1) AS id`, [
        cronSchedule,
      ]);
      if (rows[0]?.id == null) throw noCron(options.schema ?? 'pgcache');
      return specs.map((spec) => ({
        jobName: spec.job_name,
        jobId: String(rows[0]?.id),
        schedule: spec.schedule,
        command: spec.command,
        database: spec.database,
      }));
    }
    if (!options.cronDatabaseUrl) {
      // The SQL function raises PC011 naming the cron database and the statements to run there.
      await db.query(`SELECT ${schema}.cache_schedule_maintenance($1)`, [cronSchedule]);
    }
    return inCronDatabase(options.cronDatabaseUrl as string, place.cronDatabase, async (cron) => {
      const jobs: ScheduledJob[] = [];
      for (const spec of specs) {
        const { rows } = await cron.query<{ id: string }>('SELECT cron.schedule_in_database($1, $2, $3, $4) AS id', [
          spec.job_name,
          spec.schedule,
          spec.command,
          spec.database,
        ]);
        jobs.push({
          jobName: spec.job_name,
          jobId: String(rows[0]?.id),
          schedule: spec.schedule,
          command: spec.command,
          database: spec.database,
        });
      }
      return jobs;
    });
  });
}

/** Removes this install's pg_cron jobs (none is fine); returns how many were removed. */
export async function unscheduleMaintenance(options: Omit<ScheduleMaintenanceOptions, 'schedule'>): Promise<number> {
  const schema = quotedSchemaName(options.schema);
  return withUrl(options.databaseUrl, async (db) => {
    const place = await readCronSetting(db);
    if (!place.cronDatabase) return 0;
    if (place.cronDatabase === place.database || !options.cronDatabaseUrl) {
      const { rows } = await db.query<{ n: number }>(`SELECT ${schema}.cache_unschedule_maintenance() AS n`);
      return rows[0]?.n ?? 0;
    }
    const { rows: specs } = await db.query<{ job_name: string }>(
      `SELECT job_name FROM ${schema}.cache_maintenance_commands()`,
    );
    return inCronDatabase(options.cronDatabaseUrl, place.cronDatabase, async (cron) => {
      const { rows } = await cron.query<{ n: number }>(
        'SELECT count(cron.unschedule(jobid))::int AS n FROM cron.job WHERE jobname = ANY ($1)',
        [specs.map((spec) => spec.job_name)],
      );
      return rows[0]?.n ?? 0;
    });
  });
}

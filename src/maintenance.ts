// Maintenance from the application side. The work itself is the SQL function cache_maintenance(); this file
// only decides who calls it and when:
//   - startMaintenance(): a timer that calls it where pg_cron is missing (PGlite, managed databases without
//     pg_cron), with one runner at a time across processes;
//   - scheduleMaintenance() / unscheduleMaintenance(): the pg_cron jobs, created from the cron database
//     (cron.database_name) when pgcache lives in another database, which the SQL cannot do by itself.
import pg from 'pg';
import { FeatureUnavailableError, translated, translateError } from './client/errors.js';
import { quotedSchemaName } from './client/schema.js';
import { withClient } from './client/session.js';
import type { CacheMaintenanceHistoryRow } from './generated/rows.js';
import { readCronSetting, UNREADABLE_CRON_SETTING } from './install/cron-setting.js';

/** One row per cache type and run, as recorded in cache_maintenance_history. */
export type MaintenanceReport = CacheMaintenanceHistoryRow;

export interface RunMaintenanceOptions {
  /** Schema pgcache lives in. Default `pgcache`. */
  schema?: string | undefined;
  /** Hard limit on the call. Default: the `maintenance.statement_timeout` setting (60 s). */
  statementTimeoutMs?: number | undefined;
}

/**
 * Runs cache_maintenance() once, in its own transaction under statement_timeout (a function cannot arm
 * statement_timeout for the statement that called it, so the caller does). Returns the rows it recorded;
 * none when another run was in progress.
 */
export async function runMaintenance(
  client: pg.ClientBase,
  options: RunMaintenanceOptions = {},
): Promise<MaintenanceReport[]> {
  const schema = quotedSchemaName(options.schema);
  await client.query('BEGIN');
  try {
    if (options.statementTimeoutMs !== undefined) {
      await client.query(`SELECT set_config('statement_timeout', $1, true)`, [
        `${Math.max(0, Math.round(options.statementTimeoutMs))}ms`,
      ]);
    } else {
      await client.query(
        `SELECT set_config('statement_timeout', value, true) FROM ${schema}.cache_settings WHERE name = 'maintenance.statement_timeout'`,
      );
    }
    const { rows } = await client.query<MaintenanceReport>(`SELECT * FROM ${schema}.cache_maintenance()`);
    await client.query('COMMIT');
    return rows;
  } catch (error) {
    await client.query('ROLLBACK').catch(() => {});
    throw translateError(error);
  }
}

export interface StartMaintenanceOptions extends RunMaintenanceOptions {
  /** The runner opens (and closes) its own connection here; it holds it while it is the runner. */
  databaseUrl?: string | undefined;
  /** Or a connection you dedicate to the runner (it is not closed by stop()). */
  client?: pg.ClientBase | undefined;
  /** Time between runs. Default 60 000 ms. */
  intervalMs?: number | undefined;
  /** Run once right away instead of after the first interval. Default true. */
  runAtStart?: boolean | undefined;
  /** Keep the process alive for the timer. Default false: the timer never holds a process open. */
  keepAlive?: boolean | undefined;
  onRun?: ((reports: MaintenanceReport[]) => void) | undefined;
  /** Errors of a run (the timer goes on). Default: console.warn. */
  onError?: ((error: unknown) => void) | undefined;
}

export interface MaintenanceRunner {
  /** Whether this process holds the runner lock (only the holder runs maintenance). */
  readonly isRunner: boolean;
  /** Runs now if this process is (or becomes) the runner; null if another process is. */
  runNow(): Promise<MaintenanceReport[] | null>;
  /** Stops the timer, waits for a run in progress, releases the runner lock and the runner's own connection. */
  stop(): Promise<void>;
}

/**
 * Runs cache_maintenance() every intervalMs, one runner across all processes: each process tries a
 * session-level advisory lock on its connection, and only the one holding it runs; when that process stops
 * or its connection dies, the lock goes and another process takes over at its next tick. (cache_maintenance
 * also takes a transaction-level lock of its own, so a pg_cron job running at the same time is harmless.)
 *
 * On PGlite advisory locks exclude nothing: every connection to a PGlite socket server shares one backend
 * session, so every runner "holds" the lock. PGlite is one process, so start one runner there.
 */
export function startMaintenance(options: StartMaintenanceOptions): MaintenanceRunner {
  if (!options.client && !options.databaseUrl) throw new TypeError('pgcache: pass databaseUrl or client');
  const schemaName = options.schema ?? 'pgcache';
  quotedSchemaName(schemaName);
  const intervalMs = options.intervalMs ?? 60_000;
  if (!(intervalMs > 0)) throw new TypeError('pgcache: intervalMs must be positive');
  const onError = options.onError ?? ((error: unknown) => console.warn('pgcache maintenance:', error));
  const lockName = `pgcache.maintenance.runner:${schemaName}`;

  let owned: pg.Client | null = null;
  let holdsLock = false;
  let stopped = false;
  let timer: NodeJS.Timeout | null = null;
  let running: Promise<MaintenanceReport[] | null> | null = null;

  const dropOwned = (): void => {
    const client = owned;
    owned = null;
    holdsLock = false;
    client?.end().catch(() => {});
  };

  async function connection(): Promise<pg.ClientBase> {
    if (options.client) return options.client;
    if (!owned) {
      const client = new pg.Client({ connectionString: options.databaseUrl });
      client.on('error', () => {
        if (owned === client) dropOwned();
      });
      await client.connect();
      owned = client;
      holdsLock = false;
    }
    return owned;
  }

  async function runOnce(): Promise<MaintenanceReport[] | null> {
    let client: pg.ClientBase | undefined;
    try {
      client = await connection();
      if (!holdsLock) {
        const { rows } = await client.query<{ ok: boolean }>(
          'SELECT pg_try_advisory_lock(hashtextextended($1, 0)) AS ok',
          [lockName],
        );
        holdsLock = rows[0]?.ok === true;
        if (!holdsLock) return null;
      }
      const reports = await runMaintenance(client, options);
      options.onRun?.(reports);
      return reports;
    } catch (error) {
      // A SQL error leaves the session usable; a lost connection (no SQLSTATE, or class 08/57) loses the lock.
      const code = (error as { code?: string }).code;
      if (owned && client === owned && (!code || /^(08|57)/.test(code))) dropOwned();
      onError(error);
      return null;
    }
  }

  function schedule(): void {
    if (stopped) return;
    timer = setTimeout(() => {
      void tick();
    }, intervalMs);
    if (!options.keepAlive) timer.unref();
  }

  function tick(): Promise<MaintenanceReport[] | null> {
    if (stopped) return Promise.resolve(null);
    if (running) return running;
    if (timer) clearTimeout(timer);
    timer = null;
    running = runOnce().finally(() => {
      running = null;
      schedule();
    });
    return running;
  }

  if (options.runAtStart ?? true) {
    timer = setTimeout(() => void tick(), 0);
    if (!options.keepAlive) timer.unref();
  } else {
    schedule();
  }

  return {
    get isRunner() {
      return holdsLock;
    },
    runNow: tick,
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      timer = null;
      await running?.catch(() => {});
      if (holdsLock) {
        const client = options.client ?? owned;
        await client?.query('SELECT pg_advisory_unlock(hashtextextended($1, 0))', [lockName]).catch(() => {});
        holdsLock = false;
      }
      if (owned) {
        const client = owned;
        owned = null;
        await client.end().catch(() => {});
      }
    },
  };
}

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

interface CronPlace {
  database: string;
  cronDatabase: string | null;
}

/** One client on `url`, errors translated to their classes. */
function withUrl<T>(url: string, fn: (client: pg.Client) => Promise<T>): Promise<T> {
  return translated(() => withClient({ connectionString: url }, fn));
}

async function cronPlace(client: pg.ClientBase): Promise<CronPlace & { readable: boolean }> {
  return readCronSetting(client);
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

/** Checks that cronDatabaseUrl really is pg_cron's database before anything is scheduled there. */
async function inCronDatabase<T>(url: string, expected: string, fn: (client: pg.Client) => Promise<T>): Promise<T> {
  return withUrl(url, async (cron) => {
    const { database } = await cronPlace(cron);
    if (database !== expected) {
      throw new FeatureUnavailableError(
        'PC011',
        `pgcache: cronDatabaseUrl points at database "${database}", but pg_cron runs in "${expected}" (cron.database_name)`,
      );
    }
    return fn(cron);
  });
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
    const place = await cronPlace(db);
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
    const place = await cronPlace(db);
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

// Runs cache_maintenance() from the application: once (runMaintenance), or on a timer where pg_cron is missing
// (PGlite, managed databases without pg_cron), with one runner at a time across processes (startMaintenance).
import pg from 'pg';
import { translateError } from '../client/errors.js';
import { quotedSchemaName } from '../client/schema.js';
import type { CacheMaintenanceHistoryRow } from '../generated/rows.js';

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

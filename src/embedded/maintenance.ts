// Maintenance from the TS side, on a timer: for databases without pg_cron (PGlite, some managed services).
// It runs the same SQL as the pg_cron job: cache_maintenance() where the install has it, else
// cache_cleanup_expired() in batches until a batch comes back short, then cache_evict() for every type
// with a budget. One run at a time inside this process; on PGlite advisory locks lock nothing, so this
// timer must be the only maintenance runner on a PGlite database.
import pg from 'pg';

export interface MaintenanceRun {
  at: Date;
  /** Expired or invalidated entries deleted. */
  expired: number;
  /** Entries evicted to bring types under their budgets. */
  evicted: number;
  ms: number;
  /** The SQL that ran. */
  via: string;
}

export interface MaintenanceTimer {
  readonly intervalMs: number;
  readonly runs: MaintenanceRun[];
  /** Runs now (after a run in progress, if any). */
  runNow(): Promise<MaintenanceRun>;
  /** Resolves with the first run that starts after this call. */
  nextRun(): Promise<MaintenanceRun>;
  stop(): Promise<void>;
}

export interface MaintenanceOptions {
  /** The pgcache schema (unquoted name). */
  schema?: string;
  intervalMs?: number;
  /** Entries per cleanup batch. */
  batch?: number;
  onRun?: (run: MaintenanceRun) => void;
  onError?: (error: unknown) => void;
}

/**
 * One maintenance pass; returns what it did. Calls cache_maintenance() (batches, budgets, time limits and
 * history all in SQL) where the install has it; older installs get the same two steps from the core functions.
 */
export async function runMaintenance(
  pool: pg.Pool | pg.ClientBase,
  schemaName = 'pgcache',
  batch = 10000,
): Promise<MaintenanceRun> {
  const schema = pg.escapeIdentifier(schemaName);
  const at = new Date();
  const started = performance.now();
  const { rows: has } = await pool.query('SELECT to_regprocedure($1) IS NOT NULL AS present', [
    `${schema}.cache_maintenance()`,
  ]);
  if (has[0].present) {
    const { rows } = await pool.query(
      `SELECT coalesce(sum(expired), 0) AS expired, coalesce(sum(evicted), 0) AS evicted FROM ${schema}.cache_maintenance()`,
    );
    return {
      at,
      expired: Number(rows[0].expired),
      evicted: Number(rows[0].evicted),
      ms: performance.now() - started,
      via: 'cache_maintenance()',
    };
  }
  let expired = 0;
  for (;;) {
    const { rows } = await pool.query(`SELECT ${schema}.cache_cleanup_expired(NULL, $1) AS n`, [batch]);
    const n = Number(rows[0].n);
    expired += n;
    if (n < batch) break;
  }
  let evicted = 0;
  const budgeted = await pool.query(
    `SELECT name FROM ${schema}.cache_types WHERE max_entries IS NOT NULL OR max_bytes IS NOT NULL ORDER BY name`,
  );
  for (const { name } of budgeted.rows) {
    const { rows } = await pool.query(`SELECT ${schema}.cache_evict($1) AS n`, [name]);
    evicted += Number(rows[0].n);
  }
  return { at, expired, evicted, ms: performance.now() - started, via: 'cache_cleanup_expired() + cache_evict()' };
}

export function startMaintenanceTimer(pool: pg.Pool, options: MaintenanceOptions = {}): MaintenanceTimer {
  const intervalMs = options.intervalMs ?? 60_000;
  const runs: MaintenanceRun[] = [];
  let running: Promise<MaintenanceRun> | undefined;
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let waiters: { after: number; resolve: (run: MaintenanceRun) => void; reject: (e: unknown) => void }[] = [];

  const runOnce = (): Promise<MaintenanceRun> => {
    const previous = running ?? Promise.resolve();
    const startedAt = Date.now();
    const current = previous
      .catch(() => {})
      .then(() => runMaintenance(pool, options.schema, options.batch))
      .then((run) => {
        runs.push(run);
        options.onRun?.(run);
        const ready = waiters.filter((w) => w.after <= startedAt);
        waiters = waiters.filter((w) => w.after > startedAt);
        for (const w of ready) w.resolve(run);
        return run;
      });
    running = current;
    return current;
  };

  const schedule = () => {
    if (stopped) return;
    timer = setTimeout(() => {
      runOnce()
        .catch((error) => options.onError?.(error))
        .finally(schedule);
    }, intervalMs);
    timer.unref();
  };
  schedule();

  return {
    intervalMs,
    runs,
    runNow: runOnce,
    nextRun: () =>
      new Promise<MaintenanceRun>((resolve, reject) => {
        waiters.push({ after: Date.now(), resolve, reject });
      }),
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      await running?.catch(() => {});
      for (const w of waiters) w.reject(new Error('maintenance timer stopped'));
      waiters = [];
    },
  };
}

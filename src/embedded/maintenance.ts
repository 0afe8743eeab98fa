// Maintenance for the embedded database. PGlite has no pg_cron, so the package's TS-side runner
// (startMaintenance in src/maintenance.ts) calls cache_maintenance() on a timer. On PGlite its advisory lock
// excludes nothing (every connection is the same session), so this process must be the only runner: the demo
// starts exactly one. The runner opens its own connection, so the socket server allows one more than the pool.
import { type MaintenanceReport, startMaintenance } from '../maintenance.js';

/** One run of cache_maintenance(), summed over the cache types it visited. */
export interface MaintenanceRun {
  at: Date;
  /** Expired or invalidated entries deleted. */
  expired: number;
  /** Entries evicted to bring types within their budgets. */
  evicted: number;
  ms: number;
}

export interface EmbeddedMaintenance {
  /** Resolves with the first run that starts after this call. */
  nextRun(): Promise<MaintenanceRun>;
  stop(): Promise<void>;
}

export function summarize(reports: MaintenanceReport[]): MaintenanceRun {
  return {
    at: reports[0]?.run_started_at ?? new Date(),
    expired: reports.reduce((n, r) => n + Number(r.expired), 0),
    evicted: reports.reduce((n, r) => n + Number(r.evicted), 0),
    ms: reports.reduce((n, r) => n + Number(r.duration_ms), 0),
  };
}

export function startEmbeddedMaintenance(
  databaseUrl: string,
  options: { schema?: string; intervalMs: number; onError?: (error: unknown) => void },
): EmbeddedMaintenance {
  let waiters: { after: number; resolve: (run: MaintenanceRun) => void; reject: (error: unknown) => void }[] = [];
  const runner = startMaintenance({
    databaseUrl,
    schema: options.schema,
    intervalMs: options.intervalMs,
    onError: options.onError,
    onRun(reports) {
      if (reports.length === 0) return;
      const run = summarize(reports);
      const ready = waiters.filter((w) => w.after <= run.at.getTime());
      waiters = waiters.filter((w) => w.after > run.at.getTime());
      for (const w of ready) w.resolve(run);
    },
  });
  return {
    nextRun: () => new Promise((resolve, reject) => waiters.push({ after: Date.now(), resolve, reject })),
    async stop() {
      await runner.stop();
      for (const w of waiters) w.reject(new Error('maintenance stopped'));
      waiters = [];
    },
  };
}

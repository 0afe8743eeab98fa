// Maintenance from the application side (the `pgcache/maintenance` entry). The work itself is the SQL function
// cache_maintenance(); these modules only decide who calls it and when:
//   - maintenance/runner.ts: runMaintenance() once, and startMaintenance(), a timer that calls it where pg_cron
//     is missing (PGlite, managed databases without pg_cron), with one runner at a time across processes;
//   - maintenance/cron.ts: scheduleMaintenance() / unscheduleMaintenance(), the pg_cron jobs, created from the
//     cron database (cron.database_name) when pgcache lives in another database.
export * from './maintenance/cron.js';
export * from './maintenance/runner.js';

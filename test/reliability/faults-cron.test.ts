// A failing pg_cron job shows up in the monitoring views. pg_cron (1.4 here: minutes at the finest) lives in
// the cluster's `pgcache` database; two installs are scheduled and broken on purpose: one in a schema of the
// cron database (cache_cron_jobs reads the jobs directly) and one in this file's own database (its jobs are
// created from the cron database; cache_cron_status_query() run there reads them). Both must report the
// failure with pg_cron's error message, and the Prometheus exporter must publish it. Takes up to ~75 s: the
// jobs run at the next minute boundary.
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { CRON_DATABASE, clusterInfo } from '../../scripts/lib/cluster.js';
import { migrate, uninstall } from '../../src/install/migrate.js';
import { scheduleMaintenance, unscheduleMaintenance } from '../../src/maintenance.js';
import { createMetrics } from '../../src/metrics.js';
import { useDatabase } from '../helpers/db.js';

const db = useDatabase();
const cronUrl = clusterInfo().url(CRON_DATABASE);
const cronSchema = `pgc_fail_${randomBytes(4).toString('hex')}`;
const s = pg.escapeIdentifier(cronSchema);
let cron: pg.Pool;

beforeAll(async () => {
  cron = new pg.Pool({ connectionString: cronUrl, max: 3 });
  await migrate({ databaseUrl: cronUrl, schema: cronSchema });
});
afterAll(async () => {
  await unscheduleMaintenance({ databaseUrl: db.url, cronDatabaseUrl: cronUrl }).catch(() => {});
  await cron.query(`SELECT ${s}.cache_unschedule_maintenance()`).catch(() => {});
  await uninstall({ databaseUrl: cronUrl, schema: cronSchema });
  await cron.end();
});

it('a maintenance job that fails shows as failed, with its error, in cache_cron_jobs, cache_cron_status_query() and the exporter', async () => {
  // Break both installs: a setting that no longer parses, and one that is missing (PC010).
  await cron.query(`UPDATE ${s}.cache_settings SET value = 'lots' WHERE name = 'maintenance.batch_size'`);
  await db.pool.query(`DELETE FROM pgcache.cache_settings WHERE name = 'maintenance.time_budget'`);

  // pg_cron starts jobs on minute boundaries; schedule early in a minute so the next boundary is the one.
  const second = new Date().getSeconds();
  if (second >= 50) await sleep((61 - second) * 1000);
  const hereId = String((await cron.query(`SELECT ${s}.cache_schedule_maintenance() AS id`)).rows[0].id);
  const elsewhere = await scheduleMaintenance({ databaseUrl: db.url, cronDatabaseUrl: cronUrl });
  const elsewhereId = elsewhere.find((j) => j.jobName.startsWith('pgcache_maintenance:'))?.jobId as string;

  // Wait for both jobs' first run to be recorded as failed.
  const deadline = Date.now() + 90_000;
  let statuses: string[] = [];
  while (Date.now() < deadline) {
    const { rows } = await cron.query(
      `SELECT DISTINCT ON (jobid) status FROM cron.job_run_details WHERE jobid = ANY ($1::bigint[])
        ORDER BY jobid, runid DESC`,
      [[hereId, elsewhereId]],
    );
    statuses = rows.map((r) => r.status);
    if (statuses.length === 2 && statuses.every((st) => st === 'failed' || st === 'succeeded')) break;
    await sleep(1000);
  }
  expect(statuses).toEqual(['failed', 'failed']);

  // In the cron database: the cache_cron_jobs view.
  const here = (await cron.query(`SELECT * FROM ${s}.cache_cron_jobs`)).rows;
  expect(here).toEqual([
    expect.objectContaining({
      job_name: `pgcache_maintenance:${CRON_DATABASE}.${cronSchema}`,
      active: true,
      last_status: 'failed',
      last_message: expect.stringContaining('invalid input syntax for type integer: "lots"'),
      recorded_failures: expect.stringMatching(/^[1-9]/),
    }),
  ]);

  // Elsewhere: the status query, built in this database and run in the cron database.
  const sql = (await db.pool.query(`SELECT pgcache.cache_cron_status_query() AS sql`)).rows[0].sql as string;
  const elsewhereRows = (await cron.query(sql)).rows;
  expect(elsewhereRows).toContainEqual(
    expect.objectContaining({
      job_name: `pgcache_maintenance:${db.name}.pgcache`,
      database: db.name,
      last_status: 'failed',
      last_message: expect.stringContaining('setting "maintenance.time_budget" is missing'),
      recorded_failures: expect.stringMatching(/^[1-9]/),
    }),
  );
  // The failed run left no trace in the maintenance history: it rolled back whole.
  expect((await db.pool.query(`SELECT count(*)::int AS n FROM pgcache.cache_maintenance_history`)).rows[0].n).toBe(0);

  // The Prometheus exporter publishes the failure of both.
  const metrics = await createMetrics({ pool: db.pool, cronPool: cron }).metrics();
  expect(metrics).toContain(`pgcache_cron_job_last_run_success{job="pgcache_maintenance:${db.name}.pgcache"} 0`);
  expect(metrics).toMatch(
    new RegExp(`pgcache_cron_job_recorded_failures\\{job="pgcache_maintenance:${db.name}\\.pgcache"\\} [1-9]`),
  );
  const cronPoolHere = new pg.Pool({ connectionString: cronUrl, max: 1 });
  try {
    const metricsHere = await createMetrics({ pool: cronPoolHere, schema: cronSchema }).metrics();
    expect(metricsHere).toContain(
      `pgcache_cron_job_last_run_success{job="pgcache_maintenance:${CRON_DATABASE}.${cronSchema}"} 0`,
    );
  } finally {
    await cronPoolHere.end();
  }
}, 150_000);

// Without pg_cron: on PGlite (no pg_cron in any form) the scheduling functions say so with a NOTICE and do
// nothing, cache_cron_jobs is empty, and the timer runs the same cache_maintenance().
import { PGlite } from '@electric-sql/pglite';
import { createPgConfig } from '@electric-sql/pglite/node-postgres';
import pg from 'pg';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { migrate } from '../../src/install/migrate.js';
import { startMaintenance } from '../../src/maintenance.js';
import { createMetrics } from '../../src/metrics.js';

let lite: PGlite;
let client: pg.Client;
const notices: string[] = [];

beforeAll(async () => {
  lite = await PGlite.create();
  client = new pg.Client(createPgConfig(lite) as pg.ClientConfig);
  client.on('notice', (n) => notices.push(n.message ?? ''));
  await client.connect();
  await migrate({ client });
}, 120_000);
afterAll(async () => {
  await client?.end();
  await lite?.close();
});

it('cache_schedule_maintenance and cache_unschedule_maintenance say pg_cron is missing and do nothing', async () => {
  notices.length = 0;
  expect((await client.query(`SELECT pgcache.cache_schedule_maintenance() AS id`)).rows[0].id).toBeNull();
  expect((await client.query(`SELECT pgcache.cache_unschedule_maintenance() AS n`)).rows[0].n).toBe(0);
  expect((await client.query(`SELECT * FROM pgcache.cache_cron_jobs`)).rows).toEqual([]);
  expect(notices).toEqual([
    'pgcache: pg_cron is not available on this server, so nothing was scheduled. Run SELECT pgcache.cache_maintenance() on a timer instead: startMaintenance({ intervalMs: 60000 }) in the pgcache package does that.',
    'pgcache: pg_cron is not available on this server, so nothing was unscheduled. Run SELECT pgcache.cache_maintenance() on a timer instead: startMaintenance({ intervalMs: 60000 }) in the pgcache package does that.',
    "pgcache: pg_cron is not available on this server; cache_maintenance_history shows the timer's runs",
  ]);
  const rows = await client.query(`SELECT * FROM pgcache.cache_maintenance_commands()`);
  expect(rows.rows.map((r) => r.job_name)).toEqual(['pgcache_maintenance:postgres.pgcache']);
});

it('startMaintenance runs cache_maintenance() on the timer instead', async () => {
  await client.query(`SELECT pgcache.cache_set('default', 'k' || i, to_jsonb(i)) FROM generate_series(1, 6) i`);
  await client.query(`UPDATE pgcache.cache_default SET expires_at = now() - interval '1 hour' WHERE key <> 'k6'`);
  const runner = startMaintenance({ client, intervalMs: 3_600_000, runAtStart: false });
  try {
    const reports = await runner.runNow();
    expect(reports?.find((r) => r.cache_type === 'default')).toMatchObject({ expired: '5', complete: true });
    expect((await client.query(`SELECT count(*)::int AS n FROM pgcache.cache_default`)).rows[0].n).toBe(1);
  } finally {
    await runner.stop();
  }
});

it('the Prometheus exporter works without pg_cron', async () => {
  const pool = { query: client.query.bind(client) } as unknown as pg.Pool;
  const text = await createMetrics({ pool }).metrics();
  expect(text).toMatch(/^pgcache_entries\{cache_type="default"\} 1$/m);
  expect(text).toMatch(/^pgcache_maintenance_last_expired\{cache_type="default"\} 5$/m);
  expect(text).not.toMatch(/^pgcache_cron_job_active\{/m);
});

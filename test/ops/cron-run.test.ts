// The one slow test: real pg_cron jobs run cache_maintenance() at the next minute boundary and expire rows,
// both where pgcache lives in the cron database (cache_schedule_maintenance) and where it lives in another
// (scheduleMaintenance from the cron database, cron.schedule_in_database).
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { CRON_DATABASE, clusterInfo } from '../../scripts/lib/cluster.js';
import { migrate, uninstall } from '../../src/install/migrate.js';
import { scheduleMaintenance, unscheduleMaintenance } from '../../src/maintenance.js';
import { useDatabase } from '../helpers/db.js';

const db = useDatabase();
const cronUrl = clusterInfo().url(CRON_DATABASE);
const cronSchema = `pgc_run_${randomBytes(4).toString('hex')}`;
let cron: pg.Pool;

beforeAll(async () => {
  cron = new pg.Pool({ connectionString: cronUrl, max: 2 });
  await migrate({ databaseUrl: cronUrl, schema: cronSchema });
});
afterAll(async () => {
  await unscheduleMaintenance({ databaseUrl: db.url, cronDatabaseUrl: cronUrl }).catch(() => {});
  await cron.query(`SELECT ${pg.escapeIdentifier(cronSchema)}.cache_unschedule_maintenance()`).catch(() => {});
  await uninstall({ databaseUrl: cronUrl, schema: cronSchema });
  await cron.end();
});

async function seedExpired(pool: pg.Pool, schema: string): Promise<void> {
  const s = pg.escapeIdentifier(schema);
  await pool.query(`SELECT ${s}.cache_set('default', 'gone' || i, to_jsonb(i)) FROM generate_series(1, 50) i`);
  await pool.query(`SELECT ${s}.cache_set('default', 'kept', '1'::jsonb)`);
  await pool.query(`UPDATE ${s}.cache_default SET expires_at = now() - interval '1 hour' WHERE key LIKE 'gone%'`);
}

async function state(pool: pg.Pool, schema: string): Promise<{ left: number; runs: number }> {
  const s = pg.escapeIdentifier(schema);
  const { rows } = await pool.query(
    `SELECT (SELECT count(*)::int FROM ${s}.cache_default) AS left,
            (SELECT count(*)::int FROM ${s}.cache_maintenance_history WHERE cache_type = 'default') AS runs`,
  );
  return rows[0];
}

it('a pg_cron job made by cache_schedule_maintenance / scheduleMaintenance runs and expires rows', async () => {
  await seedExpired(db.pool, 'pgcache');
  await seedExpired(cron, cronSchema);
  // pg_cron starts jobs on minute boundaries; schedule early in a minute so the next boundary is the one.
  const second = new Date().getSeconds();
  if (second >= 50) await sleep((61 - second) * 1000);
  const elsewhere = await scheduleMaintenance({ databaseUrl: db.url, cronDatabaseUrl: cronUrl });
  const here = (await cron.query(`SELECT ${pg.escapeIdentifier(cronSchema)}.cache_schedule_maintenance() AS id`))
    .rows[0].id as string;

  const deadline = Date.now() + 85_000;
  let done = false;
  while (!done && Date.now() < deadline) {
    await sleep(2000);
    const [a, b] = await Promise.all([state(db.pool, 'pgcache'), state(cron, cronSchema)]);
    done = a.left === 1 && a.runs > 0 && b.left === 1 && b.runs > 0;
  }
  expect(await state(db.pool, 'pgcache')).toMatchObject({ left: 1 });
  expect(await state(cron, cronSchema)).toMatchObject({ left: 1 });
  const history = await db.pool.query(
    `SELECT expired FROM pgcache.cache_maintenance_history WHERE cache_type = 'default' ORDER BY id LIMIT 1`,
  );
  expect(history.rows[0].expired).toBe('50');

  // pg_cron recorded the runs as succeeded (our trim job keeps them bounded, it does not remove the last).
  const jobIds = [...elsewhere.map((j) => j.jobId), here];
  let runs: pg.QueryResultRow[] = [];
  for (let i = 0; i < 10; i++) {
    runs = (
      await cron.query(
        `SELECT DISTINCT ON (jobid) jobid::text, status FROM cron.job_run_details WHERE jobid = ANY ($1::bigint[])
          ORDER BY jobid, runid DESC`,
        [jobIds],
      )
    ).rows;
    if (runs.length === 3 && runs.every((r) => r.status === 'succeeded')) break;
    await sleep(1000);
  }
  expect(runs.map((r) => r.status)).toEqual(['succeeded', 'succeeded', 'succeeded']);
}, 120_000);

// pg_cron scheduling: named, idempotent jobs; direct where pgcache lives in the cron database, a PC011 error
// naming the cron database everywhere else (and scheduleMaintenance doing it from there); pg_cron's run log of
// our jobs kept bounded. The test databases are not the cron database; the direct case installs pgcache into a
// schema of its own in the cron database and removes it afterwards.
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CRON_DATABASE, clusterInfo } from '../../scripts/lib/cluster.js';
import { FeatureUnavailableError } from '../../src/client/errors.js';
import { migrate, uninstall } from '../../src/install/migrate.js';
import { scheduleMaintenance, unscheduleMaintenance } from '../../src/maintenance.js';
import { sqlState, useDatabase } from '../helpers/db.js';

const db = useDatabase();
const cronUrl = clusterInfo().url(CRON_DATABASE);
const cronSchema = `pgc_cron_${randomBytes(4).toString('hex')}`;
let cron: pg.Pool;

beforeAll(async () => {
  cron = new pg.Pool({ connectionString: cronUrl, max: 4 });
  await migrate({ databaseUrl: cronUrl, schema: cronSchema });
});
afterAll(async () => {
  await cron.query(`SELECT cron.unschedule(jobid) FROM cron.job WHERE jobname LIKE $1 OR jobname LIKE $2`, [
    `%:${CRON_DATABASE}.${cronSchema}`,
    `%:${db.name}.%`,
  ]);
  await uninstall({ databaseUrl: cronUrl, schema: cronSchema });
  await cron.end();
});

const jobsNamed = async (pattern: string) =>
  (
    await cron.query(
      `SELECT jobid, jobname, schedule, command, database FROM cron.job WHERE jobname LIKE $1 ORDER BY jobname`,
      [pattern],
    )
  ).rows;

/** Runs a statement, collecting its NOTICEs. */
async function withNotices(url: string, sql: string): Promise<{ rows: pg.QueryResultRow[]; notices: string[] }> {
  const client = new pg.Client({ connectionString: url });
  const notices: string[] = [];
  client.on('notice', (n) => notices.push(n.message ?? ''));
  await client.connect();
  try {
    return { rows: (await client.query(sql)).rows, notices };
  } finally {
    await client.end();
  }
}

describe('in a database other than the cron database', () => {
  it('cache_schedule_maintenance fails with PC011 naming the cron database and the statements to run there', async () => {
    expect(await sqlState(db.pool.query(`SELECT pgcache.cache_schedule_maintenance()`))).toBe('PC011');
    const error = await db.pool.query(`SELECT pgcache.cache_schedule_maintenance('*/5 * * * *')`).catch((e) => e);
    expect(error.message).toBe(
      `pgcache: pg_cron runs in database "${CRON_DATABASE}" (cron.database_name), but pgcache is in "${db.name}"; schedule the maintenance jobs from database "${CRON_DATABASE}"`,
    );
    expect(error.detail).toContain(
      `SELECT cron.schedule_in_database('pgcache_maintenance:${db.name}.pgcache', '*/5 * * * *', 'SELECT pg_catalog.count(*) FROM pgcache.cache_maintenance()', '${db.name}');`,
    );
    expect(error.hint).toMatch(/scheduleMaintenance\(\{ databaseUrl, cronDatabaseUrl \}\)/);
    expect(await sqlState(db.pool.query(`SELECT pgcache.cache_unschedule_maintenance()`))).toBe('PC011');
    expect(await jobsNamed(`%:${db.name}.%`)).toEqual([]);
  });

  it('cache_maintenance_commands lists the maintenance job here and a run-log trim job in the cron database', async () => {
    const { rows } = await db.pool.query(`SELECT * FROM pgcache.cache_maintenance_commands('0 * * * *')`);
    expect(rows).toEqual([
      {
        job_name: `pgcache_maintenance:${db.name}.pgcache`,
        schedule: '0 * * * *',
        command: 'SELECT pg_catalog.count(*) FROM pgcache.cache_maintenance()',
        database: db.name,
      },
      expect.objectContaining({
        job_name: `pgcache_cron_trim:${db.name}.pgcache`,
        schedule: '0 * * * *',
        database: CRON_DATABASE,
      }),
    ]);
    expect(rows[1].command).toMatch(/^DELETE FROM cron\.job_run_details /);
    expect(await sqlState(db.pool.query(`SELECT * FROM pgcache.cache_maintenance_commands(NULL)`))).toBe('PC010');
  });

  it('cache_cron_jobs is empty and says where the jobs are', async () => {
    const { rows, notices } = await withNotices(db.url, 'SELECT * FROM pgcache.cache_cron_jobs');
    expect(rows).toEqual([]);
    expect(notices).toEqual([
      `pgcache: pg_cron's jobs are in database "${CRON_DATABASE}"; run SELECT cache_cron_status_query() here and its result there`,
    ]);
  });

  it('scheduleMaintenance creates both jobs from the cron database, idempotently, and unscheduleMaintenance removes them', async () => {
    const first = await scheduleMaintenance({
      databaseUrl: db.url,
      cronDatabaseUrl: cronUrl,
      schedule: '*/10 * * * *',
    });
    expect(first.map((j) => [j.jobName, j.database, j.schedule])).toEqual([
      [`pgcache_maintenance:${db.name}.pgcache`, db.name, '*/10 * * * *'],
      [`pgcache_cron_trim:${db.name}.pgcache`, CRON_DATABASE, '*/10 * * * *'],
    ]);
    const again = await scheduleMaintenance({
      databaseUrl: db.url,
      cronDatabaseUrl: cronUrl,
      schedule: '*/15 * * * *',
    });
    expect(again.map((j) => j.jobId)).toEqual(first.map((j) => j.jobId));
    const jobs = await jobsNamed(`%:${db.name}.pgcache`);
    expect(jobs.map((j) => [j.jobname, j.schedule, j.database])).toEqual([
      [`pgcache_cron_trim:${db.name}.pgcache`, '*/15 * * * *', CRON_DATABASE],
      [`pgcache_maintenance:${db.name}.pgcache`, '*/15 * * * *', db.name],
    ]);
    expect(await unscheduleMaintenance({ databaseUrl: db.url, cronDatabaseUrl: cronUrl })).toBe(2);
    expect(await unscheduleMaintenance({ databaseUrl: db.url, cronDatabaseUrl: cronUrl })).toBe(0);
    expect(await jobsNamed(`%:${db.name}.%`)).toEqual([]);
  });

  it('scheduleMaintenance without cronDatabaseUrl, or with the wrong one, says which database to use', async () => {
    const missing = await scheduleMaintenance({ databaseUrl: db.url }).catch((e) => e);
    expect(missing).toBeInstanceOf(FeatureUnavailableError);
    expect(missing.code).toBe('PC011');
    expect(missing.message).toMatch(`pg_cron runs in database "${CRON_DATABASE}"`);
    const wrong = await scheduleMaintenance({ databaseUrl: db.url, cronDatabaseUrl: db.url }).catch((e) => e);
    expect(wrong).toBeInstanceOf(FeatureUnavailableError);
    expect(wrong.message).toBe(
      `pgcache: cronDatabaseUrl points at database "${db.name}", but pg_cron runs in "${CRON_DATABASE}" (cron.database_name)`,
    );
    expect(await jobsNamed(`%:${db.name}.%`)).toEqual([]);
  });

  it("the trim job's command keeps pg_cron's run log of our jobs to maintenance.cron_runs_kept rows per job", async () => {
    await db.pool.query(`UPDATE pgcache.cache_settings SET value = '10' WHERE name = 'maintenance.cron_runs_kept'`);
    try {
      const jobs = await scheduleMaintenance({ databaseUrl: db.url, cronDatabaseUrl: cronUrl, schedule: '0 0 1 1 *' });
      const other = await cron.query(
        `SELECT cron.schedule('pgcache-test-other-${db.name}', '0 0 1 1 *', 'SELECT 1') AS id`,
      );
      const ids = [...jobs.map((j) => j.jobId), other.rows[0].id];
      for (const id of ids) await fakeRuns(id, 40);
      const trim = jobs.find((j) => j.jobName.startsWith('pgcache_cron_trim:'));
      await cron.query(trim?.command as string);
      const counts = await runsPerJob(ids);
      expect(counts).toEqual([10, 10, 40]); // our two jobs trimmed, someone else's job untouched
      await cron.query(`SELECT cron.unschedule($1::bigint)`, [other.rows[0].id]);
    } finally {
      await unscheduleMaintenance({ databaseUrl: db.url, cronDatabaseUrl: cronUrl });
      await db.pool.query(`UPDATE pgcache.cache_settings SET value = '100' WHERE name = 'maintenance.cron_runs_kept'`);
    }
  });
});

async function fakeRuns(jobId: string, n: number): Promise<void> {
  await cron.query(
    `INSERT INTO cron.job_run_details (jobid, runid, job_pid, database, username, command, status, return_message, start_time, end_time)
     SELECT $1, nextval('cron.runid_seq'), 0, 'x', current_user, 'SELECT 1', CASE WHEN i % 5 = 0 THEN 'failed' ELSE 'succeeded' END,
            'SELECT 1', now() - (i || ' minutes')::interval, now() - (i || ' minutes')::interval
       FROM generate_series(1, $2) i`,
    [jobId, n],
  );
}
async function runsPerJob(ids: string[]): Promise<number[]> {
  const { rows } = await cron.query(
    `SELECT j AS jobid, (SELECT count(*)::int FROM cron.job_run_details d WHERE d.jobid = j) AS n FROM unnest($1::bigint[]) WITH ORDINALITY u(j, o) ORDER BY o`,
    [ids],
  );
  return rows.map((r) => r.n);
}

describe('in the cron database', () => {
  const s = () => pg.escapeIdentifier(cronSchema);

  it('cache_schedule_maintenance creates one named job, updates it in place, and cache_unschedule_maintenance removes it', async () => {
    const id1 = (await cron.query(`SELECT ${s()}.cache_schedule_maintenance() AS id`)).rows[0].id;
    const id2 = (await cron.query(`SELECT ${s()}.cache_schedule_maintenance('*/2 * * * *') AS id`)).rows[0].id;
    expect(id2).toBe(id1);
    expect(await jobsNamed(`%:${CRON_DATABASE}.${cronSchema}`)).toEqual([
      {
        jobid: id1,
        jobname: `pgcache_maintenance:${CRON_DATABASE}.${cronSchema}`,
        schedule: '*/2 * * * *',
        command: `SELECT pg_catalog.count(*) FROM ${cronSchema}.cache_maintenance()`,
        database: CRON_DATABASE,
      },
    ]);
    const { rows } = await cron.query(`SELECT * FROM ${s()}.cache_cron_jobs`);
    expect(rows).toEqual([
      expect.objectContaining({
        job_name: `pgcache_maintenance:${CRON_DATABASE}.${cronSchema}`,
        jobid: id1,
        active: true,
        recorded_runs: '0',
      }),
    ]);
    expect(await sqlState(cron.query(`SELECT ${s()}.cache_schedule_maintenance('every 5 seconds')`))).toBe('PC010');
    expect((await cron.query(`SELECT ${s()}.cache_unschedule_maintenance() AS n`)).rows[0].n).toBe(1);
    expect((await cron.query(`SELECT ${s()}.cache_unschedule_maintenance() AS n`)).rows[0].n).toBe(0);
    expect(await jobsNamed(`%:${CRON_DATABASE}.${cronSchema}`)).toEqual([]);
  });

  it('scheduleMaintenance there needs no cronDatabaseUrl', async () => {
    const jobs = await scheduleMaintenance({ databaseUrl: cronUrl, schema: cronSchema });
    expect(jobs).toEqual([expect.objectContaining({ jobName: `pgcache_maintenance:${CRON_DATABASE}.${cronSchema}` })]);
    expect(await unscheduleMaintenance({ databaseUrl: cronUrl, schema: cronSchema })).toBe(1);
  });

  it('cache_maintenance trims the run log of its own job and reports it in cache_cron_jobs', async () => {
    await cron.query(`UPDATE ${s()}.cache_settings SET value = '7' WHERE name = 'maintenance.cron_runs_kept'`);
    const id = (await cron.query(`SELECT ${s()}.cache_schedule_maintenance('0 0 1 1 *') AS id`)).rows[0].id;
    try {
      await fakeRuns(id, 30);
      const before = (await cron.query(`SELECT * FROM ${s()}.cache_cron_jobs`)).rows[0];
      expect(before).toMatchObject({ recorded_runs: '30', recorded_failures: '6', last_status: 'failed' });
      await cron.query(`SELECT * FROM ${s()}.cache_maintenance()`);
      expect(await runsPerJob([id])).toEqual([7]);
      // The newest runs are the ones kept.
      const kept = await cron.query(
        `SELECT max(runid) - min(runid) AS span FROM cron.job_run_details WHERE jobid = $1`,
        [id],
      );
      expect(Number(kept.rows[0].span)).toBe(6);
    } finally {
      await cron.query(`SELECT ${s()}.cache_unschedule_maintenance()`);
    }
  });
});

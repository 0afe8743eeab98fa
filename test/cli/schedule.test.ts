// pgcache schedule / unschedule against the real pg_cron of the test cluster. Test databases are not pg_cron's
// database (cron.database_name = pgcache), so this is the cross-database case: the jobs are created from
// there with cron.schedule_in_database, reached with --database-url's credentials.
import { afterAll, describe, expect, it, vi } from 'vitest';
import { CRON_DATABASE, clusterInfo } from '../../scripts/lib/cluster.js';
import { withClient } from '../../scripts/lib/databases.js';
import { useDatabase } from '../helpers/db.js';
import { cli } from '../helpers/process.js';

// Each test starts the CLI as a child process (tsx compiles on start): seconds each on a busy machine.
vi.setConfig({ testTimeout: 180_000 });

const db = useDatabase();
const cronUrl = clusterInfo().url(CRON_DATABASE);
const jobs = () =>
  withClient(cronUrl, async (c) => {
    const { rows } = await c.query(
      `SELECT jobid::int, jobname, schedule, database, command FROM cron.job WHERE jobname LIKE $1 ORDER BY jobname`,
      [`%:${db.name}.pgcache`],
    );
    return rows;
  });

afterAll(async () => {
  // Never leave a job behind that would run against the dropped test database.
  await withClient(cronUrl, (c) =>
    c.query(`SELECT cron.unschedule(jobid) FROM cron.job WHERE jobname LIKE $1`, [`%:${db.name}.pgcache`]),
  );
});

describe('pgcache schedule / unschedule', () => {
  it('schedules the named jobs from the cron database, idempotently, and unschedules them', async () => {
    const first = await cli(['schedule', '--cron', '*/5 * * * *', '--database-url', db.url]);
    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
    expect(first.stdout).toContain(`Scheduled pgcache_maintenance:${db.name}.pgcache (job `);
    const scheduled = await jobs();
    expect(scheduled.map((j) => [j.jobname, j.schedule, j.database])).toEqual([
      [`pgcache_cron_trim:${db.name}.pgcache`, '*/5 * * * *', CRON_DATABASE],
      [`pgcache_maintenance:${db.name}.pgcache`, '*/5 * * * *', db.name],
    ]);
    expect(scheduled[1].command).toBe('SELECT pg_catalog.count(*) FROM pgcache.cache_maintenance()');

    // Again, with another schedule: the same jobs, updated in place.
    expect((await cli(['schedule', '--database-url', db.url])).code).toBe(0);
    const again = await jobs();
    expect(again.map((j) => [j.jobid, j.schedule])).toEqual(scheduled.map((j) => [j.jobid, '* * * * *']));

    const doctor = await cli(['doctor', '--database-url', db.url]);
    expect(doctor.stdout).toMatch(
      new RegExp(
        `^ok {4}maintenance job +job pgcache_maintenance:${db.name}\\.pgcache \\(\\d+\\) runs '\\* \\* \\* \\* \\*'`,
        'm',
      ),
    );

    const removed = await cli(['unschedule', '--database-url', db.url]);
    expect(removed.code).toBe(0);
    expect(removed.stdout.trim()).toBe('Removed 2 pg_cron jobs of schema "pgcache".');
    expect(await jobs()).toEqual([]);
    expect((await cli(['unschedule', '--database-url', db.url])).stdout.trim()).toBe(
      'Removed 0 pg_cron jobs of schema "pgcache".',
    );
  });

  it('uninstall unschedules the jobs before dropping the schema', async () => {
    expect((await cli(['schedule', '--database-url', db.url])).code).toBe(0);
    expect(await jobs()).toHaveLength(2);
    const refused = await cli(['uninstall', '--database-url', db.url]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('run again with --yes');
    expect(await jobs()).toHaveLength(2);

    const { code, stdout } = await cli(['uninstall', '--yes', '--database-url', db.url]);
    expect(code).toBe(0);
    expect(stdout).toContain('Removed 2 pg_cron jobs.');
    expect(stdout).toContain('Removed pgcache: dropped schema "pgcache" and every entry in it.');
    expect(await jobs()).toEqual([]);
    const schema = await db.pool.query(`SELECT to_regnamespace('pgcache') AS s`);
    expect(schema.rows[0].s).toBeNull();
  });
});

// pg_cron: preloaded, its extension created in its database, and this install's maintenance job scheduled,
// active and last run without error.
import pg from 'pg';
import { urlForDatabase } from '../../../client/session.js';
import { UNREADABLE_CRON_SETTING } from '../../../install/cron-setting.js';
import type { CronRow } from '../../../view-rows.js';
import { quotedSchema } from '../../connection.js';
import { describeError } from '../../errors.js';
import type { Check, DoctorContext, DoctorOptions } from './check.js';

/** shared_preload_libraries as a list (it is a comma list whose items may be quoted). */
export function preloadList(setting: string): string[] {
  return setting
    .split(',')
    .map((s) => s.trim().replace(/^"(.*)"$/, '$1'))
    .filter(Boolean);
}

export function cronCheck({ client, options, url, facts }: DoctorContext): Promise<Check[]> {
  return cronChecks(client, options, url, {
    pglite: facts.pglite,
    db: facts.db,
    user: facts.user,
    cronDb: facts.cronDb,
    cronReadable: facts.cronReadable,
    installed: facts.installed,
  });
}

async function cronChecks(
  client: pg.ClientBase,
  options: DoctorOptions,
  url: string,
  server: {
    pglite: boolean;
    db: string;
    user: string;
    cronDb: string | null;
    cronReadable: boolean;
    installed: boolean;
  },
): Promise<Check[]> {
  const timer = 'run cache maintenance from your application on a timer instead';
  if (!options.cron) {
    return [{ name: 'pg_cron', status: 'skip', summary: `--no-cron: maintenance is expected to run on a timer` }];
  }
  if (server.pglite) {
    return [
      {
        name: 'pg_cron',
        status: 'warn',
        summary: 'PGlite has no pg_cron; maintenance must run from the TS side on a timer (the embedded demo does)',
        fix: `${timer}, and pass --no-cron to skip this check`,
      },
    ];
  }
  // Reading shared_preload_libraries needs superuser or pg_read_all_settings; cron.database_name exists
  // exactly when pg_cron is loaded, so it answers the question for everyone else.
  let preload: string | undefined;
  try {
    preload = (await client.query('SHOW shared_preload_libraries')).rows[0].shared_preload_libraries;
  } catch {
    preload = undefined;
  }
  const loaded =
    preload !== undefined ? preloadList(preload).includes('pg_cron') : server.cronDb !== null || !server.cronReadable;
  if (!loaded) {
    const others = preload ? preloadList(preload).filter((l) => l !== 'pg_cron') : [];
    const list = ['pg_cron', ...others].join(',');
    return [
      {
        name: 'pg_cron preload',
        status: 'fail',
        summary:
          preload !== undefined
            ? `shared_preload_libraries is '${preload}': pg_cron is not loaded, so maintenance cannot run in the database`
            : 'pg_cron is not loaded (cron.database_name is not defined), so maintenance cannot run in the database',
        // ALTER SYSTEM rejects cron.* until pg_cron is loaded, so a database other than pg_cron's default
        // ('postgres') goes into postgresql.conf, which takes it as a placeholder until the restart.
        fix:
          server.db === 'postgres'
            ? `as a superuser: ALTER SYSTEM SET shared_preload_libraries = '${list}';\n` +
              `then restart PostgreSQL, run CREATE EXTENSION pg_cron; in "postgres" and: pgcache schedule\n` +
              `(on a managed service, set it in its parameter group). Or ${timer} and pass --no-cron.`
            : `add to postgresql.conf (ALTER SYSTEM rejects cron.* settings until pg_cron is loaded):\n` +
              `  shared_preload_libraries = '${list}'\n` +
              `  cron.database_name = '${server.db}'\n` +
              `then restart PostgreSQL, run CREATE EXTENSION pg_cron; in "${server.db}" and: pgcache schedule\n` +
              `(on a managed service, set these in its parameter group). Or ${timer} and pass --no-cron.`,
      },
    ];
  }
  if (!server.cronReadable && server.cronDb === null) {
    return [
      {
        name: 'pg_cron preload',
        status: 'warn',
        summary: `${UNREADABLE_CRON_SETTING}, and its extension is not in "${server.db}": its database is unknown`,
        fix:
          `as a superuser: GRANT pg_read_all_settings TO ${pg.escapeIdentifier(server.user)};   then run doctor again\n` +
          `(or check pg_cron in its own database; or ${timer} and pass --no-cron)`,
      },
    ];
  }
  const cronDb = server.cronDb ?? 'postgres';
  const checks: Check[] = [
    {
      name: 'pg_cron preload',
      status: 'ok',
      summary: `pg_cron is in shared_preload_libraries; its database (cron.database_name) is "${cronDb}"`,
    },
  ];

  // The extension and the maintenance job live in the cron database, which may be another database.
  let cronClient: pg.Client | undefined;
  let target: pg.ClientBase = client;
  if (cronDb !== server.db) {
    const cronUrl = options.cronDatabaseUrl ?? urlForDatabase(url, cronDb);
    if (!cronUrl) {
      checks.push({
        name: 'pg_cron extension',
        status: 'warn',
        summary: `cannot derive a connection string for the cron database "${cronDb}"`,
        fix: '--cron-database-url <url>',
      });
      return checks;
    }
    cronClient = new pg.Client({ connectionString: cronUrl, application_name: 'pgcache-doctor' });
    try {
      await cronClient.connect();
      target = cronClient;
    } catch (error) {
      checks.push({
        name: 'pg_cron extension',
        status: 'warn',
        summary: `cannot connect to the cron database "${cronDb}": ${describeError(error)}`,
        fix: '--cron-database-url <url> with a role that may connect there',
      });
      await cronClient.end().catch(() => {});
      return checks;
    }
  }
  try {
    const ext = (await target.query(`SELECT extversion FROM pg_extension WHERE extname = 'pg_cron'`)).rows[0];
    if (!ext) {
      checks.push({
        name: 'pg_cron extension',
        status: 'fail',
        summary: `pg_cron is loaded but its extension is not created in "${cronDb}"`,
        fix: `in database "${cronDb}", as a superuser: CREATE EXTENSION pg_cron;   then: pgcache schedule`,
      });
      return checks;
    }
    checks.push({ name: 'pg_cron extension', status: 'ok', summary: `pg_cron ${ext.extversion} in "${cronDb}"` });
    checks.push(await jobCheck(client, target, options, server.db, server.installed));
  } finally {
    await cronClient?.end();
  }
  return checks;
}

/**
 * Is this install's maintenance job scheduled and active, and did its last run succeed? The install says which
 * jobs are its own (cache_cron_status_query(), run in the cron database), so several installs never mix.
 */
async function jobCheck(
  client: pg.ClientBase,
  cron: pg.ClientBase,
  options: DoctorOptions,
  db: string,
  installed: boolean,
): Promise<Check> {
  if (!installed) return { name: 'maintenance job', status: 'skip', summary: 'pgcache is not installed' };
  const fix = `pgcache schedule --schema ${options.schema}`;
  const schema = quotedSchema(options);
  const { rows: has } = await client.query('SELECT to_regprocedure($1) IS NOT NULL AS present', [
    `${schema}.cache_cron_status_query()`,
  ]);
  if (!has[0].present) {
    return {
      name: 'maintenance job',
      status: 'skip',
      summary: 'this install predates scheduled maintenance',
      fix: `pgcache migrate --schema ${options.schema}`,
    };
  }
  let query: string;
  try {
    query = (await client.query(`SELECT ${schema}.cache_cron_status_query() AS q`)).rows[0].q as string;
  } catch (error) {
    return {
      name: 'maintenance job',
      status: 'warn',
      summary: `cannot list this install's pg_cron jobs: ${describeError(error)}`,
      fix: `pgcache migrate --schema ${options.schema}   (or run doctor as a role that may read cron.database_name)`,
    };
  }
  let jobs: CronRow[];
  try {
    jobs = (await cron.query(query)).rows;
  } catch (error) {
    return {
      name: 'maintenance job',
      status: 'warn',
      summary: `cannot read pg_cron's jobs: ${describeError(error)}`,
      fix:
        (error as { code?: string }).code === '42501'
          ? "as a superuser, in pg_cron's database: GRANT USAGE ON SCHEMA cron TO <this role>;   (pg_cron shows each role its own jobs; schedule needs the same grant)"
          : 'run doctor as a role that may read schema cron (pg_cron shows each role its own jobs)',
    };
  }
  const job = jobs.find((j) => j.job_name.startsWith('pgcache_maintenance:'));
  if (!job || !job.active) {
    return {
      name: 'maintenance job',
      status: 'fail',
      summary: job
        ? `job ${job.job_name} is scheduled but inactive`
        : `no pg_cron job runs ${options.schema}.cache_maintenance() for "${db}": expired entries stay until read`,
      fix,
    };
  }
  if (job.last_status === 'failed') {
    return {
      name: 'maintenance job',
      status: 'fail',
      summary: `job ${job.job_name} ('${job.schedule}') failed its last run at ${job.last_start?.toISOString()}: ${job.last_message}`,
      fix: 'fix the error above (SELECT * FROM cron.job_run_details ORDER BY runid DESC), then wait for the next run',
    };
  }
  return {
    name: 'maintenance job',
    status: 'ok',
    summary:
      `job ${job.job_name} (${job.jobid}) runs '${job.schedule}'` +
      (job.last_start ? `; last run ${job.last_status} at ${job.last_start.toISOString()}` : '; not run yet'),
  };
}

// pgcache doctor: checks what a healthy install needs and says, for each failing check, what to change.
// Every check reads the server's own catalogs and settings; nothing is assumed from the client side.
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { Command } from 'commander';
import pg from 'pg';
import { urlForDatabase } from '../../client/session.js';
import { readCronSetting, UNREADABLE_CRON_SETTING } from '../../install/cron-setting.js';
import { MIGRATIONS_TABLE, migrationsDir } from '../../install/migrate.js';
import type { CronRow } from '../../view-rows.js';
import { type ConnectionOptions, connectionOptions, quotedSchema, requireUrl } from '../connection.js';
import { describeError } from '../errors.js';
import { formatCount, toNumber } from '../format.js';

export type Status = 'ok' | 'warn' | 'fail' | 'skip';

export interface Check {
  name: string;
  status: Status;
  summary: string;
  /** What to change, for warn and fail. */
  fix?: string;
}

export interface DoctorOptions extends ConnectionOptions {
  cron: boolean;
  cronDatabaseUrl?: string;
  bloatRatio: string;
  bloatMinDead: string;
  json?: boolean;
}

/** The migrations this package ships (node-pg-migrate names: file names without extension). */
export function shippedMigrations(): string[] {
  return readdirSync(migrationsDir)
    .filter((f) => /\.(js|cjs|mjs|ts|sql)$/.test(f) && statSync(join(migrationsDir, f)).isFile())
    .map((f) => f.replace(/\.[^.]+$/, ''))
    .sort();
}

/** shared_preload_libraries as a list (it is a comma list whose items may be quoted). */
export function preloadList(setting: string): string[] {
  return setting
    .split(',')
    .map((s) => s.trim().replace(/^"(.*)"$/, '$1'))
    .filter(Boolean);
}

async function serverChecks(client: pg.ClientBase, options: DoctorOptions, url: string): Promise<Check[]> {
  const checks: Check[] = [];
  const schema = quotedSchema(options);
  const server = (
    await client.query(
      `SELECT version() AS version, current_setting('server_version') AS server_version,
              current_database() AS db, current_user AS usr,
              current_setting('autovacuum') AS autovacuum`,
    )
  ).rows[0];
  // cron.database_name needs superuser or pg_read_all_settings: a database owner on a managed server gets 42501.
  const cron = await readCronSetting(client);
  const pglite = /PGlite/.test(server.version);
  checks.push({
    name: 'server',
    status: 'ok',
    summary: `PostgreSQL ${server.server_version}${pglite ? ' (PGlite, embedded)' : ''}, database "${server.db}" as ${server.usr}`,
  });

  // pgcache itself and its migration level.
  const installed = (
    await client.query(
      `SELECT to_regclass($1) IS NOT NULL AS installed, to_regclass($2) IS NOT NULL AS has_migrations`,
      [`${schema}.cache_types`, `${schema}.${pg.escapeIdentifier(MIGRATIONS_TABLE)}`],
    )
  ).rows[0];
  const shipped = shippedMigrations();
  if (!installed.installed) {
    checks.push({
      name: 'pgcache',
      status: 'fail',
      summary: `not installed in schema "${options.schema}"`,
      fix: `pgcache migrate --schema ${options.schema}   (or: psql -v schema=${options.schema} -f sql/install.sql)`,
    });
  } else if (!installed.has_migrations) {
    checks.push({
      name: 'pgcache',
      status: 'warn',
      summary: `installed in schema "${options.schema}" by psql; no migrations table, so its version is unknown`,
      fix: `pgcache migrate --schema ${options.schema}   (re-applies the idempotent install and records the level)`,
    });
  } else {
    const applied = (
      await client.query(`SELECT name FROM ${schema}.${pg.escapeIdentifier(MIGRATIONS_TABLE)} ORDER BY run_on, id`)
    ).rows.map((r) => r.name as string);
    const pending = shipped.filter((m) => !applied.includes(m));
    const unknown = applied.filter((m) => !shipped.includes(m));
    const level = applied.at(-1) ?? 'none';
    if (pending.length > 0) {
      checks.push({
        name: 'pgcache',
        status: 'fail',
        summary: `schema "${options.schema}" is at migration ${level}; ${pending.length} pending: ${pending.join(', ')}`,
        fix: `pgcache migrate --schema ${options.schema}`,
      });
    } else if (unknown.length > 0) {
      checks.push({
        name: 'pgcache',
        status: 'warn',
        summary: `schema "${options.schema}" is at migration ${level}, newer than this CLI knows (${unknown.join(', ')})`,
        fix: 'upgrade the pgcache package this CLI comes from',
      });
    } else {
      checks.push({
        name: 'pgcache',
        status: 'ok',
        summary: `installed in schema "${options.schema}", at migration ${level} (up to date)`,
      });
    }
  }

  // pgvector: optional; without it vectors are stored as real[] and the vector overloads are absent.
  const vector = (
    await client.query(
      `SELECT (SELECT extversion FROM pg_extension WHERE extname = 'vector') AS installed,
              (SELECT default_version FROM pg_available_extensions WHERE name = 'vector') AS available,
              to_regprocedure($1) IS NOT NULL AS functions`,
      [`${schema}.cache_get_vector(text,text)`],
    )
  ).rows[0];
  if (vector.installed && (vector.functions || !installed.installed)) {
    checks.push({ name: 'pgvector', status: 'ok', summary: `vector ${vector.installed} is installed` });
  } else if (vector.installed) {
    checks.push({
      name: 'pgvector',
      status: 'warn',
      summary: `vector ${vector.installed} is installed, but pgcache's vector functions are not (it came after pgcache)`,
      fix: `pgcache migrate --schema ${options.schema}   (adds them; or psql -v schema=${options.schema} -f sql/install.sql)`,
    });
  } else if (vector.available) {
    checks.push({
      name: 'pgvector',
      status: 'warn',
      summary: `vector ${vector.available} is available but not created; vectors work as real[] only`,
      fix: `as a superuser: CREATE EXTENSION vector;   then: pgcache migrate --schema ${options.schema}`,
    });
  } else {
    checks.push({
      name: 'pgvector',
      status: 'warn',
      summary: 'pgvector is not installed on this server; vectors work as real[] only',
      fix: 'install pgvector (e.g. apt install postgresql-<version>-pgvector), then CREATE EXTENSION vector;',
    });
  }

  checks.push(
    ...(await cronChecks(client, options, url, {
      pglite,
      db: server.db,
      user: server.usr,
      cronDb: cron.cronDatabase,
      cronReadable: cron.readable,
      installed: installed.installed,
    })),
  );
  checks.push(await bloatCheck(client, options, server.autovacuum === 'on', installed.installed));
  return checks;
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

/** Dead rows in the cache partitions: many dead rows mean autovacuum is off, blocked or far behind. */
async function bloatCheck(
  client: pg.ClientBase,
  options: DoctorOptions,
  autovacuum: boolean,
  installed: boolean,
): Promise<Check> {
  if (!installed) return { name: 'bloat', status: 'skip', summary: 'pgcache is not installed' };
  const ratio = Number(options.bloatRatio);
  const minDead = Number(options.bloatMinDead);
  // The tables that hold rows: a type's own table, or each of its leaves when it is hash-partitioned.
  const { rows } = await client.query(
    `SELECT t.name, leaf.relname AS table_name, ln.nspname AS table_schema,
            coalesce(s.n_live_tup, 0) AS live, coalesce(s.n_dead_tup, 0) AS dead,
            coalesce((SELECT option_value FROM pg_options_to_table(leaf.reloptions)
                       WHERE option_name = 'autovacuum_enabled'), 'on') AS table_autovacuum
       FROM ${quotedSchema(options)}.cache_types t
       JOIN pg_class c ON c.relname = t.table_name AND c.relnamespace = $1::regnamespace
       CROSS JOIN LATERAL (SELECT c.oid WHERE c.relkind = 'r'
                           UNION ALL
                           SELECT i.inhrelid FROM pg_inherits i WHERE i.inhparent = c.oid AND c.relkind = 'p') l(oid)
       JOIN pg_class leaf ON leaf.oid = l.oid
       JOIN pg_namespace ln ON ln.oid = leaf.relnamespace
       LEFT JOIN pg_stat_user_tables s ON s.relid = leaf.oid
      ORDER BY t.name, leaf.relname`,
    [pg.escapeIdentifier(options.schema)],
  );
  const bloated = rows
    .map((r) => ({ ...r, live: toNumber(r.live) ?? 0, dead: toNumber(r.dead) ?? 0 }))
    .filter((r) => r.dead >= minDead && r.dead / (r.live + r.dead) >= ratio);
  if (bloated.length === 0) {
    if (!autovacuum) {
      return {
        name: 'bloat',
        status: 'fail',
        summary: 'autovacuum is off: dead rows from expiry and eviction will pile up',
        fix: 'ALTER SYSTEM SET autovacuum = on; SELECT pg_reload_conf();',
      };
    }
    return {
      name: 'bloat',
      status: 'ok',
      summary: `no cache table has ${formatCount(minDead)}+ dead rows making up ${Math.round(ratio * 100)}%+ of it`,
    };
  }
  const list = bloated
    .map(
      (r) =>
        `${r.table_name}: ${formatCount(r.dead)} dead / ${formatCount(r.live)} live (${Math.round((100 * r.dead) / (r.live + r.dead))}%)` +
        `${r.table_autovacuum === 'off' || r.table_autovacuum === 'false' ? ', autovacuum disabled on the table' : ''}`,
    )
    .join('; ');
  return {
    name: 'bloat',
    status: 'fail',
    summary: list,
    fix:
      `${bloated.map((r) => `VACUUM (ANALYZE) ${pg.escapeIdentifier(r.table_schema)}.${pg.escapeIdentifier(r.table_name)};`).join(' ')}\n` +
      (autovacuum
        ? 'then find what keeps autovacuum behind: long transactions (pg_stat_activity), autovacuum_enabled = off on the table, too few autovacuum workers'
        : 'and turn autovacuum back on: ALTER SYSTEM SET autovacuum = on; SELECT pg_reload_conf();'),
  };
}

export async function runDoctor(options: DoctorOptions): Promise<Check[]> {
  const url = requireUrl(options);
  const client = new pg.Client({ connectionString: url, application_name: 'pgcache-doctor' });
  try {
    await client.connect();
  } catch (error) {
    return [
      {
        name: 'connection',
        status: 'fail',
        summary: describeError(error),
        fix: 'check --database-url / DATABASE_URL, and that the server is running and reachable',
      },
    ];
  }
  try {
    return await serverChecks(client, options, url);
  } finally {
    await client.end();
  }
}

const LABEL: Record<Status, string> = { ok: 'ok  ', warn: 'WARN', fail: 'FAIL', skip: 'skip' };

export function renderChecks(checks: Check[]): string {
  const width = Math.max(...checks.map((c) => c.name.length));
  const lines: string[] = [];
  for (const c of checks) {
    lines.push(`${LABEL[c.status]}  ${c.name.padEnd(width)}  ${c.summary}`);
    if (c.fix && (c.status === 'fail' || c.status === 'warn')) {
      const indent = ' '.repeat(6 + width + 2);
      lines.push(...c.fix.split('\n').map((l, i) => `${indent}${i === 0 ? 'fix: ' : '     '}${l}`));
    }
  }
  const failures = checks.filter((c) => c.status === 'fail').length;
  const warnings = checks.filter((c) => c.status === 'warn').length;
  lines.push('');
  lines.push(
    failures === 0
      ? `No problems found${warnings > 0 ? ` (${warnings} warning${warnings === 1 ? '' : 's'})` : ''}.`
      : `${failures} problem${failures === 1 ? '' : 's'} found${warnings > 0 ? `, ${warnings} warning${warnings === 1 ? '' : 's'}` : ''}.`,
  );
  return lines.join('\n');
}

export function doctorCommand(): Command {
  return connectionOptions(
    new Command('doctor')
      .summary('check the server and the install, and say what to fix')
      .description(
        'Checks: the connection; pgcache installed in --schema and at the latest migration; pgvector;\n' +
          'pg_cron in shared_preload_libraries, its extension in cron.database_name and a scheduled\n' +
          'maintenance job that last ran without error; dead rows (bloat) in the cache tables. Prints what\n' +
          'to change for every failing check. Exits 1 when a check fails (warnings do not fail).',
      ),
  )
    .option('--no-cron', 'maintenance runs on an application timer: skip the pg_cron checks')
    .option('--cron-database-url <url>', "connection string of pg_cron's database, when it is not pgcache's")
    .option('--bloat-ratio <r>', 'dead share of a cache table that counts as bloat', '0.2')
    .option('--bloat-min-dead <n>', 'dead rows a cache table may have before it counts as bloated', '1000')
    .option('--json', 'print the checks as JSON')
    .action(async (options: DoctorOptions) => {
      const checks = await runDoctor(options);
      if (options.json) console.log(JSON.stringify(checks, null, 2));
      else console.log(renderChecks(checks));
      if (checks.some((c) => c.status === 'fail')) process.exitCode = 1;
    });
}

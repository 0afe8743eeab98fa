// The server itself, pgcache's install and migration level, and pgvector.
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { readCronSetting } from '../../../install/cron-setting.js';
import { MIGRATIONS_TABLE, migrationsDir } from '../../../install/migrate.js';
import { quotedSchema } from '../../connection.js';
import type { Check, DoctorContext, DoctorOptions, ServerFacts } from './check.js';

/** The migrations this package ships (node-pg-migrate names: file names without extension). */
export function shippedMigrations(): string[] {
  return readdirSync(migrationsDir)
    .filter((f) => /\.(js|cjs|mjs|ts|sql)$/.test(f) && statSync(join(migrationsDir, f)).isFile())
    .map((f) => f.replace(/\.[^.]+$/, ''))
    .sort();
}

/** The facts every check shares, in two queries and a read of cron.database_name. */
export async function readFacts(client: pg.ClientBase, options: DoctorOptions): Promise<ServerFacts> {
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
  const installed = (
    await client.query(
      `SELECT to_regclass($1) IS NOT NULL AS installed, to_regclass($2) IS NOT NULL AS has_migrations`,
      [`${schema}.cache_types`, `${schema}.${pg.escapeIdentifier(MIGRATIONS_TABLE)}`],
    )
  ).rows[0];
  return {
    version: server.version,
    serverVersion: server.server_version,
    db: server.db,
    user: server.usr,
    autovacuum: server.autovacuum === 'on',
    pglite: /PGlite/.test(server.version),
    cronDb: cron.cronDatabase,
    cronReadable: cron.readable,
    installed: installed.installed,
    hasMigrations: installed.has_migrations,
  };
}

export async function serverCheck({ facts }: DoctorContext): Promise<Check> {
  return {
    name: 'server',
    status: 'ok',
    summary: `PostgreSQL ${facts.serverVersion}${facts.pglite ? ' (PGlite, embedded)' : ''}, database "${facts.db}" as ${facts.user}`,
  };
}

/** pgcache itself and its migration level. */
export async function pgcacheCheck({ client, options, facts }: DoctorContext): Promise<Check> {
  const schema = quotedSchema(options);
  const shipped = shippedMigrations();
  if (!facts.installed) {
    return {
      name: 'pgcache',
      status: 'fail',
      summary: `not installed in schema "${options.schema}"`,
      fix: `pgcache migrate --schema ${options.schema}   (or: psql -v schema=${options.schema} -f sql/install.sql)`,
    };
  }
  if (!facts.hasMigrations) {
    return {
      name: 'pgcache',
      status: 'warn',
      summary: `installed in schema "${options.schema}" by psql; no migrations table, so its version is unknown`,
      fix: `pgcache migrate --schema ${options.schema}   (re-applies the idempotent install and records the level)`,
    };
  }
  const applied = (
    await client.query(`SELECT name FROM ${schema}.${pg.escapeIdentifier(MIGRATIONS_TABLE)} ORDER BY run_on, id`)
  ).rows.map((r) => r.name as string);
  const pending = shipped.filter((m) => !applied.includes(m));
  const unknown = applied.filter((m) => !shipped.includes(m));
  const level = applied.at(-1) ?? 'none';
  if (pending.length > 0) {
    return {
      name: 'pgcache',
      status: 'fail',
      summary: `schema "${options.schema}" is at migration ${level}; ${pending.length} pending: ${pending.join(', ')}`,
      fix: `pgcache migrate --schema ${options.schema}`,
    };
  }
  if (unknown.length > 0) {
    return {
      name: 'pgcache',
      status: 'warn',
      summary: `schema "${options.schema}" is at migration ${level}, newer than this CLI knows (${unknown.join(', ')})`,
      fix: 'upgrade the pgcache package this CLI comes from',
    };
  }
  return {
    name: 'pgcache',
    status: 'ok',
    summary: `installed in schema "${options.schema}", at migration ${level} (up to date)`,
  };
}

/** pgvector: optional; without it vectors are stored as real[] and the vector overloads are absent. */
export async function pgvectorCheck({ client, options, facts }: DoctorContext): Promise<Check> {
  const schema = quotedSchema(options);
  const vector = (
    await client.query(
      `SELECT (SELECT extversion FROM pg_extension WHERE extname = 'vector') AS installed,
              (SELECT default_version FROM pg_available_extensions WHERE name = 'vector') AS available,
              to_regprocedure($1) IS NOT NULL AS functions`,
      [`${schema}.cache_get_vector(text,text)`],
    )
  ).rows[0];
  if (vector.installed && (vector.functions || !facts.installed)) {
    return { name: 'pgvector', status: 'ok', summary: `vector ${vector.installed} is installed` };
  }
  if (vector.installed) {
    return {
      name: 'pgvector',
      status: 'warn',
      summary: `vector ${vector.installed} is installed, but pgcache's vector functions are not (it came after pgcache)`,
      fix: `pgcache migrate --schema ${options.schema}   (adds them; or psql -v schema=${options.schema} -f sql/install.sql)`,
    };
  }
  if (vector.available) {
    return {
      name: 'pgvector',
      status: 'warn',
      summary: `vector ${vector.available} is available but not created; vectors work as real[] only`,
      fix: `as a superuser: CREATE EXTENSION vector;   then: pgcache migrate --schema ${options.schema}`,
    };
  }
  return {
    name: 'pgvector',
    status: 'warn',
    summary: 'pgvector is not installed on this server; vectors work as real[] only',
    fix: 'install pgvector (e.g. apt install postgresql-<version>-pgvector), then CREATE EXTENSION vector;',
  };
}

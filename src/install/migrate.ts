// Programmatic install and uninstall: node-pg-migrate runs migrations/ in the pgcache schema, with its own
// migrations table there, so pgcache coexists with an application's own migrations.
// Over 300 lines because install, upgrade and uninstall share their checks (schema, roles, pg_cron jobs).
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runner } from 'node-pg-migrate';
import pg from 'pg';
import { applySqlFiles, installFiles } from '../../migrations/lib/install-files.js';
import { FeatureUnavailableError, InstallRefusedError, translateError } from '../client/errors.js';
import { checkSchemaName } from '../client/schema.js';
import { urlForDatabase, withClient } from '../client/session.js';
import { inCronDatabase, readCronSetting } from './cron-setting.js';

const packageRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const migrationsDir = join(packageRoot, 'migrations');
export const sqlDir = join(packageRoot, 'sql');
export const MIGRATIONS_TABLE = 'pgcache_migrations';

export interface MigrateOptions {
  /** A connection string, or a connected client to run on. */
  databaseUrl?: string | undefined;
  client?: pg.ClientBase | undefined;
  /** Schema pgcache lives in. Default `pgcache`. */
  schema?: string | undefined;
  /** Print node-pg-migrate's progress. Default false. */
  verbose?: boolean | undefined;
  /** Run at most this many pending migrations (e.g. 1 installs only 0001, to test upgrades). Default: all. */
  count?: number | undefined;
  /**
   * Prefix of the install's roles <prefix>_reader, _writer and _admin. Default `<database>_<schema>` (kept from
   * the first install): a role granted for one install reaches no other database or schema.
   */
  rolePrefix?: string | undefined;
  /**
   * Wait for a concurrent migrator of the same schema (several app instances migrating at boot) instead of
   * failing. Default true: a session advisory lock serializes the runs, and the later ones find nothing to do.
   */
  wait?: boolean | undefined;
}

export interface UninstallOptions extends Omit<MigrateOptions, 'count' | 'rolePrefix' | 'verbose'> {
  /** pg_cron's database when it is not pgcache's. Default: databaseUrl with that database name. */
  cronDatabaseUrl?: string | undefined;
}

/** A part of pgcache that the install left out, and why. */
export interface SkippedPart {
  /** `vector`: the pgvector overloads and semantic lookup (sql/vector/). */
  part: 'vector';
  reason: string;
  /** What to do to get it. */
  fix: string;
}

/**
 * The names of the migrations that ran (none when up to date), with what else migrate() did or left out.
 * An array, so code that only wants the names keeps working.
 */
export type MigrateResult = string[] & {
  /** Parts installed outside a migration: `vector` when pgvector was created after pgcache. */
  readonly added: string[];
  /** Parts absent from the install after this run, with the reason (pgvector missing or not created). */
  readonly skipped: SkippedPart[];
};

const ROLE_PREFIX = /^[a-z_][a-z0-9_]*$/;

/** Schemas shared with other software: pgcache never installs into (or uninstalls) them. */
export function isSharedSchema(schema: string): boolean {
  return schema === 'public' || schema === 'information_schema' || schema.startsWith('pg_');
}

function checkSchema(schema: string): void {
  checkSchemaName(schema);
  if (isSharedSchema(schema)) {
    throw new InstallRefusedError(
      'PC020',
      `pgcache: will not use schema "${schema}": it is shared with other software`,
    );
  }
}

async function withInstallClient<T>(options: MigrateOptions, fn: (client: pg.ClientBase) => Promise<T>): Promise<T> {
  if (options.client) return fn(options.client);
  if (!options.databaseUrl) throw new TypeError('pgcache: pass databaseUrl or client');
  // A superuser installs and uninstalls: the database's own search_path (its owner may put a schema of its
  // own ahead of pg_catalog with ALTER DATABASE ... SET) must not resolve anything this session runs.
  return withClient({ connectionString: options.databaseUrl, options: '-c search_path=pg_catalog,pg_temp' }, fn);
}

/**
 * Installs or upgrades pgcache. Returns the names of the migrations it ran (none when up to date), with
 * `added` and `skipped` saying what happened to the optional pgvector part. Where pgvector was created after
 * pgcache was installed, its part is installed now (no migration is pending then, so this checks the state).
 */
export async function migrate(options: MigrateOptions): Promise<MigrateResult> {
  const schema = options.schema ?? 'pgcache';
  checkSchema(schema);
  return withInstallClient(options, async (dbClient) => {
    // node-pg-migrate leaves `SET search_path TO <schema>` on the session: give the caller's client back as it was.
    const { rows } = await dbClient.query('SELECT current_setting($1) AS path', ['search_path']);
    if (options.rolePrefix !== undefined && !ROLE_PREFIX.test(options.rolePrefix)) {
      throw new TypeError(`pgcache: rolePrefix must match ${ROLE_PREFIX}, got ${JSON.stringify(options.rolePrefix)}`);
    }
    // Read by sql/prelude.sql in each migration's transaction.
    await dbClient.query("SELECT set_config('pgcache.role_prefix', $1, false)", [options.rolePrefix ?? '']);
    const wait = options.wait ?? true;
    // node-pg-migrate's own lock fails a second migrator at once; this one makes it wait for the first.
    if (wait) await dbClient.query('SELECT pg_advisory_lock($1)', [migrateLock(schema)]);
    try {
      await checkInstallable(dbClient, schema);
      const ran = await runMigrations(dbClient, schema, options);
      const added = options.count === undefined ? await completeVector(dbClient, schema) : [];
      const skipped = await skippedParts(dbClient, schema);
      return Object.defineProperties(ran, {
        added: { value: added, enumerable: false },
        skipped: { value: skipped, enumerable: false },
      }) as MigrateResult;
    } catch (error) {
      throw translateError(error);
    } finally {
      await dbClient.query(
        "SELECT set_config('search_path', $1, false), set_config('pgcache.role_prefix', '', false)",
        [rows[0].path],
      );
      if (wait) await dbClient.query('SELECT pg_advisory_unlock($1)', [migrateLock(schema)]);
    }
  });
}

/**
 * Runs sql/prelude.sql and rolls it back: it refuses (PC020) a schema pgcache must not take over, and
 * node-pg-migrate would otherwise create its migrations table there before the first migration fails.
 */
async function checkInstallable(client: pg.ClientBase, schema: string): Promise<void> {
  await client.query('BEGIN');
  try {
    await client.query("SELECT set_config('pgcache.schema', $1, true)", [schema]);
    await client.query(readSqlFile('prelude.sql'));
  } finally {
    await client.query('ROLLBACK');
  }
}

/**
 * The advisory lock key of one schema's migrations, for our wait and for node-pg-migrate's own lock (which
 * otherwise takes one key per database: installs into two schemas, or the application's own node-pg-migrate
 * run, would fail each other). 48 bits of a hash, so the JavaScript number is exact.
 */
function migrateLock(schema: string): number {
  return Number.parseInt(createHash('sha256').update(`pgcache migrate ${schema}`).digest('hex').slice(0, 12), 16);
}

interface VectorState {
  installed: boolean;
  vector: string | null;
  available: string | null;
  functions: boolean;
}

async function vectorState(client: pg.ClientBase, schema: string): Promise<VectorState> {
  const q = pg.escapeIdentifier(schema);
  const { rows } = await client.query<VectorState>(
    `SELECT to_regclass($1) IS NOT NULL AS installed,
            (SELECT extversion FROM pg_extension WHERE extname = 'vector') AS vector,
            (SELECT default_version FROM pg_available_extensions WHERE name = 'vector') AS available,
            to_regprocedure($2) IS NOT NULL AS functions`,
    [`${q}.cache_types`, `${q}.cache_get_vector(text,text)`],
  );
  return rows[0] as VectorState;
}

/** Installs the vector part where pgvector exists now but did not when pgcache was installed. */
async function completeVector(client: pg.ClientBase, schema: string): Promise<string[]> {
  const state = await vectorState(client, schema);
  if (!state.installed || !state.vector || state.functions) return [];
  await client.query('BEGIN');
  try {
    await client.query("SELECT set_config('search_path', $1, true)", [pg.escapeIdentifier(schema)]);
    // The same files, prelude and security step as the migrations that carry them.
    await applySqlFiles(
      { db: { query: (text: string, values?: unknown[]) => client.query(text, values) } },
      installFiles().filter((file) => file.startsWith('vector/')),
    );
    await client.query('COMMIT');
  } catch (error) {
    await client.query('ROLLBACK').catch(() => {});
    throw error;
  }
  return ['vector'];
}

async function skippedParts(client: pg.ClientBase, schema: string): Promise<SkippedPart[]> {
  const state = await vectorState(client, schema);
  if (!state.installed || state.functions) return [];
  const again = `then run pgcache migrate${schema === 'pgcache' ? '' : ` --schema ${schema}`} again`;
  if (state.vector) {
    return [{ part: 'vector', reason: `pgvector ${state.vector} is installed but the vector part is not`, fix: again }];
  }
  if (state.available) {
    return [
      {
        part: 'vector',
        reason: `pgvector ${state.available} is available on the server but not created in this database, and this role may not create it`,
        fix: `as a superuser, in this database: CREATE EXTENSION vector;   ${again}`,
      },
    ];
  }
  return [
    {
      part: 'vector',
      reason: 'pgvector is not installed on this server',
      fix: `install pgvector (e.g. apt install postgresql-<version>-pgvector), CREATE EXTENSION vector;   ${again}`,
    },
  ];
}

async function runMigrations(dbClient: pg.ClientBase, schema: string, options: MigrateOptions): Promise<string[]> {
  const extension = await dbClient.query(
    `SELECT extversion FROM pg_extension WHERE extname = 'pgcache' AND extnamespace = to_regnamespace($1)`,
    [schema],
  );
  if (extension.rowCount) {
    throw new Error(
      `pgcache: schema "${schema}" holds the pgcache extension ${extension.rows[0].extversion}; ` +
        'upgrade it with ALTER EXTENSION pgcache UPDATE, not migrate()',
    );
  }
  const ran = await runner({
    dbClient,
    dir: migrationsDir,
    direction: 'up',
    count: options.count,
    schema,
    createSchema: true,
    migrationsSchema: schema,
    migrationsTable: MIGRATIONS_TABLE,
    singleTransaction: true,
    checkOrder: true,
    lockValue: migrateLock(schema),
    log: options.verbose ? console.log : () => {},
    logger: options.verbose ? console : { debug() {}, info() {}, warn: console.warn, error: console.error },
  });
  return ran.map((m) => m.name);
}

/**
 * Removes a pgcache install: its pg_cron jobs (in pg_cron's database when that is another one), the schema
 * with every entry, the registry and the migrations table, and the roles created for it. Refuses (PC020) a
 * schema that is not a pgcache install. Returns whether there was an install and how many jobs were removed.
 */
export async function uninstall(options: UninstallOptions): Promise<{ dropped: boolean; jobsRemoved: number }> {
  const schema = options.schema ?? 'pgcache';
  checkSchema(schema);
  return withInstallClient(options, async (client) => {
    try {
      const { rows } = await client.query(
        `SELECT to_regnamespace($1) IS NOT NULL AS present, coalesce((SELECT relkind = 'r' FROM pg_class WHERE oid = to_regclass($2)), false) AS marked`,
        [pg.escapeIdentifier(schema), `${pg.escapeIdentifier(schema)}.pgcache_install`],
      );
      const state = rows[0] as { present: boolean; marked: boolean };
      if (!state.present) return { dropped: false, jobsRemoved: 0 };
      if (!state.marked) {
        throw new InstallRefusedError(
          'PC020',
          `pgcache: schema "${schema}" is not a pgcache install (it has no pgcache_install record); nothing was dropped`,
        );
      }
      const jobsRemoved = await removeJobs(client, schema, options);
      await client.query('BEGIN');
      try {
        await client.query("SELECT set_config('pgcache.schema', $1, true)", [schema]);
        await client.query(readSqlFile('uninstall_schema.sql'));
        await client.query('COMMIT');
      } catch (error) {
        await client.query('ROLLBACK');
        throw error;
      }
      return { dropped: true, jobsRemoved };
    } catch (error) {
      throw translateError(error);
    }
  });
}

/** Unschedules the install's pg_cron jobs (a job left behind would fail every minute). */
async function removeJobs(client: pg.ClientBase, schema: string, options: UninstallOptions): Promise<number> {
  const place = await readCronSetting(client);
  if (!place.cronDatabase) return 0;
  const unschedule = 'SELECT count(cron.unschedule(jobid))::int AS n FROM cron.job WHERE jobname = ANY ($1)';
  // As _cron_job_names() names them, computed here: nothing in the schema being dropped is run (its owner may
  // not be the role uninstalling it).
  const names = [`pgcache_maintenance:${place.database}.${schema}`, `pgcache_cron_trim:${place.database}.${schema}`];
  if (place.extensionHere) return (await client.query(unschedule, [names])).rows[0].n;
  if (place.cronDatabase === place.database) return 0;
  const cronUrl =
    options.cronDatabaseUrl ?? (options.databaseUrl && urlForDatabase(options.databaseUrl, place.cronDatabase));
  if (!cronUrl) {
    throw new FeatureUnavailableError(
      'PC011',
      `pgcache: pg_cron runs in database "${place.cronDatabase}": pass cronDatabaseUrl to remove this install's jobs there (${names.join(', ')})`,
    );
  }
  return inCronDatabase(cronUrl, place.cronDatabase, async (cron) => (await cron.query(unschedule, [names])).rows[0].n);
}

/** The names of an install's roles, as pgcache_install records them (grant these to application roles). */
export async function installRoles(
  options: Pick<MigrateOptions, 'databaseUrl' | 'client' | 'schema'>,
): Promise<{ reader: string; writer: string; admin: string }> {
  const schema = options.schema ?? 'pgcache';
  checkSchema(schema);
  return withInstallClient(options, async (client) => {
    const { rows } = await client.query(
      `SELECT reader_role AS reader, writer_role AS writer, admin_role AS admin FROM ${pg.escapeIdentifier(schema)}.pgcache_install`,
    );
    return rows[0];
  });
}

/** The SQL text of a file under sql/, for tools that show or compare it. */
export function readSqlFile(relativePath: string): string {
  return readFileSync(join(sqlDir, relativePath), 'utf8');
}

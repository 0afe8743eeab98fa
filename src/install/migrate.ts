// Programmatic install and uninstall: node-pg-migrate runs migrations/ in the pgcache schema, with its own
// migrations table there, so pgcache coexists with an application's own migrations.
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runner } from 'node-pg-migrate';
import pg from 'pg';

const packageRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const migrationsDir = join(packageRoot, 'migrations');
export const sqlDir = join(packageRoot, 'sql');
export const MIGRATIONS_TABLE = 'pgcache_migrations';

export interface MigrateOptions {
  /** A connection string, or a connected client to run on. */
  databaseUrl?: string;
  client?: pg.ClientBase;
  /** Schema pgcache lives in. Default `pgcache`. */
  schema?: string;
  /** Print node-pg-migrate's progress. Default false. */
  verbose?: boolean;
  /** Run at most this many pending migrations (e.g. 1 installs only 0001, to test upgrades). Default: all. */
  count?: number;
}

const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

function checkSchema(schema: string): void {
  if (!SCHEMA_NAME.test(schema)) {
    throw new TypeError(`pgcache: schema must match ${SCHEMA_NAME}, got ${JSON.stringify(schema)}`);
  }
}

async function withClient<T>(options: MigrateOptions, fn: (client: pg.ClientBase) => Promise<T>): Promise<T> {
  if (options.client) return fn(options.client);
  if (!options.databaseUrl) throw new TypeError('pgcache: pass databaseUrl or client');
  const client = new pg.Client({ connectionString: options.databaseUrl });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/** Installs or upgrades pgcache. Returns the names of the migrations it ran (none when up to date). */
export async function migrate(options: MigrateOptions): Promise<string[]> {
  const schema = options.schema ?? 'pgcache';
  checkSchema(schema);
  return withClient(options, async (dbClient) => {
    // node-pg-migrate leaves `SET search_path TO <schema>` on the session: give the caller's client back as it was.
    const { rows } = await dbClient.query('SELECT current_setting($1) AS path', ['search_path']);
    try {
      return await runMigrations(dbClient, schema, options);
    } finally {
      await dbClient.query("SELECT set_config('search_path', $1, false)", [rows[0].path]);
    }
  });
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
    log: options.verbose ? console.log : () => {},
    logger: options.verbose ? console : { debug() {}, info() {}, warn: console.warn, error: console.error },
  });
  return ran.map((m) => m.name);
}

/** Removes pgcache: the schema with every entry, the registry and the migrations table. */
export async function uninstall(options: MigrateOptions): Promise<void> {
  const schema = options.schema ?? 'pgcache';
  checkSchema(schema);
  await withClient(options, async (client) => {
    await client.query(`DROP SCHEMA IF EXISTS ${pg.escapeIdentifier(schema)} CASCADE`);
  });
}

/** The SQL text of a file under sql/, for tools that show or compare it. */
export function readSqlFile(relativePath: string): string {
  return readFileSync(join(sqlDir, relativePath), 'utf8');
}

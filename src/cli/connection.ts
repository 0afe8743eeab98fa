// The options every database command shares (--database-url / DATABASE_URL, --schema) and the connection.
import { type Command, InvalidArgumentError, Option } from 'commander';
import pg from 'pg';
import { type Cache, createCache } from '../client/cache.js';
import { connectionAsPool } from '../client/connection.js';
import { SCHEMA_NAME } from '../client/schema.js';
import { urlForDatabase, withClient as withSession } from '../client/session.js';
import { readCronSetting } from '../install/cron-setting.js';
import { CliError } from './errors.js';

export interface ConnectionOptions {
  databaseUrl?: string;
  schema: string;
}

/** Adds --database-url and --schema to a command. */
export function connectionOptions(command: Command): Command {
  return command
    .addOption(
      new Option('-d, --database-url <url>', 'PostgreSQL connection string (postgres://user@host:port/db)').env(
        'DATABASE_URL',
      ),
    )
    .addOption(
      new Option('-s, --schema <name>', 'schema pgcache is installed in')
        .env('PGCACHE_SCHEMA')
        .default('pgcache')
        .argParser((value: string) => {
          if (!SCHEMA_NAME.test(value)) {
            throw new InvalidArgumentError(`a schema name must match ${SCHEMA_NAME}.`);
          }
          return value;
        }),
    );
}

export function requireUrl(options: ConnectionOptions): string {
  if (!options.databaseUrl) {
    throw new CliError('no database given: pass --database-url <url> or set DATABASE_URL', 2);
  }
  return options.databaseUrl;
}

/** The schema, quoted for SQL text: `"pgcache"`. */
export function quotedSchema(options: ConnectionOptions): string {
  return pg.escapeIdentifier(options.schema);
}

/** Runs fn with one connected client and always closes it. */
export function withClient<T>(options: ConnectionOptions, fn: (client: pg.Client) => Promise<T>): Promise<T> {
  return withSession({ connectionString: requireUrl(options), application_name: 'pgcache-cli' }, fn);
}

/**
 * Runs fn with the typed client on one connected CLI connection (after checking pgcache is installed), so the
 * commands reach the SQL through the client's methods; `client` is that same connection, for the command's own
 * transaction control. Always closes it.
 */
export async function withCache<T>(
  options: ConnectionOptions,
  fn: (cache: Cache, client: pg.Client) => Promise<T>,
): Promise<T> {
  return withClient(options, async (client) => {
    await requireInstalled(client, options);
    const cache = await createCache({ pool: connectionAsPool(unprepared(client)), schema: options.schema });
    try {
      return await fn(cache, client);
    } finally {
      await cache.close();
    }
  });
}

/**
 * The connection with the client's statements sent unnamed: a command runs each a few times, so preparing them
 * buys nothing, and a PGlite server (`pgcache demo --serve`) shares one session, and its prepared statements,
 * among all its connections, where a second client preparing the same names would fail.
 */
function unprepared(client: pg.Client): pg.Client {
  const query = (config: unknown, values?: unknown) => {
    const sent = config !== null && typeof config === 'object' ? { ...config, name: undefined } : config;
    return (client.query as (c: unknown, v?: unknown) => Promise<pg.QueryResult>)(sent, values);
  };
  return {
    query,
    on: client.on.bind(client),
    off: client.off.bind(client),
  } as unknown as pg.Client;
}

/** Fails with a clear message (and how to fix it) when pgcache is not installed in the schema. */
export async function requireInstalled(client: pg.ClientBase, options: ConnectionOptions): Promise<void> {
  const { rows } = await client.query('SELECT to_regclass($1) IS NOT NULL AS installed', [
    `${quotedSchema(options)}.cache_types`,
  ]);
  if (!rows[0]?.installed) {
    throw new CliError(
      `pgcache is not installed in schema "${options.schema}" of this database; install it with: pgcache migrate --schema ${options.schema}`,
    );
  }
}

/** Adds --cron-database-url (pg_cron's database, when it is not pgcache's). */
export function cronDatabaseOption(command: Command): Command {
  return command.addOption(
    new Option(
      '--cron-database-url <url>',
      "pg_cron's database (cron.database_name) when pgcache lives in another one; default: --database-url with that database name",
    ).env('PGCACHE_CRON_DATABASE_URL'),
  );
}

/**
 * Where pg_cron is loaded but runs in another database than pgcache's, the URL to reach it: the one given,
 * else --database-url with the database name swapped (same role and host). Undefined when not needed.
 */
export async function cronDatabaseUrl(
  client: pg.ClientBase,
  databaseUrl: string,
  given: string | undefined,
): Promise<string | undefined> {
  if (given) return given;
  const { database: db, cronDatabase: cronDb } = await readCronSetting(client);
  if (!cronDb || cronDb === db) return undefined;
  return urlForDatabase(databaseUrl, cronDb);
}

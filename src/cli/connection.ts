// The options every database command shares (--database-url / DATABASE_URL, --schema) and the connection.
import { type Command, InvalidArgumentError, Option } from 'commander';
import pg from 'pg';
import { CliError } from './errors.js';

export interface ConnectionOptions {
  databaseUrl?: string;
  schema: string;
}

const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

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
export async function withClient<T>(options: ConnectionOptions, fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: requireUrl(options), application_name: 'pgcache-cli' });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
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

/** Prints the server's notices on stderr while fn runs. */
export async function withNotices<T>(client: pg.ClientBase, fn: () => Promise<T>): Promise<T> {
  const onNotice = (notice: { message?: string; hint?: string }) => {
    console.error(`notice: ${notice.message}${notice.hint ? `\nhint: ${notice.hint}` : ''}`);
  };
  client.on('notice', onNotice);
  try {
    return await fn();
  } finally {
    client.removeListener('notice', onNotice);
  }
}

export async function requireFunction(
  client: pg.ClientBase,
  options: ConnectionOptions,
  signature: string,
): Promise<void> {
  const { rows } = await client.query('SELECT to_regprocedure($1) IS NOT NULL AS present', [
    `${quotedSchema(options)}.${signature}`,
  ]);
  if (!rows[0].present) {
    throw new CliError(
      `this pgcache install has no ${signature}; upgrade it with: pgcache migrate --schema ${options.schema}`,
    );
  }
}

export function showResult(result: unknown): string {
  if (result === null || result === undefined) return '';
  return typeof result === 'object' ? JSON.stringify(result) : String(result);
}

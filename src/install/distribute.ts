// Distributes a pgcache install over a Citus cluster (docs/scaling.md, "Citus"): sql/citus/distribute.sql
// spreads the tables, sql/citus/functions.sql adapts the functions, both in one transaction on the coordinator.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { translateError } from '../client/errors.js';
import { sqlDir } from './migrate.js';

export interface DistributeOptions {
  /** The coordinator's connection string, or a connected client to run on. */
  databaseUrl?: string;
  client?: pg.ClientBase;
  /** Schema pgcache is installed in. Default `pgcache`. */
  schema?: string;
  /** Shards of the entries table (1 to 1024), fixed once distributed. Default 32. */
  shards?: number;
}

const CITUS_FILES = ['citus/distribute.sql', 'citus/functions.sql'];

/**
 * Distributes the install (idempotent; run it again after every migrate). Raises PC011 where Citus is not
 * installed, PC021 on a worker or where a type is hash-partitioned.
 */
export async function distribute(options: DistributeOptions): Promise<void> {
  const schema = options.schema ?? 'pgcache';
  const shards = options.shards ?? 32;
  if (!Number.isInteger(shards) || shards < 1 || shards > 1024) {
    throw new TypeError(`pgcache: shards must be an integer from 1 to 1024, got ${shards}`);
  }
  const run = async (client: pg.ClientBase): Promise<void> => {
    await client.query('BEGIN');
    try {
      await client.query("SELECT set_config('search_path', $1, true)", [`${pg.escapeIdentifier(schema)}, pg_temp`]);
      await client.query("SELECT set_config('pgcache.shard_count', $1, true)", [String(shards)]);
      for (const file of CITUS_FILES) await client.query(readFileSync(join(sqlDir, file), 'utf8'));
      await client.query('COMMIT');
    } catch (error) {
      await client.query('ROLLBACK').catch(() => {});
      throw translateError(error);
    }
  };
  if (options.client) return run(options.client);
  if (!options.databaseUrl) throw new TypeError('pgcache: pass databaseUrl or client');
  const client = new pg.Client({ connectionString: options.databaseUrl, options: '-c search_path=pg_catalog,pg_temp' });
  await client.connect();
  try {
    await run(client);
  } finally {
    await client.end();
  }
}

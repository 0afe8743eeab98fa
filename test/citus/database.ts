// The opt-in Citus suite's database: the coordinator's `pgcache` database, with pgcache installed afresh and
// distributed before each test file (a file expects a new install, as a clone of the template gives it).
import pg from 'pg';
import { afterAll, beforeAll } from 'vitest';
import { distribute } from '../../src/install/distribute.js';
import { migrate, uninstall } from '../../src/install/migrate.js';
import type { TestDatabase } from '../helpers/db.js';

/** Set by the suite's global setup to the coordinator's database; absent in the ordinary suite. */
export const CITUS_URL_VARIABLE = 'PGCACHE_CITUS_URL';
/** Shards of entries in the suite: few, so that per-shard work stays quick, but more than the workers. */
export const TEST_SHARDS = 8;

export async function reinstallDistributed(url: string): Promise<void> {
  await uninstall({ databaseUrl: url });
  await migrate({ databaseUrl: url });
  await distribute({ databaseUrl: url, shards: TEST_SHARDS });
}

export function useDistributedDatabase(url: string): TestDatabase {
  const db = { name: new URL(url).pathname.slice(1), url } as TestDatabase;
  beforeAll(async () => {
    await reinstallDistributed(url);
    db.pool = new pg.Pool({ connectionString: url, max: 20 });
    db.pool.on('error', () => undefined);
  });
  afterAll(async () => {
    await db.pool?.end();
  });
  return db;
}

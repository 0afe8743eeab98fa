// The opt-in Citus suite's database: the coordinator's `pgcache` database, with pgcache installed afresh and
// distributed before each test file (a file expects a new install, as a clone of the template gives it).
import pg from 'pg';
import { afterAll, beforeAll } from 'vitest';
import { distribute } from '../../src/install/distribute.js';
import { migrate, uninstall } from '../../src/install/migrate.js';
import type { TestDatabase } from '../helpers/db.js';

/** Set by the suite's global setup to the coordinator's database; absent in the ordinary suite. */
export const CITUS_URL_VARIABLE = 'PGCACHE_CITUS_URL';
/**
 * Drops what earlier test files created in the public schema (tables, views, types, functions), as a fresh
 * clone would not have them; extensions' objects stay.
 */
async function dropUserObjects(url: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(`DO $$
      DECLARE
        r record;
      BEGIN
        FOR r IN SELECT c.oid::regclass AS rel, c.relkind FROM pg_class c
                  WHERE c.relnamespace = 'public'::regnamespace AND c.relkind IN ('r', 'p', 'v', 'm')
                    AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = c.oid AND d.deptype = 'e') LOOP
          EXECUTE format('DROP %s IF EXISTS %s CASCADE',
                         CASE r.relkind WHEN 'v' THEN 'VIEW' WHEN 'm' THEN 'MATERIALIZED VIEW' ELSE 'TABLE' END, r.rel);
        END LOOP;
        FOR r IN SELECT t.oid::regtype AS typ FROM pg_type t
                  WHERE t.typnamespace = 'public'::regnamespace AND t.typtype IN ('c', 'e', 'd')
                    AND (t.typrelid = 0 OR (SELECT c.relkind FROM pg_class c WHERE c.oid = t.typrelid) = 'c')
                    AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = t.oid AND d.deptype = 'e') LOOP
          EXECUTE format('DROP TYPE IF EXISTS %s CASCADE', r.typ);
        END LOOP;
        FOR r IN SELECT p.oid::regprocedure AS fn FROM pg_proc p
                  WHERE p.pronamespace = 'public'::regnamespace
                    AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = p.oid AND d.deptype = 'e') LOOP
          EXECUTE format('DROP FUNCTION IF EXISTS %s CASCADE', r.fn);
        END LOOP;
      END $$`);
  } finally {
    await client.end();
  }
}

/** Shards of entries in the suite: few, so that per-shard work stays quick, but more than the workers. */
export const TEST_SHARDS = 8;

export async function reinstallDistributed(url: string): Promise<void> {
  await dropUserObjects(url);
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

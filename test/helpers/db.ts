// Each test file gets its own database, cloned from a template (fast), dropped when the file ends.
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll } from 'vitest';
import { clusterInfo } from '../../scripts/lib/cluster.js';
import { cloneDatabase, dropDatabase } from '../../scripts/lib/databases.js';
import { CITUS_URL_VARIABLE, useDistributedDatabase } from '../citus/database.js';

export interface TestDatabase {
  name: string;
  url: string;
  pool: pg.Pool;
}

/**
 * Registers beforeAll/afterAll hooks that clone a database for this file. `installed` (default) has pgcache
 * in schema `pgcache`; `bare` has only pgvector.
 */
export function useDatabase(template: 'installed' | 'bare' = 'installed'): TestDatabase {
  // In the opt-in Citus suite (vitest.citus.config.ts): a fresh distributed install on the coordinator.
  const citusUrl = process.env[CITUS_URL_VARIABLE];
  if (citusUrl && template === 'installed') return useDistributedDatabase(citusUrl);
  const info = clusterInfo();
  const db = { name: `t_${randomBytes(6).toString('hex')}` } as TestDatabase;
  beforeAll(async () => {
    db.url = await cloneDatabase(
      info,
      template === 'installed' ? 'pgcache_tpl_installed' : 'pgcache_tpl_bare',
      db.name,
    );
    db.pool = new pg.Pool({ connectionString: db.url, max: 20 });
    // pg requires a listener: an idle connection that dies (a test terminating backends, the DROP DATABASE
    // WITH (FORCE) of a file that failed half-way) otherwise surfaces as an unhandled error. The pool drops
    // that connection and the next query opens another.
    db.pool.on('error', () => undefined);
  });
  afterAll(async () => {
    await db.pool?.end();
    await dropDatabase(info, db.name);
  });
  return db;
}

/** The SQLSTATE a promise rejects with (fails the test if it resolves). */
export async function sqlState(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (error) {
    return (error as { code?: string }).code ?? `no code: ${String(error)}`;
  }
  throw new Error('expected the call to fail');
}

/** Counts the calls of `methods` on `pool` from now on (each is one round trip, or a connection taken). */
export function countRoundTrips(pool: pg.Pool, methods: readonly ('query' | 'connect')[]): { count: number } {
  const counter = { count: 0 };
  for (const method of methods) {
    const original = pool[method].bind(pool) as (...args: unknown[]) => unknown;
    (pool as unknown as Record<string, unknown>)[method] = (...args: unknown[]) => {
      counter.count++;
      return original(...args);
    };
  }
  return counter;
}

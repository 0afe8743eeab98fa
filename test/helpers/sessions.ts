// Queries as someone else: as a tenant (SET pgcache.tenant on one connection), or through login roles that
// are members of the install's reader and writer groups.
import pg from 'pg';
import { clusterInfo } from '../../scripts/lib/cluster.js';
import type { TestDatabase } from './db.js';

/** Runs `sql` on one connection of `pool` with pgcache.tenant set to `tenant` ('' for null), then resets it. */
export async function asTenant<T = Record<string, unknown>>(
  pool: pg.Pool,
  tenant: string | null,
  sql: string,
  params: unknown[] = [],
): Promise<T[]> {
  const client = await pool.connect();
  try {
    await client.query(`SELECT set_config('pgcache.tenant', $1, false)`, [tenant ?? '']);
    return (await client.query(sql, params)).rows as T[];
  } finally {
    await client.query('RESET pgcache.tenant');
    client.release();
  }
}

/**
 * Creates a login role `<database>_<tag>reader` / `_<tag>writer` in each of the install's groups and a pool of
 * each; `drop()` ends the pools and drops the roles. Call inside beforeAll / afterAll.
 */
export async function groupLogins(
  db: TestDatabase,
  tag = '',
): Promise<{ reader: pg.Pool; writer: pg.Pool; drop(): Promise<void> }> {
  const info = clusterInfo();
  const { rows } = await db.pool.query('SELECT reader_role, writer_role FROM pgcache.pgcache_install');
  const logins: Record<string, pg.Pool> = {};
  for (const group of ['reader', 'writer']) {
    const role = `${db.name}_${tag}${group}`;
    await db.pool.query(`CREATE ROLE ${role} LOGIN; GRANT ${rows[0][`${group}_role`]} TO ${role}`);
    logins[group] = new pg.Pool({
      connectionString: `postgres://${role}@${info.host}:${info.port}/${db.name}`,
      max: 2,
    });
  }
  return {
    reader: logins.reader as pg.Pool,
    writer: logins.writer as pg.Pool,
    async drop() {
      for (const [group, pool] of Object.entries(logins)) {
        await pool.end();
        await db.pool.query(`DROP OWNED BY ${db.name}_${tag}${group}; DROP ROLE ${db.name}_${tag}${group}`);
      }
    },
  };
}

/** The statements that succeed when `role` logs in to `database` and runs each in its own rolled-back transaction. */
export async function succeededAs(role: string, database: string, statements: string[]): Promise<string[]> {
  const info = clusterInfo();
  const client = new pg.Client({ connectionString: `postgres://${role}@${info.host}:${info.port}/${database}` });
  await client.connect();
  const succeeded: string[] = [];
  try {
    for (const sql of statements) {
      await client.query('BEGIN');
      try {
        await client.query(sql);
        succeeded.push(sql);
      } catch {
        /* refused */
      }
      await client.query('ROLLBACK');
    }
  } finally {
    await client.end();
  }
  return succeeded;
}

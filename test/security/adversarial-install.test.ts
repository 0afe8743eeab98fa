// Adversarial: installs that must not reach each other, schemas pgcache must not take over, uninstalls that
// must not drop what is not pgcache's, and pg_cron jobs that must not outlive their install.
import { execFileSync } from 'node:child_process';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CRON_DATABASE, clusterInfo, repoRoot } from '../../scripts/lib/cluster.js';
import { dropDatabase, ensureDatabase, withClient } from '../../scripts/lib/databases.js';
import { installRoles, migrate, uninstall } from '../../src/install/migrate.js';
import { sqlState, useDatabase } from '../helpers/db.js';

const db = useDatabase('bare');
const info = clusterInfo();
const other = `${db.name}_other`;
let otherPool: pg.Pool;

const psql = (url: string, ...args: string[]) =>
  execFileSync('psql', [url, '-X', '-q', ...args], {
    cwd: repoRoot,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  });
const psqlError = (url: string, ...args: string[]): string => {
  try {
    psql(url, ...args);
  } catch (error) {
    return String((error as { stderr?: string }).stderr);
  }
  throw new Error('expected psql to fail');
};
const roles = async (pool: pg.Pool, schema = 'pgcache') =>
  (await pool.query(`SELECT reader_role, writer_role, admin_role FROM ${schema}.pgcache_install`)).rows[0];
const roleExists = async (name: string) =>
  (await db.pool.query('SELECT count(*)::int AS n FROM pg_roles WHERE rolname = $1', [name])).rows[0].n === 1;

beforeAll(async () => {
  await ensureDatabase(info, other, 'pgcache_tpl_bare');
  otherPool = new pg.Pool({ connectionString: info.url(other), max: 2 });
  await migrate({ databaseUrl: db.url });
  await migrate({ databaseUrl: info.url(other) });
});
afterAll(async () => {
  await otherPool?.end();
  await uninstall({ databaseUrl: info.url(other) }).catch(() => {});
  await dropDatabase(info, other);
  await uninstall({ databaseUrl: db.url }).catch(() => {});
});

describe('roles', () => {
  it('are per database and schema, recorded in pgcache_install', async () => {
    expect(await roles(db.pool)).toEqual({
      reader_role: `${db.name}_pgcache_reader`,
      writer_role: `${db.name}_pgcache_writer`,
      admin_role: `${db.name}_pgcache_admin`,
    });
    expect(await installRoles({ databaseUrl: db.url })).toEqual({
      reader: `${db.name}_pgcache_reader`,
      writer: `${db.name}_pgcache_writer`,
      admin: `${db.name}_pgcache_admin`,
    });
    expect((await roles(otherPool)).admin_role).toBe(`${other}_pgcache_admin`);
    await migrate({ databaseUrl: db.url, schema: 'second' });
    expect((await roles(db.pool, 'second')).writer_role).toBe(`${db.name}_second_writer`);
  });

  it("granted for one install reach no other database's or schema's install", async () => {
    const login = `${db.name}_cross`;
    const theirs = await roles(otherPool);
    await db.pool.query(`CREATE ROLE ${login} LOGIN; GRANT ${theirs.admin_role} TO ${login}`);
    const pool = new pg.Pool({ connectionString: `postgres://${login}@${info.host}:${info.port}/${db.name}`, max: 1 });
    try {
      expect(await sqlState(pool.query(`SELECT pgcache.cache_get('default', 'k')`))).toBe('42501');
      expect(await sqlState(pool.query(`SELECT pgcache.cache_set('default', 'k', '1'::jsonb)`))).toBe('42501');
      expect(await sqlState(pool.query(`SELECT pgcache.cache_drop_type('default')`))).toBe('42501');
      await db.pool.query(`GRANT ${(await roles(db.pool, 'second')).admin_role} TO ${login}`);
      expect(await sqlState(pool.query(`SELECT pgcache.cache_drop_type('default')`))).toBe('42501');
      await pool.query(`SELECT second.cache_set('default', 'k', '1'::jsonb)`);
    } finally {
      await pool.end();
      await db.pool.query(`DROP ROLE ${login}`);
    }
  });

  it('refuses a role that exists but was not created for the install, and names longer than 63 bytes', async () => {
    await db.pool.query(`CREATE ROLE squatter_reader NOLOGIN`);
    try {
      expect(await sqlState(migrate({ databaseUrl: db.url, schema: 'third', rolePrefix: 'squatter' }))).toBe('PC020');
      expect(await db.pool.query(`SELECT to_regnamespace('third') AS s`)).toMatchObject({ rows: [{ s: null }] });
      // Adopting it is explicit: the comment the install would have written.
      await db.pool.query(`COMMENT ON ROLE squatter_reader IS 'pgcache reader role of ${db.name}.third'`);
      await migrate({ databaseUrl: db.url, schema: 'third', rolePrefix: 'squatter' });
      expect((await roles(db.pool, 'third')).reader_role).toBe('squatter_reader');
      await uninstall({ databaseUrl: db.url, schema: 'third' });
      expect(await roleExists('squatter_reader')).toBe(false);
      expect(await roleExists('squatter_admin')).toBe(false);
    } finally {
      await db.pool.query(`DROP ROLE IF EXISTS squatter_reader`);
    }
    const long = 'x'.repeat(58);
    expect(await sqlState(migrate({ databaseUrl: db.url, schema: 'fourth', rolePrefix: long }))).toBe('PC020');
    expect(psqlError(db.url, '-v', 'schema=fourth', '-v', `role_prefix=${long}`, '-f', 'sql/install.sql')).toContain(
      'PostgreSQL cuts names to 63',
    );
  });

  it('of an older install (<schema>_reader ...) lose their grants on upgrade; their members get the new roles', async () => {
    // What 0.5 granted: the cluster-wide name, here also to an application's role.
    await migrate({ databaseUrl: db.url, schema: 'legacy' });
    await db.pool.query(
      `CREATE ROLE legacy_reader NOLOGIN; CREATE ROLE legacy_app NOLOGIN; GRANT legacy_reader TO legacy_app`,
    );
    try {
      // What 0.5 left: no install record, and grants to the cluster-wide <schema>_reader.
      await db.pool.query(`DROP TABLE legacy.pgcache_install;
                           GRANT USAGE ON SCHEMA legacy TO legacy_reader;
                           GRANT EXECUTE ON FUNCTION legacy.cache_get(text, text) TO legacy_reader`);
      psql(db.url, '-v', 'schema=legacy', '-f', 'sql/install.sql');
      // Unused anywhere else, the retired role is dropped; a member keeps its access here through the new one.
      expect(await roleExists('legacy_reader')).toBe(false);
      const reader = (await roles(db.pool, 'legacy')).reader_role;
      const { rows } = await db.pool.query(
        `SELECT pg_has_role('legacy_app', $1, 'MEMBER') AS m,
                has_function_privilege('legacy_app', 'legacy.cache_get(text, text)', 'EXECUTE') AS f`,
        [reader],
      );
      expect(rows[0]).toEqual({ m: true, f: true });
      await uninstall({ databaseUrl: db.url, schema: 'legacy' });
    } finally {
      await db.pool.query(`DROP ROLE IF EXISTS legacy_reader; DROP ROLE legacy_app`);
    }
  });

  it('of an older install are kept while another database still grants them something', async () => {
    await migrate({ databaseUrl: db.url, schema: 'legacy2' });
    await db.pool.query(`CREATE ROLE legacy2_reader NOLOGIN`);
    const other = `${db.name}_keep`;
    await ensureDatabase(info, other, 'pgcache_tpl_bare');
    const otherUrl = info.url(other);
    try {
      await withClient(otherUrl, (c) => c.query(`CREATE TABLE held (x int); GRANT SELECT ON held TO legacy2_reader`));
      await db.pool.query(`DROP TABLE legacy2.pgcache_install;
                           GRANT USAGE ON SCHEMA legacy2 TO legacy2_reader`);
      psql(db.url, '-v', 'schema=legacy2', '-f', 'sql/install.sql');
      expect(await roleExists('legacy2_reader')).toBe(true);
      const { rows } = await db.pool.query(`SELECT has_schema_privilege('legacy2_reader', 'legacy2', 'USAGE') AS s`);
      expect(rows[0]).toEqual({ s: false });
      await uninstall({ databaseUrl: db.url, schema: 'legacy2' });
    } finally {
      await dropDatabase(info, other);
      await db.pool.query(`DROP ROLE IF EXISTS legacy2_reader`);
    }
  });

  it('created for an install are dropped by its uninstall, by every path', async () => {
    await migrate({ databaseUrl: db.url, schema: 'gone' });
    const mine = await roles(db.pool, 'gone');
    await uninstall({ databaseUrl: db.url, schema: 'gone' });
    for (const role of Object.values(mine)) expect(await roleExists(role as string)).toBe(false);
    psql(db.url, '-v', 'schema=gone', '-f', 'sql/install.sql');
    psql(db.url, '-v', 'schema=gone', '-f', 'sql/uninstall.sql');
    for (const role of Object.values(mine)) expect(await roleExists(role as string)).toBe(false);
    expect((await db.pool.query(`SELECT to_regnamespace('gone') AS s`)).rows[0].s).toBeNull();
  });
});

describe('install', () => {
  it('refuses public, pg_* and information_schema by every path', async () => {
    for (const schema of ['public', 'information_schema', 'pg_catalog', 'pg_toast', 'pg_mine']) {
      expect(psqlError(db.url, '-v', `schema=${schema}`, '-f', 'sql/install.sql')).toContain('will not install');
      expect(await sqlState(migrate({ databaseUrl: db.url, schema }))).toBe('PC020');
    }
    // Nothing changed in public: PUBLIC keeps its USAGE, no function there became SECURITY DEFINER.
    const { rows } = await db.pool.query(
      `SELECT has_schema_privilege('public', 'public', 'USAGE') AS usage,
              (SELECT count(*)::int FROM pg_proc WHERE pronamespace = 'public'::regnamespace AND prosecdef) AS definers`,
    );
    expect(rows[0]).toEqual({ usage: true, definers: 0 });
  });

  it("refuses an application's schema, leaves it as it was, and keeps its functions out of pgcache's hands", async () => {
    await db.pool.query(`CREATE SCHEMA app; CREATE TABLE app.orders (id int);
      CREATE FUNCTION app.cache_orders() RETURNS int LANGUAGE sql AS 'SELECT 1'; GRANT USAGE ON SCHEMA app TO PUBLIC`);
    expect(psqlError(db.url, '-v', 'schema=app', '-f', 'sql/install.sql')).toContain(
      'already holds objects pgcache did not create',
    );
    expect(await sqlState(migrate({ databaseUrl: db.url, schema: 'app' }))).toBe('PC020');
    const { rows } = await db.pool.query(
      `SELECT has_schema_privilege('public', 'app', 'USAGE') AS usage, to_regclass('app.orders') IS NOT NULL AS orders,
              (SELECT prosecdef FROM pg_proc WHERE oid = 'app.cache_orders()'::regprocedure) AS definer,
              to_regclass('app.pgcache_migrations') IS NULL AS no_migrations`,
    );
    expect(rows[0]).toEqual({ usage: true, orders: true, definer: false, no_migrations: true });
  });

  it('takes an empty schema of its own, and re-installs and upgrades in place', async () => {
    await db.pool.query(`CREATE SCHEMA empty_one`);
    psql(db.url, '-v', 'schema=empty_one', '-f', 'sql/install.sql');
    psql(db.url, '-v', 'schema=empty_one', '-f', 'sql/install.sql');
    expect(await migrate({ databaseUrl: db.url, schema: 'empty_one' })).not.toEqual([]);
    expect(await migrate({ databaseUrl: db.url, schema: 'empty_one' })).toEqual([]);
    await uninstall({ databaseUrl: db.url, schema: 'empty_one' });
  });

  it('refuses a schema owned by another role', async () => {
    const owner = `${db.name}_someone`;
    await db.pool.query(`CREATE ROLE ${owner}; CREATE SCHEMA theirs AUTHORIZATION ${owner}`);
    try {
      expect(await sqlState(migrate({ databaseUrl: db.url, schema: 'theirs' }))).toBe('PC020');
    } finally {
      await db.pool.query(`DROP SCHEMA theirs; DROP ROLE ${owner}`);
    }
  });
});

describe('uninstall', () => {
  it('refuses a schema that is not a pgcache install, by every path, and drops nothing', async () => {
    expect(psqlError(db.url, '-v', 'schema=app', '-f', 'sql/uninstall.sql')).toContain('is not a pgcache install');
    expect(await sqlState(uninstall({ databaseUrl: db.url, schema: 'app' }))).toBe('PC020');
    expect(await sqlState(uninstall({ databaseUrl: db.url, schema: 'public' }))).toBe('PC020');
    expect((await db.pool.query(`SELECT to_regclass('app.orders') IS NOT NULL AS kept`)).rows[0].kept).toBe(true);
  });

  it("removes the install's pg_cron jobs on every path, in pg_cron's database", async () => {
    const cronUrl = info.url(CRON_DATABASE);
    const jobs = async () =>
      withClient(
        cronUrl,
        async (c) =>
          (await c.query(`SELECT jobname FROM cron.job WHERE jobname LIKE $1`, [`%:${db.name}.jobs`])).rows.length,
      );
    const schedule = async () => {
      const { rows } = await db.pool.query(`SELECT * FROM jobs.cache_maintenance_commands()`);
      await withClient(cronUrl, async (c) => {
        for (const r of rows) {
          await c.query('SELECT cron.schedule_in_database($1, $2, $3, $4)', [
            r.job_name,
            r.schedule,
            r.command,
            r.database,
          ]);
        }
      });
    };
    await migrate({ databaseUrl: db.url, schema: 'jobs' });
    await schedule();
    expect(await jobs()).toBe(2);
    expect(await uninstall({ databaseUrl: db.url, schema: 'jobs' })).toEqual({ dropped: true, jobsRemoved: 2 });
    expect(await jobs()).toBe(0);

    psql(db.url, '-v', 'schema=jobs', '-f', 'sql/install.sql');
    await schedule();
    expect(await jobs()).toBe(2);
    psql(db.url, '-v', 'schema=jobs', '-f', 'sql/uninstall.sql');
    expect(await jobs()).toBe(0);
    expect((await db.pool.query(`SELECT to_regnamespace('jobs') AS s`)).rows[0].s).toBeNull();
  });
});

// Attack: the database owner (not a superuser) dresses a schema of its own up as a pgcache install (a
// pgcache_install view or table, a _cron_job_names() function) and puts it first on the database's
// search_path, ahead of pg_catalog, with a planted set_config() and to_regclass(). A superuser who then runs
// an install or an uninstall, by psql or by the TypeScript package, must run none of that code.
import { execFileSync } from 'node:child_process';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clusterInfo, repoRoot } from '../../scripts/lib/cluster.js';
import { migrate, uninstall } from '../../src/install/migrate.js';
import { sqlState, useDatabase } from '../helpers/db.js';

const db = useDatabase('bare');
const info = clusterInfo();
const owner = `${db.name}_dbowner`;

const hijack = (what: string) =>
  `$p$BEGIN RAISE EXCEPTION 'hijacked: ${what} ran as %', current_user USING ERRCODE = 'HJ001'; END$p$`;

function psql(...args: string[]): { ok: boolean; out: string } {
  try {
    const out = execFileSync('psql', ['-X', '-q', '-d', db.url, ...args], {
      cwd: repoRoot,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    return { ok: true, out };
  } catch (error) {
    return { ok: false, out: String((error as { stderr?: string }).stderr) };
  }
}

async function asOwner(sql: string): Promise<void> {
  const c = new pg.Client({ connectionString: `postgres://${owner}@${info.host}:${info.port}/${db.name}` });
  await c.connect();
  try {
    await c.query(sql);
  } finally {
    await c.end();
  }
}

beforeAll(async () => {
  await db.pool.query(`CREATE ROLE ${owner} LOGIN NOSUPERUSER; ALTER DATABASE ${db.name} OWNER TO ${owner}`);
  await asOwner(`CREATE SCHEMA trap;
    CREATE FUNCTION trap.set_config(text, text, boolean) RETURNS text LANGUAGE plpgsql AS ${hijack('set_config')};
    CREATE FUNCTION trap.to_regclass(text) RETURNS regclass LANGUAGE plpgsql AS ${hijack('to_regclass')};
    CREATE FUNCTION trap.to_regnamespace(text) RETURNS regnamespace LANGUAGE plpgsql AS ${hijack('to_regnamespace')};
    CREATE FUNCTION trap.current_database() RETURNS name LANGUAGE plpgsql AS ${hijack('current_database')};
    CREATE SCHEMA fake_view;
    CREATE FUNCTION fake_view.evil() RETURNS text LANGUAGE plpgsql AS ${hijack('pgcache_install view')};
    CREATE VIEW fake_view.pgcache_install AS SELECT fake_view.evil() AS admin_role, ''::text AS writer_role, ''::text AS reader_role;
    CREATE FUNCTION fake_view._cron_job_names() RETURNS text[] LANGUAGE plpgsql AS ${hijack('_cron_job_names')};
    CREATE SCHEMA fake_table;
    CREATE TABLE fake_table.pgcache_install (admin_role text, writer_role text, reader_role text);
    INSERT INTO fake_table.pgcache_install VALUES ('postgres', 'postgres', 'postgres');
    CREATE FUNCTION fake_table._cron_job_names() RETURNS text[] LANGUAGE plpgsql AS ${hijack('_cron_job_names')};
    ALTER DATABASE ${db.name} SET search_path = trap, pg_catalog, public`);
}, 60_000);

afterAll(async () => {
  await db.pool.query(`ALTER DATABASE ${db.name} RESET search_path`);
  await db.pool.query(`ALTER DATABASE ${db.name} OWNER TO CURRENT_USER`);
  await db.pool.query(`DROP OWNED BY ${owner}; DROP ROLE ${owner}`);
});

describe('a superuser in a database whose owner put its schema ahead of pg_catalog', () => {
  it('installs and uninstalls by psql without running the planted code', () => {
    const install = psql('-v', 'schema=via_psql', '-f', 'sql/install.sql');
    expect(install.out).not.toContain('hijacked');
    expect(install.ok).toBe(true);
    const removed = psql('-v', 'schema=via_psql', '-f', 'sql/uninstall.sql');
    expect(removed.out).not.toContain('hijacked');
    expect(removed.ok).toBe(true);
  });

  it('installs and uninstalls with the package without running the planted code', async () => {
    await migrate({ databaseUrl: db.url, schema: 'via_ts' });
    expect((await db.pool.query(`SELECT count(*)::int AS n FROM pg_catalog.pg_event_trigger`)).rows[0].n).toBe(1);
    expect(await uninstall({ databaseUrl: db.url, schema: 'via_ts' })).toEqual({ dropped: true, jobsRemoved: 0 });
    // The schema guard's event trigger goes with the install.
    expect((await db.pool.query(`SELECT count(*)::int AS n FROM pg_catalog.pg_event_trigger`)).rows[0].n).toBe(0);
  });

  it('refuses to uninstall a schema whose pgcache_install is a view, by every path, running none of its code', async () => {
    const removed = psql('-v', 'schema=fake_view', '-f', 'sql/uninstall.sql');
    expect(removed.ok).toBe(false);
    expect(removed.out).not.toContain('hijacked');
    expect(removed.out).toContain('is not a pgcache install');
    expect(await sqlState(uninstall({ databaseUrl: db.url, schema: 'fake_view' }))).toBe('PC020');
    expect(
      (await db.pool.query(`SELECT pg_catalog.to_regnamespace('fake_view') IS NOT NULL AS kept`)).rows[0].kept,
    ).toBe(true);
  });

  it("never calls the fake install's own functions, and drops no role it names", async () => {
    expect(await uninstall({ databaseUrl: db.url, schema: 'fake_table' })).toEqual({ dropped: true, jobsRemoved: 0 });
    const { rows } = await db.pool.query(`SELECT rolsuper FROM pg_roles WHERE rolname = 'postgres'`);
    expect(rows[0].rolsuper).toBe(true);
  });
});

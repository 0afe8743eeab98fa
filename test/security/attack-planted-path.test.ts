// Attack: code planted where a role other than the install's owner can write, reached from what pgcache runs.
// 1. The database owner (not a superuser) creates its own schema and puts it FIRST on the database's
//    search_path, ahead of pg_catalog (ALTER DATABASE ... SET search_path is the owner's right), with an
//    aggregate count(*), operators and a domain named text in it. pg_cron runs the commands pgcache gives it
//    as the install's owner (a superuser) with the database's settings: those commands must resolve nothing
//    through the path.
// 2. The caller's own pg_temp: temporary tables named like every relation of the install (pg_temp.cache_types,
//    pg_temp.entries, ...) filled with hostile rows, and temporary functions. The functions' path ends in
//    pg_temp, so the install's own relations must always win, and nothing a temp object holds may leak in.
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clusterInfo } from '../../scripts/lib/cluster.js';
import { useDatabase } from '../helpers/db.js';
import { CALLS, sqlFor } from './calls.js';

const db = useDatabase();
const info = clusterInfo();
const owner = `${db.name}_dbowner`;
const writer = `${db.name}_w`;
const admin = `${db.name}_a`;

const hijack = (what: string) =>
  `$p$BEGIN RAISE EXCEPTION 'hijacked: ${what} ran as %', current_user USING ERRCODE = 'HJ001'; END$p$`;

beforeAll(async () => {
  const { rows } = await db.pool.query(`SELECT writer_role, admin_role FROM pgcache.pgcache_install`);
  await db.pool.query(`CREATE ROLE ${owner} LOGIN NOSUPERUSER; CREATE ROLE ${writer} LOGIN NOSUPERUSER;
    CREATE ROLE ${admin} LOGIN NOSUPERUSER;
    GRANT ${rows[0].writer_role} TO ${writer}; GRANT ${rows[0].admin_role} TO ${admin};
    ALTER DATABASE ${db.name} OWNER TO ${owner}`);
  // The owner's planted schema and the path it gives every new session of the database.
  const ownerClient = new pg.Client({ connectionString: `postgres://${owner}@${info.host}:${info.port}/${db.name}` });
  await ownerClient.connect();
  try {
    await ownerClient.query(`CREATE SCHEMA trap;
      CREATE FUNCTION trap.final(bigint) RETURNS bigint LANGUAGE plpgsql AS ${hijack('count(*)')};
      CREATE FUNCTION trap.step(bigint) RETURNS bigint LANGUAGE sql AS 'SELECT $1';
      CREATE AGGREGATE trap.count(*) (SFUNC = trap.step, STYPE = bigint, FINALFUNC = trap.final, INITCOND = '0');
      CREATE FUNCTION trap.rn() RETURNS bigint LANGUAGE plpgsql WINDOW AS ${hijack('row_number()')};
      CREATE FUNCTION trap.eq(text, text) RETURNS boolean LANGUAGE plpgsql AS ${hijack('text = text')};
      CREATE OPERATOR trap.= (LEFTARG = text, RIGHTARG = text, FUNCTION = trap.eq);
      CREATE FUNCTION trap.gt(bigint, integer) RETURNS boolean LANGUAGE plpgsql AS ${hijack('bigint > integer')};
      CREATE OPERATOR trap.> (LEFTARG = bigint, RIGHTARG = integer, FUNCTION = trap.gt);
      CREATE FUNCTION trap.bad(text) RETURNS boolean LANGUAGE plpgsql AS ${hijack('domain text check')};
      CREATE DOMAIN trap.text AS pg_catalog.text CHECK (trap.bad(VALUE));
      ALTER DATABASE ${db.name} SET search_path = trap, pg_catalog, public`);
  } finally {
    await ownerClient.end();
  }
  // pg_cron's tables, so the trim job's DELETE can be parsed and run here as it would be in the cron database.
  await db.pool.query(`SET search_path = pg_catalog;
    CREATE SCHEMA cron;
    CREATE TABLE cron.job (jobid bigint PRIMARY KEY, jobname text);
    CREATE TABLE cron.job_run_details (runid bigint PRIMARY KEY, jobid bigint);
    INSERT INTO cron.job VALUES (1, 'pgcache_maintenance:x.pgcache');
    INSERT INTO cron.job_run_details SELECT g, 1 FROM generate_series(1, 5) g;
    RESET search_path`);
}, 120_000);

afterAll(async () => {
  await db.pool.query(`ALTER DATABASE ${db.name} RESET search_path`);
  await db.pool.query(`ALTER DATABASE ${db.name} OWNER TO CURRENT_USER`);
  await db.pool.query(`DROP OWNED BY ${owner}; DROP ROLE ${owner}; DROP ROLE ${writer}; DROP ROLE ${admin}`);
});

/** A fresh superuser session: it gets the database's search_path, as pg_cron's job sessions do. */
async function superuserSession<T>(fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: db.url });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

describe("the database owner's schema first on the database's search_path", () => {
  it('is the path a new session gets (the trap is live)', async () => {
    await superuserSession(async (c) => {
      expect((await c.query('SHOW search_path')).rows[0].search_path).toMatch(/^trap, pg_catalog/);
      await expect(c.query('SELECT count(*) FROM pg_class')).rejects.toMatchObject({ code: 'HJ001' });
    });
  });

  it("never runs in the maintenance command pg_cron runs as the install's owner", async () => {
    const { rows } = await db.pool.query(`SELECT command FROM pgcache.cache_maintenance_commands()`);
    await superuserSession(async (c) => {
      const result = await c.query(rows[0].command).catch((e: unknown) => e);
      expect(result).not.toBeInstanceOf(Error);
    });
  });

  it("never runs in the trim of pg_cron's run log", async () => {
    const { rows } = await db.pool.query(`SELECT pgcache._cron_trim_sql() AS sql`);
    await superuserSession(async (c) => {
      const result = await c.query(rows[0].sql).catch((e: unknown) => e);
      expect(result).not.toBeInstanceOf(Error);
    });
  });

  it("never runs in the status query the exporter runs in pg_cron's database", async () => {
    await db.pool.query(`SET search_path = pg_catalog; ALTER TABLE cron.job ADD COLUMN schedule text,
      ADD COLUMN command text, ADD COLUMN database text, ADD COLUMN active boolean;
      ALTER TABLE cron.job_run_details ADD COLUMN start_time timestamptz, ADD COLUMN end_time timestamptz,
      ADD COLUMN status text, ADD COLUMN return_message text; RESET search_path`);
    const { rows } = await db.pool.query(`SELECT pgcache.cache_cron_status_query() AS sql`);
    await superuserSession(async (c) => {
      const result = await c.query(rows[0].sql).catch((e: unknown) => e);
      expect(result).not.toBeInstanceOf(Error);
    });
  });
});

describe("the caller's pg_temp", () => {
  it('holds tables named like every relation of the install, and temp functions: none is ever used', async () => {
    // One session throughout (a pool drops a connection whose query failed, and its temp objects with it).
    const pool = new pg.Client({ connectionString: `postgres://${admin}@${info.host}:${info.port}/${db.name}` });
    await pool.connect();
    const pid = (await pool.query('SELECT pg_backend_pid() AS p')).rows[0].p;
    try {
      await pool.query(`SET search_path = pg_catalog`);
      const { rows: rels } = await db.pool.query(
        `SELECT c.relname FROM pg_class c WHERE c.relnamespace = 'pgcache'::regnamespace AND c.relkind IN ('r', 'p', 'v')`,
      );
      expect(rels.length).toBeGreaterThan(8);
      const names = [...rels.map((r) => r.relname as string), 'cache_zz_new', 'cache_new_type'];
      for (const name of names) {
        // One shape fits every lookup by column name that could fall through to it: all text, hostile values.
        await pool.query(
          `CREATE TEMP TABLE ${pg.escapeIdentifier(name)} (name text, value text, id int, key text, version int,
             value_json jsonb, tenant text, type_id int, model text, dimensions int)`,
        );
        await pool.query(
          `INSERT INTO pg_temp.${pg.escapeIdentifier(name)} VALUES ('default', 'hostile', 1, 'victim', 1,
             '{"planted": true}', 'x', 1, 'm', 2)`,
        );
      }
      for (const fn of ['_type', '_tenant', '_check_key', 'cache_get', 'now', 'count']) {
        await pool
          .query(`CREATE FUNCTION pg_temp.${fn}(text) RETURNS text LANGUAGE plpgsql AS ${hijack(`pg_temp.${fn}`)}`)
          .catch(() => undefined);
      }
      await pool.query(`SET search_path = pg_temp, public`);
      for (const call of CALLS) {
        const code = await pool.query(sqlFor(call)).then(
          () => 'ok',
          (e) => (e as { code?: string }).code ?? 'none',
        );
        expect({ fn: call.fn, code }).toEqual({ fn: call.fn, code: call.fails ?? 'ok' });
      }
      expect((await pool.query('SELECT pg_backend_pid() AS p')).rows[0].p).toBe(pid);
      await pool.query(`SELECT pgcache.cache_set('default', 'victim', '{"real": true}'::jsonb)`);
      expect((await pool.query(`SELECT pgcache.cache_get('default', 'victim') AS v`)).rows[0].v).toEqual({
        real: true,
      });
      // A type whose table name is taken by a temp table of the caller is created in the install schema.
      await pool.query(`SELECT pgcache.cache_create_type('zz_new', 'jsonb', interval '1 hour')`);
      await pool.query(`SELECT pgcache.cache_set('zz_new', 'k', '1'::jsonb)`);
      expect((await pool.query(`SELECT pgcache.cache_get('zz_new', 'k') AS v`)).rows[0].v).toBe(1);
      expect((await pool.query(`SELECT count(*)::int AS n FROM pg_temp.cache_zz_new`)).rows[0].n).toBe(1);
      await pool.query(`SELECT pgcache.cache_drop_type('zz_new')`);
      expect((await pool.query(`SELECT count(*)::int AS n FROM pg_temp.cache_zz_new`)).rows[0].n).toBe(1);
      const { rows } = await db.pool.query(
        `SELECT to_regclass('pgcache.cache_zz_new') IS NULL AS gone,
                (SELECT value_json FROM pgcache.entries WHERE key = 'victim' AND type_id = (SELECT id FROM pgcache.cache_types WHERE name = 'default')) AS victim`,
      );
      expect(rows[0].gone).toBe(true);
      expect(rows[0].victim).toEqual({ real: true });
    } finally {
      await pool.end();
    }
  });
});

// Attack: the watch trigger runs with the install owner's rights (it deletes entries), on tables its callers
// own. An admin who owns a table, or the owner of a watched table, tries to make it run their own code:
// the trigger attached by hand without its transition tables (so that pgcache_new and pgcache_old would be
// found on the path, in the caller's pg_temp, with columns of a type whose cast to text the caller wrote),
// on a view, and a watched column changed afterwards to such a type.
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clusterInfo } from '../../scripts/lib/cluster.js';
import { sqlState, useDatabase } from '../helpers/db.js';

const db = useDatabase();
const info = clusterInfo();
const mallory = `${db.name}_mallory`;
const appOwner = `${db.name}_app`;
const clients: pg.Client[] = [];
let roles: { writer_role: string; admin_role: string };

/** A session of a login role; the hostile objects it creates live in its own schema and pg_temp. */
async function session(role: string): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: `postgres://${role}@${info.host}:${info.port}/${db.name}` });
  await client.connect();
  clients.push(client);
  return client;
}

// A composite type whose cast to text is the role's own function: it records who ran it, then answers.
const hostileType = (schema: string) => `
  CREATE TABLE ${schema}.ran (who text, at text);
  CREATE TYPE ${schema}.evil AS (a int);
  CREATE FUNCTION ${schema}.evil_text(${schema}.evil) RETURNS text LANGUAGE plpgsql AS $f$
  BEGIN
    INSERT INTO ${schema}.ran VALUES (current_user, 'cast');
    RETURN 'doc:1';
  END $f$;
  CREATE CAST (${schema}.evil AS text) WITH FUNCTION ${schema}.evil_text(${schema}.evil)`;

const ranAs = async (schema: string) =>
  (await db.pool.query(`SELECT who FROM ${schema}.ran`)).rows.map((r: { who: string }) => r.who);
const get = async (key: string) =>
  (await db.pool.query(`SELECT pgcache.cache_get('answers', $1) AS v`, [key])).rows[0].v;

beforeAll(async () => {
  roles = (await db.pool.query(`SELECT writer_role, admin_role FROM pgcache.pgcache_install`)).rows[0];
  await db.pool.query(`CREATE ROLE ${mallory} LOGIN NOSUPERUSER; CREATE ROLE ${appOwner} LOGIN NOSUPERUSER;
    GRANT ${roles.admin_role} TO ${mallory};
    CREATE SCHEMA mal AUTHORIZATION ${mallory}; CREATE SCHEMA app AUTHORIZATION ${appOwner}`);
  await db.pool.query(`SELECT pgcache.cache_create_type('answers')`);
});

afterAll(async () => {
  for (const c of clients) await c.end().catch(() => undefined);
  await db.pool.query(`DROP SCHEMA mal CASCADE; DROP SCHEMA app CASCADE`);
  for (const r of [mallory, appOwner]) await db.pool.query(`DROP OWNED BY ${r}; DROP ROLE ${r}`);
});

describe('the watch trigger attached by hand by an admin who owns the table', () => {
  const template = Buffer.from('doc:{1}').toString('hex');

  it('without its transition tables, refuses (PC019) and never reads pgcache_new/pgcache_old from pg_temp', async () => {
    const c = await session(mallory);
    await c.query(`${hostileType('mal')};
      CREATE TABLE mal.docs (id int PRIMARY KEY);
      CREATE TEMP TABLE pgcache_new (id mal.evil); INSERT INTO pg_temp.pgcache_new VALUES (ROW(1));
      CREATE TEMP TABLE pgcache_old (id mal.evil); INSERT INTO pg_temp.pgcache_old VALUES (ROW(1))`);
    for (const op of ['INSERT', 'UPDATE', 'DELETE']) {
      await c.query(`CREATE TRIGGER bare_${op.toLowerCase()} AFTER ${op} ON mal.docs
        FOR EACH STATEMENT EXECUTE FUNCTION pgcache.cache_watch_trigger('', '${template}', '{}')`);
    }
    expect(await sqlState(c.query(`INSERT INTO mal.docs VALUES (1)`))).toBe('PC019');
    await c.query(`ALTER TABLE mal.docs DISABLE TRIGGER bare_insert; INSERT INTO mal.docs VALUES (1)`);
    expect(await sqlState(c.query(`UPDATE mal.docs SET id = 2`))).toBe('PC019');
    expect(await sqlState(c.query(`DELETE FROM mal.docs`))).toBe('PC019');
    expect(await ranAs('mal')).toEqual([]);
  });

  it('with transition tables of other names, refuses (PC019) as well', async () => {
    const c = await session(mallory);
    await c.query(`CREATE TABLE mal.renamed (id int PRIMARY KEY);
      CREATE TEMP TABLE pgcache_new (id mal.evil); INSERT INTO pg_temp.pgcache_new VALUES (ROW(1));
      CREATE TRIGGER renamed AFTER INSERT ON mal.renamed REFERENCING NEW TABLE AS other_new
        FOR EACH STATEMENT EXECUTE FUNCTION pgcache.cache_watch_trigger('', '${template}', '{}')`);
    expect(await sqlState(c.query(`INSERT INTO mal.renamed VALUES (1)`))).toBe('PC019');
    expect(await ranAs('mal')).toEqual([]);
  });

  it('on a view (whose statement triggers have no transition tables), refuses (PC019)', async () => {
    const c = await session(mallory);
    // Statement triggers of a view fire when a row-level INSTEAD OF trigger does its rows.
    await c.query(`CREATE TABLE mal.base (id int);
      CREATE VIEW mal.v AS SELECT id FROM mal.base;
      CREATE FUNCTION mal.instead() RETURNS trigger LANGUAGE plpgsql AS $f$BEGIN RETURN NEW; END$f$;
      CREATE TRIGGER instead INSTEAD OF INSERT ON mal.v FOR EACH ROW EXECUTE FUNCTION mal.instead();
      CREATE TEMP TABLE pgcache_new (id mal.evil); INSERT INTO pg_temp.pgcache_new VALUES (ROW(1));
      CREATE TRIGGER on_view AFTER INSERT ON mal.v
        FOR EACH STATEMENT EXECUTE FUNCTION pgcache.cache_watch_trigger('', '${template}', '{}')`);
    expect(await sqlState(c.query(`INSERT INTO mal.v VALUES (1)`))).toBe('PC019');
    expect(await ranAs('mal')).toEqual([]);
  });

  it('as cache_watch_table attaches it, still invalidates (temp tables of the same names are ignored)', async () => {
    const c = await session(mallory);
    await c.query(`CREATE TABLE mal.good (id int PRIMARY KEY);
      CREATE TEMP TABLE pgcache_new (id mal.evil); INSERT INTO pg_temp.pgcache_new VALUES (ROW(1))`);
    await c.query(`SELECT pgcache.cache_watch_table('mal.good', 'doc:{id}')`);
    await db.pool.query(
      `SELECT pgcache.cache_set('answers', 'g7', '"x"'::jsonb, interval '1 hour', p_tags => ARRAY['doc:7'])`,
    );
    await c.query(`INSERT INTO mal.good VALUES (7)`);
    expect(await get('g7')).toBeNull();
    expect(await ranAs('mal')).toEqual([]);
  });
});

describe('cache_watches', () => {
  it('lists the watches cache_watch_table made, whatever malformed arguments an admin attaches the trigger with', async () => {
    const c = await session(mallory);
    await c.query(`CREATE TABLE mal.junk (id int PRIMARY KEY)`);
    for (const [i, args] of [
      ["'', 'ff', '{}'"], // not UTF-8
      ["'', 'zz', '{}'"], // not hex
      ["'', '7b39393939397d', '{}'"], // {99999}: beyond int2
      ["'', '7b317d', 'x'"], // columns not an int2[]
    ].entries()) {
      await c.query(`CREATE TRIGGER pgcache_watch_junk${i}_ins AFTER INSERT ON mal.junk REFERENCING NEW TABLE AS pgcache_new
        FOR EACH STATEMENT EXECUTE FUNCTION pgcache.cache_watch_trigger(${args})`);
    }
    const { rows } = await c.query(`SELECT table_name::text AS t, tag FROM pgcache.cache_watches ORDER BY 1, 2`);
    expect(rows).toContainEqual({ t: 'mal.good', tag: 'doc:{id}' });
    expect(rows.filter((r: { t: string }) => r.t === 'mal.junk')).toEqual([]);
    // The malformed trigger itself refuses to run (PC019).
    expect(await sqlState(c.query(`INSERT INTO mal.junk VALUES (1)`))).toBe('PC019');
  });
});

describe('the owner of a watched table who is no pgcache role', () => {
  it('changes a template column to a type with its own cast to text: the trigger never runs the cast', async () => {
    const c = await session(appOwner);
    await c.query(`${hostileType('app')}; CREATE TABLE app.docs (id int PRIMARY KEY, v text)`);
    // The admin watches it as a member of the owner role (cache_watch_table checks ownership by membership).
    await db.pool.query(`GRANT ${appOwner} TO ${mallory}`);
    const m = await session(mallory);
    await m.query(`SELECT pgcache.cache_watch_table('app.docs', 'doc:{id}', ARRAY['v'])`);
    await c.query(`INSERT INTO app.docs VALUES (1, 'a')`);
    await c.query(`ALTER TABLE app.docs ALTER COLUMN id TYPE app.evil USING ROW(id)::app.evil`);
    await db.pool.query(
      `SELECT pgcache.cache_set('answers', 'd1', '"x"'::jsonb, interval '1 hour', p_tags => ARRAY['doc:1'])`,
    );
    // The template column is no longer of a built-in type: every tag of the template's shape goes, with a
    // warning, and the owner's cast never runs with the install owner's rights.
    await c.query(`UPDATE app.docs SET v = 'b'`);
    await c.query(`INSERT INTO app.docs VALUES (ROW(2)::app.evil, 'c')`);
    await c.query(`DELETE FROM app.docs`);
    expect(await get('d1')).toBeNull();
    expect(await ranAs('app')).toEqual([]);
  });
});

describe('a role that changes a watched table with its own session settings', () => {
  it('cannot keep a stale entry alive: tags are the text form under fixed settings (UTC, ISO), not the session’s', async () => {
    const plain = `${db.name}_plain`;
    await db.pool.query(`CREATE ROLE ${plain} LOGIN NOSUPERUSER;
      CREATE TABLE public.events (id int PRIMARY KEY, at timestamptz, d date, span interval, score float8, raw bytea, v text);
      INSERT INTO public.events VALUES (1, '2026-01-01 00:00:00+00', '2026-01-02', '1 day 2 hours', 0.123456789, '\\x01ff', 'a');
      GRANT UPDATE, SELECT ON public.events TO ${plain}`);
    await db.pool.query(`SELECT pgcache.cache_watch_table('public.events', 'e:{at}|{d}|{span}|{score}|{raw}')`);
    // The tag as the application computes it under the fixed settings.
    const client = await db.pool.connect();
    let tag: string;
    try {
      await client.query(`BEGIN; SET LOCAL TimeZone = 'UTC'; SET LOCAL DateStyle = 'ISO, MDY';
        SET LOCAL IntervalStyle = 'postgres'; SET LOCAL extra_float_digits = 1; SET LOCAL bytea_output = 'hex'`);
      tag = (
        await client.query(
          `SELECT 'e:' || at::text || '|' || d::text || '|' || span::text || '|' || score::text || '|' || raw::text AS tag FROM public.events`,
        )
      ).rows[0].tag;
      await client.query('COMMIT');
    } finally {
      client.release();
    }
    expect(tag).toBe('e:2026-01-01 00:00:00+00|2026-01-02|1 day 02:00:00|0.123456789|\\x01ff');
    await db.pool.query(`SELECT pgcache.cache_set('answers', 'ev1', '"x"'::jsonb, interval '1 hour', p_tags => $1)`, [
      [tag],
    ]);
    const c = await session(plain);
    await c.query(`SET TimeZone = 'Asia/Tokyo'; SET DateStyle = 'German'; SET IntervalStyle = 'sql_standard';
      SET extra_float_digits = -15; SET bytea_output = 'escape'`);
    await c.query(`UPDATE public.events SET v = 'b'`);
    expect(await get('ev1')).toBeNull();
    await c.end();
    await db.pool.query(`DROP TABLE public.events; DROP OWNED BY ${plain}; DROP ROLE ${plain}`);
  });
});

// Watches from SQL: triggers that invalidate tagged entries from the source rows' own statements, inside
// their transaction; bulk statements, chosen columns, tenants, renamed and dropped tables and columns,
// TRUNCATE, roles that do not own the table, and hostile templates.
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clusterInfo } from '../../scripts/lib/cluster.js';
import { sqlState, useDatabase } from '../helpers/db.js';

const db = useDatabase();
const info = clusterInfo();
const one = async (sql: string, params: unknown[] = []) => (await db.pool.query(sql, params)).rows[0];
const get = async (key: string, via: pg.Pool | pg.PoolClient = db.pool) =>
  (await via.query(`SELECT pgcache.cache_get('answers', $1) AS v`, [key])).rows[0].v;
const tagged = (key: string, ...tags: string[]) =>
  one(`SELECT pgcache.cache_set('answers', $1, '"cached"'::jsonb, interval '1 hour', p_tags => $2)`, [key, tags]);

const roles: string[] = [];
const pools: pg.Pool[] = [];

/** A login role (for this database only) granted `group` if given, with its own pool. */
async function loginRole(suffix: string, group?: string): Promise<pg.Pool> {
  const name = `${db.name}_${suffix}`;
  await db.pool.query(`CREATE ROLE ${name} LOGIN NOSUPERUSER`);
  roles.push(name);
  if (group) await db.pool.query(`GRANT ${group} TO ${name}`);
  await db.pool.query(`GRANT CREATE, USAGE ON SCHEMA public TO ${name}`);
  const pool = new pg.Pool({ connectionString: `postgres://${name}@${info.host}:${info.port}/${db.name}`, max: 2 });
  pool.on('error', () => undefined);
  pools.push(pool);
  return pool;
}

beforeAll(async () => {
  await one(`SELECT pgcache.cache_create_type('answers')`);
  await db.pool.query(`CREATE TABLE public.docs (id int PRIMARY KEY, org int, title text, body text)`);
  await db.pool.query(`INSERT INTO public.docs SELECT g, g % 10, 'title ' || g, 'body' FROM generate_series(1, 100) g`);
});

afterAll(async () => {
  for (const pool of pools) await pool.end();
  for (const role of roles) await db.pool.query(`DROP OWNED BY ${role}; DROP ROLE ${role}`);
});

describe('a watched table', () => {
  it('invalidates in the changing transaction: a miss inside, back after ROLLBACK, gone after COMMIT', async () => {
    expect((await one(`SELECT pgcache.cache_watch_table('public.docs', 'doc:{id}') AS w`)).w).toMatch(
      /^pgcache_watch_[0-9a-f]{16}$/,
    );
    await tagged('q5', 'doc:5');
    await tagged('q6', 'doc:6');
    const client = await db.pool.connect();
    try {
      await client.query('BEGIN');
      await client.query(`UPDATE public.docs SET body = 'new' WHERE id = 5`);
      expect(await get('q5', client)).toBeNull();
      expect(await get('q5')).toBe('cached'); // other sessions: not yet
      await client.query('ROLLBACK');
      expect(await get('q5')).toBe('cached');
      await client.query('BEGIN');
      await client.query(`UPDATE public.docs SET body = 'new' WHERE id = 5`);
      await client.query('COMMIT');
    } finally {
      client.release();
    }
    expect(await get('q5')).toBeNull();
    expect(await get('q6')).toBe('cached');
  });

  it('INSERT and DELETE invalidate the tags of their rows', async () => {
    await tagged('new101', 'doc:101');
    await db.pool.query(`INSERT INTO public.docs VALUES (101, 1, 't', 'b')`);
    expect(await get('new101')).toBeNull();
    await tagged('del101', 'doc:101');
    await db.pool.query(`DELETE FROM public.docs WHERE id = 101`);
    expect(await get('del101')).toBeNull();
    expect(await get('q6')).toBe('cached');
  });

  it('a bulk UPDATE of 100,000 rows invalidates with one statement per source statement', async () => {
    await db.pool.query(`CREATE TABLE public.big (id int PRIMARY KEY, v int)`);
    await db.pool.query(`INSERT INTO public.big SELECT g, 0 FROM generate_series(1, 100000) g`);
    await one(`SELECT pgcache.cache_watch_table('public.big', 'big:{id}')`);
    await one(
      `SELECT pgcache.cache_set_many('answers', ARRAY['b1', 'b2', 'b3'], ARRAY['1', '2', '3']::jsonb[], interval '1 hour', ARRAY['big:99999'])`,
    );
    await tagged('outside', 'big:100001');
    await db.pool
      .query(`SELECT pg_stat_reset_single_function_counters('pgcache._invalidate_tags'::regproc)`)
      .catch(() => undefined);
    const client = await db.pool.connect();
    try {
      await client.query(`SET track_functions = 'all'`);
      await client.query('BEGIN');
      await client.query(`UPDATE public.big SET v = v + 1`);
      const calls = (
        await client.query(`SELECT calls FROM pg_stat_xact_user_functions WHERE funcname = '_invalidate_tags'`)
      ).rows[0]?.calls;
      await client.query('COMMIT');
      expect(Number(calls)).toBe(1); // one trigger run for 100,000 rows
    } finally {
      await client.query('RESET track_functions');
      client.release();
    }
    expect(await get('b1')).toBeNull();
    expect(await get('outside')).toBe('cached');
  }, 120_000);

  it('with columns, only an UPDATE of them (or of the template columns) invalidates', async () => {
    await one(`SELECT pgcache.cache_watch_table('public.docs', 'org:{org}', ARRAY['title'])`);
    await tagged('org3', 'org:3');
    await db.pool.query(`UPDATE public.docs SET body = 'other' WHERE id = 13`);
    expect(await get('org3')).toBe('cached');
    await db.pool.query(`UPDATE public.docs SET title = 'changed' WHERE id = 13`);
    expect(await get('org3')).toBeNull();
    // Moving a row to another org stales both orgs' entries.
    await tagged('org4', 'org:4');
    await tagged('org3b', 'org:3');
    await db.pool.query(`UPDATE public.docs SET org = 3 WHERE id = 14`);
    expect(await get('org4')).toBeNull();
    expect(await get('org3b')).toBeNull();
  });

  it('a column list needs a primary key; unknown columns and stray braces are refused', async () => {
    await db.pool.query(`CREATE TABLE public.nokey (id int, v text)`);
    expect(await sqlState(one(`SELECT pgcache.cache_watch_table('public.nokey', 'n:{id}', ARRAY['v'])`))).toBe('PC019');
    expect(await sqlState(one(`SELECT pgcache.cache_watch_table('public.nokey', 'n:{nope}')`))).toBe('PC019');
    expect(await sqlState(one(`SELECT pgcache.cache_watch_table('public.nokey', 'n:{id')`))).toBe('PC019');
    expect(await sqlState(one(`SELECT pgcache.cache_watch_table('public.nokey', 'n:}{id}')`))).toBe('PC019');
    expect(await sqlState(one(`SELECT pgcache.cache_watch_table('public.nokey', '')`))).toBe('PC019');
    expect(await sqlState(one(`SELECT pgcache.cache_watch_table('public.nokey', 'n:{id}', ARRAY['nope'])`))).toBe(
      'PC019',
    );
    expect(await sqlState(one(`SELECT pgcache.cache_watch_table('public.nokey', 'n:{id}', NULL, 'no_type')`))).toBe(
      'PC001',
    );
    expect(await sqlState(one(`SELECT pgcache.cache_watch_table('pgcache.cache_settings', 'x:{name}')`))).toBe('PC019');
    expect(await sqlState(one(`SELECT pgcache.cache_watch_table(NULL, 'x')`))).toBe('PC019');
  });

  it('is listed in cache_watches, and TRUNCATE removes every entry tagged like its template', async () => {
    const watches = (await db.pool.query(`SELECT * FROM pgcache.cache_watches ORDER BY tag`)).rows;
    expect(watches.map((w) => [w.table_name, w.tag, w.columns, w.cache_type])).toEqual([
      ['big', 'big:{id}', null, null],
      ['docs', 'doc:{id}', null, null],
      ['docs', 'org:{org}', ['title'], null],
    ]);
    await tagged('tb', 'big:1');
    await tagged('tother', 'bigger:1');
    await db.pool.query(`TRUNCATE public.big`);
    expect(await get('tb')).toBeNull();
    expect(await get('tother')).toBe('cached');
  });

  it('follows renamed tables and columns; a dropped table leaves no watch behind', async () => {
    await db.pool.query(`ALTER TABLE public.docs RENAME COLUMN org TO org_id`);
    await db.pool.query(`ALTER TABLE public.docs RENAME TO documents`);
    const listed = (await db.pool.query(`SELECT table_name::text, tag FROM pgcache.cache_watches ORDER BY tag`)).rows;
    expect(listed).toContainEqual({ table_name: 'documents', tag: 'org:{org_id}' });
    await tagged('ren', 'org:5');
    await tagged('ren2', 'doc:20');
    await db.pool.query(`UPDATE public.documents SET title = 'renamed' WHERE id = 15`);
    expect(await get('ren')).toBeNull();
    await db.pool.query(`UPDATE public.documents SET body = 'renamed' WHERE id = 20`);
    expect(await get('ren2')).toBeNull();
    await db.pool.query(`DROP TABLE public.big`);
    expect((await db.pool.query(`SELECT * FROM pgcache.cache_watches WHERE tag LIKE 'big%'`)).rows).toEqual([]);
  });

  it('a dropped template column does not break the table: every tag of the template shape goes, with a warning', async () => {
    await db.pool.query(`CREATE TABLE public.cols (id int PRIMARY KEY, slug text)`);
    await db.pool.query(`INSERT INTO public.cols VALUES (1, 'a')`);
    await one(`SELECT pgcache.cache_watch_table('public.cols', 'slug:{slug}')`);
    await tagged('s1', 'slug:a');
    await tagged('s2', 'slug:b');
    await db.pool.query(`ALTER TABLE public.cols DROP COLUMN slug`);
    await db.pool.query(`UPDATE public.cols SET id = 2`);
    expect(await get('s1')).toBeNull();
    expect(await get('s2')).toBeNull();
  });

  it('cache_unwatch_table removes one watch or all of a table', async () => {
    expect((await one(`SELECT pgcache.cache_unwatch_table('public.documents', 'org:{org_id}') AS n`)).n).toBe(1);
    await tagged('after', 'org:6');
    await db.pool.query(`UPDATE public.documents SET title = 'x' WHERE id = 16`);
    expect(await get('after')).toBe('cached');
    expect((await one(`SELECT pgcache.cache_unwatch_table('public.documents') AS n`)).n).toBe(1);
    expect(
      (await db.pool.query(`SELECT * FROM pgcache.cache_watches WHERE table_name = 'public.documents'::regclass`)).rows,
    ).toEqual([]);
  });
});

describe('tenants', () => {
  it('a source change invalidates every tenant’s entries computed from it', async () => {
    await one(`SELECT pgcache.cache_create_type('per_tenant')`);
    await one(`SELECT pgcache.cache_configure_tenant_scoped('per_tenant', true)`);
    await db.pool.query(`CREATE TABLE public.shared (id int PRIMARY KEY, v text)`);
    await db.pool.query(`INSERT INTO public.shared VALUES (1, 'x')`);
    await one(`SELECT pgcache.cache_watch_table('public.shared', 'shared:{id}', NULL, 'per_tenant')`);
    const client = await db.pool.connect();
    try {
      for (const tenant of ['acme', 'globex']) {
        await client.query(`SELECT set_config('pgcache.tenant', $1, false)`, [tenant]);
        await client.query(
          `SELECT pgcache.cache_set('per_tenant', 'k', '1'::jsonb, interval '1 hour', p_tags => ARRAY['shared:1'])`,
        );
      }
      await client.query(`SET pgcache.tenant = 'acme'`);
      await client.query(`UPDATE public.shared SET v = 'y'`);
      await client.query('RESET pgcache.tenant');
    } finally {
      client.release();
    }
    expect((await one(`SELECT count(*)::int AS n FROM pgcache.cache_per_tenant`)).n).toBe(0);
  });
});

describe('roles', () => {
  it('only the table owner may watch it: another admin is refused (PC019), a writer may not call it (42501)', async () => {
    const admin = (await one(`SELECT admin_role, writer_role FROM pgcache.pgcache_install`)) as {
      admin_role: string;
      writer_role: string;
    };
    const owner = await loginRole('w_owner', admin.admin_role);
    const other = await loginRole('w_other', admin.admin_role);
    const writer = await loginRole('w_writer', admin.writer_role);
    await owner.query(`CREATE TABLE public.owned (id int PRIMARY KEY, v text)`);
    await owner.query(`GRANT ALL ON public.owned TO ${db.name}_w_other, ${db.name}_w_writer`);
    expect(await sqlState(other.query(`SELECT pgcache.cache_watch_table('public.owned', 'o:{id}')`))).toBe('PC019');
    expect(await sqlState(writer.query(`SELECT pgcache.cache_watch_table('public.owned', 'o:{id}')`))).toBe('42501');
    // Even with TRIGGER on the table, no one but the owner watches it, and no one may attach the trigger alone.
    expect(await sqlState(other.query(`SELECT pgcache.cache_unwatch_table('public.owned')`))).toBe('PC019');
    expect(
      await sqlState(
        writer.query(
          `CREATE TRIGGER sneaky AFTER UPDATE ON public.owned FOR EACH STATEMENT EXECUTE FUNCTION pgcache.cache_watch_trigger('', '', '{}')`,
        ),
      ),
    ).toBe('42501');
    await owner.query(`SELECT pgcache.cache_watch_table('public.owned', 'o:{id}')`);
    await owner.query(`INSERT INTO public.owned VALUES (1, 'a')`);
    await tagged('own1', 'o:1');
    // Any role that may change the rows fires the invalidation, with no pgcache rights of its own.
    const plain = await loginRole('w_plain');
    await owner.query(`GRANT ALL ON public.owned TO ${db.name}_w_plain`);
    await plain.query(`UPDATE public.owned SET v = 'b'`);
    expect(await get('own1')).toBeNull();
  });

  it('a trigger attached by hand with crafted arguments cannot inject SQL', async () => {
    await db.pool.query(`CREATE TABLE public.crafted (id int PRIMARY KEY, "we""ird" text)`);
    const hex = (s: string) => Buffer.from(s).toString('hex');
    await db.pool.query(
      `CREATE TRIGGER crafted AFTER INSERT ON public.crafted REFERENCING NEW TABLE AS pgcache_new
         FOR EACH STATEMENT EXECUTE FUNCTION pgcache.cache_watch_trigger('', '${hex("x'); DROP TABLE public.docs; --{1}")}', '{}')`,
    );
    await db.pool.query(`INSERT INTO public.crafted VALUES (1, 'a')`);
    await tagged('crafted', `x'); DROP TABLE public.docs; --1`);
    await db.pool.query(`INSERT INTO public.crafted VALUES (1 + 0 * 2, 'b')`).catch(() => undefined);
    await db.pool.query(`DELETE FROM public.crafted`);
    await db.pool.query(`INSERT INTO public.crafted VALUES (1, 'c')`);
    expect(await get('crafted')).toBeNull();
    expect((await one(`SELECT to_regclass('public.documents') IS NOT NULL AS ok`)).ok).toBe(true);
    // Quoted column names in templates work as columns, never as SQL.
    await one(`SELECT pgcache.cache_watch_table('public.crafted', 'w:{we"ird}')`);
    await tagged('weird', 'w:c');
    await db.pool.query(`UPDATE public.crafted SET "we""ird" = 'd'`);
    expect(await get('weird')).toBeNull();
  });

  it('template columns of a user-defined type are refused (their text form could run the owner’s code)', async () => {
    await db.pool.query(`CREATE TYPE public.pair AS (a int, b int)`);
    await db.pool.query(`CREATE TABLE public.typed (id int PRIMARY KEY, p public.pair, e text)`);
    expect(await sqlState(one(`SELECT pgcache.cache_watch_table('public.typed', 'p:{p}')`))).toBe('PC019');
    await db.pool.query(`CREATE TYPE public.mood AS ENUM ('happy', 'sad')`);
    await db.pool.query(`ALTER TABLE public.typed ADD COLUMN m public.mood`);
    await one(`SELECT pgcache.cache_watch_table('public.typed', 'm:{m}')`);
    await tagged('mood', 'm:sad');
    await db.pool.query(`INSERT INTO public.typed (id, m) VALUES (1, 'sad')`);
    expect(await get('mood')).toBeNull();
  });
});

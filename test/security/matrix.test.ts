// Least privilege, as a matrix: every function, table, view and sequence of an install, for every kind of
// role, logged in for real. Roles: one with no grant, a reader, a writer, an admin, the database owner
// (non-superuser, holding no pgcache role) and a role granted the admin role of another database's install.
// Functions, relations and sequences are enumerated from the catalog, so a new one is classified here or the
// test fails.
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clusterInfo } from '../../scripts/lib/cluster.js';
import { dropDatabase, ensureDatabase } from '../../scripts/lib/databases.js';
import { migrate, uninstall } from '../../src/install/migrate.js';
import { useDatabase } from '../helpers/db.js';
import { CALLS, type Group, grantedFunctions, sqlFor } from './calls.js';

const db = useDatabase('bare');
const info = clusterInfo();
const otherDb = `${db.name}_other`;

type Who = 'none' | 'reader' | 'writer' | 'admin' | 'dbowner' | 'foreign';
const WHO: Who[] = ['none', 'reader', 'writer', 'admin', 'dbowner', 'foreign'];
const LEVEL: Record<Who, number> = { none: -1, dbowner: -1, foreign: -1, reader: 0, writer: 1, admin: 2 };
const GROUP_LEVEL: Record<Group, number> = { reader: 0, writer: 1, admin: 2 };
const login = (who: Who) => `${db.name}_m_${who}`;
const pools = {} as Record<Who, pg.Pool>;

/** What each group may read directly (everything else only through the functions). */
const READABLE: Record<string, Group> = {
  cache_types: 'reader',
  cache_settings: 'reader',
  cache_models: 'reader',
  pgcache_install: 'reader',
  // The read views of the types (core/03_read.sql), one per seeded type.
  cache_default_live: 'reader',
  cache_embeddings_live: 'reader',
  cache_llm_responses_live: 'reader',
  cache_vector_search_live: 'reader',
  cache_audio_chunks_live: 'reader',
  cache_sizes: 'admin',
  cache_top_keys: 'admin',
  cache_hit_rate_history: 'admin',
  cache_cron_jobs: 'admin',
  cache_partitions: 'admin',
  cache_watches: 'admin',
  cache_prices: 'admin',
  cache_savings: 'admin',
  cache_semantic_distances: 'admin',
  cache_semantic_quality: 'admin',
};

beforeAll(async () => {
  await migrate({ databaseUrl: db.url });
  await ensureDatabase(info, otherDb, 'pgcache_tpl_bare');
  await migrate({ databaseUrl: info.url(otherDb) });
  const mine = (await db.pool.query('SELECT * FROM pgcache.pgcache_install')).rows[0];
  const otherPool = new pg.Pool({ connectionString: info.url(otherDb), max: 1 });
  const theirs = (await otherPool.query('SELECT * FROM pgcache.pgcache_install')).rows[0];
  await otherPool.end();
  const grants: Record<Who, string | null> = {
    none: null,
    reader: mine.reader_role,
    writer: mine.writer_role,
    admin: mine.admin_role,
    dbowner: null,
    foreign: theirs.admin_role,
  };
  for (const who of WHO) {
    await db.pool.query(`CREATE ROLE ${login(who)} LOGIN NOSUPERUSER`);
    if (grants[who]) await db.pool.query(`GRANT ${grants[who]} TO ${login(who)}`);
    pools[who] = new pg.Pool({
      connectionString: `postgres://${login(who)}@${info.host}:${info.port}/${db.name}`,
      max: 1,
    });
  }
  await db.pool.query(`ALTER DATABASE ${db.name} OWNER TO ${login('dbowner')}`);
}, 180_000);

afterAll(async () => {
  for (const pool of Object.values(pools)) await pool.end();
  await db.pool.query(`ALTER DATABASE ${db.name} OWNER TO CURRENT_USER`);
  await uninstall({ databaseUrl: info.url(otherDb) });
  await dropDatabase(info, otherDb);
  await uninstall({ databaseUrl: db.url });
  for (const who of WHO) await db.pool.query(`DROP OWNED BY ${login(who)}; DROP ROLE ${login(who)}`);
});

const state = async (who: Who, sql: string): Promise<string> => {
  try {
    await pools[who].query(sql);
    return 'ok';
  } catch (error) {
    return (error as { code?: string }).code ?? 'none';
  }
};

describe('functions', () => {
  it('every function of the install is classified: granted to one group, or to no one', async () => {
    const granted = await grantedFunctions(db.pool);
    expect(granted.sort()).toEqual([...new Set(CALLS.map((c) => c.fn))].sort());
    const { rows } = await db.pool.query(`
      SELECT regexp_replace(p.oid::regprocedure::text, '^pgcache\\.', '') AS fn,
             array_remove(ARRAY[
               CASE WHEN has_function_privilege(i.reader_role, p.oid, 'EXECUTE') THEN 'reader' END,
               CASE WHEN has_function_privilege(i.writer_role, p.oid, 'EXECUTE') THEN 'writer' END,
               CASE WHEN has_function_privilege(i.admin_role, p.oid, 'EXECUTE') THEN 'admin' END], NULL) AS groups,
             has_function_privilege('public', p.oid, 'EXECUTE') AS public
        FROM pg_proc p CROSS JOIN pgcache.pgcache_install i
       WHERE p.pronamespace = 'pgcache'::regnamespace`);
    const expected = (fn: string) => {
      const call = CALLS.find((c) => c.fn === fn);
      if (!call) return [];
      return (['reader', 'writer', 'admin'] as Group[]).filter((g) => GROUP_LEVEL[g] >= GROUP_LEVEL[call.group]);
    };
    for (const row of rows)
      expect({ fn: row.fn, groups: row.groups, public: row.public }).toEqual({
        fn: row.fn,
        groups: expected(row.fn),
        public: false,
      });
  });

  it('each role may call exactly the functions of its group and the groups below', async () => {
    const table: string[] = [];
    for (const call of CALLS) {
      for (const who of WHO) {
        const allowed = LEVEL[who] >= GROUP_LEVEL[call.group];
        const got = await state(who, sqlFor(call));
        const want = allowed ? (call.fails ?? 'ok') : '42501';
        if (got !== want) table.push(`${who} ${call.fn}: got ${got}, want ${want}`);
      }
    }
    expect(table).toEqual([]);
  }, 300_000);
});

describe('tables, views and sequences', () => {
  it('no role reads or changes them directly, except the documented SELECTs', async () => {
    const { rows } = await db.pool.query(`
      SELECT c.relname, c.relkind::text FROM pg_class c
       WHERE c.relnamespace = 'pgcache'::regnamespace AND c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f')`);
    expect(rows.length).toBeGreaterThan(20);
    const { rows: held } = await db.pool.query(
      `SELECT r.rolname, c.relname, p.privilege,
              CASE WHEN c.relkind = 'S' THEN has_sequence_privilege(r.oid, c.oid, p.privilege)
                   ELSE has_table_privilege(r.oid, c.oid, p.privilege) END AS ok
         FROM pg_roles r
        CROSS JOIN pg_class c
        CROSS JOIN LATERAL unnest(CASE WHEN c.relkind = 'S' THEN ARRAY['SELECT', 'USAGE', 'UPDATE']
                                  ELSE ARRAY['SELECT', 'INSERT', 'UPDATE', 'DELETE', 'TRUNCATE', 'REFERENCES', 'TRIGGER'] END) p(privilege)
        WHERE r.rolname = ANY ($1) AND c.relnamespace = 'pgcache'::regnamespace AND c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f')`,
      [WHO.map(login)],
    );
    const wrong: string[] = [];
    for (const { rolname, relname, privilege, ok } of held) {
      const who = WHO.find((w) => login(w) === rolname) as Who;
      const group = READABLE[relname];
      const want = privilege === 'SELECT' && group !== undefined && LEVEL[who] >= GROUP_LEVEL[group];
      if (ok !== want) wrong.push(`${who} ${privilege} ${relname}: ${ok}`);
    }
    expect(wrong).toEqual([]);
  });

  it('are refused for real at the door', async () => {
    for (const who of WHO) {
      expect(await state(who, 'SELECT * FROM pgcache.entries LIMIT 1'), who).toBe('42501');
      expect(await state(who, `UPDATE pgcache.cache_types SET version = version + 1`), who).toBe('42501');
      expect(await state(who, `SELECT nextval('pgcache.cache_default_hits')`), who).toBe('42501');
      expect(await state(who, 'SELECT reader_role FROM pgcache.pgcache_install'), who).toBe(
        LEVEL[who] >= 0 ? 'ok' : '42501',
      );
      expect(await state(who, 'SELECT * FROM pgcache.cache_top_keys'), who).toBe(LEVEL[who] >= 2 ? 'ok' : '42501');
    }
  });

  it('no role may create objects in the schema', async () => {
    for (const who of WHO) {
      expect(await state(who, 'CREATE FUNCTION pgcache.cache_x() RETURNS int LANGUAGE sql AS $$SELECT 1$$'), who).toBe(
        '42501',
      );
      expect(await state(who, 'CREATE TABLE pgcache.mine (x int)'), who).toBe('42501');
    }
  });
});

describe('SET pgcache.tenant', () => {
  // Tenant scoping keeps one tenant's keys, prefixes and patterns away from another's, but the tenant is a
  // session setting: any role allowed to call the functions may SET it to any tenant. Binding a tenant to the
  // login is the application's job (README, Security); the database roles do not do it.
  it('is chosen by the session: a writer may act as any tenant it names', async () => {
    await db.pool.query(
      `SELECT pgcache.cache_create_type('per_tenant'); SELECT pgcache.cache_configure_tenant_scoped('per_tenant', true)`,
    );
    const writer = pools.writer;
    await writer.query(
      `SET pgcache.tenant = 'acme'; SELECT pgcache.cache_set('per_tenant', 'secret', '"acme data"'::jsonb)`,
    );
    const asOther = await writer.query(
      `SET pgcache.tenant = 'globex'; SELECT pgcache.cache_get('per_tenant', 'secret') AS v`,
    );
    expect((asOther as unknown as pg.QueryResult[])[1]?.rows[0].v).toBeNull();
    const spoofed = await writer.query(
      `SET pgcache.tenant = 'acme'; SELECT pgcache.cache_get('per_tenant', 'secret') AS v`,
    );
    expect((spoofed as unknown as pg.QueryResult[])[1]?.rows[0].v).toBe('acme data');
    await writer.query('RESET pgcache.tenant');
  });
});

describe('LISTEN', () => {
  it.todo('LISTEN pgcache_changes: what a role that may only connect learns from change notifications');
});

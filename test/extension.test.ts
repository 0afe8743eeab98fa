// pgcache as a PostgreSQL extension and through pg_tle, from the scripts scripts/extension.ts generates out of
// the same SQL: CREATE EXTENSION at 0.1.0, ALTER EXTENSION UPDATE to the current version, a fresh CREATE
// EXTENSION, each with the catalog of a psql install; pg_dump keeps the registry rows a user added.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { currentVersion, upgradeSteps } from '../migrations/lib/install-files.js';
import { install } from '../scripts/extension.js';
import { clusterInfo, repoRoot } from '../scripts/lib/cluster.js';
import { cloneDatabase, dropDatabase, withClient } from '../scripts/lib/databases.js';
import { extensionFiles, installScript, pgTleSql, updateScript } from '../scripts/lib/extension.js';
import { migrate } from '../src/install/migrate.js';
import { catalog, catalogDiff } from './helpers/catalog.js';
import { useDatabase } from './helpers/db.js';

const db = useDatabase('bare');
const info = clusterInfo();
const CURRENT = currentVersion();
const psql = (url: string, ...args: string[]) =>
  execFileSync('psql', [url, '-X', '-q', '-v', 'ON_ERROR_STOP=1', ...args], {
    cwd: repoRoot,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  });
// SQL on psql's standard input, as `scripts/extension.ts pgtle | psql` runs it (too long for one argument).
const psqlStdin = (url: string, sql: string) =>
  execFileSync('psql', [url, '-X', '-q', '-v', 'ON_ERROR_STOP=1', '-f', '-'], {
    cwd: repoRoot,
    encoding: 'utf8',
    input: sql,
    stdio: ['pipe', 'pipe', 'pipe'],
  });

const buildDir = mkdtempSync(join(tmpdir(), 'pgcache-ext-'));
let extensionDir = '';
const extra: string[] = [];
async function scratch(suffix: string, template = 'pgcache_tpl_bare'): Promise<string> {
  const name = `${db.name}_${suffix}`;
  extra.push(name);
  return cloneDatabase(info, template, name);
}

beforeAll(() => {
  extensionDir = install(buildDir);
});
afterAll(async () => {
  for (const name of extra) await dropDatabase(info, name);
  for (const name of readdirSync(buildDir)) {
    if (/^pgcache(--.*\.sql|\.control)$/.test(name) && existsSync(join(extensionDir, name))) {
      unlinkSync(join(extensionDir, name));
    }
  }
  rmSync(buildDir, { recursive: true, force: true });
});

async function smoke(client: pg.Pool | pg.Client): Promise<void> {
  await client.query(`SELECT pgcache.cache_create_type('smoke', 'jsonb', interval '1 hour')`);
  await client.query(`SELECT pgcache.cache_set('smoke', 'k', '{"a": 1}'::jsonb)`);
  expect((await client.query(`SELECT pgcache.cache_get('smoke', 'k') AS v`)).rows[0].v).toEqual({ a: 1 });
  expect((await client.query(`SELECT pgcache.cache_get('smoke', 'nope') AS v`)).rows[0].v).toBeNull();
  const stats = (await client.query(`SELECT * FROM pgcache.cache_stats() WHERE cache_type = 'smoke'`)).rows[0];
  expect(stats).toMatchObject({ entries: '1', hits: '1', misses: '1' });
}

describe('CREATE EXTENSION pgcache', () => {
  let fresh: string[] = [];
  beforeAll(async () => {
    const url = await scratch('psql');
    psql(url, '-f', 'sql/install.sql');
    fresh = await withClient(url, (c) => catalog(c, 'pgcache'));
  });

  it('creates 0.1.0, updates to the current version, and then has the catalog of a psql install', async () => {
    await db.pool.query(`CREATE EXTENSION pgcache VERSION '0.1.0'`);
    await db.pool.query(`SELECT pgcache.cache_set('default', 'old', '1'::jsonb)`);
    await db.pool.query(`ALTER EXTENSION pgcache UPDATE`);
    const ext = await db.pool.query(`SELECT extversion FROM pg_extension WHERE extname = 'pgcache'`);
    expect(ext.rows[0].extversion).toBe(CURRENT);
    expect((await db.pool.query(`SELECT pgcache.cache_get('default', 'old') AS v`)).rows[0].v).toBe(1);
    await db.pool.query(`SELECT pgcache.cache_delete('default', 'old')`);
    expect(catalogDiff(await catalog(db.pool, 'pgcache'), fresh)).toEqual({ onlyA: [], onlyB: [] });
    await smoke(db.pool);
    await expect(migrate({ databaseUrl: db.url })).rejects.toThrow(/ALTER EXTENSION pgcache UPDATE/);
    // The functions, tables and seeded type tables belong to the extension.
    const members = await db.pool.query(
      `SELECT count(*) FILTER (WHERE classid = 'pg_proc'::regclass)::int AS functions,
              count(*) FILTER (WHERE classid = 'pg_class'::regclass)::int AS relations
         FROM pg_depend WHERE refobjid = (SELECT oid FROM pg_extension WHERE extname = 'pgcache') AND deptype = 'e'`,
    );
    expect(members.rows[0].functions).toBeGreaterThan(50);
    expect(members.rows[0].relations).toBeGreaterThan(5);
  });

  it('creates the current version fresh, with the same catalog', async () => {
    const url = await scratch('ext_fresh');
    await withClient(url, async (c) => {
      await c.query('CREATE EXTENSION pgcache');
      expect(catalogDiff(await catalog(c, 'pgcache'), fresh)).toEqual({ onlyA: [], onlyB: [] });
      await smoke(c);
    });
  });

  it('installs the core without pgvector, and never creates vector itself', async () => {
    const url = await scratch('novector', 'template0');
    await withClient(url, async (c) => {
      await c.query(`CREATE EXTENSION pgcache VERSION '0.1.0'`);
      await c.query(`ALTER EXTENSION pgcache UPDATE`);
      const ext = await c.query(`SELECT array_agg(extname::text ORDER BY extname) AS e FROM pg_extension`);
      expect(ext.rows[0].e).toEqual(['pgcache', 'plpgsql']);
      expect((await c.query(`SELECT to_regproc('pgcache.cache_get_vector') AS f`)).rows[0].f).toBeNull();
      await smoke(c);
    });
  });

  it('pg_dump keeps the registry rows a user added; a restore re-creates the extension', async () => {
    const source = await scratch('dump_src');
    await withClient(source, async (c) => {
      await c.query('CREATE EXTENSION pgcache');
      await c.query(`SELECT pgcache.cache_create_type('sessions', 'jsonb', interval '1 hour')`);
      await c.query(`SELECT pgcache.cache_set('sessions', 's1', '1'::jsonb)`);
      await c.query(`INSERT INTO pgcache.cache_settings (name, value) VALUES ('ttl.tiny', '5 seconds')`);
    });
    const target = await scratch('dump_dst');
    const dump = execFileSync('pg_dump', ['-d', source], { encoding: 'utf8', maxBuffer: 64 << 20 });
    await withClient(target, (c) => c.query('DROP EXTENSION IF EXISTS vector'));
    // A type table made after CREATE EXTENSION is a partition of the extension's entries table: pg_dump attaches
    // it (which gives it the primary key and the tag index) and then adds both again, which fails harmlessly.
    // Nothing else may.
    const restore = spawnSync('psql', [target, '-X', '-q'], { input: dump, encoding: 'utf8' });
    const errors = restore.stderr.split('\n').filter((l) => l.startsWith('ERROR:'));
    expect(errors.sort()).toEqual([
      'ERROR:  multiple primary keys for table "cache_sessions" are not allowed',
      'ERROR:  relation "cache_sessions_tags_idx" already exists',
    ]);
    await withClient(target, async (c) => {
      const types = await c.query(`SELECT name FROM pgcache.cache_types ORDER BY name`);
      expect(types.rows.map((r) => r.name)).toContain('sessions');
      expect((await c.query(`SELECT pgcache.cache_get('sessions', 's1') AS v`)).rows[0].v).toBe(1);
      expect((await c.query(`SELECT pgcache.cache_ttl('tiny') AS t`)).rows[0].t).toMatchObject({ seconds: 5 });
      expect((await c.query(`SELECT count(*)::int AS n FROM pgcache.cache_types`)).rows[0].n).toBe(6);
      // The registry's identity sequence came along: a new type gets a new id.
      await c.query(`SELECT pgcache.cache_create_type('later', 'text', interval '1 hour')`);
      await c.query(`SELECT pgcache.cache_set('later', 'x', 'y'::text)`);
    });
  });
});

describe('generated files', () => {
  it('has a control file, an install script per version and an update script per step', () => {
    const names = [...extensionFiles().keys()].sort();
    expect(names).toContain('pgcache.control');
    expect(names).toContain('pgcache--0.1.0.sql');
    expect(names).toContain(`pgcache--${CURRENT}.sql`);
    for (const s of upgradeSteps()) expect(names).toContain(`pgcache--${s.from}--${s.to}.sql`);
    expect(extensionFiles().get('pgcache.control')).toContain(`default_version = '${CURRENT}'`);
    for (const [name, text] of extensionFiles()) {
      expect(text, name).not.toMatch(/^\\(ir|if|else|endif|set|gset|g)\b/m);
    }
  });
});

describe('pg_tle', () => {
  // pg_tle is not packaged for Debian: its functions are stood in for by ones that record their arguments,
  // which shows the generated SQL runs and hands pg_tle exactly the extension scripts.
  const STUB = `
    CREATE SCHEMA pgtle;
    CREATE TABLE pgtle.calls (n serial, fn text, name text, v1 text, v2 text, ext text, requires text[]);
    CREATE FUNCTION pgtle.install_extension(name text, version text, description text, ext text, requires text[] DEFAULT NULL)
      RETURNS boolean LANGUAGE sql AS $$ INSERT INTO pgtle.calls (fn, name, v1, v2, ext, requires)
      VALUES ('install_extension', name, version, description, ext, requires) RETURNING true $$;
    CREATE FUNCTION pgtle.install_update_path(name text, fromvers text, tovers text, ext text)
      RETURNS boolean LANGUAGE sql AS $$ INSERT INTO pgtle.calls (fn, name, v1, v2, ext)
      VALUES ('install_update_path', name, fromvers, tovers, ext) RETURNING true $$;
    CREATE FUNCTION pgtle.set_default_version(name text, version text)
      RETURNS boolean LANGUAGE sql AS $$ INSERT INTO pgtle.calls (fn, name, v1)
      VALUES ('set_default_version', name, version) RETURNING true $$;`;

  it('a fresh registration hands install_extension the install script of the current version', async () => {
    const url = await scratch('tle');
    await withClient(url, (c) => c.query(STUB));
    psqlStdin(url, pgTleSql());
    const calls = await withClient(url, (c) => c.query(`SELECT * FROM pgtle.calls ORDER BY n`));
    expect(calls.rows).toHaveLength(1);
    expect(calls.rows[0]).toMatchObject({ fn: 'install_extension', name: 'pgcache', v1: CURRENT, requires: [] });
    expect(calls.rows[0].ext).toBe(installScript(CURRENT));
  });

  it('an update registers every update path from the given version and makes the current one the default', async () => {
    const url = await scratch('tle_up');
    await withClient(url, (c) => c.query(STUB));
    psqlStdin(url, pgTleSql({ from: '0.1.0' }));
    const calls = (await withClient(url, (c) => c.query(`SELECT * FROM pgtle.calls ORDER BY n`))).rows;
    const steps = upgradeSteps();
    expect(calls.map((r) => `${r.fn} ${r.v1 ?? ''}`)).toEqual([
      ...steps.map((s) => `install_update_path ${s.from}`),
      `set_default_version ${CURRENT}`,
    ]);
    for (const [i, s] of steps.entries()) expect(calls[i].ext).toBe(updateScript(s.from, s.to));
  });
});

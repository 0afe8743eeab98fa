// Install, re-install, uninstall through both paths (node-pg-migrate and psql), into a chosen schema,
// and an install as a plain database owner on a database without pgvector or pg_cron.
import { execFileSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { clusterInfo, repoRoot } from '../scripts/lib/cluster.js';
import { dropDatabase, withClient } from '../scripts/lib/databases.js';
import { migrate, uninstall } from '../src/install/migrate.js';
import { useDatabase } from './helpers/db.js';

const db = useDatabase('bare');
const MIGRATIONS = readdirSync(`${repoRoot}/migrations`)
  .filter((f) => /^\d{4}_.*\.js$/.test(f))
  .map((f) => f.replace(/\.js$/, ''))
  .sort();

const psql = (url: string, ...args: string[]) =>
  execFileSync('psql', [url, '-X', '-q', ...args], {
    cwd: repoRoot,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  });

/** Every function signature and relation of a schema, to compare installs. */
async function shape(schema: string): Promise<string[]> {
  const { rows } = await db.pool.query(
    `SELECT 'f ' || p.proname || '(' || pg_get_function_identity_arguments(p.oid) || ') ' || coalesce(array_to_string(p.proconfig, ','), '') AS item
       FROM pg_proc p WHERE p.pronamespace = $1::regnamespace
     UNION ALL
     SELECT 'r ' || c.relname || ' ' || c.relkind::text FROM pg_class c WHERE c.relnamespace = $1::regnamespace
     ORDER BY 1`,
    [schema],
  );
  return rows.map((r) => r.item.replaceAll(schema, 'SCHEMA'));
}

describe('node-pg-migrate install', () => {
  it('installs into a chosen schema, is a no-op the second time, and uninstalls', async () => {
    expect(await migrate({ databaseUrl: db.url, schema: 'cache_a' })).toEqual(MIGRATIONS);
    expect(await migrate({ databaseUrl: db.url, schema: 'cache_a' })).toEqual([]);
    await db.pool.query(`SELECT cache_a.cache_set('default', 'k', '1'::jsonb)`);
    expect((await db.pool.query(`SELECT cache_a.cache_get('default', 'k') AS v`)).rows[0].v).toBe(1);
    const migrations = await db.pool.query(`SELECT name FROM cache_a.pgcache_migrations`);
    expect(migrations.rows.map((r) => r.name)).toEqual(MIGRATIONS);
    await uninstall({ databaseUrl: db.url, schema: 'cache_a' });
    expect((await db.pool.query(`SELECT to_regnamespace('cache_a') AS s`)).rows[0].s).toBeNull();
    expect(await migrate({ databaseUrl: db.url, schema: 'cache_a' })).toEqual(MIGRATIONS);
  });

  it('rejects a schema name that is not a plain identifier', async () => {
    await expect(migrate({ databaseUrl: db.url, schema: 'x"; DROP SCHEMA public; --' })).rejects.toThrow(TypeError);
  });
});

describe('psql install', () => {
  it('installs the same objects as the migrations, re-runs cleanly, and uninstalls', async () => {
    psql(db.url, '-v', 'schema=via_psql', '-f', 'sql/install.sql');
    psql(db.url, '-v', 'schema=via_psql', '-f', 'sql/install.sql');
    await migrate({ databaseUrl: db.url, schema: 'via_migrate' });
    const viaPsql = await shape('via_psql');
    expect(viaPsql).toEqual((await shape('via_migrate')).filter((item) => !item.includes('pgcache_migrations')));
    expect(viaPsql).toContain(
      'f cache_get(p_type text, p_key text) search_path=SCHEMA, pg_temp,plan_cache_mode=force_generic_plan',
    );
    psql(db.url, '-v', 'schema=via_psql', '-f', 'sql/uninstall.sql');
    expect((await db.pool.query(`SELECT to_regnamespace('via_psql') AS s`)).rows[0].s).toBeNull();
    psql(db.url, '-f', 'sql/install.sql');
    expect((await db.pool.query(`SELECT count(*)::int AS n FROM pgcache.cache_types`)).rows[0].n).toBe(5);
  });
});

describe('managed-style database: no superuser, no pgvector, no pg_cron', () => {
  const info = clusterInfo();
  const dbName = `${db.name}_managed`;
  const role = `${db.name}_owner`;
  afterAll(async () => {
    await dropDatabase(info, dbName);
    await withClient(info.url(), (c) => c.query(`DROP ROLE IF EXISTS ${role}`));
  });

  it('installs the core cache as the database owner and says vectors are unavailable', async () => {
    await withClient(info.url(), async (admin) => {
      await admin.query(`CREATE ROLE ${role} LOGIN NOSUPERUSER`);
      await admin.query(`CREATE DATABASE ${dbName} OWNER ${role} TEMPLATE template0`);
    });
    const url = `postgres://${role}@${info.host}:${info.port}/${dbName}`;
    const notices: string[] = [];
    const client = new pg.Client({ connectionString: url });
    client.on('notice', (n) => notices.push(n.message ?? ''));
    await client.connect();
    try {
      expect(await migrate({ client })).toEqual(MIGRATIONS);
      expect(notices.join('\n')).toMatch(/pgvector is available but this role may not create it/);
      const ext = await client.query(`SELECT extname FROM pg_extension ORDER BY 1`);
      expect(ext.rows.map((r) => r.extname)).toEqual(['plpgsql']);
      await client.query(`SELECT pgcache.cache_set('embeddings', 'e', '{0.5,0.25}'::real[], 'm')`);
      const got = await client.query(`SELECT pgcache.cache_get_real_array('embeddings', 'e') AS v`);
      expect(got.rows[0].v).toEqual([0.5, 0.25]);
      const vectorFn = await client.query(`SELECT to_regproc('pgcache.cache_get_vector') AS f`);
      expect(vectorFn.rows[0].f).toBeNull();
    } finally {
      await client.end();
    }
  });
});

describe('migrations and sql/install.sql', () => {
  it('apply the same files: every file an install.sql lists is applied by some migration, and no other', async () => {
    const { currentVersion, installFiles, releasedVersions } = await import('../migrations/lib/install-files.js');
    const applied = new Set<string>();
    const names = readdirSync(`${repoRoot}/migrations`)
      .filter((f) => /^\d{4}_.*\.js$/.test(f))
      .sort();
    for (const name of names) {
      const migration = await import(`../migrations/${name}`);
      for (const file of migration.files as string[]) applied.add(file);
    }
    // A released version's migrations apply its frozen files, whose names a later version may have changed.
    const versions = new Set<string>([...releasedVersions(), currentVersion()]);
    const listed = new Set<string>([...versions].flatMap((v) => installFiles(v) as string[]));
    listed.delete('prelude.sql');
    expect([...applied].sort()).toEqual([...listed].sort());
    // The current version's files are exactly what its migration, the newest, applies.
    const current = (await import(`../migrations/${names[names.length - 1]}`)).files as string[];
    expect([...current].sort()).toEqual(
      installFiles()
        .filter((f: string) => f !== 'prelude.sql')
        .sort(),
    );
  });
});

describe('migrate() on a caller client', () => {
  it('gives the client back with its own search_path', async () => {
    const client = new pg.Client({ connectionString: db.url });
    await client.connect();
    try {
      await client.query('SET search_path = public');
      await migrate({ client, schema: 'cache_path' });
      expect((await client.query('SHOW search_path')).rows[0].search_path).toBe('public');
    } finally {
      await client.end();
    }
  });
});

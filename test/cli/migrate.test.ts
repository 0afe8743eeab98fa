// pgcache migrate and uninstall on a database without pgcache.
import { describe, expect, it, vi } from 'vitest';
import { useDatabase } from '../helpers/db.js';
import { cli } from '../helpers/process.js';

// Each test starts the CLI as a child process (tsx compiles on start): seconds each on a busy machine.
vi.setConfig({ testTimeout: 180_000 });

const db = useDatabase('bare');
const schemaExists = async (name: string) =>
  (await db.pool.query('SELECT to_regnamespace($1) IS NOT NULL AS e', [name])).rows[0].e;

describe('pgcache migrate / uninstall', () => {
  it('installs into a chosen schema, is a no-op the second time, and uninstalls only with --yes', async () => {
    const first = await cli(['migrate', '--schema', 'app_cache', '--database-url', db.url]);
    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
    const applied = (await db.pool.query('SELECT name FROM app_cache.pgcache_migrations ORDER BY id')).rows.map(
      (r) => r.name,
    );
    const roles = (await db.pool.query('SELECT * FROM app_cache.pgcache_install')).rows[0];
    expect(first.stdout.trim()).toBe(
      `Applied ${applied.length} migration(s) in schema "app_cache": ${applied.join(', ')}\n` +
        `Roles to grant: ${roles.reader_role}, ${roles.writer_role}, ${roles.admin_role}`,
    );
    expect(roles.reader_role).toBe(`${db.name}_app_cache_reader`);
    const second = await cli(['migrate', '--schema', 'app_cache', '--database-url', db.url]);
    expect(second.stdout.trim()).toBe('pgcache is up to date in schema "app_cache".');

    const stats = await cli(['stats', '--json', '--schema', 'app_cache'], { env: { DATABASE_URL: db.url } });
    expect(JSON.parse(stats.stdout).map((r: { cache_type: string }) => r.cache_type)).toContain('default');

    const refused = await cli(['uninstall', '--schema', 'app_cache', '--database-url', db.url]);
    expect(refused.code).toBe(2);
    expect(await schemaExists('app_cache')).toBe(true);
    const removed = await cli(['uninstall', '--yes', '--schema', 'app_cache', '--database-url', db.url]);
    expect(removed.code).toBe(0);
    expect(removed.stdout).toContain('Removed pgcache: dropped schema "app_cache" and every entry in it.');
    expect(await schemaExists('app_cache')).toBe(false);
    const again = await cli(['uninstall', '--yes', '--schema', 'app_cache', '--database-url', db.url]);
    expect(again.stdout.trim()).toBe('Nothing to do: there is no schema "app_cache".');
    const gone = await db.pool.query('SELECT count(*)::int AS n FROM pg_roles WHERE rolname = $1', [roles.admin_role]);
    expect(gone.rows[0].n).toBe(0);
  });

  it('refuses to install into or uninstall a schema that is not its own', async () => {
    await db.pool.query('CREATE SCHEMA app; CREATE TABLE app.orders (id int)');
    const install = await cli(['migrate', '--schema', 'app', '--database-url', db.url]);
    expect(install.code).toBe(1);
    expect(install.stderr).toContain('already holds objects pgcache did not create');
    const drop = await cli(['uninstall', '--yes', '--schema', 'app', '--database-url', db.url]);
    expect(drop.code).toBe(1);
    expect(drop.stderr).toContain('is not a pgcache install');
    expect((await db.pool.query(`SELECT to_regclass('app.orders') IS NOT NULL AS kept`)).rows[0].kept).toBe(true);
    const shared = await cli(['migrate', '--schema', 'public', '--database-url', db.url]);
    expect(shared.stderr).toContain('will not use schema "public"');
  });

  it('rejects a schema name that is not a plain identifier before connecting', async () => {
    const { code, stderr } = await cli(['migrate', '--schema', 'x"; DROP SCHEMA public; --', '--database-url', db.url]);
    expect(code).toBe(1);
    expect(stderr).toContain("option '-s, --schema <name>' argument 'x\"; DROP SCHEMA public; --' is invalid");
  });
});

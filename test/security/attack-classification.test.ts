// Attack: the grants follow pgcache_functions, the table each SQL file classifies its functions in. Roles other
// than the install's owner try to write that table, or to plant a function the installer would classify by
// name; then the installer runs again (as on an upgrade) over grants an earlier classification left behind.
// Every grant of the install's roles must be what pgcache_functions says after any run, not a sum of runs.
import { execFileSync } from 'node:child_process';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clusterInfo, repoRoot } from '../../scripts/lib/cluster.js';
import { useDatabase } from '../helpers/db.js';
import { succeededAs } from '../helpers/sessions.js';

const db = useDatabase();
const info = clusterInfo();
const dbOwner = `${db.name}_dbowner`;
const adminLogin = `${db.name}_admin`;
const writerLogin = `${db.name}_writer`;
let roles: { reader_role: string; writer_role: string; admin_role: string };

/** Functions of the install a group role may execute although pgcache_functions gives them to no group of its. */
async function misgranted(r: typeof roles): Promise<string[]> {
  const { rows } = await db.pool.query(
    `SELECT g.rolname || ' may run ' || p.oid::regprocedure::text AS what
       FROM pg_proc p
       JOIN pgcache.pgcache_functions f ON f.function_name = p.proname
      CROSS JOIN LATERAL (VALUES ('reader', $1::text), ('writer', $2), ('admin', $3)) g(grp, rolname)
      WHERE p.pronamespace = 'pgcache'::regnamespace
        AND has_function_privilege(g.rolname, p.oid, 'EXECUTE')
        AND NOT (f.role_group = 'reader'
                 OR f.role_group = 'writer' AND g.grp IN ('writer', 'admin')
                 OR f.role_group IN ('admin', 'invoker') AND g.grp = 'admin')
      ORDER BY 1`,
    [r.reader_role, r.writer_role, r.admin_role],
  );
  return rows.map((r: { what: string }) => r.what);
}

beforeAll(async () => {
  roles = (await db.pool.query(`SELECT reader_role, writer_role, admin_role FROM pgcache.pgcache_install`)).rows[0];
  await db.pool.query(`CREATE ROLE ${dbOwner} LOGIN NOSUPERUSER; CREATE ROLE ${adminLogin} LOGIN NOSUPERUSER;
    CREATE ROLE ${writerLogin} LOGIN NOSUPERUSER;
    GRANT ${roles.admin_role} TO ${adminLogin}; GRANT ${roles.writer_role} TO ${writerLogin};
    ALTER DATABASE ${db.name} OWNER TO ${dbOwner}`);
});

afterAll(async () => {
  await db.pool.query(`ALTER DATABASE ${db.name} OWNER TO CURRENT_USER`);
  for (const r of [dbOwner, adminLogin, writerLogin]) await db.pool.query(`DROP OWNED BY ${r}; DROP ROLE ${r}`);
});

describe('pgcache_functions', () => {
  it('is written by no role but the owner: not the database owner, an admin or a writer', async () => {
    const attempts = [
      `INSERT INTO pgcache.pgcache_functions VALUES ('_invalidate_tags', 'writer')`,
      `UPDATE pgcache.pgcache_functions SET role_group = 'reader'`,
      `DELETE FROM pgcache.pgcache_functions`,
      `TRUNCATE pgcache.pgcache_functions`,
      `SELECT * FROM pgcache.pgcache_functions`,
      `ALTER TABLE pgcache.pgcache_functions DROP CONSTRAINT pgcache_functions_role_group_check`,
      `CREATE TRIGGER t BEFORE INSERT ON pgcache.pgcache_functions FOR EACH ROW EXECUTE FUNCTION pgcache.cache_watch_trigger()`,
      `CREATE FUNCTION pgcache.cache_get_x() RETURNS int LANGUAGE sql AS 'SELECT 1'`,
      `CREATE FUNCTION pgcache._invalidate_tags(int) RETURNS int LANGUAGE sql AS 'SELECT 1'`,
      `CREATE TEMP TABLE pgcache_functions AS SELECT '_invalidate_tags'::text AS function_name, 'reader'::text AS role_group`,
    ];
    for (const role of [dbOwner, adminLogin, writerLogin]) {
      // Only the caller's own temporary table may be created: the installer never reads it (path of its own).
      expect(await succeededAs(role, db.name, attempts)).toEqual(attempts.slice(-1));
    }
  });

  it('an admin names a cache type after a function of another group: the writer of the type is all it adds', async () => {
    // Type writers are cache_<type>_set and granted to writers: a type name that made one of them collide with
    // a function of another group would hand it to writers at the next run. Names are [a-z][a-z0-9_]*, and
    // no function of the install but the writers is named cache_..._set.
    const { rows } = await db.pool.query(
      `SELECT function_name FROM pgcache.pgcache_functions WHERE function_name LIKE 'cache\\_%\\_set'`,
    );
    expect(rows).toEqual([]);
  });

  it('after an installer run over grants an earlier classification left, grants are exactly what it says', async () => {
    const install = () =>
      execFileSync('psql', [db.url, '-X', '-q', '-f', 'sql/install.sql'], {
        cwd: repoRoot,
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'pipe'],
      });
    // As an earlier version would have left them: an internal helper and an admin function executable by
    // writers, an admin function by readers.
    const plant = (r: typeof roles) =>
      db.pool.query(`GRANT EXECUTE ON FUNCTION pgcache._invalidate_tags(text[], smallint, text, boolean) TO ${r.writer_role};
        GRANT EXECUTE ON FUNCTION pgcache.cache_drop_type(text) TO ${r.reader_role};
        GRANT EXECUTE ON FUNCTION pgcache.cache_maintenance() TO ${r.writer_role}`);
    await plant(roles);
    expect(await misgranted(roles)).not.toEqual([]);
    // This database was cloned from another: the run gives it roles of its own and retires the ones it had,
    // which keep nothing here, internal helpers included.
    const earlier = roles;
    install();
    roles = (await db.pool.query(`SELECT reader_role, writer_role, admin_role FROM pgcache.pgcache_install`)).rows[0];
    expect(await misgranted(roles)).toEqual([]);
    const { rows } = await db.pool.query(
      `SELECT r.rolname || ' may run ' || p.oid::regprocedure::text AS what
         FROM pg_proc p CROSS JOIN unnest($1::text[]) r(rolname)
        WHERE p.pronamespace = 'pgcache'::regnamespace AND r.rolname <> ALL ($2::text[])
          AND has_function_privilege(r.rolname, p.oid, 'EXECUTE')`,
      [Object.values(earlier), Object.values(roles)],
    );
    expect(rows.map((r: { what: string }) => r.what)).toEqual([]);
    // A run that keeps the roles takes back what it no longer gives them.
    await plant(roles);
    install();
    expect(await misgranted(roles)).toEqual([]);
    expect(
      await succeededAs(writerLogin, db.name, [
        `SELECT pgcache._invalidate_tags(ARRAY['x'], NULL, NULL, true)`,
        `SELECT pgcache.cache_maintenance()`,
      ]),
    ).toEqual([]);
  });
});

// Every function of an install is classified where it is defined (pgcache_functions, filled by each file of
// sql/core and sql/vector), so core/30_security.sql grants it to exactly one group; and every classification
// names a function the install has.
import { describe, expect, it } from 'vitest';
import { useDatabase } from '../helpers/db.js';

const db = useDatabase();

describe('pgcache_functions', () => {
  it('classifies every function of the install, the per-type writers and semantic lookups aside', async () => {
    const { rows } = await db.pool.query(
      `SELECT DISTINCT p.proname::text AS name
         FROM pg_proc p
        WHERE p.pronamespace = 'pgcache'::regnamespace
          AND p.proname NOT IN (SELECT t.table_name || '_set' FROM pgcache.cache_types t)
          AND p.proname !~ '^_semantic_lookup_[0-9]+_[0-9a-f]{32}$'
          AND p.proname NOT IN (SELECT function_name FROM pgcache.pgcache_functions)
        ORDER BY 1`,
    );
    expect(rows.map((r) => r.name)).toEqual([]);
  });

  it('names only functions the install has, each in one group', async () => {
    const { rows } = await db.pool.query(
      `SELECT f.function_name, f.role_group
         FROM pgcache.pgcache_functions f
        WHERE NOT EXISTS (SELECT 1 FROM pg_proc p
                           WHERE p.pronamespace = 'pgcache'::regnamespace AND p.proname = f.function_name)
        ORDER BY 1`,
    );
    expect(rows).toEqual([]);
    const groups = await db.pool.query(`SELECT DISTINCT role_group FROM pgcache.pgcache_functions ORDER BY 1`);
    expect(groups.rows.map((r) => r.role_group)).toEqual(['admin', 'internal', 'invoker', 'reader', 'writer']);
  });

  it('is what the grants follow: no function of a group is executable by another group alone', async () => {
    const { rows } = await db.pool.query(
      `SELECT f.function_name, f.role_group,
              bool_or(has_function_privilege(i.reader_role, p.oid, 'EXECUTE')) AS reader,
              bool_or(has_function_privilege(i.writer_role, p.oid, 'EXECUTE')) AS writer,
              bool_or(has_function_privilege(i.admin_role, p.oid, 'EXECUTE')) AS admin
         FROM pgcache.pgcache_functions f
         JOIN pg_proc p ON p.pronamespace = 'pgcache'::regnamespace AND p.proname = f.function_name
        CROSS JOIN pgcache.pgcache_install i
        GROUP BY 1, 2`,
    );
    const expected: Record<string, [boolean, boolean, boolean]> = {
      reader: [true, true, true],
      writer: [false, true, true],
      admin: [false, false, true],
      invoker: [false, false, true],
      internal: [false, false, false],
    };
    const wrong = rows.filter(
      (r) => JSON.stringify([r.reader, r.writer, r.admin]) !== JSON.stringify(expected[r.role_group]),
    );
    expect(wrong).toEqual([]);
  });
});

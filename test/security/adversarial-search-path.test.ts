// Adversarial: a database owner who holds only the writer role tries to make pgcache's SECURITY DEFINER
// functions run its code as the install's owner (a superuser), by planting in public (which a database owner
// may CREATE in on PostgreSQL 15) more specific overloads of every built-in function and operator the
// functions call. PostgreSQL prefers the most specific signature over every schema on the path, whatever the
// schema order, so public must not be on the functions' path at all.
// The built-ins are derived from the installed function bodies: a new call in a new function is covered.
// Reusable for the next feature: add its calls to ./calls.ts.
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clusterInfo } from '../../scripts/lib/cluster.js';
import { useDatabase } from '../helpers/db.js';
import { CALLS, grantedFunctions, sqlFor } from './calls.js';

const db = useDatabase();
const info = clusterInfo();
const owner = `${db.name}_dbowner`;
const admin = `${db.name}_admin_login`;
let ownerPool: pg.Pool;
let adminPool: pg.Pool;
let planted = 0;

/** Concrete types put in place of polymorphic ones: an overload with them beats the polymorphic built-in. */
const ELEMENTS = [
  'text',
  'integer',
  'bigint',
  'smallint',
  'real',
  'double precision',
  'numeric',
  'boolean',
  'jsonb',
  'bytea',
  'interval',
  'timestamptz',
  'oid',
  'regclass',
  'name',
];
/** Calls to variadic "any" built-ins pgcache makes today, argument for argument (others get uniform arities). */
const KNOWN_TUPLES: Record<string, string[][]> = {
  num_nonnulls: [['jsonb', 'text', 'bytea', 'real[]']],
  format: [
    ['text', 'text'],
    ['text', 'text', 'text'],
    ['text', 'text', 'text', 'text'],
    ['text', 'name', 'text'],
    ['text', 'jsonb'],
  ],
  concat_ws: [
    ['text', 'text', 'text'],
    ['text', 'text', 'text', 'text'],
  ],
  jsonb_build_object: [
    ['text', 'text'],
    ['text', 'text', 'text', 'text'],
  ],
  pg_column_size: [['jsonb'], ['text'], ['bytea']],
};
const POLY = /\b(anyelement|anyarray|anynonarray|anycompatible|anycompatiblearray|anycompatiblenonarray|"any")/;

interface Builtin {
  name: string;
  args: string[];
  variadic: boolean;
  result: string;
  setof: boolean;
}

/** Every signature an attacker would plant for one built-in overload. */
function plantings(b: Builtin): { args: string[]; result: string }[] {
  const out: { args: string[]; result: string }[] = [];
  const usesPoly = b.args.some((a) => POLY.test(a)) || POLY.test(b.result);
  if (!usesPoly) return [{ args: b.args, result: b.result }];
  for (const t of ELEMENTS) {
    const sub = (type: string) =>
      type
        .replace(/^(anyarray|anycompatiblearray)$/, `${t}[]`)
        .replace(/^(anyelement|anynonarray|anycompatible|anycompatiblenonarray|"any")$/, t);
    if (b.variadic && b.args.at(-1)?.endsWith('[]') === false) {
      // VARIADIC "any": uniform arities 1..4 after the fixed arguments.
      for (let n = 1; n <= 4; n++) {
        out.push({ args: [...b.args.slice(0, -1).map(sub), ...Array(n).fill(t)], result: sub(b.result) });
      }
    } else {
      out.push({ args: b.args.map(sub), result: sub(b.result) });
    }
  }
  for (const tuple of KNOWN_TUPLES[b.name] ?? []) out.push({ args: tuple, result: b.result.replace('"any"', 'text') });
  return out;
}

beforeAll(async () => {
  const { rows: roles } = await db.pool
    .query(`SELECT writer_role, admin_role FROM pgcache.pgcache_install`)
    .catch(() => ({ rows: [{ writer_role: 'pgcache_writer', admin_role: 'pgcache_admin' }] })); // 0.5 and older
  await db.pool.query(`CREATE ROLE ${owner} LOGIN NOSUPERUSER; GRANT ${roles[0].writer_role} TO ${owner}`);
  await db.pool.query(`CREATE ROLE ${admin} LOGIN NOSUPERUSER; GRANT ${roles[0].admin_role} TO ${admin}`);
  // A database owner owns public on PostgreSQL 15 (pg_database_owner): it may create anything there.
  await db.pool.query(`ALTER DATABASE ${db.name} OWNER TO ${owner}`);
  ownerPool = new pg.Pool({ connectionString: `postgres://${owner}@${info.host}:${info.port}/${db.name}`, max: 1 });
  adminPool = new pg.Pool({ connectionString: `postgres://${admin}@${info.host}:${info.port}/${db.name}`, max: 1 });
  expect((await ownerPool.query(`SELECT has_schema_privilege('public', 'CREATE') AS c`)).rows[0].c).toBe(true);

  // Every identifier called in any pgcache function body that names a built-in (plain) function.
  const { rows: bodies } = await db.pool.query(
    `SELECT string_agg(prosrc, ' ') AS src FROM pg_proc WHERE pronamespace = 'pgcache'::regnamespace`,
  );
  const called = [
    ...new Set([...(bodies[0].src as string).matchAll(/\b([a-z_][a-z0-9_]*)\s*\(/gi)].map((m) => m[1]?.toLowerCase())),
  ];
  const { rows: builtins } = await db.pool.query(
    `SELECT p.proname AS name, coalesce(p.proargtypes::regtype[]::text[], '{}') AS args, p.provariadic <> 0 AS variadic,
            p.prorettype::regtype::text AS result, p.proretset AS setof
       FROM pg_proc p
      WHERE p.pronamespace = 'pg_catalog'::regnamespace AND p.prokind = 'f' AND p.proname = ANY ($1)
        AND NOT EXISTS (SELECT 1 FROM unnest(p.proargtypes::regtype[]::text[]) a
                         WHERE a IN ('internal', 'cstring', 'anyrange', 'anymultirange', 'anyenum', 'anycompatiblerange',
                                     'anycompatiblemultirange', 'record', 'trigger', 'event_trigger'))
        AND p.prorettype::regtype::text NOT IN ('internal', 'record', 'trigger', 'void', 'cstring', 'anyrange',
                                                'anymultirange', 'anyenum', 'anycompatiblerange', 'event_trigger')`,
    [called],
  );
  expect(builtins.length).toBeGreaterThan(60);
  const names = new Set(builtins.map((b) => b.name));
  for (const name of [
    'num_nonnulls',
    'cardinality',
    'array_position',
    'pg_column_size',
    'format',
    'jsonb_build_object',
  ]) {
    expect(names, name).toContain(name);
  }

  const statements = new Set<string>();
  for (const b of builtins as Builtin[]) {
    for (const p of plantings(b)) {
      const result = p.result === '"any"' ? 'text' : p.result;
      statements.add(
        `CREATE FUNCTION public.${b.name}(${p.args.join(', ')}) RETURNS ${b.setof ? 'SETOF ' : ''}${result} LANGUAGE plpgsql AS ` +
          `$p$BEGIN RAISE EXCEPTION 'hijacked: ${b.name}(${p.args.join(', ')}) ran as %', current_user USING ERRCODE = 'HJ001'; END$p$`,
      );
    }
  }
  // Operators on the types pgcache compares and concatenates, pgvector's among them.
  const types = [
    'text',
    'real[]',
    'text[]',
    'jsonb',
    'integer',
    'bigint',
    'smallint',
    'interval',
    'timestamptz',
    'bytea',
    'boolean',
    'double precision',
    'vector',
    'halfvec',
    'name',
  ];
  const ops: [string, string][] = [
    ['=', 'boolean'],
    ['<>', 'boolean'],
    ['<', 'boolean'],
    ['<=', 'boolean'],
    ['>', 'boolean'],
    ['>=', 'boolean'],
    ['||', 'SAME'],
    ['+', 'SAME'],
    ['-', 'SAME'],
    ['*', 'SAME'],
    ['~', 'boolean'],
    ['!~', 'boolean'],
    ['@>', 'boolean'],
    ['->>', 'text'],
    ['<=>', 'double precision'],
    ['~~', 'boolean'],
  ];
  let n = 0;
  for (const [op, ret] of ops) {
    for (const left of types) {
      for (const right of [left, 'text', 'real[]', 'vector', 'integer']) {
        const fn = `public.hj_op_${n++}`;
        const result = ret === 'SAME' ? left : ret;
        statements.add(
          `CREATE FUNCTION ${fn}(${left}, ${right}) RETURNS ${result} LANGUAGE plpgsql AS ` +
            `$p$BEGIN RAISE EXCEPTION 'hijacked: operator ${op}(${left}, ${right}) ran as %', current_user USING ERRCODE = 'HJ001'; END$p$;` +
            `CREATE OPERATOR public.${op} (LEFTARG = ${left}, RIGHTARG = ${right}, FUNCTION = ${fn})`,
        );
      }
    }
  }
  // Each in its own subtransaction: signatures pgvector already has in public, or that cannot exist, fail.
  const client = await ownerPool.connect();
  try {
    await client.query('BEGIN');
    for (const statement of statements) {
      await client.query('SAVEPOINT p');
      try {
        await client.query(statement);
        planted++;
      } catch {
        await client.query('ROLLBACK TO SAVEPOINT p');
      }
    }
    await client.query('COMMIT');
  } finally {
    client.release();
  }
}, 240_000);

afterAll(async () => {
  await ownerPool?.end();
  await adminPool?.end();
  await db.pool.query(`ALTER DATABASE ${db.name} OWNER TO CURRENT_USER`);
  await db.pool.query(`DROP OWNED BY ${owner}; DROP ROLE ${owner}; DROP ROLE ${admin}`);
});

describe('functions planted in public by a database owner', () => {
  it('were planted: over a thousand overloads of the built-ins pgcache calls, and operators', () => {
    expect(planted).toBeGreaterThan(1000);
  });

  it('never run, whatever pgcache function is called, by whom', async () => {
    const granted = await grantedFunctions(db.pool);
    expect(granted.filter((fn) => !CALLS.some((c) => c.fn === fn))).toEqual([]);
    for (const call of CALLS) {
      // The writer-only attacker calls what it may; an admin calls the rest.
      const pool = call.group === 'admin' ? adminPool : ownerPool;
      let code = 'ok';
      let message = '';
      try {
        await pool.query(sqlFor(call));
      } catch (error) {
        code = (error as { code?: string }).code ?? 'none';
        message = (error as Error).message;
      }
      expect({ fn: call.fn, code, message }).toEqual({
        fn: call.fn,
        code: call.fails ?? 'ok',
        message: expect.any(String),
      });
    }
  });

  it("never run in maintenance as the superuser or through pg_cron's command", async () => {
    await db.pool.query(`SELECT count(*) FROM pgcache.cache_maintenance()`);
    const { rows } = await db.pool.query(`SELECT command FROM pgcache.cache_maintenance_commands()`);
    await db.pool.query(rows[0].command);
  });
});

describe('the install schema', () => {
  // The superuser's own queries would run the planted functions too (public is on its path): not pgcache's
  // concern, but these checks must not trip over them.
  const safe = (sql: string) =>
    db.pool
      .query(`SET search_path = pg_catalog; ${sql}; RESET search_path`)
      .then((r) => (r as unknown as pg.QueryResult[])[1] as pg.QueryResult);

  it('is owned by the install owner, and no other role may create in it', async () => {
    const { rows } = await safe(`
      SELECT n.nspowner = (SELECT oid FROM pg_roles WHERE rolname = current_user) AS owned,
             (SELECT count(*)::int FROM pg_roles r
               WHERE r.oid <> n.nspowner AND NOT r.rolsuper AND has_schema_privilege(r.oid, n.oid, 'CREATE')) AS creators
        FROM pg_namespace n WHERE n.nspname = 'pgcache'`);
    expect(rows[0]).toEqual({ owned: true, creators: 0 });
  });

  it('is the only schema besides pg_catalog and pg_temp on the path of every function that has one', async () => {
    const { rows } = await safe(`
      SELECT p.oid::regprocedure::text AS fn, c AS setting
        FROM pg_proc p CROSS JOIN LATERAL unnest(p.proconfig) c
       WHERE p.pronamespace = 'pgcache'::regnamespace AND c LIKE 'search\\_path=%'`);
    expect(rows.length).toBeGreaterThan(60);
    for (const row of rows) expect(row.setting, row.fn).toBe('search_path=pgcache, pg_temp');
  });

  it('holds no function without a pinned path that anyone but the owner may execute', async () => {
    const { rows } = await safe(`
      SELECT p.oid::regprocedure::text AS fn FROM pg_proc p
       WHERE p.pronamespace = 'pgcache'::regnamespace
         AND NOT EXISTS (SELECT 1 FROM unnest(p.proconfig) c WHERE c LIKE 'search\\_path=%')
         AND EXISTS (SELECT 1 FROM pg_roles r WHERE r.oid <> p.proowner AND NOT r.rolsuper
                        AND has_function_privilege(r.oid, p.oid, 'EXECUTE'))`);
    expect(rows).toEqual([]);
  });
});

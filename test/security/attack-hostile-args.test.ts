// Attack: hostile arguments in every position of every public function, enumerated from the catalog (a new
// function is covered without an edit here): NULL, negative, zero, NaN and infinite numbers, huge and
// negative intervals, empty and oversized text, huge arrays, arrays holding NULL. Every rejection must carry
// a package SQLSTATE (PCxxx), and nothing may corrupt or lose the entries of a type no call names.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useDatabase } from '../helpers/db.js';

const db = useDatabase();

interface Fn {
  name: string;
  sig: string;
  args: { name: string; type: string }[];
  variadic: boolean;
}
let fns: Fn[] = [];
let counter = 0;

/** A valid value for an argument, by name and type, for the type p_type will name. */
function plausible(fn: Fn, arg: { name: string; type: string }): string {
  const has = (n: string, t?: string) => fn.args.some((a) => a.name === n && (t === undefined || a.type === t));
  switch (arg.name) {
    case 'p_type':
      if (has('p_query') || has('p_filters') || has('p_kb_version')) return `'vector_search'`;
      if (has('p_value', 'text') || has('p_values', 'text[]') || has('p_embedding')) return `'llm_responses'`;
      if (has('p_value', 'bytea') || has('p_values', 'bytea[]') || fn.name === 'cache_get_bytea_slice')
        return `'audio_chunks'`;
      if (
        has('p_value', 'real[]') ||
        has('p_value', 'vector') ||
        has('p_values', 'real[]') ||
        fn.name.includes('vector')
      )
        return `'embeddings'`;
      if (fn.name.startsWith('cache_semantic')) return `'llm_responses'`;
      return `'default'`;
    case 'p_name':
      return `'nx_${++counter}'`;
    case 'p_model':
      return `'m2'`;
    case 'p_key':
      return `'k'`;
    case 'p_keys':
      return `ARRAY['k']`;
    case 'p_parts':
      return `ARRAY['a']`;
    case 'p_prefix':
      return `'k'`;
    case 'p_pattern':
      return `'k%'`;
    case 'p_after':
      return `'a'`;
    case 'p_scope':
      return `'s'`;
    case 'p_class':
      return `'short'`;
    case 'p_schedule':
      return `'* * * * *'`;
    case 'p_value_kind':
      return `'jsonb'`;
    case 'p_eviction_policy':
    case 'p_policy':
      return `'lru'`;
    case 'p_description':
      return `'d'`;
    case 'p_kb_version':
      return `'v1'`;
    case 'p_partitions':
      return '1';
    case 'p_offset':
      return '0';
    case 'p_max_cosine_distance':
      return '0.5';
    case 'p_wait':
      return `interval '10 milliseconds'`;
    case 'p_fresh_for':
      return `interval '1 minute'`;
  }
  switch (arg.type) {
    case 'text':
      return `'v'`;
    case 'jsonb':
      return `'{}'::jsonb`;
    case 'bytea':
      return `'\\x01'::bytea`;
    case 'real[]':
      return `'{1,2}'::real[]`;
    case 'vector':
      return `'[1,2]'::vector`;
    case 'interval':
      return `interval '1 hour'`;
    case 'integer':
    case 'bigint':
      return '10';
    case 'double precision':
      return '0.5';
    case 'numeric':
      return '1';
    case 'boolean':
      return 'false';
    case 'text[]':
      return `ARRAY['v']`;
    case 'jsonb[]':
      return `ARRAY['1']::jsonb[]`;
    case 'bytea[]':
      return `ARRAY['\\x01']::bytea[]`;
  }
  throw new Error(`no plausible value for ${fn.sig} ${arg.name} ${arg.type}`);
}

/** Hostile values of a type (NULL first). */
function hostile(type: string): string[] {
  const base = [`NULL::${type}`];
  switch (type) {
    case 'integer':
      return [...base, '-1', '0', '2147483647', '-2147483648'];
    case 'bigint':
      return [...base, '-1', '0', '9223372036854775807'];
    case 'double precision':
      return [...base, `'NaN'::float8`, `'Infinity'::float8`, `'-Infinity'::float8`, '-1'];
    case 'numeric':
      return [...base, `'NaN'::numeric`, `'Infinity'::numeric`, '-1', '1e1000'];
    case 'interval':
      return [
        ...base,
        `interval '-1 day'`,
        `interval '0'`,
        `interval '178000000 years'`,
        `interval '-1 year 361 days'`,
        `interval '2147483647 days'`,
        `interval '9223372036 seconds'`,
      ];
    case 'text':
      // Identifiers an attacker would try where a name becomes SQL: quotes, dots, unicode, 64 and 200+ bytes.
      return [
        ...base,
        `''`,
        `repeat('x', 70000)`,
        `E'\\x1f'`,
        `'%'`,
        `'\\'`,
        `'a"b'`,
        `'x''); DROP TABLE pgcache.entries; --'`,
        `'a.b'`,
        `'ä'`,
        `repeat('a', 64)`,
        `repeat('é', 120)`,
      ];
    case 'text[]':
      return [
        ...base,
        `'{}'::text[]`,
        `ARRAY[NULL]::text[]`,
        `ARRAY(SELECT 'k' || g FROM generate_series(1, 20001) g)`,
      ];
    case 'jsonb[]':
      return [
        ...base,
        `'{}'::jsonb[]`,
        `ARRAY[NULL]::jsonb[]`,
        `ARRAY(SELECT '1'::jsonb FROM generate_series(1, 20001))`,
      ];
    case 'bytea[]':
      return [...base, `'{}'::bytea[]`, `ARRAY[NULL]::bytea[]`];
    case 'real[]':
      return [
        ...base,
        `'{}'::real[]`,
        `ARRAY[NULL]::real[]`,
        `'{NaN,1}'::real[]`,
        `'{Infinity,1}'::real[]`,
        `'{{1,2},{3,4}}'::real[]`,
        `array_fill(1::real, ARRAY[20000])`,
      ];
    case 'jsonb':
      return [...base, `'null'::jsonb`, `'[]'::jsonb`, `'{"__proto__": {"polluted": 1}}'::jsonb`];
    default:
      return base;
  }
}

beforeAll(async () => {
  await db.pool.query(`SELECT pgcache.cache_register_model('m2', 2)`);
  await db.pool.query(`SELECT pgcache.cache_create_type('sentinel', 'jsonb', interval '1 day')`);
  await db.pool.query(
    `SELECT pgcache.cache_set('sentinel', 'k' || g, jsonb_build_object('n', g)) FROM generate_series(1, 50) g`,
  );
  const { rows } = await db.pool.query(
    `SELECT p.proname AS name, p.oid::regprocedure::text AS sig, p.provariadic <> 0 AS variadic,
            coalesce((SELECT json_agg(json_build_object('name', a.n, 'type', format_type(a.t, NULL)) ORDER BY a.i)
                        FROM unnest(p.proargnames[1:p.pronargs], p.proargtypes::oid[]) WITH ORDINALITY a(n, t, i)), '[]') AS args
       FROM pg_proc p WHERE p.pronamespace = 'pgcache'::regnamespace AND p.prosecdef AND p.prokind = 'f'
        -- The sentinel's own writer names the sentinel (the other types' writers are attacked).
        AND p.proname <> 'cache_sentinel_set'
        -- Trigger functions take no arguments and PostgreSQL refuses any direct call of them (0A000);
        -- test/security/calls.ts calls the watch trigger, and its arguments are attacked in test/sql/watch.test.ts.
        AND p.prorettype <> 'trigger'::regtype
      ORDER BY 2`,
  );
  fns = rows;
  expect(fns.length).toBeGreaterThan(60);
}, 60_000);

afterAll(async () => {
  await db.pool.query(`SELECT pgcache.cache_unschedule_maintenance()`).catch(() => undefined);
});

/** The SQLSTATE of one call, 'ok' if it succeeds. */
async function run(sql: string): Promise<{ code: string; message: string }> {
  try {
    await db.pool.query(`SET statement_timeout = '20s'; ${sql}; RESET statement_timeout`);
    return { code: 'ok', message: '' };
  } catch (error) {
    return { code: (error as { code?: string }).code ?? 'none', message: (error as Error).message };
  }
}

// Outcomes that are not the function's to classify: pg_cron lives in another database here (PC011 is ours).
const acceptable = (code: string) => code === 'ok' || /^PC\d{3}$/.test(code);

describe('hostile arguments in every position of every public function', () => {
  it('are rejected with a package SQLSTATE, never a bare PostgreSQL error', async () => {
    const bad: string[] = [];
    let calls = 0;
    for (const fn of fns) {
      const valid = fn.args.map((a) => plausible(fn, a));
      const qualified = `pgcache.${fn.sig.replace(/^pgcache\./, '').replace(/\(.*$/, '')}`;
      // Every argument NULL at once, then one position at a time with each hostile value.
      const variants: string[][] = [fn.args.map((a) => `NULL::${a.type}`)];
      fn.args.forEach((a, i) => {
        for (const h of hostile(a.type)) variants.push(valid.map((v, j) => (j === i ? h : v)));
      });
      for (const args of variants) {
        if (fn.variadic) args[args.length - 1] = `VARIADIC ${args.at(-1)}`;
        const sql = `SELECT * FROM ${qualified}(${args.join(', ')})`;
        const { code, message } = await run(sql);
        calls++;
        if (!acceptable(code)) bad.push(`${code} ${sql.slice(0, 300)}: ${message.slice(0, 200)}`);
      }
    }
    expect(calls).toBeGreaterThan(500);
    expect(bad).toEqual([]);
  }, 600_000);

  it('left the entries of a type no call names intact', async () => {
    const { rows } = await db.pool.query(
      `SELECT count(*)::int AS n, sum((value_json ->> 'n')::int)::int AS s FROM pgcache.cache_get_many('sentinel',
         ARRAY(SELECT 'k' || g FROM generate_series(1, 50) g))`,
    );
    expect(rows[0]).toEqual({ n: 50, s: 1275 });
    const stats = await db.pool.query(`SELECT * FROM pgcache.cache_stats() WHERE cache_type = 'sentinel'`);
    expect(stats.rows[0]).toMatchObject({ entries: '50', valid_entries: '50' });
  });
});

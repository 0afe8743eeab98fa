// Type DDL beside traffic: drops and creates of a type while other sessions get, set, read stats and run
// maintenance must surface only the package's SQLSTATEs (PC001 unknown type, PC009 exists), and maintenance
// must finish the other types. And cache_set_many is all-or-none against concurrent version bumps.
import { describe, expect, it } from 'vitest';
import { useDatabase } from '../helpers/db.js';

const db = useDatabase();

/** Runs `body` in a loop on its own connection until `until`, counting the SQLSTATEs of its failures. */
async function loop(
  until: number,
  codes: Map<string, number>,
  body: (query: (sql: string) => Promise<unknown>) => Promise<void>,
): Promise<number> {
  const client = await db.pool.connect();
  let runs = 0;
  let last = '';
  try {
    while (Date.now() < until) {
      try {
        await body((sql) => {
          last = sql;
          return client.query(sql);
        });
      } catch (error) {
        const e = error as { code?: string; message?: string };
        const code = e.code?.startsWith('PC')
          ? e.code
          : `${e.code ?? 'none'}: ${e.message?.replace(/\d+/g, 'N')} in ${last.slice(0, 60)} at ${(e as { where?: string }).where?.replace(/\d+/g, 'N')}`;
        codes.set(code, (codes.get(code) ?? 0) + 1);
        await client.query('ROLLBACK').catch(() => undefined);
      }
      runs++;
    }
  } finally {
    client.release();
  }
  return runs;
}

describe('cache_drop_type and cache_create_type beside traffic', () => {
  it('raise only package SQLSTATEs, and maintenance finishes the other types', async () => {
    await db.pool.query(`SELECT pgcache.cache_create_type('ddl_stable', 'jsonb', p_max_entries => 50)`);
    await db.pool.query(`SELECT pgcache.cache_create_type('ddl_churn', 'jsonb')`);
    const until = Date.now() + 4000;
    const codes = new Map<string, number>();
    const maintenance: { stable: number; runs: number } = { stable: 0, runs: 0 };
    await Promise.all([
      loop(until, codes, async (query) => {
        await query(`SELECT pgcache.cache_drop_type('ddl_churn')`);
        await query(`SELECT pgcache.cache_create_type('ddl_churn', 'jsonb')`);
      }),
      // A second DDL session: concurrent creates of one name, and drops of a dropped type.
      loop(until, codes, async (query) => {
        await query(`SELECT pgcache.cache_create_type('ddl_churn', 'jsonb')`);
      }),
      loop(until, codes, async (query) => {
        await query(`SELECT pgcache.cache_drop_type('ddl_churn')`);
      }),
      ...[0, 1].map(() =>
        loop(until, codes, async (query) => {
          const k = `k${Math.floor(Math.random() * 20)}`;
          await query(`SELECT pgcache.cache_set('ddl_churn', '${k}', '1'::jsonb)`);
        }),
      ),
      ...[0, 1].map(() =>
        loop(until, codes, async (query) => {
          const k = `k${Math.floor(Math.random() * 20)}`;
          await query(`SELECT pgcache.cache_get('ddl_churn', '${k}')`);
          await query(`SELECT * FROM pgcache.cache_get_many('ddl_churn', ARRAY['k1', 'k2', 'nope'])`);
        }),
      ),
      loop(until, codes, async (query) => {
        await query(`SELECT pgcache.cache_set_many('ddl_churn', ARRAY['a', 'b', 'c'], ARRAY['1', '2', '3']::jsonb[])`);
      }),
      loop(until, codes, async (query) => {
        await query(`SELECT count(*) FROM pgcache.cache_stats()`);
      }),
      loop(until, codes, async (query) => {
        // Keeps ddl_stable over its budget, so each maintenance run has work to do there.
        await query(`SELECT pgcache.cache_set_many('ddl_stable', ARRAY(SELECT 's' || i FROM generate_series(1, 60) i),
                                                    ARRAY(SELECT to_jsonb(i) FROM generate_series(1, 60) i))`);
        const { rows } = (await query(
          `SELECT cache_type, evicted, error FROM pgcache.cache_maintenance() WHERE cache_type = 'ddl_stable'`,
        )) as { rows: { evicted: string; error: string | null }[] };
        maintenance.runs++;
        if (rows[0] && Number(rows[0].evicted) > 0) maintenance.stable++;
      }),
    ]);
    const unexpected = [...codes].filter(([code]) => !['PC001', 'PC009'].includes(code));
    expect(unexpected).toEqual([]);
    expect(codes.get('PC001') ?? 0).toBeGreaterThan(0); // the traffic did meet dropped types
    expect(maintenance.runs).toBeGreaterThan(0);
    // Every run that reached ddl_stable evicted its excess, whatever ddl_churn did meanwhile.
    expect(maintenance.stable).toBeGreaterThan(0);
    const { rows } = await db.pool.query(`SELECT count(*)::int AS n FROM pgcache.cache_maintenance_history
       WHERE cache_type = 'ddl_stable' AND error IS NOT NULL AND error NOT LIKE 'lock_timeout%'`);
    expect(rows[0].n).toBe(0);
  }, 30_000);
});

describe('cache_set_many against cache_bump_version', () => {
  it('is all or none: after each batch, all its keys are visible at one version, or none', async () => {
    await db.pool.query(`SELECT pgcache.cache_create_type('batch_atomic', 'jsonb')`);
    const until = Date.now() + 4000;
    const codes = new Map<string, number>();
    const torn: string[] = [];
    let batches = 0;
    const keys = `ARRAY(SELECT 'k' || i FROM generate_series(1, 1000) i)`;
    await Promise.all([
      loop(until, codes, async (query) => {
        await query(`SELECT pgcache.cache_bump_version('batch_atomic')`);
      }),
      loop(until, codes, async (query) => {
        await query(`SELECT pgcache.cache_bump_version('batch_atomic'), pg_sleep(0.01)`);
      }),
      ...[0, 1].map((writer) =>
        loop(until, codes, async (query) => {
          const run = `${writer}-${batches++}`;
          await query(
            `SELECT pgcache.cache_set_many('batch_atomic', ${keys}, ARRAY(SELECT to_jsonb('${run}'::text) FROM generate_series(1, 1000)))`,
          );
          // Entries written by this batch: live ones at the current version, and all of them by version.
          const { rows } = (await query(`SELECT count(*) FILTER (WHERE e.version = t.version) AS live,
                    count(DISTINCT e.version) AS versions, count(*) AS written
               FROM pgcache.entries e JOIN pgcache.cache_types t ON t.id = e.type_id
              WHERE t.name = 'batch_atomic' AND e.value_json = to_jsonb('${run}'::text)`)) as {
            rows: { live: string; versions: string; written: string }[];
          };
          const r = rows[0];
          // Overwritten by a later batch of the other writer? Then fewer rows, but still of one version.
          if (r && (Number(r.versions) > 1 || (Number(r.live) !== 0 && Number(r.live) !== Number(r.written)))) {
            torn.push(`${run}: ${JSON.stringify(r)}`);
          }
        }),
      ),
    ]);
    expect([...codes]).toEqual([]);
    expect(batches).toBeGreaterThan(2);
    expect(torn).toEqual([]);
  }, 30_000);
});

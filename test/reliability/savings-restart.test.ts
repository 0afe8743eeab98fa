// Savings across restarts, on a throwaway cluster of its own: a clean restart keeps every type's savings; a
// crash keeps those of durable types (but the SQL read functions' since the last maintenance run) and empties
// those of UNLOGGED types, which lose their entries (and with them the costs recorded on them) as well.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type ClusterInfo,
  CRON_DATABASE,
  clusterInfoAt,
  destroyCluster,
  restartCluster,
  startCluster,
} from '../../scripts/lib/cluster.js';
import { ensureDatabase } from '../../scripts/lib/databases.js';
import { freePort } from '../../scripts/lib/postgres.js';
import { createCache } from '../../src/client/cache.js';
import { migrate } from '../../src/install/migrate.js';

describe('savings across a clean restart and a crash', () => {
  let info: ClusterInfo;

  beforeAll(async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pgcache-savings-'));
    info = clusterInfoAt(await freePort(), dir);
    await startCluster(info);
    await ensureDatabase(info, CRON_DATABASE); // pg_cron is preloaded: give it its database
    await ensureDatabase(info, 'savings');
    await migrate({ databaseUrl: info.url('savings') });
  }, 180_000);
  afterAll(() => {
    if (info) destroyCluster(info);
  });

  it('keeps durable types’ savings through both (up to the last maintenance run); an UNLOGGED type’s go with the crash', async () => {
    const connect = () => new pg.Pool({ connectionString: info.url('savings'), max: 4 });
    const totals = async (pool: pg.Pool) =>
      Object.fromEntries(
        (
          await pool.query(
            `SELECT t.name, coalesce(sum(s.hits), 0)::int AS hits, coalesce(sum(s.tokens), 0)::int AS tokens
               FROM pgcache.cache_types t LEFT JOIN pgcache.cache_savings s ON s.cache_type = t.name
              WHERE t.name IN ('durable', 'volatile') GROUP BY t.name`,
          )
        ).rows.map((r) => [r.name, { hits: r.hits, tokens: r.tokens }]),
      );
    let pool = connect();
    await pool.query(`SELECT pgcache.cache_create_type('durable', 'text'),
                             pgcache.cache_create_type('volatile', 'text', p_unlogged => true)`);
    const cache = await createCache({ pool });
    for (const type of ['durable', 'volatile']) {
      await cache.accessor(type).set('k', 'answer', { cost: { model: 'm', inputTokens: 10, outputTokens: 5 } });
      for (let i = 0; i < 20; i++) await cache.accessor(type).get('k'); // the client's view path
      for (let i = 0; i < 5; i++) await pool.query(`SELECT pgcache.cache_get_text($1, 'k')`, [type]); // SQL path
    }
    await cache.close();
    // Maintenance moves the SQL functions' savings of the durable type to the logged partition; those of
    // later reads wait there for the next run.
    await pool.query('SELECT count(*) FROM pgcache.cache_maintenance()');
    for (const type of ['durable', 'volatile']) {
      for (let i = 0; i < 3; i++) await pool.query(`SELECT pgcache.cache_get_text($1, 'k')`, [type]);
    }
    const counted = { hits: 28, tokens: 28 * 15 };
    expect(await totals(pool)).toEqual({ durable: counted, volatile: counted });
    await pool.end();

    await restartCluster(info, 'fast');
    pool = connect();
    expect(await totals(pool)).toEqual({ durable: counted, volatile: counted });
    await pool.end();

    await restartCluster(info, 'immediate');
    pool = connect();
    // The durable type loses only the 3 hits counted since the last maintenance run.
    expect(await totals(pool)).toEqual({ durable: { hits: 25, tokens: 25 * 15 }, volatile: { hits: 0, tokens: 0 } });
    const { rows } = await pool.query(
      `SELECT cache_type, entries::int, hits::int FROM pgcache.cache_stats() WHERE cache_type IN ('durable', 'volatile') ORDER BY 1`,
    );
    // Hit totals of both keep the reads clients reported (a logged table) and lose the SQL functions' counts
    // (unlogged sequences, back at 0); the UNLOGGED type lost its entry, so later reads miss and save nothing.
    expect(rows).toEqual([
      { cache_type: 'durable', entries: 1, hits: 20 },
      { cache_type: 'volatile', entries: 0, hits: 20 },
    ]);
    await pool.end();
  }, 240_000);
});

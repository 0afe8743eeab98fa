// Upgrade: an install that has only migration 0001 (pgcache 0.1) gets 0002_operations on the next migrate(),
// keeps its entries, and the new functions work on them.
import { expect, it } from 'vitest';
import { migrate } from '../../src/install/migrate.js';
import { useDatabase } from '../helpers/db.js';

const db = useDatabase('bare');
const q = (sql: string, params: unknown[] = []) => db.pool.query(sql, params);

it('upgrades a 0001 install to 0002_operations without losing entries', async () => {
  expect(await migrate({ databaseUrl: db.url, count: 1 })).toEqual(['0001_install']);
  expect((await q(`SELECT to_regproc('pgcache.cache_maintenance') AS f`)).rows[0].f).toBeNull();
  await q(`SELECT pgcache.cache_set('default', 'k' || i, to_jsonb(i)) FROM generate_series(1, 10) i`);
  await q(`SELECT pgcache.cache_set('llm_responses', 'answer', 'forty-two'::text)`);
  await q(`UPDATE pgcache.cache_default SET expires_at = now() - interval '1 second' WHERE key IN ('k1', 'k2')`);
  await q(`UPDATE pgcache.cache_types SET max_entries = 5, eviction_policy = 'fifo' WHERE name = 'default'`);
  // 0.1 created type tables without TOAST autovacuum settings.
  await q(`ALTER TABLE pgcache.cache_default RESET (toast.autovacuum_vacuum_scale_factor)`);

  const ran = await migrate({ databaseUrl: db.url });
  expect(ran[0]).toBe('0002_operations');
  expect(await migrate({ databaseUrl: db.url })).toEqual([]);

  expect((await q(`SELECT count(*)::int AS n FROM pgcache.cache_default`)).rows[0].n).toBe(10);
  expect((await q(`SELECT pgcache.cache_get_text('llm_responses', 'answer') AS v`)).rows[0].v).toBe('forty-two');
  const toast = await q(
    `SELECT t.reloptions FROM pg_class c JOIN pg_class t ON t.oid = c.reltoastrelid WHERE c.oid = 'pgcache.cache_default'::regclass`,
  );
  expect(toast.rows[0].reloptions).toEqual(['autovacuum_vacuum_scale_factor=0.05']);

  const report = (await q(`SELECT * FROM pgcache.cache_maintenance() WHERE cache_type = 'default'`)).rows[0];
  expect(report).toMatchObject({ expired: '2', evicted: '3', entries: '5', complete: true });
  expect((await q(`SELECT count(*)::int AS n FROM pgcache.cache_sizes`)).rows[0].n).toBe(5);
  expect((await q(`SELECT count(*)::int AS n FROM pgcache.cache_stats_snapshots`)).rows[0].n).toBe(5);
  expect((await q(`SELECT count(*)::int AS n FROM pgcache.cache_maintenance_commands()`)).rows[0].n).toBe(2);
});

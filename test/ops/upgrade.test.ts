// Upgrade: a database that a pgcache 0.1.0 install left (migrations 0001..0007, from the frozen files of
// sql/releases/0.1.0) gets the later migrations on the next migrate(), keeps its entries, types, settings and
// statistics, and the upgraded functions work on them.
import { readdirSync } from 'node:fs';
import { expect, it } from 'vitest';
import { repoRoot } from '../../scripts/lib/cluster.js';
import { migrate } from '../../src/install/migrate.js';
import { useDatabase } from '../helpers/db.js';

const db = useDatabase('bare');
const q = (sql: string, params: unknown[] = []) => db.pool.query(sql, params);
const MIGRATIONS = readdirSync(`${repoRoot}/migrations`)
  .filter((f) => /^\d{4}_.*\.js$/.test(f))
  .map((f) => f.replace(/\.js$/, ''))
  .sort();
const RELEASE_0_1_0 = MIGRATIONS.filter((m) => m <= '0007_security');

it('upgrades a 0.1.0 install without losing entries, types or statistics', async () => {
  expect(await migrate({ databaseUrl: db.url, count: RELEASE_0_1_0.length })).toEqual(RELEASE_0_1_0);
  expect(RELEASE_0_1_0).toHaveLength(7);

  // Use it as a 0.1.0 application would.
  await q(`SELECT pgcache.cache_create_type('sessions', 'jsonb', interval '1 hour', p_max_entries => 5,
             p_eviction_policy => 'fifo')`);
  await q(`SELECT pgcache.cache_set('sessions', 's' || i, to_jsonb(i)) FROM generate_series(1, 8) i`);
  await q(`SELECT pgcache.cache_set('default', 'k' || i, to_jsonb(i)) FROM generate_series(1, 10) i`);
  await q(`SELECT pgcache.cache_set('llm_responses', 'answer', 'forty-two'::text)`);
  await q(`SELECT pgcache.cache_get('default', 'k1'), pgcache.cache_get('default', 'missing')`);
  await q(`UPDATE pgcache.cache_default SET expires_at = now() - interval '1 hour' WHERE key IN ('k1', 'k2')`);
  await q(`UPDATE pgcache.cache_settings SET value = '90 seconds' WHERE name = 'ttl.short'`);
  const statsBefore = (await q(`SELECT * FROM pgcache.cache_stats() WHERE cache_type = 'default'`)).rows[0];

  const ran = await migrate({ databaseUrl: db.url });
  expect(ran).toEqual(MIGRATIONS.slice(RELEASE_0_1_0.length));
  expect(ran.length).toBeGreaterThan(0);
  expect(await migrate({ databaseUrl: db.url })).toEqual([]);

  expect((await q(`SELECT count(*)::int AS n FROM pgcache.cache_default`)).rows[0].n).toBe(10);
  expect((await q(`SELECT count(*)::int AS n FROM pgcache.cache_sessions`)).rows[0].n).toBe(8);
  expect((await q(`SELECT pgcache.cache_get_text('llm_responses', 'answer') AS v`)).rows[0].v).toBe('forty-two');
  expect((await q(`SELECT pgcache.cache_ttl('short') AS t`)).rows[0].t).toMatchObject({ minutes: 1, seconds: 30 });
  const statsAfter = (await q(`SELECT * FROM pgcache.cache_stats() WHERE cache_type = 'default'`)).rows[0];
  expect(statsAfter.hits).toBe(statsBefore.hits);
  expect(statsAfter.misses).toBe(statsBefore.misses);
  expect((await q(`SELECT pgcache.cache_get('default', 'k3') AS v`)).rows[0].v).toBe(3);

  const report = (
    await q(`SELECT * FROM pgcache.cache_maintenance() WHERE cache_type IN ('default', 'sessions')
                             ORDER BY cache_type`)
  ).rows;
  expect(report[0]).toMatchObject({ cache_type: 'default', expired: '2', entries: '8', complete: true });
  expect(report[1]).toMatchObject({ cache_type: 'sessions', evicted: '3', entries: '5', complete: true });
  const migrations = await q(`SELECT name FROM pgcache.pgcache_migrations ORDER BY run_on, id`);
  expect(migrations.rows.map((r) => r.name)).toEqual(MIGRATIONS);
});

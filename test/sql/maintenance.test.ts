// Expiry clean-up in bounded batches, and eviction down to entry and byte budgets under each policy.
import { beforeEach, describe, expect, it } from 'vitest';
import { useDatabase } from '../helpers/db.js';

const db = useDatabase();
const q = (sql: string, params: unknown[] = []) => db.pool.query(sql, params);
const one = async (sql: string, params: unknown[] = []) => (await q(sql, params)).rows[0];
const keys = async () => (await q(`SELECT key FROM pgcache.cache_default ORDER BY key`)).rows.map((r) => r.key);

// Ten entries k0..k9 whose recency, frequency, age and expiry each rank them in a different order.
async function craft(): Promise<void> {
  await q(`DELETE FROM pgcache.entries`);
  for (let i = 0; i < 10; i++) {
    await q(`SELECT pgcache.cache_set('default', $1, to_jsonb(repeat('x', $2::int)))`, [`k${i}`, 10 + i]);
  }
  await q(`
    UPDATE pgcache.cache_default SET
      created_at       = now() - (n || ' minutes')::interval,            -- fifo: k0 oldest
      last_accessed_at = now() - ((9 - n) || ' minutes')::interval,      -- lru: k0 least recent
      hit_count        = (n * 7) % 10,                                   -- lfu: k0 (0) then k3 (1), k6 (2)
      expires_at       = now() + ((n * 3) % 10 + 1 || ' hours')::interval -- ttl: k0 then k7, k4
    FROM (SELECT key AS k, substr(key, 2)::int AS n FROM pgcache.cache_default) o
    WHERE key = o.k`);
}

beforeEach(craft);

describe('cache_cleanup_expired', () => {
  it('deletes expired rows in bounded batches and reports counts', async () => {
    await q(`UPDATE pgcache.cache_default SET expires_at = now() - interval '1 second' WHERE key IN ('k1','k2','k3')`);
    expect((await one(`SELECT pgcache.cache_cleanup_expired('default', 2) AS n`)).n).toBe('2');
    expect((await one(`SELECT pgcache.cache_cleanup_expired('default', 2) AS n`)).n).toBe('1');
    expect((await one(`SELECT pgcache.cache_cleanup_expired('default', 2) AS n`)).n).toBe('0');
    expect(await keys()).toEqual(['k0', 'k4', 'k5', 'k6', 'k7', 'k8', 'k9']);
  });

  it('skips rows another session holds locked', async () => {
    await q(`UPDATE pgcache.cache_default SET expires_at = now() - interval '1 second' WHERE key IN ('k1','k2')`);
    const locker = await db.pool.connect();
    try {
      await locker.query('BEGIN');
      await locker.query(`SELECT 1 FROM pgcache.cache_default WHERE key = 'k1' FOR UPDATE`);
      expect((await one(`SELECT pgcache.cache_cleanup_expired() AS n`)).n).toBe('1');
      await locker.query('ROLLBACK');
    } finally {
      locker.release();
    }
    expect((await one(`SELECT pgcache.cache_cleanup_expired() AS n`)).n).toBe('1');
  });
});

describe('cache_evict', () => {
  it.each([
    ['lru', ['k0', 'k1', 'k2']],
    ['lfu', ['k0', 'k3', 'k6']],
    ['fifo', ['k9', 'k8', 'k7']],
    ['ttl', ['k0', 'k7', 'k4']],
  ])('%s evicts the right entries down to an entry budget', async (policy, gone) => {
    // fifo: created_at = now() - n minutes, so k9 is the oldest write.
    expect((await one(`SELECT pgcache.cache_evict('default', 7, NULL, $1) AS n`, [policy])).n).toBe('3');
    const left = await keys();
    expect(left).toHaveLength(7);
    for (const k of gone) expect(left).not.toContain(k);
  });

  it('cache_evict_lru evicts least recently used first', async () => {
    expect((await one(`SELECT pgcache.cache_evict_lru('default', 8) AS n`)).n).toBe('2');
    expect(await keys()).toEqual(['k2', 'k3', 'k4', 'k5', 'k6', 'k7', 'k8', 'k9']);
  });

  it('holds a byte budget after a run', async () => {
    const { total } = await one(`SELECT sum(byte_size)::int AS total FROM pgcache.cache_default`);
    const budget = Math.floor(total / 2);
    await one(`SELECT pgcache.cache_evict('default', NULL, $1, 'lru')`, [budget]);
    const after = await one(`SELECT sum(byte_size)::int AS total, count(*)::int AS n FROM pgcache.cache_default`);
    expect(after.total).toBeLessThanOrEqual(budget);
    expect(after.n).toBeGreaterThan(0);
    // Only the least recent went: every survivor is more recent than every evicted entry.
    const all = Array.from({ length: 10 }, (_, i) => `k${i}`);
    expect(await keys()).toEqual(all.slice(10 - after.n));
  });

  it('uses the type budgets and policy when not given, and expired entries go first', async () => {
    await q(`UPDATE pgcache.cache_types SET max_entries = 8, eviction_policy = 'fifo' WHERE name = 'default'`);
    await q(`UPDATE pgcache.cache_default SET expires_at = now() - interval '1 s' WHERE key = 'k0'`);
    expect((await one(`SELECT pgcache.cache_evict('default') AS n`)).n).toBe('2');
    expect(await keys()).toEqual(['k1', 'k2', 'k3', 'k4', 'k5', 'k6', 'k7', 'k8']);
    await q(`UPDATE pgcache.cache_types SET max_entries = NULL, eviction_policy = 'lru' WHERE name = 'default'`);
  });

  it('does nothing without a budget or under it', async () => {
    expect((await one(`SELECT pgcache.cache_evict('default') AS n`)).n).toBe('0');
    expect((await one(`SELECT pgcache.cache_evict('default', 100) AS n`)).n).toBe('0');
    expect(await keys()).toHaveLength(10);
  });
});

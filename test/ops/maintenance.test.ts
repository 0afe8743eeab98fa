// cache_maintenance(): expiry then eviction to budgets under each policy, in bounded steps, within its time
// budget and lock timeout, one run at a time, recording bounded history and hit-rate snapshots.
// (cache_evict and cache_cleanup_expired on their own are tested in test/sql/maintenance.test.ts.)
import pg from 'pg';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { useDatabase } from '../helpers/db.js';

const db = useDatabase();
const q = (sql: string, params: unknown[] = []) => db.pool.query(sql, params);
const one = async (sql: string, params: unknown[] = []) => (await q(sql, params)).rows[0];
const setting = (name: string, value: string) =>
  q(`UPDATE pgcache.cache_settings SET value = $2 WHERE name = $1`, [name, value]);

const DEFAULT_SETTINGS: Record<string, string> = {
  'maintenance.batch_size': '5000',
  'maintenance.time_budget': '5 seconds',
  'maintenance.lock_timeout': '200ms',
  'maintenance.history_rows': '10000',
  'stats.snapshot_interval': '1 minute',
  'stats.snapshot_retention': '7 days',
};

interface Report {
  cache_type: string;
  expired: string;
  evicted: string;
  entries: string | null;
  bytes: string | null;
  complete: boolean;
  error: string | null;
}
const maintain = async (): Promise<Report[]> => (await q(`SELECT * FROM pgcache.cache_maintenance()`)).rows;

beforeEach(async () => {
  await q(`DELETE FROM pgcache.entries`);
  await q(`DELETE FROM pgcache.cache_maintenance_history`);
  await q(`DELETE FROM pgcache.cache_stats_snapshots`);
  for (const [name, value] of Object.entries(DEFAULT_SETTINGS)) await setting(name, value);
});
afterEach(async () => {
  await q(`SELECT pgcache.cache_drop_type(name) FROM pgcache.cache_types WHERE name LIKE 'ops\\_%'`);
});

// Ten entries k0..k9 whose recency, frequency, age and expiry each rank them differently; values of
// different sizes, so byte budgets depend on which rows go.
async function craft(type: string): Promise<void> {
  for (let i = 0; i < 10; i++) {
    await q(`SELECT pgcache.cache_set($1, $2, to_jsonb(repeat('x', $3::int)))`, [type, `k${i}`, 10 + 7 * i]);
  }
  await q(
    `UPDATE pgcache.entries e SET
       created_at       = now() - (o.n || ' minutes')::interval,
       last_accessed_at = now() - ((9 - o.n) || ' minutes')::interval,
       hit_count        = (o.n * 7) % 10,
       expires_at       = now() + ((o.n * 3) % 10 + 1 || ' hours')::interval
     FROM (SELECT key AS k, substr(key, 2)::int AS n FROM pgcache.entries
            WHERE type_id = (SELECT id FROM pgcache.cache_types WHERE name = $1)) o
     WHERE e.type_id = (SELECT id FROM pgcache.cache_types WHERE name = $1) AND e.key = o.k`,
    [type],
  );
}

// Eviction order of the crafted keys under each policy (first evicted first).
const ORDER: Record<string, string[]> = {
  lru: ['k0', 'k1', 'k2', 'k3', 'k4', 'k5', 'k6', 'k7', 'k8', 'k9'],
  lfu: ['k0', 'k3', 'k6', 'k9', 'k2', 'k5', 'k8', 'k1', 'k4', 'k7'],
  fifo: ['k9', 'k8', 'k7', 'k6', 'k5', 'k4', 'k3', 'k2', 'k1', 'k0'],
  ttl: ['k0', 'k7', 'k4', 'k1', 'k8', 'k5', 'k2', 'k9', 'k6', 'k3'],
};

async function keysOf(type: string): Promise<string[]> {
  const { rows } = await q(
    `SELECT key FROM pgcache.entries WHERE type_id = (SELECT id FROM pgcache.cache_types WHERE name = $1) ORDER BY key`,
    [type],
  );
  return rows.map((r) => r.key);
}

describe('eviction policies through cache_maintenance', () => {
  it.each(Object.keys(ORDER))('%s: an entry budget keeps the entries the policy ranks last', async (policy) => {
    const type = `ops_${policy}`;
    await q(`SELECT pgcache.cache_create_type($1, 'jsonb', interval '1 day', 6, NULL, $2)`, [type, policy]);
    await craft(type);
    await setting('maintenance.batch_size', '1'); // four steps of one row each
    const report = (await maintain()).find((r) => r.cache_type === type);
    expect(report).toMatchObject({ expired: '0', evicted: '4', entries: '6', complete: true, error: null });
    expect(await keysOf(type)).toEqual((ORDER[policy] as string[]).slice(4).sort());
  });

  it.each(Object.keys(ORDER))('%s: a byte budget holds and only the lowest-ranked go', async (policy) => {
    const type = `ops_${policy}`;
    await q(`SELECT pgcache.cache_create_type($1, 'jsonb', interval '1 day', NULL, NULL, $2)`, [type, policy]);
    await craft(type);
    const sizes = new Map<string, number>(
      (
        await q(
          `SELECT key, byte_size FROM pgcache.entries WHERE type_id = (SELECT id FROM pgcache.cache_types WHERE name = $1)`,
          [type],
        )
      ).rows.map((r) => [r.key, r.byte_size]),
    );
    const total = [...sizes.values()].reduce((a, b) => a + b, 0);
    const budget = Math.floor(total * 0.55);
    await q(`UPDATE pgcache.cache_types SET max_bytes = $2 WHERE name = $1`, [type, budget]);
    await setting('maintenance.batch_size', '2');

    // Expected: evict in policy order until the rest fits.
    const order = ORDER[policy] as string[];
    let left = total;
    let cut = 0;
    while (left > budget) left -= sizes.get(order[cut++] as string) as number;
    const report = (await maintain()).find((r) => r.cache_type === type);
    expect(report).toMatchObject({ evicted: String(cut), bytes: String(left), complete: true });
    expect(Number(report?.bytes)).toBeLessThanOrEqual(budget);
    expect(await keysOf(type)).toEqual(order.slice(cut).sort());
  });
});

describe('cache_maintenance', () => {
  it('deletes expired rows first, then evicts to the budget, in bounded steps, and reports both', async () => {
    await q(`SELECT pgcache.cache_create_type('ops_mix', 'jsonb', interval '1 day', 4, NULL, 'lru')`);
    await craft('ops_mix');
    await q(`UPDATE pgcache.cache_ops_mix SET expires_at = now() - interval '1 hour' WHERE key IN ('k5', 'k6', 'k7')`);
    await setting('maintenance.batch_size', '2');
    const rows = await maintain();
    expect(rows.map((r) => r.cache_type).sort()).toEqual(
      ['audio_chunks', 'default', 'embeddings', 'llm_responses', 'ops_mix', 'vector_search'].sort(),
    );
    const report = rows.find((r) => r.cache_type === 'ops_mix');
    expect(report).toMatchObject({ expired: '3', evicted: '3', entries: '4', complete: true, error: null });
    // lru among the 7 live ones: k0, k1, k2 go.
    expect(await keysOf('ops_mix')).toEqual(['k3', 'k4', 'k8', 'k9']);
    const history = await q(`SELECT * FROM pgcache.cache_maintenance_history WHERE cache_type = 'ops_mix'`);
    expect(history.rows).toHaveLength(1);
    expect(history.rows[0].duration_ms).toBeGreaterThanOrEqual(0);
  });

  it('holds a byte budget on a larger random data set after one run', async () => {
    await q(`SELECT pgcache.cache_create_type('ops_bytes', 'text', interval '1 day', NULL, NULL, 'fifo')`);
    await q(
      `SELECT pgcache.cache_set('ops_bytes', 'r' || i, repeat(md5(i::text), 1 + (i * 37) % 20)) FROM generate_series(1, 600) i`,
    );
    const { total } = await one(`SELECT sum(byte_size)::bigint AS total FROM pgcache.cache_ops_bytes`);
    const budget = Math.floor(Number(total) * 0.3);
    await q(`UPDATE pgcache.cache_types SET max_bytes = $1 WHERE name = 'ops_bytes'`, [budget]);
    await setting('maintenance.batch_size', '50');
    const report = (await maintain()).find((r) => r.cache_type === 'ops_bytes');
    const after = await one(
      `SELECT sum(byte_size)::bigint AS bytes, count(*)::bigint AS n FROM pgcache.cache_ops_bytes`,
    );
    expect(Number(after.bytes)).toBeLessThanOrEqual(budget);
    expect(Number(after.n)).toBeGreaterThan(0);
    expect(report).toMatchObject({ bytes: after.bytes, entries: after.n, complete: true });
    expect(Number(report?.evicted)).toBe(600 - Number(after.n));
  });

  it('starts no batch after its time budget, and visits the types in turn', async () => {
    await q(`SELECT pgcache.cache_set('default', 'e' || i, '1'::jsonb) FROM generate_series(1, 5) i`);
    await q(`UPDATE pgcache.cache_default SET expires_at = now() - interval '1 hour'`);
    await setting('maintenance.batch_size', '2');
    await setting('maintenance.time_budget', '0');
    // Each run does one batch of the type visited longest ago, and skips the rest.
    const runs: Report[][] = [];
    for (let i = 0; i < 7; i++) runs.push(await maintain());
    expect(runs.map((rows) => rows.map((r) => r.cache_type))).toEqual([
      ['default'],
      ['embeddings'],
      ['llm_responses'],
      ['vector_search'],
      ['audio_chunks'],
      ['default'],
      ['embeddings'],
    ]);
    expect(runs[0]?.[0]).toMatchObject({ expired: '2', complete: false });
    expect(runs[5]?.[0]).toMatchObject({ expired: '2', complete: false });
    expect((await one(`SELECT count(*)::int AS n FROM pgcache.cache_default`)).n).toBe(1);
  });

  it('gives up on a type whose table another session has locked, instead of queueing behind it', async () => {
    await q(`SELECT pgcache.cache_set('default', 'old', '1'::jsonb, interval '1 hour')`);
    await q(`UPDATE pgcache.cache_default SET expires_at = now() - interval '1 hour'`);
    await setting('maintenance.lock_timeout', '100ms');
    const locker = await db.pool.connect();
    const runner = await db.pool.connect();
    try {
      await locker.query('BEGIN');
      await locker.query('LOCK TABLE pgcache.cache_default IN SHARE MODE');
      // Returns while the lock is still held (it would wait forever without lock_timeout).
      const rows: Report[] = (await runner.query('SELECT * FROM pgcache.cache_maintenance()')).rows;
      const report = rows.find((r) => r.cache_type === 'default');
      expect(report).toMatchObject({ expired: '0', evicted: '0', complete: false });
      expect(report?.error).toMatch(/^lock_timeout: /);
      // The caller's own lock_timeout is untouched.
      expect((await runner.query('SHOW lock_timeout')).rows[0].lock_timeout).toBe('0');
      await locker.query('ROLLBACK');
    } finally {
      locker.release();
      runner.release();
    }
    const after = (await maintain()).find((r) => r.cache_type === 'default');
    expect(after).toMatchObject({ expired: '1', complete: true, error: null });
  });

  it('runs one at a time: a second caller returns at once with nothing done', async () => {
    const a = await db.pool.connect();
    const notices: string[] = [];
    const b = new pg.Client({ connectionString: db.url });
    b.on('notice', (n) => notices.push(n.message ?? ''));
    await b.connect();
    try {
      await a.query('BEGIN');
      expect((await a.query('SELECT * FROM pgcache.cache_maintenance()')).rowCount).toBeGreaterThan(0);
      expect((await b.query('SELECT * FROM pgcache.cache_maintenance()')).rowCount).toBe(0);
      expect(notices.join('\n')).toMatch(/another maintenance run .* is in progress/);
      await a.query('COMMIT');
      expect((await b.query('SELECT * FROM pgcache.cache_maintenance()')).rowCount).toBeGreaterThan(0);
    } finally {
      a.release();
      await b.end();
    }
  });

  it('never blocks concurrent writers past its time budget and lock timeout', async () => {
    const TIME_BUDGET_MS = 300;
    const LOCK_TIMEOUT_MS = 100;
    await setting('maintenance.time_budget', `${TIME_BUDGET_MS}ms`);
    await setting('maintenance.lock_timeout', `${LOCK_TIMEOUT_MS}ms`);
    await setting('maintenance.batch_size', '500');
    await q(`UPDATE pgcache.cache_types SET max_entries = 20000 WHERE name = 'default'`);
    try {
      // 40 000 rows, half expired: work for several runs.
      await q(
        `INSERT INTO pgcache.entries (type_id, key, version, value_json, byte_size, expires_at)
         SELECT 1, 'w:' || i, 1, to_jsonb(i), 20, now() + CASE WHEN i % 2 = 0 THEN interval '-1 minute' ELSE interval '1 hour' END
           FROM generate_series(1, 40000) i`,
      );
      const deadline = Date.now() + 3000;
      const latencies: number[] = [];
      const errors: unknown[] = [];
      const writer = async (id: number) => {
        const client = new pg.Client({ connectionString: db.url });
        await client.connect();
        try {
          for (let n = 0; Date.now() < deadline; n++) {
            // Rewrites keys maintenance is deleting (expired) or evicting.
            const key = `w:${(id * 7919 + n * 104_729) % 40000}`;
            const started = performance.now();
            try {
              await client.query(`SELECT pgcache.cache_set('default', $1, $2::jsonb)`, [
                key,
                JSON.stringify({ id, n }),
              ]);
            } catch (error) {
              errors.push(error);
            }
            latencies.push(performance.now() - started);
          }
        } finally {
          await client.end();
        }
      };
      const maintainer = async () => {
        const client = new pg.Client({ connectionString: db.url });
        await client.connect();
        const runs: Report[][] = [];
        try {
          while (Date.now() < deadline)
            runs.push((await client.query('SELECT * FROM pgcache.cache_maintenance()')).rows);
        } finally {
          await client.end();
        }
        return runs;
      };
      const [runs] = await Promise.all([maintainer(), ...Array.from({ length: 8 }, (_, i) => writer(i))]);
      expect(errors).toEqual([]);
      const defaults = runs.flat().filter((r) => r.cache_type === 'default');
      // Maintenance did real work beside the writers, and its budget cut runs short.
      expect(defaults.reduce((s, r) => s + Number(r.expired) + Number(r.evicted), 0)).toBeGreaterThan(0);
      expect(defaults.some((r) => !r.complete)).toBe(true);
      // A writer waits at most for one maintenance transaction: its time budget, plus one batch and lock wait,
      // plus scheduling slack on a busy machine.
      expect(Math.max(...latencies)).toBeLessThan(TIME_BUDGET_MS + LOCK_TIMEOUT_MS + 2000);
    } finally {
      await q(`UPDATE pgcache.cache_types SET max_entries = NULL WHERE name = 'default'`);
    }
  });

  it('keeps its history bounded to maintenance.history_rows, newest first kept', async () => {
    await setting('maintenance.history_rows', '12');
    for (let i = 0; i < 6; i++) await maintain();
    const { rows } = await q(`SELECT id FROM pgcache.cache_maintenance_history ORDER BY id`);
    expect(rows.length).toBeLessThanOrEqual(12);
    const { max } = await one(`SELECT max(id)::int AS max FROM pgcache.cache_maintenance_history`);
    expect(rows[0].id).toBe(String(max - rows.length + 1));
  });
});

describe('hit-rate snapshots', () => {
  it('takes at most one snapshot per interval, drops those past retention, and gives hit rate over time', async () => {
    await q(`SELECT pgcache.cache_set('default', 'h', '1'::jsonb)`);
    await maintain();
    await maintain(); // within the interval: no second snapshot
    expect(
      (await one(`SELECT count(*)::int AS n FROM pgcache.cache_stats_snapshots WHERE cache_type = 'default'`)).n,
    ).toBe(1);

    await setting('stats.snapshot_interval', '0');
    for (let i = 0; i < 3; i++) await q(`SELECT pgcache.cache_get('default', 'h')`);
    await q(`SELECT pgcache.cache_get('default', 'absent')`);
    await q(
      `INSERT INTO pgcache.cache_stats_snapshots (taken_at, type_id, cache_type, hits, misses)
       VALUES (now() - interval '8 days', 1, 'default', 0, 0)`,
    );
    await maintain();
    const { rows } = await q(
      `SELECT * FROM pgcache.cache_hit_rate_history WHERE cache_type = 'default' ORDER BY period_end DESC`,
    );
    expect(rows).toHaveLength(1); // the 8-day-old snapshot is gone, so one interval remains
    expect(rows[0]).toMatchObject({ hits: '3', misses: '1', hit_rate: 0.75 });
    const stats = await one(`SELECT hits, misses, entries FROM pgcache.cache_stats() WHERE cache_type = 'default'`);
    expect(rows[0]).toMatchObject({ total_hits: stats.hits, total_misses: stats.misses, entries: stats.entries });
  });
});

describe('monitoring views', () => {
  it('cache_sizes splits each type into table, TOAST and index bytes', async () => {
    // Incompressible text well over the TOAST threshold.
    await q(
      `SELECT pgcache.cache_set('llm_responses', 'big' || i, (SELECT string_agg(md5(random()::text), '') FROM generate_series(1, 400)))
         FROM generate_series(1, 5) i`,
    );
    const { rows } = await q(`SELECT * FROM pgcache.cache_sizes ORDER BY cache_type`);
    expect(rows.map((r) => r.cache_type)).toEqual([
      'audio_chunks',
      'default',
      'embeddings',
      'llm_responses',
      'vector_search',
    ]);
    for (const r of rows) {
      expect(Number(r.total_bytes)).toBe(Number(r.table_bytes) + Number(r.toast_bytes) + Number(r.index_bytes));
    }
    const llm = rows.find((r) => r.cache_type === 'llm_responses');
    expect(Number(llm.toast_bytes)).toBeGreaterThan(5 * 12_800 * 0.9);
    expect(Number(llm.index_bytes)).toBeGreaterThan(0);
  });

  it('cache_sizes sums a hash-partitioned type over its leaf tables', async () => {
    await q(`SELECT pgcache.cache_create_type('ops_hashed')`);
    await q(`SELECT pgcache.cache_set('ops_hashed', 'h' || i, to_jsonb(i)) FROM generate_series(1, 200) i`);
    await q(`SELECT pgcache.cache_hash_partition_type('ops_hashed', 4)`);
    const size = await one(`SELECT * FROM pgcache.cache_sizes WHERE cache_type = 'ops_hashed'`);
    const leaves = await one(
      `SELECT count(*)::int AS n, sum(pg_total_relation_size(relid))::bigint AS bytes
         FROM pg_partition_tree('pgcache.cache_ops_hashed') WHERE isleaf`,
    );
    expect(leaves.n).toBe(4);
    expect(size).toMatchObject({ table_name: 'cache_ops_hashed', total_bytes: leaves.bytes });
    expect(Number(size.table_bytes)).toBeGreaterThan(0);
    expect(Number(size.total_bytes)).toBe(
      Number(size.table_bytes) + Number(size.toast_bytes) + Number(size.index_bytes),
    );
  });

  it('cache_top_keys ranks live keys by hit score, per type, at most 100', async () => {
    await q(`SELECT pgcache.cache_set('default', 't' || i, to_jsonb(i)) FROM generate_series(1, 120) i`);
    await q(`UPDATE pgcache.cache_default SET hit_count = substr(key, 2)::int`);
    await q(`UPDATE pgcache.cache_default SET expires_at = now() - interval '1 hour' WHERE key = 't120'`);
    const { rows } = await q(`SELECT * FROM pgcache.cache_top_keys WHERE cache_type = 'default' ORDER BY rank`);
    expect(rows).toHaveLength(100);
    expect(rows.slice(0, 3).map((r) => [r.rank, r.key, r.hit_score])).toEqual([
      ['1', 't119', '119'],
      ['2', 't118', '118'],
      ['3', 't117', '117'],
    ]);
  });
});

describe('storage settings of cache tables', () => {
  const optionsOf = async (table: string) =>
    one(
      `SELECT c.reloptions AS main, t.reloptions AS toast FROM pg_class c JOIN pg_class t ON t.oid = c.reltoastrelid
        WHERE c.oid = $1::regclass`,
      [`pgcache.${table}`],
    );

  it('every type table, old or new, gets fillfactor and early autovacuum on the table and its TOAST', async () => {
    await q(`SELECT pgcache.cache_create_type('ops_new')`);
    for (const table of ['cache_default', 'cache_audio_chunks', 'cache_ops_new']) {
      expect(await optionsOf(table)).toEqual({
        main: ['fillfactor=75', 'autovacuum_vacuum_scale_factor=0.05', 'autovacuum_analyze_scale_factor=0.05'],
        toast: ['autovacuum_vacuum_scale_factor=0.05'],
      });
    }
  });

  it('core/11_storage.sql brings tables with other settings back, hash partitions included', async () => {
    const { readSqlFile } = await import('../../src/install/migrate.js');
    await q(`ALTER TABLE pgcache.cache_default RESET (fillfactor, toast.autovacuum_vacuum_scale_factor)`);
    await q(`SELECT pgcache.cache_create_type('ops_hashed')`);
    await q(`SELECT pgcache.cache_hash_partition_type('ops_hashed', 2)`);
    await q(`ALTER TABLE pgcache."cache_ops_hashed$1" RESET (toast.autovacuum_vacuum_scale_factor)`);
    const client = await db.pool.connect();
    try {
      await client.query('BEGIN');
      await client.query(`SET LOCAL search_path = pgcache, pg_temp`);
      await client.query(readSqlFile('core/11_storage.sql'));
      await client.query('COMMIT');
    } finally {
      client.release();
    }
    expect((await optionsOf('cache_default')).toast).toEqual(['autovacuum_vacuum_scale_factor=0.05']);
    expect((await optionsOf('cache_default')).main).toContain('fillfactor=75');
    expect((await optionsOf('"cache_ops_hashed$1"')).toast).toEqual(['autovacuum_vacuum_scale_factor=0.05']);
  });
});

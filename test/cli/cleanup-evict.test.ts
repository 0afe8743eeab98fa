// pgcache cleanup and evict: batches of cache_cleanup_expired() until a short one; cache_evict() per type.
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { useDatabase } from '../helpers/db.js';
import { cli } from '../helpers/process.js';

// Each test starts the CLI as a child process (tsx compiles on start): seconds each on a busy machine.
vi.setConfig({ testTimeout: 180_000 });

const db = useDatabase();
const q = (sql: string, params: unknown[] = []) => db.pool.query(sql, params);
const keys = async (type: string) =>
  (
    await q(
      `SELECT key FROM pgcache.entries WHERE type_id = (SELECT id FROM pgcache.cache_types WHERE name = $1) ORDER BY key`,
      [type],
    )
  ).rows.map((r) => r.key);

beforeEach(async () => {
  await q(`DELETE FROM pgcache.entries`);
  await q(`SELECT pgcache.cache_drop_type(name) FROM pgcache.cache_types WHERE name = 'budgeted'`);
  // default: k00..k09, created oldest first.
  for (let i = 0; i < 10; i++) {
    await q(`SELECT pgcache.cache_set('default', $1, to_jsonb(repeat('x', 100)))`, [`k${String(i).padStart(2, '0')}`]);
  }
  await q(`UPDATE pgcache.cache_default SET created_at = now() - ((10 - substr(key, 2)::int) || ' minutes')::interval`);
});

describe('pgcache cleanup', () => {
  it('deletes every expired and invalidated entry in batches until one comes back short', async () => {
    await q(`UPDATE pgcache.cache_default SET expires_at = now() - interval '1 second' WHERE key < 'k05'`);
    await q(`SELECT pgcache.cache_set('llm_responses', 'old', 'x'::text)`);
    await q(`SELECT pgcache.cache_bump_version('llm_responses')`);
    const { code, stdout, stderr } = await cli(['cleanup', '--batch', '2', '--json', '--database-url', db.url]);
    expect(stderr).toBe('');
    expect(code).toBe(0);
    // 6 rows with batches of 2: 2, 2, 2, then 0 (short).
    expect(JSON.parse(stdout)).toMatchObject({ type: null, deleted: 6, batches: 4 });
    expect(await keys('default')).toEqual(['k05', 'k06', 'k07', 'k08', 'k09']);
    expect(await keys('llm_responses')).toEqual([]);
  });

  it('--type limits it to one type, and the summary line says what it did', async () => {
    await q(`UPDATE pgcache.cache_default SET expires_at = now() - interval '1 second' WHERE key IN ('k01', 'k02')`);
    await q(`SELECT pgcache.cache_set('llm_responses', 'gone', 'x'::text)`);
    await q(`UPDATE pgcache.cache_llm_responses SET expires_at = now() - interval '1 second'`);
    const { code, stdout } = await cli(['cleanup', '--type', 'default', '--database-url', db.url]);
    expect(code).toBe(0);
    expect(stdout).toMatch(/^Deleted 2 expired or invalidated entries of type "default" in 1 batch \(/);
    expect(await keys('default')).toHaveLength(8);
    expect(await keys('llm_responses')).toEqual(['gone']);
  });

  it("reports pgcache's error for an unknown type", async () => {
    const { code, stderr } = await cli(['cleanup', '--type', 'nope', '--database-url', db.url]);
    expect(code).toBe(1);
    expect(stderr).toContain('cache type "nope" does not exist (SQLSTATE PC001)');
  });
});

describe('pgcache evict', () => {
  it('brings one type down to an entry budget under the chosen policy', async () => {
    const { code, stdout } = await cli([
      'evict',
      '--type',
      'default',
      '--max-entries',
      '6',
      '--policy',
      'fifo',
      '--database-url',
      db.url,
    ]);
    expect(code).toBe(0);
    expect(stdout).toContain('default: evicted 4; now 6 entries');
    // fifo: the four oldest writes (k00..k03) go.
    expect(await keys('default')).toEqual(['k04', 'k05', 'k06', 'k07', 'k08', 'k09']);
  });

  it('takes byte budgets in PostgreSQL units', async () => {
    const { rows } = await q(`SELECT sum(byte_size)::int AS total FROM pgcache.cache_default`);
    const { code, stdout } = await cli([
      'evict',
      '-t',
      'default',
      '--max-bytes',
      '1kB',
      '--json',
      '--database-url',
      db.url,
    ]);
    expect(code).toBe(0);
    const result = JSON.parse(stdout);
    const after = (
      await q(`SELECT coalesce(sum(byte_size), 0)::int AS total, count(*)::int AS n FROM pgcache.cache_default`)
    ).rows[0];
    expect(after.total).toBeLessThanOrEqual(1024);
    expect(result).toMatchObject({ evicted: 10 - after.n, types: [{ cache_type: 'default', evicted: 10 - after.n }] });
    expect(rows[0].total).toBeGreaterThan(1024);
  });

  it('without --type, brings every type under its own budgets', async () => {
    await q(`SELECT pgcache.cache_create_type('budgeted', 'jsonb', interval '1 hour', 3)`);
    for (let i = 0; i < 5; i++) await q(`SELECT pgcache.cache_set('budgeted', $1, '1'::jsonb)`, [`b${i}`]);
    const { code, stdout } = await cli(['evict', '--json', '--database-url', db.url]);
    expect(code).toBe(0);
    const result = JSON.parse(stdout);
    expect(result.evicted).toBe(2);
    expect(result.types).toContainEqual({ cache_type: 'budgeted', evicted: 2 });
    expect(result.types).toContainEqual({ cache_type: 'default', evicted: 0 });
    expect(await keys('budgeted')).toHaveLength(3);
    expect(await keys('default')).toHaveLength(10);
  });

  it('refuses budget overrides without --type, and passes bad values to SQL to judge', async () => {
    const noType = await cli(['evict', '--max-entries', '0', '--database-url', db.url]);
    expect(noType.code).toBe(2);
    expect(noType.stderr).toContain('add --type <name>');
    expect(await keys('default')).toHaveLength(10);
    const badPolicy = await cli(['evict', '-t', 'default', '--policy', 'random', '--database-url', db.url]);
    expect(badPolicy.code).toBe(1);
    expect(badPolicy.stderr).toContain(
      'pgcache: argument "policy" must be lru, lfu, fifo or ttl, got random (SQLSTATE PC010)',
    );
    const badSize = await cli(['evict', '-t', 'default', '--max-bytes', 'lots', '--database-url', db.url]);
    expect(badSize.code).toBe(1);
    expect(badSize.stderr).toContain('invalid size: "lots"');
  });
});

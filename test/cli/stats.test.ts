// pgcache stats: the table and --json carry exactly what cache_stats() returns.
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { useDatabase } from '../helpers/db.js';
import { cli } from '../helpers/process.js';

// Each test starts the CLI as a child process (tsx compiles on start): seconds each on a busy machine.
vi.setConfig({ testTimeout: 180_000 });

const db = useDatabase();
const q = (sql: string, params: unknown[] = []) => db.pool.query(sql, params);

beforeAll(async () => {
  for (let i = 0; i < 3; i++) await q(`SELECT pgcache.cache_set('default', $1, $2::jsonb)`, [`k${i}`, `{"n": ${i}}`]);
  await q(`SELECT pgcache.cache_set('llm_responses', 'q1', 'an answer'::text)`);
  await q(`SELECT pgcache.cache_get('default', 'k0')`); // hit
  await q(`SELECT pgcache.cache_get('default', 'k1')`); // hit
  await q(`SELECT pgcache.cache_get('default', 'nope')`); // miss
  await q(`UPDATE pgcache.cache_default SET expires_at = now() - interval '1 minute' WHERE key = 'k2'`);
});

describe('pgcache stats', () => {
  it('--json prints the rows of cache_stats() with numbers as numbers', async () => {
    const { code, stdout, stderr } = await cli(['stats', '--json', '--database-url', db.url]);
    expect(stderr).toBe('');
    expect(code).toBe(0);
    const rows = JSON.parse(stdout);
    const expected = (await q(`SELECT * FROM pgcache.cache_stats()`)).rows;
    expect(rows.map((r: { cache_type: string }) => r.cache_type)).toEqual(expected.map((r) => r.cache_type));
    const def = rows.find((r: { cache_type: string }) => r.cache_type === 'default');
    expect(def).toMatchObject({
      value_kind: 'jsonb',
      entries: 3,
      valid_entries: 2,
      hits: 2,
      misses: 1,
      eviction_policy: 'lru',
      max_entries: null,
      max_bytes: null,
    });
    expect(def.hit_rate).toBeCloseTo(2 / 3, 10);
    expect(def.bytes).toBe(Number(expected.find((r) => r.cache_type === 'default').bytes));
    expect(rows.find((r: { cache_type: string }) => r.cache_type === 'llm_responses')).toMatchObject({
      entries: 1,
      hits: 0,
      misses: 0,
      hit_rate: null,
    });
  });

  it('prints a table with one row per type', async () => {
    const { code, stdout } = await cli(['stats', '--database-url', db.url]);
    expect(code).toBe(0);
    const lines = stdout.trim().split('\n');
    expect(lines[1]).toMatch(/│ type +│ kind +│ entries │ live │ size +│ hits │ misses │ hit rate │ policy │ budget │/);
    const def = lines.find((l) => l.startsWith('│ default '));
    expect(def?.split('│').map((c) => c.trim())).toEqual(
      expect.arrayContaining(['default', 'jsonb', '3', '2', '2', '1', '66.7%', 'lru', '-']),
    );
    expect(lines.filter((l) => l.startsWith('│ ')).length).toBe(1 + 5); // header + the five seed types
  });

  it('--type narrows to one type, and an unknown type is an error', async () => {
    const one = await cli(['stats', '--json', '--type', 'llm_responses', '--database-url', db.url]);
    expect(JSON.parse(one.stdout).map((r: { cache_type: string }) => r.cache_type)).toEqual(['llm_responses']);
    const none = await cli(['stats', '--type', 'nope', '--database-url', db.url]);
    expect(none.code).toBe(1);
    expect(none.stderr).toContain('there is no cache type "nope"');
  });

  it('reads DATABASE_URL, and says how to connect when there is none', async () => {
    const viaEnv = await cli(['stats', '--json'], { env: { DATABASE_URL: db.url } });
    expect(viaEnv.code).toBe(0);
    expect(JSON.parse(viaEnv.stdout)).toHaveLength(5);
    const nothing = await cli(['stats']);
    expect(nothing.code).toBe(2);
    expect(nothing.stderr).toContain('pass --database-url <url> or set DATABASE_URL');
  });

  it('says how to install when the schema has no pgcache', async () => {
    const { code, stderr } = await cli(['stats', '--schema', 'elsewhere', '--database-url', db.url]);
    expect(code).toBe(1);
    expect(stderr).toContain('pgcache is not installed in schema "elsewhere"');
    expect(stderr).toContain('pgcache migrate --schema elsewhere');
  });
});

// pgcache savings and pgcache semantic-stats: what hits saved, and the chart of semantic distances, from SQL.
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { sinceDay } from '../../src/cli/commands/savings.js';
import { useDatabase } from '../helpers/db.js';
import { cli } from '../helpers/process.js';

// Each test starts the CLI as a child process (tsx compiles on start): seconds each on a busy machine.
vi.setConfig({ testTimeout: 180_000 });

const db = useDatabase();
const q = (sql: string, params: unknown[] = []) => db.pool.query(sql, params);

beforeAll(async () => {
  await q(`SELECT pgcache.cache_configure_price('cli-gpt', 1, 4)`);
  await q(
    `SELECT pgcache.cache_set('llm_responses', 'a', 'answer'::text, interval '1 hour', NULL, pgcache.cache_cost('cli-gpt', 1000, 500))`,
  );
  for (let i = 0; i < 3; i++) await q(`SELECT pgcache.cache_get_text('llm_responses', 'a')`);
  await q(
    `SELECT pgcache.cache_set_with_embedding('llm_responses', 'e', 'v'::text, '{1,0,0}'::real[], 'cli-emb', interval '1 hour')`,
  );
  for (const probe of ['[1,0,0]', '[1,0.1,0]', '[0,1,0]']) {
    await q(`SELECT * FROM pgcache.cache_semantic_get('llm_responses', $1::vector, 'cli-emb', 0.05)`, [probe]);
  }
  await q(`SELECT pgcache.cache_configure_semantic_max_distance('llm_responses', 0.03)`);
});

describe('pgcache savings', () => {
  it('--json prints the rows of cache_savings; the table ends with totals per currency', async () => {
    const json = await cli(['savings', '--json', '--since', '1d', '--database-url', db.url]);
    expect(json.stderr).toBe('');
    expect(JSON.parse(json.stdout)).toEqual([
      expect.objectContaining({
        cacheType: 'llm_responses',
        model: 'cli-gpt',
        tenant: null,
        currency: 'USD',
        hits: 3,
        tokens: 4500,
        cost: 9, // (1000 x 1 + 500 x 4) / 1000 per hit
      }),
    ]);
    const table = await cli(['savings', '--database-url', db.url]);
    expect(table.code).toBe(0);
    expect(table.stdout).toMatch(/│ llm_responses │ cli-gpt │ - +│ +3 │ +4,500 │/);
    expect(table.stdout).toMatch(/total: 3 hits saved 4,500 tokens, 0 characters, 0\.0 s of compute, 9\.00 USD/);
    const future = await cli(['savings', '--json', '--since', '2999-01-01', '--database-url', db.url]);
    expect(JSON.parse(future.stdout)).toEqual([]);
    const bad = await cli(['savings', '--since', 'last week', '--database-url', db.url]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--since takes a date/);
  });

  it('reads --since as a date or days back', () => {
    const now = new Date('2026-03-10T12:00:00Z');
    expect(sinceDay('2026-01-31', now)).toBe('2026-01-31');
    expect(sinceDay('7d', now)).toBe('2026-03-03');
    expect(sinceDay('0 days', now)).toBe('2026-03-10');
  });
});

describe('pgcache semantic-stats', () => {
  it('charts hits and misses per distance bucket with the limit marked, and prints them as JSON', async () => {
    const { code, stdout, stderr } = await cli(['semantic-stats', '--model', 'cli-emb', '--database-url', db.url]);
    expect(stderr).toBe('');
    expect(code).toBe(0);
    expect(stdout).toContain('llm_responses · cli-emb: 3 lookups, 2 hits, 1 misses');
    expect(stdout).toMatch(/0\.00-0\.01 │█+ 2 \/ 0/);
    expect(stdout).toMatch(/0\.03-0\.04 ┤ +← limit/);
    expect(stdout).toMatch(/1\.00-1\.01 │░+ 0 \/ 1/);
    const json = await cli(['semantic-stats', '--json', '--type', 'llm_responses', '--database-url', db.url]);
    const [stats] = JSON.parse(json.stdout);
    expect(stats).toMatchObject({ model: 'cli-emb', hits: 2, misses: 1, typeMaxDistance: 0.03 });
    const binned = await cli(['semantic-stats', '--bin', '0.5', '--database-url', db.url]);
    expect(binned.stdout).toMatch(/0\.00-0\.50 ┤█+ 2 \/ 0  ← limit/);
  });
});

// pgcache warm: JSONL through cache_set(); bad lines reported by line number and skipped, every good line stored,
// and nothing of a bad line left behind (not even the model a failing vector line would have registered).
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { useDatabase } from '../helpers/db.js';
import { cli } from '../helpers/process.js';

// Each test starts the CLI as a child process (tsx compiles on start): seconds each on a busy machine.
vi.setConfig({ testTimeout: 180_000 });

const db = useDatabase();
const q = (sql: string, params: unknown[] = []) => db.pool.query(sql, params);
const one = async (sql: string, params: unknown[] = []) => (await q(sql, params)).rows[0];

const LINES = [
  /* 1 */ '{"type": "default", "key": "user:1", "value": {"name": "Ada"}}',
  /* 2 */ '{"type": "default", "key": "user:2", "value": [1, 2, 3], "ttl": "2 hours"}',
  /* 3 */ '{"type": "default", "key": "broken",',
  /* 4 */ '',
  /* 5 */ '{"type": "llm_responses", "key": "q1", "value": "an answer", "model": "gpt-4o", "meta": {"tokens_used": 9}}',
  /* 6 */ '{"type": "llm_responses", "key": "q2", "value": {"not": "text"}}',
  /* 7 */ '{"type": "audio_chunks", "key": "tts:1", "value": "T2dnUw==", "meta": {"format": "opus", "duration_ms": 640}}',
  /* 8 */ '{"type": "audio_chunks", "key": "tts:2", "value": "not base64!"}',
  /* 9 */ '{"type": "embeddings", "key": "e1", "value": [0.5, 0.25, 0.125], "model": "m3"}',
  /* 10 */ '{"type": "embeddings", "key": "e2", "value": [0.5, 0.25], "model": "m3"}',
  /* 11 */ '{"type": "embeddings", "key": "e3", "value": [1, 2, 3, 4], "model": "m-new", "meta": {"bogus": 1}}',
  /* 12 */ '{"type": "nope", "key": "x", "value": 1}',
  /* 13 */ '{"key": "no-type", "value": 1}',
  /* 14 */ '{"type": "default", "key": "", "value": 1}',
  /* 15 */ '{"type": "default", "key": "user:3", "value": 1, "ttl": "forever"}',
  /* 16 */ '[1, 2]',
  /* 17 */ '{"type": "default", "key": "user:4", "value": true, "tll": "1 hour"}',
  /* 18 */ '{"type": "default", "key": "user:5", "value": "last", "ttl": 60}',
  /* 19 */ '{"type": "llm_responses", "key": "q3", "value": "answer 3", "meta": {"tokens_used": "many"}}',
];

function file(lines: string[]): string {
  const path = join(mkdtempSync(join(tmpdir(), 'pgcache-warm-')), 'entries.jsonl');
  writeFileSync(path, `${lines.join('\n')}\n`);
  return path;
}

describe('pgcache warm', () => {
  it('stores every good line, reports each bad line with its number and skips it', async () => {
    const path = file(LINES);
    const { code, stdout, stderr } = await cli(['warm', path, '--batch', '3', '--database-url', db.url]);
    expect(code).toBe(1); // some lines were skipped
    expect(stdout).toMatch(new RegExp(`^Stored 6 entries from 19 lines of ${path}; skipped 12 bad lines \\(`));
    const reported = stderr
      .trim()
      .split('\n')
      .map((l) => l.match(/^line (\d+): (.*)$/))
      .map((m) => [Number(m?.[1]), m?.[2]]);
    expect(reported.map(([n]) => n)).toEqual([3, 6, 8, 10, 11, 12, 13, 14, 15, 16, 17, 19]);
    const why = Object.fromEntries(reported);
    expect(why[3]).toMatch(/^invalid JSON: /);
    expect(why[6]).toBe('"value" must be a string: type "llm_responses" holds text');
    expect(why[8]).toBe('"value" must be base64 text: type "audio_chunks" holds bytea');
    expect(why[10]).toBe(
      'pgcache: argument "value" has 2 dimensions; model "m3" is registered with 3 (SQLSTATE PC006)',
    );
    expect(why[11]).toMatch(/^pgcache: argument "meta" has attribute "bogus" .* \(SQLSTATE PC010\)$/);
    expect(why[12]).toBe('pgcache: cache type "nope" does not exist (SQLSTATE PC001)');
    expect(why[13]).toBe('no "type" (add one to the line or pass --type)');
    expect(why[14]).toBe('pgcache: argument "key" must be a non-empty string (SQLSTATE PC002)');
    expect(why[15]).toMatch(/invalid input syntax for type interval: "forever" \(SQLSTATE 22007\)$/);
    expect(why[16]).toBe('not a JSON object');
    expect(why[17]).toBe('unknown field(s) "tll"');
    expect(why[19]).toMatch(/^pgcache: argument "meta" has attribute "tokens_used" .* \(SQLSTATE PC010\)$/);

    // The good lines, whole.
    expect((await q(`SELECT key FROM pgcache.cache_default ORDER BY key`)).rows.map((r) => r.key)).toEqual([
      'user:1',
      'user:2',
      'user:5',
    ]);
    expect((await one(`SELECT pgcache.cache_get('default', 'user:1') AS v`)).v).toEqual({ name: 'Ada' });
    expect(
      await one(
        `SELECT value_json AS v, (expires_at - created_at)::text AS ttl FROM pgcache.cache_default WHERE key = 'user:2'`,
      ),
    ).toEqual({ v: [1, 2, 3], ttl: '02:00:00' });
    expect(
      await one(
        `SELECT value_json AS v, (expires_at - created_at)::text AS ttl FROM pgcache.cache_default WHERE key = 'user:5'`,
      ),
    ).toEqual({ v: 'last', ttl: '00:01:00' });
    expect(await one(`SELECT key, value_text, model, meta FROM pgcache.cache_llm_responses`)).toEqual({
      key: 'q1',
      value_text: 'an answer',
      model: 'gpt-4o',
      meta: { tokens_used: 9 },
    });
    const audio = await one(`SELECT key, value_bytes, meta FROM pgcache.cache_audio_chunks`);
    expect(audio).toEqual({
      key: 'tts:1',
      value_bytes: Buffer.from('OggS'),
      meta: { format: 'opus', duration_ms: 640 },
    });
    expect(await one(`SELECT key, value_vector, model FROM pgcache.cache_embeddings`)).toEqual({
      key: 'e1',
      value_vector: [0.5, 0.25, 0.125],
      model: 'm3',
    });
    // Line 11 registered model m-new before its meta failed; the savepoint took that back too.
    expect((await q(`SELECT model, dimensions FROM pgcache.cache_models ORDER BY model`)).rows).toEqual([
      { model: 'm3', dimensions: 3 },
    ]);
  });

  it('reads stdin, applies --type and --ttl to lines without them, and prints a JSON summary', async () => {
    const input = [
      '{"key": "s1", "value": 1}',
      '{"key": "s2", "value": 2, "ttl": "5 minutes"}',
      'not json',
      '{"type": "llm_responses", "key": "s3", "value": "text"}',
    ].join('\n');
    const { code, stdout } = await cli(
      [
        'warm',
        '-',
        '--type',
        'default',
        '--ttl',
        '3 hours',
        '--single-transaction',
        '--json',
        '--database-url',
        db.url,
      ],
      { input },
    );
    expect(code).toBe(1);
    const summary = JSON.parse(stdout);
    expect(summary).toMatchObject({ lines: 4, stored: 3, skipped: 1 });
    expect(summary.bad).toEqual([{ line: 3, error: expect.stringMatching(/^invalid JSON: /) }]);
    const rows = (
      await q(
        `SELECT key, (expires_at - created_at)::text AS ttl FROM pgcache.entries WHERE key IN ('s1', 's2', 's3') ORDER BY key`,
      )
    ).rows;
    expect(rows).toEqual([
      { key: 's1', ttl: '03:00:00' },
      { key: 's2', ttl: '00:05:00' },
      { key: 's3', ttl: '03:00:00' },
    ]);
  });

  it('exits 0 when every line is good; without ttl the type default applies', async () => {
    const path = file(['{"type": "vector_search", "key": "v1", "value": {"ids": [1, 2]}}']);
    const { code, stdout, stderr } = await cli(['warm', path, '--database-url', db.url]);
    expect(stderr).toBe('');
    expect(code).toBe(0);
    expect(stdout).toMatch(/^Stored 1 entry from 1 line of /);
    const row = await one(
      `SELECT value_json AS v, (expires_at - created_at) = (SELECT default_ttl FROM pgcache.cache_types WHERE name = 'vector_search') AS default_ttl
         FROM pgcache.cache_vector_search WHERE key = 'v1'`,
    );
    expect(row).toEqual({ v: { ids: [1, 2] }, default_ttl: true });
  });
});

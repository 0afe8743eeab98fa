// `npm start`: the embedded demo on PGlite runs to the end on a fresh data directory (as on a fresh clone) and
// prints the stats table; a second run reuses the directory and answers from the cache; --serve keeps the
// database up for the CLI, whose doctor then sees PGlite.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { repoRoot } from '../../scripts/lib/cluster.js';
import { type CliResult, captureOutput, cli, completion, tsx } from '../helpers/process.js';

// Each test starts the CLI as a child process (tsx compiles on start): seconds each on a busy machine.
vi.setConfig({ testTimeout: 180_000 });

const dataDir = join(mkdtempSync(join(tmpdir(), 'pgcache-demo-')), 'pglite');
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

function npmStart(args: string[]): Promise<CliResult> {
  const env = { ...process.env };
  delete env.DATABASE_URL;
  return completion(spawn('npm', ['start', '--', ...args], { cwd: repoRoot, env }));
}

/** The stats table's rows as {type: [entries, live, size, hits, misses, hit rate]}. */
function statsTable(stdout: string): Record<string, string[]> {
  const start = stdout.indexOf('SELECT * FROM "pgcache".cache_stats();');
  expect(start).toBeGreaterThan(-1);
  // The table ends at the first blank line (the savings table follows).
  const table = stdout.slice(start).split('\n\n')[0] ?? '';
  const rows = table
    .split('\n')
    .filter((l) => l.startsWith('│ '))
    .map((l) =>
      l
        .split('│')
        .slice(1, -1)
        .map((c) => c.trim()),
    );
  expect(rows[0]).toEqual([
    'type',
    'kind',
    'entries',
    'live',
    'size',
    'hits',
    'misses',
    'hit rate',
    'policy',
    'budget',
  ]);
  return Object.fromEntries(rows.slice(1).map((r) => [r[0], [r[2], r[3], r[5], r[6], r[7]]]));
}

/** The savings table's rows as {type: [model, hits, tokens, characters]}, read from cache_savings. */
function savingsTable(stdout: string): Record<string, string[]> {
  const start = stdout.indexOf('SELECT * FROM "pgcache".cache_savings;');
  expect(start).toBeGreaterThan(-1);
  const rows = stdout
    .slice(start)
    .split('\n')
    .filter((l) => l.startsWith('│ '))
    .map((l) =>
      l
        .split('│')
        .slice(1, -1)
        .map((c) => c.trim()),
    );
  expect(rows[0]?.slice(0, 5)).toEqual(['day', 'type', 'model', 'tenant', 'hits']);
  return Object.fromEntries(rows.slice(1).map((r) => [r[1], [r[2], r[4], r[5], r[6]]]));
}

describe('npm start', () => {
  it('runs the demo on a new PGlite database with no server, to the end, and prints the stats table', async () => {
    const { code, stdout, stderr } = await npmStart(['--data-dir', dataDir]);
    expect(stderr).not.toMatch(/error|failed/i);
    expect(code).toBe(0);
    expect(stdout).toContain(`Creating a new PGlite database in ${dataDir}`);
    expect(stdout).toMatch(/PGlite created in .*: PostgreSQL 18\.\d+ with pgvector 0\.8\.\d+/);
    expect(stdout).toMatch(/Installed pgcache in schema "pgcache" through its migrations \(0001_install, /);
    expect(stdout).toContain('Maintenance: PGlite has no pg_cron, so this process runs "pgcache".cache_maintenance()');
    expect(stdout).toContain('embeddings    72 lookups: 32 embedded, 40 from the cache');
    expect(stdout).toContain('vector search 60 searches (top 3 by cosine distance): 20 run, 40 from the cache');
    expect(stdout).toMatch(
      /LLM responses 60 questions: 20 LLM calls \([\d,]+ tokens\), 40 answered from the cache \([\d,]+ tokens, [\d.]+ USD saved\)/,
    );
    expect(stdout).toMatch(
      /audio chunks {2}6 answers spoken: 2 synthesized \([\d.]+ kB\), 4 from the cache \([\d,]+ characters, [\d.]+ USD saved\)/,
    );
    // What hits saved comes from cache_savings: 40 answers and 4 spoken answers, each at its recorded cost.
    const saved = savingsTable(stdout);
    expect(saved.llm_responses?.slice(0, 2)).toEqual(['fake-llm-1', '40']);
    expect(saved.audio_chunks?.slice(0, 2)).toEqual(['fake-tts-1', '4']);
    expect(stdout).toMatch(/maintenance {3}the timer ran cache_maintenance\(\) at .* UTC: expired 10, evicted 0 in /);
    // entries, live, hits, misses, hit rate
    expect(statsTable(stdout)).toEqual({
      audio_chunks: ['2', '2', '4', '2', '66.7%'],
      default: ['0', '0', '0', '0', '-'],
      embeddings: ['32', '32', '40', '32', '55.6%'],
      llm_responses: ['20', '20', '40', '20', '66.7%'],
      vector_search: ['20', '20', '40', '20', '66.7%'],
    });
    expect(stdout).toMatch(/Done in [\d.]+ s\. The cache is kept in /);
  }, 180_000);

  it('reuses the data directory on the next run: the answers come from the cache', async () => {
    const { code, stdout } = await npmStart(['--data-dir', dataDir]);
    expect(code).toBe(0);
    expect(stdout).toContain(`Opening the PGlite database in ${dataDir}`);
    expect(stdout).toContain('pgcache is already installed in schema "pgcache" (migrations up to date).');
    expect(stdout).toMatch(/LLM responses 60 questions: 0 LLM calls \(0 tokens\), 60 answered from the cache/);
    expect(savingsTable(stdout).llm_responses?.slice(0, 2)).toEqual(['fake-llm-1', '100']); // both runs, one day
    expect(statsTable(stdout).llm_responses).toEqual(['20', '20', '100', '20', '83.3%']);
  }, 180_000);
});

describe('pgcache demo --serve', () => {
  it('serves the embedded database to the CLI until interrupted', async () => {
    const env = { ...process.env };
    delete env.DATABASE_URL;
    const child = spawn(tsx, ['src/cli/main.ts', 'demo', '--in-memory', '--serve'], { cwd: repoRoot, env });
    const output = captureOutput(child);
    const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
    const url = await new Promise<string>((resolve, reject) => {
      child.stdout.on('data', () => {
        const m = output.stdout.match(/Serving until Ctrl-C\. Try: {2}psql (\S+)/);
        if (m?.[1]) resolve(m[1]);
      });
      child.on('close', () => reject(new Error(`demo exited early:\n${output.stdout}`)));
    });
    try {
      const stats = await cli(['stats', '--json', '--database-url', url]);
      expect(stats.code).toBe(0);
      expect(
        JSON.parse(stats.stdout).find((r: { cache_type: string }) => r.cache_type === 'llm_responses'),
      ).toMatchObject({ entries: 20, hits: 40, misses: 20 });
      const doctor = await cli(['doctor', '--database-url', url]);
      expect(doctor.stdout).toMatch(/^ok {4}server +PostgreSQL 18\.\d+ \(PGlite, embedded\)/m);
      expect(doctor.stdout).toMatch(/^ok {4}pgcache +installed in schema "pgcache"/m);
      expect(doctor.stdout).toMatch(
        /^WARN {2}pg_cron +PGlite has no pg_cron; maintenance must run from the TS side on a timer/m,
      );
      expect(doctor.code).toBe(0); // warnings do not fail
    } finally {
      child.kill('SIGINT');
    }
    expect(await exited).toBe(0);
    expect(output.stdout).toContain('Stopping.');
  }, 180_000);
});

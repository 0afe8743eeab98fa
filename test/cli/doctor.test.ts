// pgcache doctor against real servers: the test cluster (pg_cron preloaded), a second cluster started the way a
// fresh install leaves it (pg_cron installed on the machine but not preloaded), and no server at all. Where it
// prints a fix, the test applies that fix and checks the problem is gone.
import { appendFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { startPlainCluster, type ThrowawayCluster } from '../../scripts/lib/cluster.js';
import { withClient } from '../../scripts/lib/databases.js';
import { useDatabase } from '../helpers/db.js';
import { cli } from '../helpers/process.js';

// Each test starts the CLI as a child process (tsx compiles on start): seconds each on a busy machine.
vi.setConfig({ testTimeout: 180_000 });

const db = useDatabase();

/** The doctor's line for one check: [status, summary]. */
function check(stdout: string, name: string): [string, string] | undefined {
  const line = stdout.split('\n').find((l) => l.slice(6).startsWith(`${name} `));
  return line ? [line.slice(0, 4).trim(), line.slice(6 + name.length).trim()] : undefined;
}

describe('doctor on the test cluster', () => {
  it('passes the install checks and fails on the missing maintenance job, naming the fix', async () => {
    const { code, stdout } = await cli(['doctor', '--database-url', db.url]);
    expect(code).toBe(1);
    expect(check(stdout, 'server')?.[0]).toBe('ok');
    expect(check(stdout, 'pgcache')).toEqual([
      'ok',
      expect.stringMatching(/^installed in schema "pgcache", at migration \S+ \(up to date\)$/),
    ]);
    expect(check(stdout, 'pgvector')?.[0]).toBe('ok');
    expect(check(stdout, 'pg_cron preload')?.[0]).toBe('ok');
    expect(check(stdout, 'pg_cron extension')?.[0]).toBe('ok');
    expect(check(stdout, 'maintenance job')).toEqual([
      'FAIL',
      `no pg_cron job runs pgcache.cache_maintenance() for "${db.name}": expired entries stay until read`,
    ]);
    expect(stdout).toContain('fix: pgcache schedule --schema pgcache');
    expect(check(stdout, 'bloat')?.[0]).toBe('ok');
    expect(stdout.trim().split('\n').at(-1)).toBe('1 problem found.');
  });

  it('finds dead rows in a cache table, and the VACUUM it suggests clears them', async () => {
    const client = new pg.Client({ connectionString: db.url });
    await client.connect();
    try {
      await client.query('ALTER TABLE pgcache.cache_default SET (autovacuum_enabled = off)');
      await client.query(`SELECT pgcache.cache_set('default', 'b' || i, to_jsonb(i)) FROM generate_series(1, 3000) i`);
      await client.query(
        `SELECT pgcache.cache_set('default', 'keep' || i, to_jsonb(i)) FROM generate_series(1, 100) i`,
      );
      await client.query(`SELECT pgcache.cache_invalidate_prefix('default', 'b')`);
      // Publish this session's table statistics now (PostgreSQL flushes them at most once a second otherwise).
      await client.query('SELECT pg_stat_force_next_flush()');
      await client.query('SELECT 1');
    } finally {
      await client.end();
    }
    const json = await cli(['doctor', '--json', '--database-url', db.url]);
    expect(json.code).toBe(1);
    const bloat = JSON.parse(json.stdout).find((c: { name: string }) => c.name === 'bloat');
    expect(bloat.status).toBe('fail');
    expect(bloat.summary).toBe('cache_default: 3,000 dead / 100 live (97%), autovacuum disabled on the table');
    expect(bloat.fix.split('\n')[0]).toBe('VACUUM (ANALYZE) "pgcache"."cache_default";');

    await db.pool.query('VACUUM (ANALYZE) "pgcache"."cache_default"');
    const after = await cli(['doctor', '--json', '--database-url', db.url]);
    expect(JSON.parse(after.stdout).find((c: { name: string }) => c.name === 'bloat').status).toBe('ok');
  });

  it('looks at the leaves of a hash-partitioned type', async () => {
    await db.pool.query(`SELECT pgcache.cache_hash_partition_type('vector_search', 2)`);
    const leaves = (
      await db.pool.query(
        `SELECT table_name FROM pgcache.cache_partitions WHERE cache_type = 'vector_search' ORDER BY 1`,
      )
    ).rows.map((r) => r.table_name as string);
    expect(leaves).toHaveLength(2);
    const client = new pg.Client({ connectionString: db.url });
    await client.connect();
    try {
      for (const leaf of leaves)
        await client.query(`ALTER TABLE pgcache.${pg.escapeIdentifier(leaf)} SET (autovacuum_enabled = off)`);
      await client.query(
        `SELECT pgcache.cache_set('vector_search', 'v' || i, to_jsonb(i)) FROM generate_series(1, 400) i`,
      );
      await client.query(`SELECT pgcache.cache_invalidate_prefix('vector_search', 'v')`);
      await client.query('SELECT pg_stat_force_next_flush()');
      await client.query('SELECT 1');
    } finally {
      await client.end();
    }
    const { stdout } = await cli(['doctor', '--json', '--bloat-min-dead', '1', '--database-url', db.url]);
    const bloat = JSON.parse(stdout).find((c: { name: string }) => c.name === 'bloat');
    expect(bloat.status).toBe('fail');
    const dead = [...(bloat.summary as string).matchAll(/(cache_vector_search\S*): ([\d,]+) dead \/ 0 live \(100%\)/g)];
    expect(dead.map((m) => m[1]).sort()).toEqual(leaves);
    expect(dead.reduce((n, m) => n + Number(m[2]?.replace(',', '')), 0)).toBe(400);
    for (const leaf of leaves) expect(bloat.fix).toContain(`VACUUM (ANALYZE) "pgcache".${pg.escapeIdentifier(leaf)};`);
    for (const leaf of leaves) await db.pool.query(`VACUUM pgcache.${pg.escapeIdentifier(leaf)}`);
  });

  it('--no-cron skips the pg_cron checks for installs maintained by a timer', async () => {
    await db.pool.query('ALTER TABLE pgcache.cache_default RESET (autovacuum_enabled)');
    const { code, stdout } = await cli(['doctor', '--no-cron', '--database-url', db.url]);
    expect(check(stdout, 'pg_cron')).toEqual(['skip', '--no-cron: maintenance is expected to run on a timer']);
    expect(stdout).not.toContain('maintenance job');
    expect(stdout.trim().split('\n').at(-1)).toBe('No problems found.');
    expect(code).toBe(0);
  });
});

describe('doctor on a server without pg_cron preloaded', () => {
  let plain: ThrowawayCluster;
  beforeAll(async () => {
    plain = await startPlainCluster();
  });
  afterAll(() => plain?.stop());

  it('says pgcache is missing, then that pg_cron is not preloaded and what to change; the fix works', async () => {
    await withClient(plain.url(), (admin) => admin.query('CREATE DATABASE app'));
    const url = plain.url('app');
    const before = await cli(['doctor', '--database-url', url]);
    expect(before.code).toBe(1);
    expect(check(before.stdout, 'pgcache')).toEqual(['FAIL', 'not installed in schema "pgcache"']);
    expect(before.stdout).toContain('fix: pgcache migrate --schema pgcache');

    expect((await cli(['migrate', '--database-url', url])).code).toBe(0);
    const { code, stdout } = await cli(['doctor', '--database-url', url]);
    expect(code).toBe(1);
    expect(check(stdout, 'pgcache')?.[0]).toBe('ok');
    expect(check(stdout, 'pg_cron preload')).toEqual([
      'FAIL',
      "shared_preload_libraries is '': pg_cron is not loaded, so maintenance cannot run in the database",
    ]);
    const fix = stdout.split('\n').map((l) => l.trim());
    expect(fix).toContain(
      'fix: add to postgresql.conf (ALTER SYSTEM rejects cron.* settings until pg_cron is loaded):',
    );
    expect(fix).toContain("shared_preload_libraries = 'pg_cron'");
    expect(fix).toContain("cron.database_name = 'app'");
    expect(fix).toContain('then restart PostgreSQL, run CREATE EXTENSION pg_cron; in "app" and: pgcache schedule');
    expect(stdout).toContain('pass --no-cron');
    expect(stdout.trim().split('\n').at(-1)).toBe('1 problem found.');

    // Scheduling is not possible yet, and says what to do instead.
    const noCron = await cli(['schedule', '--database-url', url]);
    expect(noCron.code).toBe(1);
    expect(noCron.stderr).toContain('pg_cron is not available on this server; run maintenance on a timer');
    expect(noCron.stderr).toContain('(SQLSTATE PC011)');

    // Do what it says.
    appendFileSync(
      join(plain.dataDir, 'postgresql.conf'),
      "\nshared_preload_libraries = 'pg_cron'\ncron.database_name = 'app'\n",
    );
    plain.restart();
    await withClient(url, (app) => app.query('CREATE EXTENSION pg_cron'));
    const scheduled = await cli(['schedule', '--database-url', url]);
    expect(scheduled.code).toBe(0);
    expect(scheduled.stdout).toContain('Scheduled pgcache_maintenance:app.pgcache (job ');

    const fixed = await cli(['doctor', '--database-url', url]);
    expect(check(fixed.stdout, 'pg_cron preload')?.[0]).toBe('ok');
    expect(check(fixed.stdout, 'pg_cron extension')?.[0]).toBe('ok');
    expect(check(fixed.stdout, 'maintenance job')?.[0]).toBe('ok');
    expect(fixed.stdout.trim().split('\n').at(-1)).toBe('No problems found.');
    expect(fixed.code).toBe(0);
  });
});

describe('doctor without a server', () => {
  it('fails the connection check and says what to look at', async () => {
    const { code, stdout } = await cli(['doctor', '--database-url', 'postgres://postgres@127.0.0.1:1/postgres']);
    expect(code).toBe(1);
    expect(check(stdout, 'connection')?.[0]).toBe('FAIL');
    expect(stdout).toContain('ECONNREFUSED');
    expect(stdout).toContain('fix: check --database-url / DATABASE_URL');
  });
});

// Faults against real servers:
//   1. a backend terminated in the middle of a large cache_set_many leaves none of the batch;
//   2. maintenance running beside 16 writers: no deadlock, no failed write;
//   3. the server crashed (pg_ctl restart -m immediate) and restarted cleanly (-m fast) during a load run:
//      the client surfaces connection errors unchanged, its pool reconnects, and afterwards every stored entry
//      is one a committed write produced, no acknowledged write is lost, and UNLOGGED types lost exactly what
//      the crash took. This one runs on a throwaway cluster of its own, never the shared one.
// (A failing pg_cron job in the monitoring views: faults-cron.test.ts, which waits for a minute boundary.)
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type ClusterInfo,
  CRON_DATABASE,
  clusterInfoAt,
  destroyCluster,
  repoRoot,
  restartCluster,
  startCluster,
} from '../../scripts/lib/cluster.js';
import { ensureDatabase, withClient } from '../../scripts/lib/databases.js';
import { freePort } from '../../scripts/lib/postgres.js';
import { type Cache, createCache } from '../../src/client/cache.js';
import { PgcacheError } from '../../src/client/errors.js';
import { migrate } from '../../src/install/migrate.js';
import { useDatabase } from '../helpers/db.js';
import { captureOutput, tsx } from '../helpers/process.js';
import { outcome } from './helpers.js';

const db = useDatabase();

/** Polls `probe` until it returns something other than undefined, or fails after `ms`. */
async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, ms = 30_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(25);
  }
}

async function count(sql: string, params: unknown[] = []): Promise<number> {
  return Number((await db.pool.query(sql, params)).rows[0].n);
}

describe('a backend terminated in the middle of cache_set_many', () => {
  const N = 1000;
  const keys = Array.from({ length: N }, (_, i) => `batch:${String(i).padStart(4, '0')}`);
  let victimPool: pg.Pool;
  let cache: Cache;
  const poolErrors: Error[] = [];

  beforeAll(async () => {
    await db.pool.query(`SELECT pgcache.cache_create_type('faults', 'jsonb')`);
    // One connection: the batch's backend is the one we terminate; the pool must replace it afterwards.
    victimPool = new pg.Pool({ connectionString: db.url, max: 1 });
    victimPool.on('error', (error) => poolErrors.push(error));
    cache = await createCache({ pool: victimPool });
  });
  afterAll(async () => {
    await victimPool?.end();
  });

  it.each([0, 1, 500, 998, 999])(
    'killed while blocked at element %i of 1000 (all before it written in its transaction): none of the batch is stored',
    async (position) => {
      // A type (table) of its own, so its insert counter shows only this batch and the blocker.
      const type = `kill_${position}`;
      await cache.createType({ name: type });
      const table = `pgcache.cache_${type}`;
      // Another transaction holds an uncommitted insert of one key: the batch (which writes in key order)
      // writes every key before it, then waits there, and that is where its backend is terminated.
      const blocker = new pg.Client({ connectionString: db.url });
      await blocker.connect();
      let blockerOpen = true;
      try {
        await blocker.query('BEGIN');
        await blocker.query(`SELECT pgcache.cache_set($1, $2, '"blocker"'::jsonb)`, [type, keys[position]]);
        const pending = outcome(cache.type(type).setMany(keys.map((k) => [k, { k, position }])));
        const pid = await waitFor('the batch to wait on the blocker', async () => {
          const { rows } = await db.pool.query(
            `SELECT pid FROM pg_stat_activity
              WHERE datname = current_database() AND wait_event_type = 'Lock' AND query LIKE '%cache_set_many%'`,
          );
          return rows[0]?.pid as number | undefined;
        });
        await db.pool.query('SELECT pg_terminate_backend($1)', [pid]);
        const result = await pending;

        // The client surfaces the server's error unchanged: admin_shutdown, not a PgcacheError.
        expect(result.ok).toBe(false);
        const error = (result as { error: Error & { code?: string } }).error;
        expect(error).not.toBeInstanceOf(PgcacheError);
        expect(error.code).toBe('57P01');

        await blocker.query('ROLLBACK');
        await blocker.end(); // a backend reports its statistics when it exits (an idle one waits up to 10 s)
        blockerOpen = false;
        expect(await count(`SELECT count(*) AS n FROM ${table}`)).toBe(0);
        // The batch really was under way: the rows before the blocked key were inserted (then rolled back).
        // The counter counts aborted inserts too: the blocker's one, and at least `position` of the batch.
        await waitFor('the terminated backend to report its inserts', async () =>
          (await inserts(type)) >= position + 1 ? true : undefined,
        );

        // The pool replaces the dead connection: the same batch then goes through whole.
        expect(await cache.type(type).setMany(keys.map((k) => [k, { k }]))).toBe(N);
        expect(await count(`SELECT count(*) AS n FROM ${table}`)).toBe(N);
      } finally {
        if (blockerOpen) await blocker.end();
      }
    },
    60_000,
  );

  it('killed at random moments: each batch is stored whole or not at all', async () => {
    const big = 'x'.repeat(2000); // ~2 MB per batch, so a batch takes long enough to be hit mid-way
    let whole = 0;
    let none = 0;
    for (let round = 0; round < 12; round++) {
      const batch = keys.map((k) => [`r${round}:${k}`, { round, big }] as [string, unknown]);
      // A pool per round: a kill that lands after the batch finished hits an idle connection, which must not
      // be handed to the next round before the pool has noticed it died.
      const roundPool = new pg.Pool({ connectionString: db.url, max: 1 });
      roundPool.on('error', (error) => poolErrors.push(error));
      const roundCache = await createCache({ pool: roundPool });
      const pending = outcome(roundCache.type('faults').setMany(batch));
      const started = Date.now();
      const delay = (round * 37) % 250;
      let pid: number | undefined;
      while (pid === undefined && Date.now() - started < 5000) {
        const { rows } = await db.pool.query(
          `SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND state = 'active'
              AND query LIKE '%cache_set_many%' AND pid <> pg_backend_pid()`,
        );
        pid = rows[0]?.pid;
        if (pid === undefined) await sleep(1);
      }
      await sleep(delay);
      if (pid !== undefined) await db.pool.query('SELECT pg_terminate_backend($1)', [pid]);
      const result = await pending;
      await roundPool.end();
      const n = await count(`SELECT count(*) AS n FROM pgcache.cache_faults WHERE key LIKE $1`, [`r${round}:%`]);
      // All or none. A failed call is usually none, but it may be all: killed after its commit, before its
      // answer reached us (the outcome a client can never know).
      expect([0, N]).toContain(n);
      if (result.ok) expect(n).toBe(N);
      else expect((result.error as { code?: string }).code).toBe('57P01');
      if (n === N) whole++;
      else none++;
    }
    expect(whole + none).toBe(12);
    await db.pool.query(`DELETE FROM pgcache.cache_faults`);
  }, 120_000);

  /** Rows ever inserted into a type's table, committed or not (as backends report them). */
  async function inserts(type: string): Promise<number> {
    await db.pool.query('SELECT pg_stat_clear_snapshot()');
    return count(`SELECT n_tup_ins AS n FROM pg_stat_user_tables WHERE relname = $1`, [`cache_${type}`]);
  }
});

describe('connections terminated under a cache that owns its pool', () => {
  // A pool pgcache creates carries an 'error' listener (ownedPool): without one, an idle connection that dies
  // (pg_terminate_backend, restart, failover, a proxy's idle timeout) makes pg.Pool emit 'error' and Node exit.
  it('the process survives and the next call reconnects', async () => {
    const tag = `pgcache_owned_${Date.now()}`;
    const child = spawn(tsx, ['test/reliability/owned-pool-child.ts', `${db.url}?application_name=${tag}`], {
      cwd: repoRoot,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    const output = captureOutput(child);
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    try {
      await waitFor('the child to read once', async () => (output.stdout.includes('ready') ? true : undefined), 45_000);
      const { rowCount } = await db.pool.query(
        'SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1',
        [tag],
      );
      expect(rowCount).toBe(1);
      await sleep(500); // the idle connection's error arrives
      child.stdin.write('go\n');
      expect({
        code: await exited,
        stdout: output.stdout.trim().split('\n'),
        stderr: output.stderr
          .split('\n')
          .filter((l) => /Unhandled|^error:/.test(l))
          .join(' | '),
      }).toEqual({
        code: 0,
        stdout: ['ready', 'ok'],
        stderr: '',
      });
    } finally {
      child.kill();
    }
  }, 60_000);
});

describe('maintenance beside 16 writers', () => {
  it('runs in a loop for a bounded time with no deadlock, no failed write and no failed run', async () => {
    await db.pool.query(
      `SELECT pgcache.cache_create_type('churn', 'jsonb', interval '1 hour', p_max_entries => 400, p_eviction_policy => 'lru'),
              pgcache.cache_create_type('churn_fifo', 'text', interval '1 hour', p_max_bytes => 60000, p_eviction_policy => 'fifo')`,
    );
    // Small batches, so one run makes several steps and takes and releases row locks often.
    await db.pool.query(`UPDATE pgcache.cache_settings SET value = '100' WHERE name = 'maintenance.batch_size'`);
    const pool = new pg.Pool({ connectionString: db.url, max: 16 });
    const cache = await createCache({ pool });
    const deadlocksBefore = await deadlocks();
    const runsBefore = await count(`SELECT count(*) AS n FROM pgcache.cache_maintenance_history`);
    const DURATION_MS = 5000;
    const deadline = Date.now() + DURATION_MS;
    const writeErrors: unknown[] = [];
    const maintenanceErrors: unknown[] = [];
    const acked = Array.from({ length: 16 }, () => 0);
    const written = new Set<string>();
    const key = () => `k${Math.floor(Math.random() * 2000)}`;

    async function writer(id: number): Promise<void> {
      const churn = cache.type('churn');
      const fifo = cache.type('churn_fifo');
      for (let n = 0; Date.now() < deadline; n++) {
        const op = n % 10;
        try {
          if (op < 4) {
            written.add(`${id}:${n}`);
            await churn.set(key(), { w: id, n }, { ttl: 0.2 + (n % 5) * 0.3 }); // some expire during the run
          } else if (op < 6) {
            const batch = Array.from(
              { length: 8 },
              (_, i) => [key(), { w: id, n: n * 100 + i }] as [string, { w: number; n: number }],
            );
            for (const [, v] of batch) written.add(`${v.w}:${v.n}`);
            await churn.setMany(batch);
          } else if (op === 6) {
            await fifo.set(key(), `${id}:${n}:${'y'.repeat(200)}`);
          } else if (op === 7) {
            await churn.delete(key());
          } else {
            await churn.getMany([key(), key(), key()]);
            continue;
          }
          acked[id] = (acked[id] as number) + 1;
        } catch (error) {
          writeErrors.push(error);
        }
      }
    }

    async function maintainer(): Promise<number> {
      const client = new pg.Client({ connectionString: db.url });
      await client.connect();
      let runs = 0;
      try {
        while (Date.now() < deadline) {
          try {
            await client.query('SELECT count(*) FROM pgcache.cache_maintenance()');
            runs++;
          } catch (error) {
            maintenanceErrors.push(error);
          }
        }
      } finally {
        await client.end();
      }
      return runs;
    }

    try {
      const [runsA, runsB] = await Promise.all([
        maintainer(),
        maintainer(), // a second runner: it must find the first one's lock and return at once
        ...Array.from({ length: 16 }, (_, i) => writer(i)),
      ]);
      expect(writeErrors).toEqual([]);
      expect(maintenanceErrors).toEqual([]);
      for (const n of acked) expect(n).toBeGreaterThan(0);
      expect((runsA as number) + (runsB as number)).toBeGreaterThan(1);
      // Maintenance did real work beside the writers: it expired and evicted rows.
      const { rows } = await db.pool.query(
        `SELECT sum(expired)::int AS expired, sum(evicted)::int AS evicted, count(*)::int AS runs
           FROM pgcache.cache_maintenance_history WHERE cache_type IN ('churn', 'churn_fifo')`,
      );
      expect(rows[0].runs).toBeGreaterThan(0);
      expect(rows[0].expired + rows[0].evicted).toBeGreaterThan(0);
      expect(await count(`SELECT count(*) AS n FROM pgcache.cache_maintenance_history`)).toBeGreaterThan(runsBefore);
      expect(await deadlocks()).toBe(deadlocksBefore);

      // Every surviving value is one a writer wrote; once the writers stop, one run brings both types within budget.
      const survivors = await db.pool.query(`SELECT value_json FROM pgcache.cache_churn`);
      for (const r of survivors.rows) expect(written.has(`${r.value_json.w}:${r.value_json.n}`)).toBe(true);
      await db.pool.query(`SELECT count(*) FROM pgcache.cache_maintenance()`);
      await db.pool.query(`SELECT count(*) FROM pgcache.cache_maintenance()`);
      expect(await count(`SELECT count(*) AS n FROM pgcache.cache_churn`)).toBeLessThanOrEqual(400);
      expect(await count(`SELECT coalesce(sum(byte_size), 0) AS n FROM pgcache.cache_churn_fifo`)).toBeLessThanOrEqual(
        60000,
      );
    } finally {
      await pool.end();
    }
  }, 120_000);

  async function deadlocks(): Promise<number> {
    await db.pool.query('SELECT pg_stat_clear_snapshot()');
    return count(`SELECT deadlocks AS n FROM pg_stat_database WHERE datname = current_database()`);
  }
});

// ---------------------------------------------------------------------------------------------------------
// 3. Crash and restart under load, on a throwaway cluster.

/** Connection-level failures a client may see while the server goes down and comes back. */
const CONNECTION_CODES = new Set([
  '57P01',
  '57P02',
  '57P03',
  '08006',
  '08003',
  '08001',
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
]);
const CONNECTION_MESSAGES =
  /Connection terminated|connection timeout|timeout exceeded when trying to connect|terminating connection|the database system is (starting up|shutting down|in recovery mode)|Client has encountered a connection error|not queryable/i;
const isConnectionError = (error: unknown) => {
  const e = error as { code?: string; message?: string };
  return (e.code !== undefined && CONNECTION_CODES.has(e.code)) || CONNECTION_MESSAGES.test(e.message ?? '');
};

interface Write {
  key: string;
  type: 'logged' | 'unlogged';
  id: string;
  sentAt: number;
  ackedAt?: number;
  failed?: boolean;
}

describe('a server crash and a clean restart during a load run', () => {
  let info: ClusterInfo;

  beforeAll(async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pgcache-restart-'));
    info = clusterInfoAt(Number(process.env.PGCACHE_RESTART_PORT ?? 0) || (await freePort()), dir);
    await startCluster(info);
    await ensureDatabase(info, CRON_DATABASE); // pg_cron is preloaded: give it its database
    await ensureDatabase(info, 'load');
    await migrate({ databaseUrl: info.url('load') });
    await withClient(info.url('load'), (c) =>
      c.query(`SELECT pgcache.cache_create_type('logged', 'jsonb', interval '1 day'),
                      pgcache.cache_create_type('unlogged', 'jsonb', interval '1 day', p_unlogged => true)`),
    );
  }, 180_000);
  afterAll(() => {
    if (info) destroyCluster(info);
  });

  it('surfaces connection errors unchanged, reconnects, keeps every acknowledged write and stores nothing else', async () => {
    const pool = new pg.Pool({ connectionString: info.url('load'), max: 8, connectionTimeoutMillis: 5000 });
    const idleErrors: unknown[] = [];
    pool.on('error', (error) => idleErrors.push(error)); // idle connections die with the server
    const cache = await createCache({ pool });
    const writes: Write[] = [];
    const errors: unknown[] = [];
    const readValues: unknown[] = [];
    const KEYS = 48;
    let stop = false;
    let crashAt = Number.POSITIVE_INFINITY;

    async function writer(w: number): Promise<void> {
      for (let n = 0; !stop; n++) {
        const type = n % 5 === 4 ? 'unlogged' : 'logged';
        const accessor = cache.type(type);
        const op = n % 7;
        const keys = op === 6 ? [rand(), rand(), rand()] : [rand()];
        const batch: Write[] =
          op === 5
            ? []
            : keys.map((key, i) => ({ key, type, id: `${w}:${n}:${i}`, sentAt: performance.now() }) as Write);
        writes.push(...batch);
        try {
          if (op === 5) readValues.push(...(await accessor.getMany(keys)));
          else if (op === 6) await accessor.setMany(batch.map((b) => [b.key, { key: b.key, id: b.id }]));
          else await accessor.set(keys[0] as string, { key: keys[0], id: batch[0]?.id });
          const now = performance.now();
          for (const b of batch) b.ackedAt = now;
        } catch (error) {
          for (const b of batch) b.failed = true;
          errors.push(error);
          await sleep(20);
        }
      }
    }
    const rand = () => `key:${Math.floor(Math.random() * KEYS)}`;
    const ackedSince = (t: number) => writes.filter((w) => w.ackedAt !== undefined && w.sentAt > t).length;

    const writers = Array.from({ length: 8 }, (_, w) => writer(w));
    try {
      await waitFor('acknowledged writes before the crash', async () => (ackedSince(0) >= 300 ? true : undefined));
      crashAt = performance.now();
      await restartCluster(info, 'immediate');
      const upAt = performance.now(); // from here on, even UNLOGGED writes must survive (the next restart is clean)
      await waitFor(
        'writes acknowledged after the crash',
        async () => (ackedSince(upAt) >= 200 ? true : undefined),
        60_000,
      );
      const errorsAfterCrash = errors.length;
      await restartCluster(info, 'fast');
      const upAgainAt = performance.now();
      await waitFor(
        'writes acknowledged after the clean restart',
        async () => (ackedSince(upAgainAt) >= 200 ? true : undefined),
        60_000,
      );
      stop = true;
      await Promise.all(writers);

      // The client surfaced the outages as connection errors, unchanged (never as a PgcacheError).
      expect(errorsAfterCrash).toBeGreaterThan(0);
      expect(errors.length).toBeGreaterThan(errorsAfterCrash);
      for (const error of [...errors, ...idleErrors]) {
        expect(error).not.toBeInstanceOf(PgcacheError);
        if (!isConnectionError(error)) throw error;
      }

      const check = pool; // the same pool, reconnected
      for (const type of ['logged', 'unlogged'] as const) {
        const { rows } = await check.query(
          `SELECT key, value_json FROM pgcache.entries WHERE type_id = (SELECT id FROM pgcache.cache_types WHERE name = $1)`,
          [type],
        );
        const stored = new Map(rows.map((r) => [r.key as string, r.value_json as { key: string; id: string }]));
        const byId = new Map(writes.filter((w) => w.type === type).map((w) => [w.id, w]));
        // Every stored value is one that a write of that key sent: acknowledged, or in flight when it failed.
        for (const [key, value] of stored) {
          expect(value.key).toBe(key);
          const write = byId.get(value.id);
          expect(write?.key).toBe(key);
          // UNLOGGED: the crash emptied the table, so nothing sent before the crash began survives it.
          if (type === 'unlogged') expect(write?.sentAt).toBeGreaterThan(crashAt);
        }
        // Every acknowledged write is still there, or overwritten by a write not known to be older.
        for (const w of byId.values()) {
          // (UNLOGGED writes sent before the crashed server was back may have been lost with it.)
          if (w.ackedAt === undefined || (type === 'unlogged' && w.sentAt < upAt)) continue;
          const value = stored.get(w.key);
          expect(value, `acknowledged write ${w.id} of ${w.key} is lost`).toBeDefined();
          const holder = byId.get(value?.id as string) as Write;
          expect(
            holder.ackedAt !== undefined && holder.ackedAt < w.sentAt,
            `${w.key} holds ${holder.id}, acknowledged before ${w.id} was sent`,
          ).toBe(false);
        }
      }
      // Reads only ever saw values that were written.
      const ids = new Set(writes.map((w) => w.id));
      for (const v of readValues) if (v !== undefined) expect(ids.has((v as { id: string }).id)).toBe(true);
    } finally {
      stop = true;
      await Promise.allSettled(writers);
      await pool.end();
    }
  }, 240_000);

  it('the near-cache comes back by itself after a restart, with nothing stale served meanwhile', async () => {
    await withClient(info.url('load'), (c) => c.query(`SELECT pgcache.cache_configure_notify('logged', true)`));
    const pool = new pg.Pool({ connectionString: info.url('load'), max: 2, connectionTimeoutMillis: 5000 });
    pool.on('error', () => undefined);
    const cache = await createCache({ pool, nearCache: { reconnectDelayMs: 200, maxReconnectDelayMs: 2000 } });
    const near = cache.near as NonNullable<Cache['near']>;
    try {
      const t = cache.type('logged');
      const heard = once(near, 'change'); // the write's own notification, so it cannot land after the read
      await t.set('near:k', 'before');
      await heard;
      expect(await t.get('near:k')).toBe('before');
      expect(near.size).toBeGreaterThan(0);
      await restartCluster(info, 'fast');
      const upAt = Date.now();
      // Whatever it held is gone with the listener; once it listens again it refills from the database.
      await waitFor('the near-cache to listen again', async () => (near.enabled ? true : undefined), 15_000);
      expect(Date.now() - upAt).toBeLessThan(10_000);
      await withClient(info.url('load'), (c) =>
        c.query(`SELECT pgcache.cache_set('logged', 'near:k', '"after"'::jsonb)`),
      );
      await waitFor('the change to reach the near-cache', async () =>
        (await t.get('near:k')) === 'after' ? true : undefined,
      );
    } finally {
      await cache.close();
      await pool.end();
    }
  }, 120_000);
});

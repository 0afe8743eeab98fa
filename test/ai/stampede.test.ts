// Cross-process stampede protection: one compute per cold key across processes and connections; a killed
// or failing computer frees the key for a waiter.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import pg from 'pg';
import { beforeAll, expect, it } from 'vitest';
import { repoRoot } from '../../scripts/lib/cluster.js';
import { createCache } from '../../src/index.js';
import { useDatabase } from '../helpers/db.js';

const run = promisify(execFile);
const db = useDatabase();
beforeAll(async () => {
  await db.pool.query('CREATE TABLE compute_log (pid int, at timestamptz DEFAULT clock_timestamp())');
});

// Errors of idle connections (the terminated holder's) in the pools of separateCache: 57P01 and nothing else.
const idleErrors: Error[] = [];
const separateCache = () => {
  const pool = new pg.Pool({ connectionString: db.url, max: 3 });
  pool.on('error', (error) => idleErrors.push(error));
  return createCache({ pool });
};

it('20 callers in 4 processes, each on its own pool: compute runs exactly once', async () => {
  const tsx = `${repoRoot}/node_modules/.bin/tsx`;
  const outputs = await Promise.all(
    Array.from({ length: 4 }, () =>
      run(tsx, ['test/ai/stampede-worker.ts', db.url, 'cold-key', '5'], { cwd: repoRoot }),
    ),
  );
  const results = outputs.flatMap((o) => JSON.parse(o.stdout.trim().split('\n').pop() as string));
  expect(results).toHaveLength(20);
  const { rows } = await db.pool.query('SELECT pid FROM compute_log');
  expect(rows).toHaveLength(1);
  for (const r of results) expect(r).toEqual({ computedBy: rows[0].pid });
}, 60_000);

it('with leased locks too: 20 callers in 4 processes, compute runs exactly once', async () => {
  const tsx = `${repoRoot}/node_modules/.bin/tsx`;
  await db.pool.query('TRUNCATE compute_log');
  const outputs = await Promise.all(
    Array.from({ length: 4 }, () =>
      run(tsx, ['test/ai/stampede-worker.ts', db.url, 'cold-lease-key', '5', 'lease'], { cwd: repoRoot }),
    ),
  );
  const results = outputs.flatMap((o) => JSON.parse(o.stdout.trim().split('\n').pop() as string));
  expect(results).toHaveLength(20);
  const { rows } = await db.pool.query('SELECT pid FROM compute_log');
  expect(rows).toHaveLength(1);
  for (const r of results) expect(r).toEqual({ computedBy: rows[0].pid });
}, 60_000);

it('a computing backend that is terminated frees the key: a waiter takes over within its wait bound', async () => {
  const [holder, waiter] = await Promise.all([separateCache(), separateCache()]);
  let releaseHolder = () => {};
  const holderCall = holder
    .type('default')
    .getOrCompute('killed-key', () => new Promise((resolve) => (releaseHolder = () => resolve('never stored'))), {
      lockWaitMs: 10_000,
    })
    .catch((error: unknown) => error);
  // Wait until the holder has the lock, then start a waiter and kill the holder's backend.
  let holderPid: number | undefined;
  for (let i = 0; i < 100 && !holderPid; i++) {
    const { rows } = await db.pool.query(
      `SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`,
    );
    holderPid = rows[0]?.pid;
    if (!holderPid) await new Promise((r) => setTimeout(r, 50));
  }
  expect(holderPid).toBeTruthy();
  const waiterCall = waiter.type('default').getOrCompute('killed-key', () => 'from the waiter', { lockWaitMs: 10_000 });
  await new Promise((r) => setTimeout(r, 200));
  await db.pool.query('SELECT pg_terminate_backend($1)', [holderPid]);
  expect(await waiterCall).toBe('from the waiter');
  // The old computer still finishes and stores its (equally valid) value: last writer wins, nothing breaks.
  releaseHolder();
  await holderCall;
  expect(['from the waiter', 'never stored']).toContain(await waiter.type('default').get('killed-key'));
  await Promise.all([holder.pool.end(), waiter.pool.end()]);
  for (const error of idleErrors) expect((error as { code?: string }).code).toBe('57P01');
}, 30_000);

it('a compute that throws frees the key; the error reaches only its own caller', async () => {
  const [first, second] = await Promise.all([separateCache(), separateCache()]);
  const failing = first.type('default').getOrCompute(
    'throwing-key',
    async () => {
      await new Promise((r) => setTimeout(r, 300));
      throw new Error('upstream 500');
    },
    { lockWaitMs: 10_000 },
  );
  await new Promise((r) => setTimeout(r, 100));
  const waiting = second.type('default').getOrCompute('throwing-key', () => 'second try', { lockWaitMs: 10_000 });
  await expect(failing).rejects.toThrow('upstream 500');
  expect(await waiting).toBe('second try');
  await Promise.all([first.pool.end(), second.pool.end()]);
});

it('stale-while-revalidate serves the stale value while exactly one caller refreshes it', async () => {
  const cache = await createCache({ pool: db.pool });
  const t = cache.type<{ v: number }>('default');
  let computes = 0;
  const compute = async () => {
    computes++;
    await new Promise((r) => setTimeout(r, 100));
    return { v: computes };
  };
  expect(await t.getOrCompute('swr', compute, { ttl: 0.2, staleWhileRevalidate: 60 })).toEqual({ v: 1 });
  await new Promise((r) => setTimeout(r, 300));
  const stale = await Promise.all(
    Array.from({ length: 5 }, () => t.getOrCompute('swr', compute, { ttl: 0.2, staleWhileRevalidate: 60 })),
  );
  expect(stale).toEqual(Array(5).fill({ v: 1 }));
  await t.idle();
  expect(computes).toBe(2);
  expect(await t.getOrCompute('swr', compute, { ttl: 0.2, staleWhileRevalidate: 60 })).toEqual({ v: 2 });
});

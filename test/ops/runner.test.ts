// startMaintenance(): the timer that runs cache_maintenance() where pg_cron is missing. One runner across
// processes (each runner here has its own connection, as separate processes would), a hard statement_timeout
// on each call, and a timer that keeps going after errors.
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, expect, it } from 'vitest';
import { type MaintenanceRunner, runMaintenance, startMaintenance } from '../../src/maintenance.js';
import { useDatabase } from '../helpers/db.js';

const db = useDatabase();
const q = (sql: string, params: unknown[] = []) => db.pool.query(sql, params);
const runners: MaintenanceRunner[] = [];
afterEach(async () => {
  await Promise.all(runners.splice(0).map((r) => r.stop()));
});

const start = (options: Parameters<typeof startMaintenance>[0]) => {
  const runner = startMaintenance(options);
  runners.push(runner);
  return runner;
};

it('only one of several runners runs; when it stops another takes over', async () => {
  await q(`SELECT pgcache.cache_set('default', 'x' || i, '1'::jsonb) FROM generate_series(1, 3) i`);
  await q(`UPDATE pgcache.cache_default SET expires_at = now() - interval '1 hour'`);
  const a = start({ databaseUrl: db.url, intervalMs: 3_600_000, runAtStart: false });
  const b = start({ databaseUrl: db.url, intervalMs: 3_600_000, runAtStart: false });
  const first = await a.runNow();
  expect(first?.find((r) => r.cache_type === 'default')).toMatchObject({ expired: '3' });
  expect(a.isRunner).toBe(true);
  expect(await b.runNow()).toBeNull();
  expect(b.isRunner).toBe(false);
  await a.stop();
  const taken = await b.runNow();
  expect(taken?.map((r) => r.cache_type)).toContain('default');
  expect(b.isRunner).toBe(true);
});

it('runs on its timer and reports each run', async () => {
  const reports: number[] = [];
  start({ databaseUrl: db.url, intervalMs: 100, onRun: (rows) => reports.push(rows.length) });
  for (let i = 0; i < 50 && reports.length < 3; i++) await sleep(100);
  expect(reports.length).toBeGreaterThanOrEqual(3);
  expect(reports.every((n) => n === 5)).toBe(true);
});

it('bounds each call with statement_timeout, reports the error and keeps going', async () => {
  await q(`UPDATE pgcache.cache_settings SET value = '30s' WHERE name = 'maintenance.lock_timeout'`);
  const locker = await db.pool.connect();
  const errors: unknown[] = [];
  try {
    await q(`SELECT pgcache.cache_set('default', 'held', '1'::jsonb)`);
    await q(`UPDATE pgcache.cache_default SET expires_at = now() - interval '1 hour'`);
    await locker.query('BEGIN');
    await locker.query('LOCK TABLE pgcache.cache_default IN ACCESS EXCLUSIVE MODE');
    const runner = start({
      databaseUrl: db.url,
      intervalMs: 3_600_000,
      runAtStart: false,
      statementTimeoutMs: 300,
      onError: (e) => errors.push(e),
    });
    // The lock would hold it for 30 s; the statement timeout cancels it instead.
    expect(await runner.runNow()).toBeNull();
    expect(errors.map((e) => (e as { code?: string }).code)).toEqual(['57014']);
    await locker.query('ROLLBACK');
    expect((await runner.runNow())?.find((r) => r.cache_type === 'default')).toMatchObject({ expired: '1' });
  } finally {
    locker.release();
    await q(`UPDATE pgcache.cache_settings SET value = '200ms' WHERE name = 'maintenance.lock_timeout'`);
  }
});

it('runMaintenance takes the statement_timeout from cache_settings and leaves the session as it was', async () => {
  const client = await db.pool.connect();
  try {
    await q(`UPDATE pgcache.cache_settings SET value = '1ms' WHERE name = 'maintenance.statement_timeout'`);
    await q(`SELECT pgcache.cache_set('default', 's' || i, '1'::jsonb) FROM generate_series(1, 20000) i`);
    const error = await runMaintenance(client).catch((e) => e);
    expect(error.code).toBe('57014');
    await q(`UPDATE pgcache.cache_settings SET value = '60s' WHERE name = 'maintenance.statement_timeout'`);
    expect((await runMaintenance(client)).length).toBe(5);
    expect((await client.query('SHOW statement_timeout')).rows[0].statement_timeout).toBe('0');
  } finally {
    client.release();
  }
});

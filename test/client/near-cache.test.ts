// The L1 near-cache: hits stay in process, committed changes elsewhere drop entries (uncommitted ones do not),
// and a lost listener turns L1 off until it has reconnected and resynchronised.
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clusterInfo } from '../../scripts/lib/cluster.js';
import { type Cache, createCache } from '../../src/index.js';
import { useDatabase } from '../helpers/db.js';

const db = useDatabase();
let withL1: Cache;
let other: Cache;
const hits = async () =>
  Number((await db.pool.query(`SELECT hits FROM pgcache.cache_stats() WHERE cache_type = 'default'`)).rows[0].hits);

beforeAll(async () => {
  await db.pool.query(`SELECT pgcache.cache_configure_notify('default', true)`);
  const pool = new pg.Pool({ connectionString: db.url, max: 4 });
  pool.on('error', () => undefined); // an idle connection lost (see test/helpers/db.ts)
  withL1 = await createCache({
    pool,
    nearCache: { maxEntries: 100, reconnectDelayMs: 100 },
  });
  other = await createCache({ pool: db.pool });
});
afterAll(async () => {
  await withL1.close();
  await withL1.pool.end();
});

const changed = () => once(withL1.near as NonNullable<Cache['near']>, 'change');

describe('near-cache', () => {
  it('serves repeat reads from process memory', async () => {
    const heard = changed(); // the write's own notification, so it cannot arrive after the read below
    await other.type('default').set('l1:a', { v: 1 });
    await heard;
    expect(await withL1.type('default').get('l1:a')).toEqual({ v: 1 });
    const before = await hits();
    for (let i = 0; i < 50; i++) expect(await withL1.type('default').get('l1:a')).toEqual({ v: 1 });
    expect(await hits()).toBe(before);
    expect(withL1.near?.stats.hits).toBeGreaterThanOrEqual(50);
  });

  it('drops an entry when another process commits a change, not before', async () => {
    await withL1.type('default').get('l1:a');
    const client = await db.pool.connect();
    try {
      await client.query('BEGIN');
      await client.query(`SELECT pgcache.cache_set('default', 'l1:a', '{"v": 2}'::jsonb)`);
      await new Promise((r) => setTimeout(r, 100));
      expect(await withL1.type('default').get('l1:a')).toEqual({ v: 1 }); // uncommitted: nobody else sees it
      const heard = changed();
      await client.query('COMMIT');
      await heard;
    } finally {
      client.release();
    }
    expect(await withL1.type('default').get('l1:a')).toEqual({ v: 2 });
  });

  it('drops on delete, prefix invalidation and version bump elsewhere', async () => {
    const t = withL1.type('default');
    let heard = changed();
    await other.type('default').setMany([
      ['l1:p:1', 1],
      ['l1:p:2', 2],
      ['l1:q', 3],
    ]);
    await heard;
    await new Promise((r) => setTimeout(r, 50)); // all three notifications of the batch
    for (const k of ['l1:p:1', 'l1:p:2', 'l1:q']) await t.get(k);
    heard = changed();
    await other.type('default').invalidatePrefix('l1:p:');
    await heard;
    expect(await t.get('l1:p:1')).toBeUndefined();
    expect(await t.get('l1:q')).toBe(3);
    heard = changed();
    await other.type('default').delete('l1:q');
    await heard;
    expect(await t.get('l1:q')).toBeUndefined();
    heard = changed();
    await other.type('default').set('l1:r', 'r');
    await heard;
    await t.get('l1:r');
    heard = changed();
    await other.type('default').bumpVersion();
    await heard;
    expect(await t.get('l1:r')).toBeUndefined();
  });

  it('turns itself off without its listener and back on after resynchronising', async () => {
    const near = withL1.near as NonNullable<Cache['near']>;
    await other.type('default').set('l1:s', 'before');
    expect(await withL1.type('default').get('l1:s')).toBe('before');
    const disabled = once(near, 'disabled');
    await db.pool.query(`SELECT pg_terminate_backend($1)`, [near.listenerPid]);
    await disabled;
    expect(near.enabled).toBe(false);
    // A change made while nobody listens must still be seen: reads go to the database meanwhile.
    await other.type('default').set('l1:s', 'while off');
    expect(await withL1.type('default').get('l1:s')).toBe('while off');
    await once(near, 'enabled');
    expect(near.enabled).toBe(true);
    expect(near.size).toBe(0);
    expect(await withL1.type('default').get('l1:s')).toBe('while off');
  });

  it('comes back by itself after failed reconnects, with backoff, serving nothing stale while off', async () => {
    const near = withL1.near as NonNullable<Cache['near']>;
    const t = withL1.type('default');
    await other.type('default').set('l1:o', 'before');
    expect(await t.get('l1:o')).toBe('before');
    const info = clusterInfo();
    const admin = new pg.Client({ connectionString: `postgres://postgres@${info.host}:${info.port}/postgres` });
    await admin.connect();
    const name = pg.escapeIdentifier(db.name);
    try {
      // Nobody may connect for a while: the first reconnect attempts fail.
      await admin.query(`ALTER DATABASE ${name} ALLOW_CONNECTIONS false`);
      const disabled = once(near, 'disabled');
      await db.pool.query(`SELECT pg_terminate_backend($1)`, [near.listenerPid]);
      await disabled;
      const failuresBefore = near.stats.reconnectFailures;
      while (near.stats.reconnectFailures < failuresBefore + 3) await once(near, 'reconnectError');
      expect(near.enabled).toBe(false);
      // Meanwhile a change elsewhere, and reads go to the database (on connections the pool still has).
      await other.type('default').set('l1:o', 'while off');
      expect(await t.get('l1:o')).toBe('while off');
      expect(near.size).toBe(0);
    } finally {
      await admin.query(`ALTER DATABASE ${name} ALLOW_CONNECTIONS true`);
      await admin.end();
    }
    const started = Date.now();
    if (!near.enabled) await once(near, 'enabled');
    // 3 failures at 100 ms doubling: the next attempt comes within 800 ms (plus the connect itself).
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(await t.get('l1:o')).toBe('while off');
    // And it is coherent again: a change elsewhere drops the refilled entry.
    const heard = changed();
    await other.type('default').set('l1:o', 'after');
    await heard;
    expect(await t.get('l1:o')).toBe('after');
  });

  it('LISTENing without a grant shows no key, value or type: tags only, on the install channel', async () => {
    const near = withL1.near as NonNullable<Cache['near']>;
    const info = clusterInfo();
    const role = `${db.name}_nogrant`;
    await db.pool.query(`CREATE ROLE ${role} LOGIN`);
    const spy = new pg.Client({ connectionString: `postgres://${role}@${info.host}:${info.port}/${db.name}` });
    await spy.connect();
    const heard: string[] = [];
    spy.on('notification', (message) => heard.push(`${message.channel} ${message.payload}`));
    try {
      expect(near.listenChannel).toBe('pgcache_changes_pgcache');
      await spy.query(`LISTEN pgcache_changes_pgcache`);
      await spy.query(`LISTEN pgcache_changes`);
      // The secret is not readable without a grant.
      await expect(spy.query(`SELECT value FROM pgcache.cache_settings`)).rejects.toMatchObject({ code: '42501' });
      const key = 'user:4711:email';
      const l1Heard = changed();
      await other.type('default').set(key, { email: 'alice@example.com' });
      await other.type('default').invalidatePrefix('user:4711:');
      await l1Heard;
      await new Promise((r) => setTimeout(r, 200));
      expect(heard.length).toBeGreaterThanOrEqual(2);
      const plainHash = createHash('sha256').update(key).digest('hex');
      for (const line of heard) {
        expect(line.startsWith('pgcache_changes_pgcache ')).toBe(true);
        for (const secret of ['4711', 'user', 'alice', 'example', 'default', plainHash.slice(0, 16)]) {
          expect(line).not.toContain(secret);
        }
        expect(JSON.parse(line.split(' ')[1] as string)).toMatchObject({ t: expect.stringMatching(/^[0-9a-f]{32}$/) });
      }
    } finally {
      await spy.end();
      await db.pool.query(`DROP ROLE ${role}`);
    }
  });

  it('leaves types without notify out of L1', async () => {
    await other.type('vector_search').set('x', 1);
    const before = withL1.near?.stats.hits ?? 0;
    await withL1.type('vector_search').get('x');
    await withL1.type('vector_search').get('x');
    expect(withL1.near?.stats.hits).toBe(before);
  });
});

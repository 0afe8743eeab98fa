// Read replicas, for real: a streaming hot standby made from the private primary with pg_basebackup -R
// (scripts/lib/standby.ts), read through the client's readPool while writes go to the primary pool.
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { removeStandby, type StandbyInfo, startStandby, waitForReplay } from '../../scripts/lib/standby.js';
import {
  type Cache,
  createCache,
  FeatureUnavailableError,
  type SeedCacheTypes,
  translateError,
} from '../../src/index.js';
import { sqlState, useDatabase } from '../helpers/db.js';

const db = useDatabase();
let standby: StandbyInfo;
let readPool: pg.Pool;
/** The seed types plus the unlogged type the last tests create. */
type Types = SeedCacheTypes & { replica_sessions: 'jsonb' };
let cache: Cache<Types>;
/** Checkouts per pool: which server served each client call. */
const checkouts = { primary: 0, standby: 0 };

const onPrimary = async (sql: string, params: unknown[] = []) => (await db.pool.query(sql, params)).rows;
const onStandby = async (sql: string, params: unknown[] = []) => (await readPool.query(sql, params)).rows;
const replay = () => waitForReplay(standby);

// Registered after useDatabase(), so (hooks run in reverse) the standby is gone before the database is dropped.
beforeAll(async () => {
  await onPrimary(`SELECT pgcache.cache_set('default', 'before-backup', '"in the base backup"'::jsonb)`);
  standby = await startStandby();
  readPool = new pg.Pool({ connectionString: standby.url(db.name), max: 4 });
  db.pool.on('acquire', () => checkouts.primary++);
  readPool.on('acquire', () => checkouts.standby++);
  cache = await createCache<Types>({ pool: db.pool, readPool });
}, 120_000);

afterAll(async () => {
  await cache?.close();
  await readPool?.end();
  if (standby) removeStandby(standby);
});

describe('the standby', () => {
  it('is a read-only hot standby of the primary, on its own port', async () => {
    const [row] = await onStandby(
      `SELECT pg_is_in_recovery() AS recovering, current_setting('transaction_read_only') AS read_only,
              inet_server_port() AS port, pgcache.cache_get('default', 'before-backup') AS v`,
    );
    expect(row).toEqual({ recovering: true, read_only: 'on', port: standby.port, v: 'in the base backup' });
  });

  it('reports its replay position; the primary reports that it is none', async () => {
    const [status] = await onStandby('SELECT * FROM pgcache.cache_replica_status()');
    expect(status.is_standby).toBe(true);
    expect(status.replay_lsn).toMatch(/^[0-9A-F]+\/[0-9A-F]+$/);
    expect(Number(status.replay_pending_bytes)).toBeGreaterThanOrEqual(0);
    const [primary] = await onPrimary('SELECT * FROM pgcache.cache_replica_status()');
    expect(primary).toMatchObject({ is_standby: false, replay_lsn: null, last_replay_at: null });
  });

  it('refuses writes', async () => {
    expect(await sqlState(onStandby(`SELECT pgcache.cache_set('default', 'w', '1'::jsonb)`))).toBe('25006');
  });
});

describe('the client with a readPool', () => {
  it('writes through the primary pool, reads through the standby pool', async () => {
    const results = cache.type<{ n: number }>('vector_search');
    const before = { ...checkouts };
    await results.set('q:1', { n: 1 });
    await results.set('q:2', { n: 2 });
    expect(checkouts.primary - before.primary).toBe(2);
    expect(checkouts.standby - before.standby).toBe(0);

    await replay();
    const reads = { ...checkouts };
    expect(await results.get('q:1')).toEqual({ n: 1 });
    expect(await results.get('q:missing')).toBeUndefined();
    expect(await results.getMany(['q:2', 'q:missing', 'q:1'])).toEqual([{ n: 2 }, undefined, { n: 1 }]);
    expect((await results.getEntry('q:2'))?.value).toEqual({ n: 2 });
    const scanned: string[] = [];
    for await (const entry of results.scan({ prefix: 'q:' })) scanned.push(entry.key);
    expect(scanned).toEqual(['q:1', 'q:2']);
    expect(checkouts.standby - reads.standby).toBe(5);
    expect(checkouts.primary - reads.primary).toBe(0);
  });

  it('serves every value kind from the standby', async () => {
    await cache.type('llm_responses').set('answer', 'heap-only tuples', { meta: { tokens_used: 3 } });
    await cache.type('audio_chunks').set('clip', Buffer.from([1, 2, 3]));
    await cache.type('embeddings').set('e', [0.5, 0.25], { model: 'replica-test-2d' });
    await replay();
    expect(await cache.type('llm_responses').get('answer')).toBe('heap-only tuples');
    expect(await cache.type('audio_chunks').get('clip')).toEqual(Buffer.from([1, 2, 3]));
    expect(await cache.type('embeddings').get('e')).toEqual([0.5, 0.25]);
  });
});

describe('reads on the standby count nothing and write nothing', () => {
  it('cache_get and its siblings serve hits and misses there', async () => {
    await onPrimary(`SELECT pgcache.cache_set('default', 'k', '{"v": 1}'::jsonb)`);
    await replay();
    const [row] = await onStandby(
      `SELECT pgcache.cache_get('default', 'k') AS hit, pgcache.cache_get('default', 'nope') AS miss,
              pgcache.cache_get_text('llm_responses', 'answer') AS text,
              (SELECT count(*)::int FROM pgcache.cache_get_many('default', ARRAY['k', 'nope'])) AS many,
              (SELECT count(*)::int FROM pgcache.cache_get_entry('default', 'k')) AS entry,
              (SELECT count(*)::int FROM pgcache.cache_scan('default')) AS scanned`,
    );
    expect(row).toEqual({ hit: { v: 1 }, miss: null, text: 'heap-only tuples', many: 1, entry: 1, scanned: 2 });
  });

  it('cache_peek returns the whole entry of any type, or no row', async () => {
    const hit = await onStandby(`SELECT key, value_json, value_text FROM pgcache.cache_peek('default', 'k')`);
    expect(hit).toEqual([{ key: 'k', value_json: { v: 1 }, value_text: null }]);
    const text = await onStandby(`SELECT value_text, meta FROM pgcache.cache_peek('llm_responses', 'answer')`);
    expect(text).toEqual([{ value_text: 'heap-only tuples', meta: { tokens_used: 3 } }]);
    expect(await onStandby(`SELECT * FROM pgcache.cache_peek('default', 'nope')`)).toEqual([]);
    expect(await sqlState(onStandby(`SELECT * FROM pgcache.cache_peek('no_such_type', 'k')`))).toBe('PC001');
    expect(await sqlState(onStandby(`SELECT * FROM pgcache.cache_peek('default', '')`))).toBe('PC002');
  });

  it('the primary counted none of the standby reads', async () => {
    const stats = async () =>
      (await onPrimary(`SELECT hits, misses FROM pgcache.cache_stats() WHERE cache_type = 'default'`))[0];
    const before = await stats();
    for (let i = 0; i < 5; i++)
      await onStandby(`SELECT pgcache.cache_get('default', 'k'), pgcache.cache_get('default', 'x')`);
    expect(await stats()).toEqual(before);
    // The standby has no counts of its own either: the counters are unlogged sequences, which it cannot read.
    const [standbyStats] = await onStandby(
      `SELECT entries, hits, misses FROM pgcache.cache_stats() WHERE cache_type = 'default'`,
    );
    expect(standbyStats).toEqual({ entries: '2', hits: '0', misses: '0' });
  });
});

describe('AI reads and monitoring on the standby', () => {
  it('streams a bytea value from the standby', async () => {
    const chunks: Buffer[] = [];
    for await (const chunk of cache.type('audio_chunks').stream('clip', { chunkBytes: 2 })) chunks.push(chunk);
    expect(Buffer.concat(chunks)).toEqual(Buffer.from([1, 2, 3]));
  });

  it('answers a semantic lookup from the standby (HNSW-ready, read-only)', async () => {
    await onPrimary(
      `SELECT pgcache.cache_set_with_embedding('llm_responses', 'sem:1', 'cached answer', '{1,0,0}'::real[],
                                               'replica-sem-3d', interval '1 hour')`,
    );
    await replay();
    const rows = await onStandby(
      `SELECT key, value_text FROM pgcache.cache_semantic_get('llm_responses', '[0.99,0.01,0]'::vector, 'replica-sem-3d', 0.05)`,
    );
    expect(rows).toEqual([{ key: 'sem:1', value_text: 'cached answer' }]);
  });

  it('serves the monitoring views; maintenance belongs to the primary', async () => {
    const [row] = await onStandby(
      `SELECT (SELECT count(*)::int FROM pgcache.cache_sizes) AS sizes,
              (SELECT count(*)::int FROM pgcache.cache_partitions) AS partitions,
              (SELECT count(*)::int FROM pgcache.cache_top_keys WHERE cache_type = 'default') AS top_keys`,
    );
    expect(row.sizes).toBe(row.partitions);
    expect(row.top_keys).toBeGreaterThan(0);
    expect(await sqlState(onStandby(`SELECT * FROM pgcache.cache_maintenance()`))).toBe('25006');
  });
});

describe('staleness: the standby sees what it has replayed', () => {
  it('deletes and version bumps on the primary become misses on the standby', async () => {
    await onPrimary(`SELECT pgcache.cache_set('vector_search', 'gone', '1'::jsonb)`);
    await replay();
    expect(await cache.type('vector_search').get('gone')).toBe(1);
    await cache.type('vector_search').delete('gone');
    await replay();
    expect(await cache.type('vector_search').get('gone')).toBeUndefined();

    await cache.type('vector_search').bumpVersion();
    await replay();
    expect(await cache.type('vector_search').get('q:1')).toBeUndefined();
    expect(await onStandby(`SELECT * FROM pgcache.cache_peek('vector_search', 'q:2')`)).toEqual([]);
  });

  it('an expired entry is a miss on the standby before maintenance deletes it', async () => {
    await onPrimary(`SELECT pgcache.cache_set('default', 'old', '1'::jsonb)`);
    await onPrimary(`UPDATE pgcache.cache_default SET expires_at = now() - interval '1 second' WHERE key = 'old'`);
    await replay();
    const [row] = await onStandby(
      `SELECT pgcache.cache_get('default', 'old') AS v,
              (SELECT count(*)::int FROM pgcache.cache_peek('default', 'old')) AS peeked,
              (SELECT count(*)::int FROM pgcache.cache_default WHERE key = 'old') AS stored`,
    );
    expect(row).toEqual({ v: null, peeked: 0, stored: 1 });
  });
});

describe('unlogged types: their tables are empty and unreadable on a standby', () => {
  it('cache_peek says so for the unlogged type and keeps serving the others', async () => {
    await cache.createType({ name: 'replica_sessions', unlogged: true });
    await cache.type('replica_sessions').set('s', { user: 1 });
    await cache.type('default').set('logged', 'still here');
    await replay();
    const error = await onStandby(`SELECT * FROM pgcache.cache_peek('replica_sessions', 's')`).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toMatchObject({ code: 'PC011', message: expect.stringMatching(/unlogged.*only on the primary/) });
    expect(translateError(error)).toBeInstanceOf(FeatureUnavailableError);
    const [row] = await onStandby(`SELECT value_json FROM pgcache.cache_peek('default', 'logged')`);
    expect(row.value_json).toBe('still here');
  });

  it('limitation: cache_scan and cache_stats fail on a standby while any type is unlogged; cache_get does not', async () => {
    // They plan over every partition of entries, and a standby refuses to open an unlogged one (0A000:
    // "cannot access temporary or unlogged relations during recovery"). cache_peek and cache_get read the
    // type's own table there. docs/replicas.md.
    expect((await onStandby(`SELECT pgcache.cache_get('default', 'logged') AS v`))[0].v).toBe('still here');
    expect(await sqlState(onStandby(`SELECT * FROM pgcache.cache_stats()`))).toBe('0A000');
    expect(await cache.type('default').get('logged')).toBe('still here');
    await cache.dropType('replica_sessions');
    await replay();
    const [row] = await onStandby(`SELECT pgcache.cache_get('default', 'logged') AS v`);
    expect(row.v).toBe('still here');
  });
});

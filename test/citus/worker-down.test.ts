// A worker killed under a distributed install: what callers see while it is down, and that it comes back.
import { afterAll, describe, expect, it } from 'vitest';
import { citusCluster } from '../../scripts/lib/citus.js';
import { killCluster, startCluster } from '../../scripts/lib/cluster.js';
import { createCache } from '../../src/index.js';
import { useDatabase } from '../helpers/db.js';

const db = useDatabase();
const cluster = citusCluster();
const victim = cluster.workers[1];
if (!victim) throw new Error('the Citus cluster has two workers');

/** The port of the worker whose shard holds a key of the default type. */
async function workerOf(key: string): Promise<number> {
  const { rows } = await db.pool.query(
    `SELECT n.nodeport FROM pg_dist_placement p JOIN pg_dist_node n USING (groupid)
      WHERE p.shardid = get_shard_id_for_distribution_column('pgcache.cache_default', $1::text)`,
    [key],
  );
  return rows[0].nodeport;
}

/** What a call rejects with: its SQLSTATE and message. */
async function failure(promise: Promise<unknown>): Promise<{ code: string; message: string }> {
  const error = (await promise.then(
    () => new Error('expected the call to fail'),
    (e: unknown) => e,
  )) as { code?: string; message: string };
  return { code: error.code ?? 'none', message: error.message };
}

afterAll(async () => {
  await startCluster(victim);
});

describe('a worker killed', () => {
  it("fails the calls that need its shards with Citus' connection error, serves the rest, and recovers", async () => {
    const cache = await createCache({ pool: db.pool });
    const entries = cache.type('default');
    const keys = Array.from({ length: 40 }, (_, i) => `k${i}`);
    await entries.setMany(keys.map((key) => [key, { key }]));
    const ports = await Promise.all(keys.map(workerOf));
    const alive = keys.find((_, i) => ports[i] !== victim.port) as string;
    const dead = keys.find((_, i) => ports[i] === victim.port) as string;
    expect(alive).toBeDefined();
    expect(dead).toBeDefined();

    killCluster(victim);
    // Keys whose shard lives on the other worker are served and written as before.
    expect(await entries.get(alive)).toEqual({ key: alive });
    await entries.set(alive, { key: alive, again: true });
    // A key on the dead worker: the call fails at once with Citus' connection error, from SQL and the client.
    const read = await failure(db.pool.query(`SELECT pgcache.cache_get('default', $1)`, [dead]));
    expect(read).toMatchObject({
      code: '08006',
      message: expect.stringMatching(/connection to the remote node .* failed/),
    });
    const viaClient = await failure(entries.get(dead));
    expect(viaClient.message).toMatch(/connection to the remote node .* failed/);
    await expect(entries.set(dead, { key: dead })).rejects.toThrow(/connection to the remote node/);
    // Calls over every shard fail too: many keys, prefix deletes, stats.
    await expect(entries.getMany(keys)).rejects.toThrow(/connection to the remote node/);
    await expect(cache.stats()).rejects.toThrow(/connection to the remote node/);

    await startCluster(victim);
    // Back: the dead worker's entries survived its crash (a logged table), and every call works again.
    expect(await entries.get(dead)).toEqual({ key: dead });
    expect((await entries.getMany(keys)).filter((v) => v !== undefined)).toHaveLength(keys.length);
    expect(((await cache.stats()).find((s) => s.cacheType === 'default')?.entries ?? 0) >= keys.length).toBe(true);
    await cache.close();
  });
});

// CPU per call on both sides of the wire: runs each read (or write) path at c=16 for a few seconds against the
// database `npm run bench -- --keep-cluster` leaves (pgcache_bench), and reports the Node process's CPU (client
// JS, pg driver, kernel) and the server backends' CPU (from /proc, summed over the pool's backends) per call.
// Writes run with synchronous_commit=off, so a backend's CPU is its own work, not the wait for the disk.
//   npx tsx bench/profile/split.ts [seconds per case] [rounds] [reads|writes]
import { readFileSync } from 'node:fs';
import pg from 'pg';
import { clusterInfo } from '../../scripts/lib/cluster.js';
import { createCache } from '../../src/client/cache.js';
import { randomKey, VALUE } from '../lib/fixtures.js';

const seconds = Number(process.argv[2] ?? 3);
const rounds = Number(process.argv[3] ?? 3);
const group = process.argv[4] ?? 'reads';
const pool = new pg.Pool({
  connectionString: clusterInfo().url('pgcache_bench'),
  max: 16,
  options: group === 'writes' ? '-c synchronous_commit=off' : undefined,
});
const cache = await createCache({ pool });
const bench = cache.type('bench');
const reads: Record<string, (k: string) => Promise<unknown>> = {
  'bare.select.named': async (k) =>
    (await pool.query({ name: 'bench_bare_get', text: 'SELECT v FROM kv WHERE k = $1', values: [k] })).rows[0]?.v,
  'pgcache.get': (k) => bench.get(k),
};
const writes: Record<string, (k: string) => Promise<unknown>> = {
  'bare.upsert': (k) =>
    pool.query({
      name: 'bench_bare_upsert',
      text: 'INSERT INTO kv (k, v) VALUES ($1, $2) ON CONFLICT (k) DO UPDATE SET v = excluded.v',
      values: [k, VALUE],
    }),
  'pgcache.set': (k) => bench.set(k, VALUE, { ttl: 3600 }),
};
const cases = group === 'writes' ? writes : reads;
// Open all 16 connections and learn their backends' pids.
const clients = await Promise.all(Array.from({ length: 16 }, () => pool.connect()));
const pids = await Promise.all(clients.map(async (c) => (await c.query('SELECT pg_backend_pid() AS p')).rows[0].p));
for (const c of clients) c.release();
const ticks = () =>
  pids.reduce((sum, pid) => {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
    return sum + Number(stat[11]) + Number(stat[12]);
  }, 0) / 100;
const results: Record<string, { node: number[]; server: number[]; rate: number[] }> = {};
for (let r = 0; r < rounds; r++) {
  for (const [id, op] of Object.entries(cases)) {
    const node0 = process.cpuUsage();
    const server0 = ticks();
    const t0 = performance.now();
    let n = 0;
    const deadline = t0 + seconds * 1000;
    await Promise.all(
      Array.from({ length: 16 }, async () => {
        while (performance.now() < deadline) {
          await op(randomKey());
          n++;
        }
      }),
    );
    const elapsed = (performance.now() - t0) / 1000;
    const node = process.cpuUsage(node0);
    const server = ticks() - server0;
    const res = (results[id] ??= { node: [], server: [], rate: [] });
    res.node.push((node.user + node.system) / n);
    res.server.push((server * 1e6) / n);
    res.rate.push(n / elapsed);
  }
}
const med = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1] as number;
for (const [id, r] of Object.entries(results)) {
  console.log(
    `${id.padEnd(20)} ${med(r.rate).toFixed(0).padStart(7)} ops/s   node ${med(r.node).toFixed(1).padStart(6)} us/call   server ${med(r.server).toFixed(1).padStart(6)} us/call`,
  );
}
await cache.close();
await pool.end();

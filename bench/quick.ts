// Quick read/write measurement: cache_get / cache_set through the client against a bare primary-key SELECT
// and upsert on the same data, same run. Usage: tsx bench/quick.ts [seconds-per-case]
import pg from 'pg';
import { CRON_DATABASE, clusterInfo, startCluster } from '../scripts/lib/cluster.js';
import { ensureDatabase } from '../scripts/lib/databases.js';
import { createCache } from '../src/index.js';
import { migrate } from '../src/install/migrate.js';

const seconds = Number(process.argv[2] ?? 3);
const info = clusterInfo();
await startCluster(info);
await ensureDatabase(info, CRON_DATABASE);
await ensureDatabase(info, 'pgcache_bench');
const url = info.url('pgcache_bench');
await migrate({ databaseUrl: url });
const pool = new pg.Pool({ connectionString: url, max: 16 });
const cache = await createCache({ pool });
const N = 10_000;
const value = { text: 'x'.repeat(900), n: 1 };
await pool.query('DROP TABLE IF EXISTS kv; CREATE TABLE kv (k text PRIMARY KEY, v jsonb NOT NULL)');
await pool.query(`INSERT INTO kv SELECT 'k' || i, $1::jsonb FROM generate_series(1, ${N}) i`, [JSON.stringify(value)]);
const t = cache.type('default');
for (let i = 1; i <= N; i += 1000) {
  await t.setMany(Array.from({ length: 1000 }, (_, j) => [`k${i + j}`, value] as const));
}
await pool.query('VACUUM ANALYZE kv');
await pool.query('VACUUM ANALYZE pgcache.cache_default');
const key = () => `k${1 + Math.floor(Math.random() * N)}`;

async function run(name: string, concurrency: number, op: () => Promise<unknown>): Promise<number> {
  const deadline = Date.now() + seconds * 1000;
  let count = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (Date.now() < deadline) {
        await op();
        count++;
      }
    }),
  );
  const rate = count / seconds;
  console.log(`${name.padEnd(34)} c=${String(concurrency).padEnd(3)} ${Math.round(rate).toString().padStart(7)} ops/s`);
  return rate;
}

for (const c of [1, 16]) {
  const bare = await run('bare PK SELECT (unnamed)', c, () => pool.query('SELECT v FROM kv WHERE k = $1', [key()]));
  const named = await run('bare PK SELECT (named)', c, () =>
    pool.query({ name: 'bare_get', text: 'SELECT v FROM kv WHERE k = $1', values: [key()] }),
  );
  const get = await run('cache.get (cache_get)', c, () => t.get(key()));
  const upsert = await run('bare upsert', c, () =>
    pool.query('INSERT INTO kv VALUES ($1, $2) ON CONFLICT (k) DO UPDATE SET v = excluded.v', [key(), value]),
  );
  const set = await run('cache.set (cache_set)', c, () => t.set(key(), value));
  console.log(
    `  ratios c=${c}: get/bare ${(get / bare).toFixed(2)}, get/named ${(get / named).toFixed(2)}, set/upsert ${(set / upsert).toFixed(2)}`,
  );
}
await pool.end();

// A separate process for the stampede test: several caches (each its own pool and connections) all ask
// for one cold key at once; every compute call is recorded in the database.
import pg from 'pg';
import { createCache } from '../../src/index.js';

const [url, key, callers] = [process.argv[2] as string, process.argv[3] as string, Number(process.argv[4])];
// The cross-process lock to use: 'advisory' (the default) or 'lease'.
const lock = (process.argv[5] ?? 'advisory') as 'advisory' | 'lease';
const caches = await Promise.all(
  Array.from({ length: callers }, () => createCache({ pool: new pg.Pool({ connectionString: url, max: 2 }) })),
);
const results = await Promise.all(
  caches.map((cache) =>
    cache.type('default').getOrCompute(
      key,
      async () => {
        await cache.pool.query('INSERT INTO compute_log (pid) VALUES ($1)', [process.pid]);
        await new Promise((r) => setTimeout(r, 400));
        return { computedBy: process.pid };
      },
      { ttl: 60, lockWaitMs: 20_000, lock },
    ),
  ),
);
console.log(JSON.stringify(results));
await Promise.all(caches.map((c) => c.pool.end()));

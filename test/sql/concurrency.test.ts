// 16 connections hammer overlapping keys with every operation for a bounded time: no deadlock, no error,
// and every surviving value is one that some writer wrote.
import pg from 'pg';
import { expect, it } from 'vitest';
import { useDatabase } from '../helpers/db.js';

const db = useDatabase();
const KEYS = Array.from({ length: 24 }, (_, i) => `c:${i}`);
const DURATION_MS = 3000;

it('survives 16 concurrent clients doing set/get/delete/batch/cleanup/evict/invalidate', async () => {
  const written = new Set<string>();
  const errors: unknown[] = [];
  let operations = 0;
  const deadline = Date.now() + DURATION_MS;
  const pick = () => KEYS[Math.floor(Math.random() * KEYS.length)] as string;

  async function worker(id: number): Promise<void> {
    const client = new pg.Client({ connectionString: db.url });
    await client.connect();
    let seq = 0;
    try {
      while (Date.now() < deadline) {
        const op = Math.floor(Math.random() * 10);
        const value = { w: id, n: seq++ };
        try {
          if (op <= 2) {
            written.add(`${value.w}:${value.n}`);
            await client.query(`SELECT pgcache.cache_set('default', $1, $2::jsonb, interval '1 second')`, [
              pick(),
              JSON.stringify(value),
            ]);
          } else if (op <= 5) {
            await client.query(`SELECT pgcache.cache_get('default', $1)`, [pick()]);
          } else if (op === 6) {
            await client.query(`SELECT pgcache.cache_delete('default', $1)`, [pick()]);
          } else if (op === 7) {
            const keys = [pick(), pick(), pick()];
            const values = keys.map(() => ({ w: id, n: seq++ }));
            for (const v of values) written.add(`${v.w}:${v.n}`);
            await client.query(`SELECT pgcache.cache_set_many('default', $1, $2::jsonb[])`, [
              keys,
              values.map((v) => JSON.stringify(v)),
            ]);
          } else if (op === 8) {
            await client.query(
              id % 2
                ? `SELECT pgcache.cache_cleanup_expired('default', 5)`
                : `SELECT pgcache.cache_evict('default', 12)`,
            );
          } else {
            await client.query(`SELECT pgcache.cache_invalidate_prefix('default', $1)`, [pick().slice(0, 3)]);
          }
          operations++;
        } catch (error) {
          errors.push(error);
        }
      }
    } finally {
      await client.end();
    }
  }

  await Promise.all(Array.from({ length: 16 }, (_, i) => worker(i)));
  expect(errors).toEqual([]);
  expect(operations).toBeGreaterThan(100);
  const { rows } = await db.pool.query(`SELECT key, value_json FROM pgcache.cache_default`);
  for (const row of rows) expect(written.has(`${row.value_json.w}:${row.value_json.n}`)).toBe(true);
}, 30_000);

// getOrCompute never waits for a second pooled connection while it holds one: pools of 1, 2 and 10, with
// 1 to 50 concurrent misses on one key and on distinct keys, all finish in bounded time with the right values,
// and a key locked across accessors (two caches on one pool, as two processes would be) is computed once.
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { type Cache, createCache } from '../../src/index.js';
import { useDatabase } from '../helpers/db.js';
import { sleep, within } from '../helpers/timing.js';

const db = useDatabase();
const pools: pg.Pool[] = [];
let run = 0;

afterAll(async () => {
  await Promise.all(pools.map((pool) => pool.end()));
});

async function cachesOn(max: number): Promise<[Cache, Cache]> {
  const pool = new pg.Pool({ connectionString: db.url, max });
  pool.on('error', () => undefined); // an idle connection lost (see test/helpers/db.ts)
  pools.push(pool);
  return [await createCache({ pool }), await createCache({ pool })];
}

describe('getOrCompute on a small pool', () => {
  it('returns for one miss on a pool of 1, and for 10 misses of 200 ms on a pool of 10', async () => {
    const [one] = await cachesOn(1);
    const key = `p1:${run++}`;
    expect(
      await within(
        one.type('default').getOrCompute(key, () => ({ v: 1 })),
        10_000,
        'pool 1',
      ),
    ).toEqual({ v: 1 });

    const [ten] = await cachesOn(10);
    const base = run++;
    const results = await within(
      Promise.all(
        Array.from({ length: 10 }, (_, i) =>
          ten.type('default').getOrCompute(`p10:${base}:${i}`, async () => {
            await sleep(200);
            return { i };
          }),
        ),
      ),
      15_000,
      'pool 10',
    );
    expect(results).toEqual(Array.from({ length: 10 }, (_, i) => ({ i })));
  });

  for (const max of [1, 2, 10]) {
    for (const concurrency of [1, 2, 10, 50]) {
      it(`pool ${max}, ${concurrency} concurrent misses on distinct keys and on one key`, async () => {
        const [a, b] = await cachesOn(max);
        const base = run++;
        const computed = new Map<string, number>();
        const compute = (key: string, value: number) => async () => {
          computed.set(key, (computed.get(key) ?? 0) + 1);
          await sleep(10);
          return { value };
        };

        // Distinct keys, split across two caches sharing the pool.
        const distinct = Array.from({ length: concurrency }, (_, i) => {
          const key = `d:${base}:${i}`;
          return (i % 2 ? b : a).type('default').getOrCompute(key, compute(key, i));
        });
        expect(await within(Promise.all(distinct), 20_000, 'distinct keys')).toEqual(
          Array.from({ length: concurrency }, (_, i) => ({ value: i })),
        );
        for (let i = 0; i < concurrency; i++) expect(computed.get(`d:${base}:${i}`)).toBe(1);

        // One key from both caches: the database lock lets one compute, the others read what it stored.
        const key = `one:${base}`;
        const same = Array.from({ length: concurrency }, (_, i) =>
          (i % 2 ? b : a).type('default').getOrCompute(key, compute(key, 42)),
        );
        expect(await within(Promise.all(same), 20_000, 'one key')).toEqual(
          Array.from({ length: concurrency }, () => ({ value: 42 })),
        );
        expect(computed.get(key)).toBe(1);
      });
    }
  }

  it('stale-while-revalidate refreshes in the background on a pool of 1', async () => {
    const [one] = await cachesOn(1);
    const key = `swr:${run++}`;
    const t = one.type('default');
    await t.setFresh(key, { v: 0 }, 0.2, 60);
    await sleep(300);
    let calls = 0;
    const compute = async () => ({ v: ++calls });
    expect(await within(t.getOrCompute(key, compute, { ttl: 60, staleWhileRevalidate: 60 }), 10_000, 'swr')).toEqual({
      v: 0,
    });
    await within(t.idle(), 10_000, 'revalidation');
    expect(calls).toBe(1);
    expect(await t.get(key)).toEqual({ v: 1 });
  });
});

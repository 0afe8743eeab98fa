// What hits save: an entry's recorded cost (the pgcache_cost attribute of its meta), added up per day, type,
// model and tenant for every hit, through the SQL read functions and through the client's read views alike,
// priced at the model's price when counted, with no write to the entry's row and no single hot row.
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Cache, createCache, InvalidArgumentError } from '../../src/index.js';
import { sqlState, useDatabase } from '../helpers/db.js';

const db = useDatabase();
let cache: Cache;

/** The savings of a type per (model, tenant), summed over days, shards and currencies. */
async function savings(type: string) {
  const { rows } = await db.pool.query(
    `SELECT model, tenant, sum(hits)::int AS hits, sum(input_tokens)::int AS input_tokens,
            sum(output_tokens)::int AS output_tokens, sum(characters)::int AS characters,
            sum(compute_seconds) AS compute_seconds, sum(cost)::float8 AS cost
       FROM pgcache.cache_savings WHERE cache_type = $1 GROUP BY model, tenant ORDER BY model, tenant NULLS FIRST`,
    [type],
  );
  return rows;
}

beforeAll(async () => {
  await db.pool.query(
    `SELECT pgcache.cache_create_type('sv_llm', 'text', p_attributes => '{"tokens_used": "number"}')`,
  );
  await db.pool.query(`SELECT pgcache.cache_create_type('sv_tenant', 'text')`);
  await db.pool.query(`SELECT pgcache.cache_configure_tenant_scoped('sv_tenant', true)`);
  await db.pool.query(`SELECT pgcache.cache_create_type('sv_audio', 'bytea')`);
  await db.pool.query(
    `SELECT pgcache.cache_configure_price('sv-gpt', 2.5, 10), pgcache.cache_configure_price('sv-tts', 0, 0, 15, 'EUR')`,
  );
  cache = await createCache({ pool: db.pool });
});
afterAll(async () => {
  await cache?.close();
});

describe('the cost of an entry', () => {
  it('is recorded from SQL with cache_cost(), beside the attributes the type declares', async () => {
    await db.pool.query(
      `SELECT pgcache.cache_set('sv_llm', 'sql', 'answer'::text, interval '1 hour', NULL,
                                '{"tokens_used": 30}'::jsonb || pgcache.cache_cost('sv-gpt', 10, 20))`,
    );
    const entry = await cache.accessor('sv_llm').getEntry('sql');
    expect(entry?.meta).toEqual({
      tokens_used: 30,
      pgcache_cost: { model: 'sv-gpt', input_tokens: 10, output_tokens: 20 },
    });
  });

  it('is recorded from TypeScript with set({ cost }), and an overwrite without one drops it', async () => {
    const llm = cache.accessor('sv_llm');
    await llm.set('ts', 'answer', { cost: { model: 'sv-gpt', inputTokens: 3, outputTokens: 4, computeMs: 250 } });
    expect((await llm.getEntry('ts'))?.meta).toEqual({
      pgcache_cost: { model: 'sv-gpt', input_tokens: 3, output_tokens: 4, compute_ms: 250 },
    });
    await llm.set('ts', 'another answer');
    expect((await llm.getEntry('ts'))?.meta).toBeNull();
  });

  it('is checked: unknown fields, negative or fractional counts and empty names are PC010, from SQL and TS', async () => {
    for (const bad of [
      `'{"pgcache_cost": {"tokens": 5}}'`,
      `'{"pgcache_cost": {"input_tokens": -1}}'`,
      `'{"pgcache_cost": {"input_tokens": 1.5}}'`,
      `'{"pgcache_cost": {"model": ""}}'`,
      `'{"pgcache_cost": "cheap"}'`,
    ]) {
      expect(
        await sqlState(
          db.pool.query(`SELECT pgcache.cache_set('sv_llm', 'bad', 'v'::text, interval '1 hour', NULL, ${bad}::jsonb)`),
        ),
        bad,
      ).toBe('PC010');
    }
    expect(await sqlState(db.pool.query(`SELECT pgcache.cache_cost(p_input_tokens => -5)`))).toBe('PC010');
    await expect(cache.accessor('sv_llm').set('bad', 'v', { cost: { tokens: 5 } as never })).rejects.toBeInstanceOf(
      InvalidArgumentError,
    );
    await expect(cache.accessor('sv_llm').set('bad', 'v', { cost: { inputTokens: -1 } })).rejects.toMatchObject({
      code: 'PC010',
    });
  });

  it('is measured by getOrCompute (compute time) and completed by costOf (tokens)', async () => {
    const llm = cache.accessor('sv_llm');
    const value = await llm.getOrCompute(
      'computed',
      async () => {
        await new Promise((resolve) => setTimeout(resolve, 60));
        return 'slow answer';
      },
      { costOf: () => ({ model: 'sv-gpt', inputTokens: 7, outputTokens: 9 }) },
    );
    expect(value).toBe('slow answer');
    const cost = ((await llm.getEntry('computed'))?.meta as { pgcache_cost: Record<string, number> }).pgcache_cost;
    expect(cost).toMatchObject({ model: 'sv-gpt', input_tokens: 7, output_tokens: 9 });
    expect(cost.compute_ms).toBeGreaterThanOrEqual(55);
  });
});

describe('savings', () => {
  it('add up exactly under 16 concurrent readers, per tenant, on both read paths (hits x recorded cost)', async () => {
    const tenants = ['acme', 'globex'];
    const cost = { model: 'sv-gpt', inputTokens: 100, outputTokens: 40 };
    for (const tenant of tenants) {
      await cache.forTenant(tenant).accessor('sv_tenant').set('q', `answer for ${tenant}`, { cost });
      await cache.forTenant(tenant).accessor('sv_tenant').set('free', 'no cost recorded');
    }
    const before = await db.pool.query(
      `SELECT key, xmin::text FROM pgcache.entries WHERE type_id = (SELECT id FROM pgcache.cache_types WHERE name = 'sv_tenant')`,
    );
    // 16 readers, each with its own pool and client: 8 read through the client's view (counted in memory,
    // reported with cache_record_savings), 8 call cache_get_text (counted by the SQL function per hit).
    const READS = 40;
    const readers = Array.from({ length: 16 }, async (_, r) => {
      const tenant = tenants[r % 2] as string;
      const pool = new pg.Pool({ connectionString: db.url, max: 1 });
      try {
        if (r < 8) {
          const client = await createCache({ pool });
          const type = client.forTenant(tenant).accessor('sv_tenant');
          for (let i = 0; i < READS; i++) {
            expect(await type.get('q')).toBe(`answer for ${tenant}`);
            expect(await type.get('free')).toBe('no cost recorded');
            expect(await type.get('absent')).toBeUndefined();
          }
          await client.close();
        } else {
          for (let i = 0; i < READS; i++) {
            const { rows } = await pool.query(
              `SELECT set_config('pgcache.tenant', $1, false), pgcache.cache_get_text('sv_tenant', 'q') AS v,
                      pgcache.cache_get_text('sv_tenant', 'free') AS f`,
              [tenant],
            );
            expect(rows[0].v).toBe(`answer for ${tenant}`);
          }
        }
      } finally {
        await pool.end();
      }
    });
    await Promise.all(readers);
    const hitsPerTenant = 8 * READS; // 4 view readers and 4 SQL readers per tenant
    expect(await savings('sv_tenant')).toEqual(
      tenants.map((tenant) => ({
        model: 'sv-gpt',
        tenant,
        hits: hitsPerTenant,
        input_tokens: hitsPerTenant * 100,
        output_tokens: hitsPerTenant * 40,
        characters: 0,
        compute_seconds: 0,
        // (100 x 2.5 + 40 x 10) / 1000 per hit, in exact numeric
        cost: hitsPerTenant * 0.65,
      })),
    );
    // No write to the entry rows per hit, and the counts spread over several rows (shards).
    const after = await db.pool.query(
      `SELECT key, xmin::text FROM pgcache.entries WHERE type_id = (SELECT id FROM pgcache.cache_types WHERE name = 'sv_tenant')`,
    );
    expect(after.rows).toEqual(before.rows);
    const { rows: shards } = await db.pool.query(
      `SELECT count(DISTINCT shard)::int AS n FROM pgcache.cache_savings_counts
        WHERE type_id = (SELECT id FROM pgcache.cache_types WHERE name = 'sv_tenant')`,
    );
    expect(shards[0].n).toBeGreaterThan(1);
    // The client's reports went to the logged partition, the SQL functions' to the unlogged one; maintenance
    // moves those to the logged one, and the totals stay.
    const partitions = async () =>
      (
        await db.pool.query(
          `SELECT logged, sum(hits)::int AS hits FROM pgcache.cache_savings_counts
            WHERE type_id = (SELECT id FROM pgcache.cache_types WHERE name = 'sv_tenant') GROUP BY logged ORDER BY logged`,
        )
      ).rows;
    expect(await partitions()).toEqual([
      { logged: false, hits: 2 * hitsPerTenant - 8 * 40 },
      { logged: true, hits: 8 * 40 },
    ]);
    await db.pool.query('SELECT count(*) FROM pgcache.cache_maintenance()');
    expect(await partitions()).toEqual([{ logged: true, hits: 2 * hitsPerTenant }]);
    expect((await savings('sv_tenant')).map((r) => r.hits)).toEqual([hitsPerTenant, hitsPerTenant]);
  }, 60_000);

  it('are shown per type by cache_savings_stats() and stats(), a tenant seeing its own of a tenant-scoped type', async () => {
    const stats = await cache.stats();
    const scoped = stats.find((s) => s.cacheType === 'sv_tenant');
    expect(scoped).toMatchObject({ savedHits: 640, savedTokens: 640 * 140, savedCharacters: 0 });
    expect(scoped?.savedCost.USD).toBeCloseTo(640 * 0.65, 6);
    const { rows } = await db.pool.query(
      `SELECT s.saved_hits::int, s.saved_tokens::int FROM (SELECT set_config('pgcache.tenant', 'acme', true)) t,
              LATERAL (SELECT * FROM pgcache.cache_savings_stats() WHERE cache_type = 'sv_tenant' OFFSET 0) s`,
    );
    expect(rows).toEqual([{ saved_hits: 320, saved_tokens: 320 * 140 }]);
  });

  it('count get_many, read_bytea and the characters and voice of audio, priced in the currency of the model', async () => {
    await db.pool.query(
      `SELECT pgcache.cache_set('sv_audio', 'a', '\\x0102'::bytea, interval '1 hour', NULL,
                                pgcache.cache_cost('sv-tts', p_characters => 200, p_voice => 'alloy'))`,
    );
    await db.pool.query(`SELECT * FROM pgcache.cache_get_bytea_slice('sv_audio', 'a', 0, 1)`);
    await db.pool.query(`SELECT * FROM pgcache.cache_get_bytea_slice('sv_audio', 'a', 1, 1)`); // a later chunk: no hit
    await db.pool.query(`SELECT * FROM pgcache.cache_get_many('sv_audio', ARRAY['a', 'a', 'b'])`);
    expect(await cache.accessor('sv_audio').getMany(['a', 'b'])).toEqual([Buffer.from([1, 2]), undefined]);
    await cache.stats(); // flushes the client's counts
    expect(await savings('sv_audio')).toEqual([
      {
        model: 'sv-tts',
        tenant: null,
        hits: 3,
        input_tokens: 0,
        output_tokens: 0,
        characters: 600,
        compute_seconds: 0,
        cost: 9,
      },
    ]);
    const { rows } = await db.pool.query(
      `SELECT DISTINCT currency FROM pgcache.cache_savings WHERE cache_type = 'sv_audio'`,
    );
    expect(rows).toEqual([{ currency: 'EUR' }]);
  });

  it('use the price when each hit was counted: a price change applies from then on', async () => {
    await db.pool.query(`SELECT pgcache.cache_create_type('sv_price', 'text')`);
    await db.pool.query(
      `SELECT pgcache.cache_set('sv_price', 'k', 'v'::text, interval '1 hour', NULL, pgcache.cache_cost('sv-price', 1000, 0))`,
    );
    await db.pool.query(`SELECT pgcache.cache_get_text('sv_price', 'k')`); // no price yet: counted, no money
    await db.pool.query(`SELECT pgcache.cache_configure_price('sv-price', 1)`);
    await db.pool.query(`SELECT pgcache.cache_get_text('sv_price', 'k')`); // 1000 tokens at 1 per 1k
    await db.pool.query(`UPDATE pgcache.cache_prices SET input_per_1k = 3 WHERE model = 'sv-price'`); // as operators do
    await db.pool.query(`SELECT pgcache.cache_get_text('sv_price', 'k')`);
    const { rows } = await db.pool.query(
      `SELECT currency, hits::int, cost::float8 FROM pgcache.cache_savings WHERE cache_type = 'sv_price' ORDER BY currency NULLS FIRST`,
    );
    expect(rows).toEqual([
      { currency: null, hits: 1, cost: 0 },
      { currency: 'USD', hits: 2, cost: 4 },
    ]);
    expect(await sqlState(db.pool.query(`SELECT pgcache.cache_configure_price('sv-price', -1)`))).toBe('PC010');
    expect(
      await sqlState(db.pool.query(`SELECT pgcache.cache_configure_price('sv-price', 1, p_currency => 'dollars')`)),
    ).toBe('PC010');
  });

  it('are not counted in a read-only transaction, nor for entries without a cost', async () => {
    await db.pool.query(`SELECT pgcache.cache_create_type('sv_ro', 'text')`);
    await db.pool.query(
      `SELECT pgcache.cache_set('sv_ro', 'k', 'v'::text, interval '1 hour', NULL, pgcache.cache_cost('sv-gpt', 1, 1))`,
    );
    await db.pool.query(`SELECT pgcache.cache_set('sv_ro', 'free', 'v'::text)`);
    const client = await db.pool.connect();
    try {
      await client.query('BEGIN READ ONLY');
      expect((await client.query(`SELECT pgcache.cache_get_text('sv_ro', 'k') AS v`)).rows[0].v).toBe('v');
      await client.query('COMMIT');
    } finally {
      client.release();
    }
    await db.pool.query(`SELECT pgcache.cache_get_text('sv_ro', 'free')`);
    expect(await savings('sv_ro')).toEqual([]);
  });

  it('reported by a client are checked: a tenant reports only its own, counts are whole and positive', async () => {
    const report = (items: unknown, tenant?: string) =>
      db.pool.query(`SELECT set_config('pgcache.tenant', $3, false), pgcache.cache_record_savings($1, $2::jsonb)`, [
        'sv_tenant',
        JSON.stringify(items),
        tenant ?? '',
      ]);
    expect(await sqlState(report([{ model: 'm', tenant: 'globex', hits: 1 }], 'acme'))).toBe('PC013');
    expect(await sqlState(report([{ model: 'm', tenant: 'acme', hits: 0 }], 'acme'))).toBe('PC010');
    expect(await sqlState(report([{ model: 'm', tenant: 'acme', hits: 1, input_tokens: -3 }], 'acme'))).toBe('PC010');
    expect(await sqlState(report({ hits: 1 }, 'acme'))).toBe('PC010');
    expect(await sqlState(report([{ model: 'm', hits: 1 }]))).toBe('PC013');
  });

  it('go with their type when it is dropped', async () => {
    await db.pool.query(`SELECT pgcache.cache_drop_type('sv_price')`);
    expect(await savings('sv_price')).toEqual([]);
  });
});

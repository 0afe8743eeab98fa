// The data every comparison shares: 10,000 keys, one ~1 KB JSON value, a random key per operation, and the
// tables of the anchors (a plain key/value table, and a naive table cache: the design a first attempt usually takes).

import type { Redis } from 'ioredis';
import type Keyv from 'keyv';
import type pg from 'pg';
import type { CacheTypeAccessor } from '../../src/client/accessor.js';

export const KEYS = 10_000;
export const key = (i: number) => `k${i}`;
export const randomKey = () => key(1 + Math.floor(Math.random() * KEYS));

/** A ~1 KB JSON document (1,0xx bytes as JSON text). */
export const VALUE = {
  id: 42,
  title: 'Heap-only tuples and why a cache read should not write',
  tags: ['postgres', 'cache', 'hot', 'mvcc', 'vacuum'],
  score: 0.875,
  published: true,
  author: { name: 'Ada', email: 'ada@example.com' },
  body: 'lorem ipsum dolor sit amet '.repeat(32),
};
export const VALUE_JSON = JSON.stringify(VALUE);

/** The plain table the bare anchors read and upsert: same keys, same value. */
export async function loadKv(pool: pg.Pool): Promise<void> {
  await pool.query('DROP TABLE IF EXISTS kv');
  await pool.query('CREATE TABLE kv (k text PRIMARY KEY, v jsonb NOT NULL)');
  await pool.query(`INSERT INTO kv SELECT 'k' || i, $1::jsonb FROM generate_series(1, ${KEYS}) i`, [VALUE_JSON]);
  await pool.query('VACUUM ANALYZE kv');
}

/**
 * A naive table cache, as such caches are often first written: a uuid primary
 * key, a UNIQUE cache_key plus a second index on it, and indexes on expires_at and last_accessed_at.
 */
export async function createNaiveTable(pool: pg.Pool, table: string): Promise<void> {
  await pool.query(`DROP TABLE IF EXISTS ${table}`);
  await pool.query(`
    CREATE TABLE ${table} (
      id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
      cache_key VARCHAR(255) UNIQUE NOT NULL,
      cache_value JSONB NOT NULL,
      created_at TIMESTAMP DEFAULT NOW(),
      expires_at TIMESTAMP NOT NULL,
      hit_count INTEGER DEFAULT 0,
      last_accessed_at TIMESTAMP DEFAULT NOW()
    )`);
  await pool.query(`CREATE INDEX idx_${table}_key ON ${table}(cache_key)`);
  await pool.query(`CREATE INDEX idx_${table}_expires ON ${table}(expires_at)`);
  await pool.query(`CREATE INDEX idx_${table}_accessed ON ${table}(last_accessed_at)`);
}

export async function loadNaive(pool: pg.Pool, table: string): Promise<void> {
  await createNaiveTable(pool, table);
  await pool.query(
    `INSERT INTO ${table} (cache_key, cache_value, expires_at)
     SELECT 'k' || i, $1::jsonb, NOW() + interval '1 day' FROM generate_series(1, ${KEYS}) i`,
    [VALUE_JSON],
  );
  await pool.query(`VACUUM ANALYZE ${table}`);
}

/** The naive cache's get: every read is an UPDATE ... RETURNING (its JSON.parse of a parsed jsonb is left out). */
export function naiveGetSql(table: string): string {
  return `UPDATE ${table} SET hit_count = hit_count + 1, last_accessed_at = NOW()
           WHERE cache_key = $1 AND expires_at > NOW() RETURNING cache_value`;
}

/** The naive cache's set: an upsert that also counts a hit and touches last_accessed_at. */
export function naiveSetSql(table: string): string {
  return `INSERT INTO ${table} (cache_key, cache_value, expires_at) VALUES ($1, $2, $3)
          ON CONFLICT (cache_key) DO UPDATE SET cache_value = $2, expires_at = $3,
            hit_count = ${table}.hit_count + 1, last_accessed_at = NOW()`;
}

/** Loads the 10,000 keys into a pgcache type, 1,000 per cache_set_many call. */
export async function loadCacheType(type: CacheTypeAccessor<unknown>, ttlSeconds = 86_400): Promise<void> {
  for (let i = 1; i <= KEYS; i += 1000) {
    await type.setMany(
      Array.from({ length: Math.min(1000, KEYS - i + 1) }, (_, j) => [key(i + j), VALUE] as const),
      { ttl: ttlSeconds },
    );
  }
}

export async function loadKeyv(keyv: Keyv): Promise<void> {
  for (let i = 1; i <= KEYS; i += 1000) {
    await keyv.setMany(
      Array.from({ length: Math.min(1000, KEYS - i + 1) }, (_, j) => ({ key: key(i + j), value: VALUE })),
    );
  }
}

export async function loadRedis(redis: Redis): Promise<void> {
  await redis.flushall();
  const pipeline = redis.pipeline();
  for (let i = 1; i <= KEYS; i++) pipeline.set(key(i), VALUE_JSON);
  await pipeline.exec();
}

/** Bytes of a relation with its TOAST table and indexes, and the parts. */
export interface RelationSize {
  total: number;
  heap: number;
  toast: number;
  indexes: Record<string, number>;
}

export async function relationSize(pool: pg.Pool, relation: string): Promise<RelationSize> {
  const { rows } = await pool.query(
    `SELECT pg_total_relation_size(c.oid) AS total, pg_relation_size(c.oid) AS heap,
            coalesce(pg_total_relation_size(nullif(c.reltoastrelid, 0)), 0) AS toast,
            (SELECT coalesce(jsonb_object_agg(i.indexrelid::regclass::text, pg_relation_size(i.indexrelid)), '{}')
               FROM pg_index i WHERE i.indrelid = c.oid) AS indexes
       FROM pg_class c WHERE c.oid = $1::regclass`,
    [relation],
  );
  const r = rows[0];
  return { total: Number(r.total), heap: Number(r.heap), toast: Number(r.toast), indexes: r.indexes };
}

// Keyv's own store compliance suite, unmodified, against the real server; then what the suite cannot see:
// TTLs and namespaces enforced in the database itself.
import keyvTestSuite, { keyvIteratorTests } from '@keyv/test-suite';
import Keyv from 'keyv';
import * as test from 'vitest';
import { KeyvPgcache } from '../src/keyv.js';
import { useDatabase } from './helpers/db.js';

const { describe, expect, it } = test;
const db = useDatabase();
const store = () => new KeyvPgcache({ pool: db.pool });

keyvTestSuite(test, Keyv, store);
keyvIteratorTests(test, Keyv, store);

describe('KeyvPgcache in the database', () => {
  it('stores the TTL Keyv passes as the entry expiry', async () => {
    const keyv = new Keyv({ store: store(), namespace: 'ttl' });
    await keyv.set('k', 'v', 60_000);
    const { rows } = await db.pool.query(
      `SELECT round(extract(epoch FROM expires_at - now())) AS s FROM pgcache.cache_keyv WHERE key = 'ttl:k'`,
    );
    expect(Number(rows[0].s)).toBeGreaterThan(55);
    expect(Number(rows[0].s)).toBeLessThanOrEqual(60);
    await keyv.set('short', 'v', 20);
    await new Promise((r) => setTimeout(r, 60));
    const live = await db.pool.query(`SELECT pgcache.cache_get('keyv', 'ttl:short') AS v`);
    expect(live.rows[0].v).toBeNull();
  });

  it('clear() touches only its own namespace', async () => {
    const a = new Keyv({ store: store(), namespace: 'a' });
    const b = new Keyv({ store: store(), namespace: 'b' });
    await a.set('x', 1);
    await b.set('x', 2);
    await a.clear();
    expect(await a.get('x')).toBeUndefined();
    expect(await b.get('x')).toBe(2);
  });

  it('is created as a jsonb type that never expires by default', async () => {
    const { rows } = await db.pool.query(
      `SELECT value_kind, default_ttl > interval '49 years' AS long FROM pgcache.cache_types WHERE name = 'keyv'`,
    );
    expect(rows[0]).toEqual({ value_kind: 'jsonb', long: true });
  });
});

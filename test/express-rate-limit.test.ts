// The express-rate-limit store in a real Express app, with real HTTP requests on 127.0.0.1: the standard
// headers, 429 after the limit, a new window after windowMs, resetKey, decrement (skipFailedRequests), getKey,
// two app instances sharing one count, tenant views, and no validation complaint from express-rate-limit.
import type { AddressInfo } from 'node:net';
import express from 'express';
import { rateLimit } from 'express-rate-limit';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { PgcacheRateLimitStore } from '../src/express-rate-limit.js';
import { createCache, InvalidArgumentError } from '../src/index.js';
import { useDatabase } from './helpers/db.js';

const db = useDatabase();
let pool: pg.Pool;
const servers: Array<{ close: (cb: () => void) => void }> = [];
const complaints: unknown[][] = [];

beforeAll(() => {
  pool = new pg.Pool({ connectionString: db.url, max: 4 });
  // express-rate-limit reports misconfigurations (a store it finds unsafe, double counting) on console.error.
  vi.spyOn(console, 'error').mockImplementation((...args) => {
    complaints.push(args);
  });
});
afterAll(async () => {
  await Promise.all(servers.map((s) => new Promise<void>((r) => s.close(() => r()))));
  await pool.end();
  vi.restoreAllMocks();
});

type Limiter = ReturnType<typeof rateLimit>;

/** An app with one limited route (/ok answers 200, /fail 500); returns its base URL and its limiter. */
async function app(options: Parameters<typeof rateLimit>[0]): Promise<{ url: string; limiter: Limiter }> {
  const server = express();
  const limiter = rateLimit(options);
  server.use(limiter);
  server.get('/ok', (_req, res) => {
    res.send('ok');
  });
  server.get('/fail', (_req, res) => {
    res.status(500).send('failed');
  });
  const listening = server.listen(0, '127.0.0.1');
  await new Promise<void>((resolve) => listening.once('listening', () => resolve()));
  servers.push(listening);
  return { url: `http://127.0.0.1:${(listening.address() as AddressInfo).port}`, limiter };
}

describe('PgcacheRateLimitStore', () => {
  it('sends the rate limit headers and answers 429 with Retry-After after the limit', async () => {
    const { url } = await app({
      windowMs: 60_000,
      limit: 3,
      standardHeaders: 'draft-7',
      legacyHeaders: true,
      store: new PgcacheRateLimitStore({ pool, bucket: 'headers' }),
    });
    const statuses: number[] = [];
    let last: Response | undefined;
    for (let i = 0; i < 3; i++) {
      last = await fetch(`${url}/ok`);
      statuses.push(last.status);
      expect(last.headers.get('ratelimit')).toMatch(new RegExp(`limit=3, remaining=${2 - i}, reset=(59|60)`));
      expect(last.headers.get('ratelimit-policy')).toBe('3;w=60');
      expect(last.headers.get('x-ratelimit-remaining')).toBe(String(2 - i));
    }
    const blocked = await fetch(`${url}/ok`);
    expect(statuses).toEqual([200, 200, 200]);
    expect(blocked.status).toBe(429);
    expect(Number(blocked.headers.get('retry-after'))).toBeGreaterThan(55);
    expect(Number(blocked.headers.get('retry-after'))).toBeLessThanOrEqual(60);
    expect(blocked.headers.get('ratelimit')).toMatch(/limit=3, remaining=0/);
    expect(await blocked.text()).toMatch(/Too many requests/i);
    const { rows } = await pool.query(`SELECT key, hits FROM pgcache.rate_limits WHERE bucket = 'headers'`);
    expect(rows).toEqual([{ key: '127.0.0.1', hits: 4 }]); // like its MemoryStore, every hit counts
  });

  it('opens a new window after windowMs', async () => {
    const { url } = await app({
      windowMs: 400,
      limit: 2,
      standardHeaders: 'draft-6',
      store: new PgcacheRateLimitStore({ pool, bucket: 'window' }),
    });
    expect((await fetch(`${url}/ok`)).status).toBe(200);
    expect((await fetch(`${url}/ok`)).status).toBe(200);
    const blocked = await fetch(`${url}/ok`);
    expect(blocked.status).toBe(429);
    await new Promise((r) => setTimeout(r, 450));
    const again = await fetch(`${url}/ok`);
    expect(again.status).toBe(200);
    expect(again.headers.get('ratelimit-remaining')).toBe('1');
  });

  it('resetKey and getKey reach the database', async () => {
    const { url, limiter } = await app({
      windowMs: 60_000,
      limit: 1,
      store: new PgcacheRateLimitStore({ pool, bucket: 'reset' }),
    });
    expect(await limiter.getKey('127.0.0.1')).toBeUndefined();
    expect((await fetch(`${url}/ok`)).status).toBe(200);
    expect((await fetch(`${url}/ok`)).status).toBe(429);
    const info = await limiter.getKey('127.0.0.1');
    expect(info?.totalHits).toBe(2);
    expect(info?.resetTime?.getTime()).toBeGreaterThan(Date.now() + 55_000);
    await limiter.resetKey('127.0.0.1');
    await vi.waitFor(async () => expect(await limiter.getKey('127.0.0.1')).toBeUndefined());
    expect((await fetch(`${url}/ok`)).status).toBe(200);
  });

  it('decrements failed requests with skipFailedRequests', async () => {
    const { url } = await app({
      windowMs: 60_000,
      limit: 2,
      skipFailedRequests: true,
      store: new PgcacheRateLimitStore({ pool, bucket: 'decrement' }),
    });
    for (let i = 0; i < 5; i++) expect((await fetch(`${url}/fail`)).status).toBe(500);
    // The decrement runs when the response finishes: wait for the count to drop back.
    await vi.waitFor(async () => {
      const { rows } = await pool.query(`SELECT hits FROM pgcache.rate_limits WHERE bucket = 'decrement'`);
      expect(rows).toEqual([{ hits: 0 }]);
    });
    expect((await fetch(`${url}/ok`)).status).toBe(200);
    expect((await fetch(`${url}/ok`)).status).toBe(200);
    expect((await fetch(`${url}/ok`)).status).toBe(429);
  });

  it('shares one count between two app instances (two processes behind a balancer)', async () => {
    const a = await app({ windowMs: 60_000, limit: 10, store: new PgcacheRateLimitStore({ pool, bucket: 'shared' }) });
    const own = new PgcacheRateLimitStore({ connectionString: db.url, bucket: 'shared' });
    const b = await app({ windowMs: 60_000, limit: 10, store: own });
    const statuses = await Promise.all(
      Array.from({ length: 30 }, (_, i) => fetch(`${(i % 2 ? a : b).url}/ok`).then((r) => r.status)),
    );
    expect(statuses.filter((s) => s === 200)).toHaveLength(10);
    expect(statuses.filter((s) => s === 429)).toHaveLength(20);
    await own.shutdown(); // ends the pool it made for its connection string
  });

  it("a tenant view's limits are the tenant's own", async () => {
    const cache = await createCache({ pool });
    const acme = await app({
      windowMs: 60_000,
      limit: 1,
      store: new PgcacheRateLimitStore({ cache: cache.forTenant('acme'), bucket: 'tenants' }),
    });
    const globex = await app({
      windowMs: 60_000,
      limit: 1,
      store: new PgcacheRateLimitStore({ cache: cache.forTenant('globex'), bucket: 'tenants' }),
    });
    expect((await fetch(`${acme.url}/ok`)).status).toBe(200);
    expect((await fetch(`${acme.url}/ok`)).status).toBe(429);
    expect((await fetch(`${globex.url}/ok`)).status).toBe(200);
    await cache.close();
  });

  it('refuses a bad bucket at construction and a bad windowMs at init', () => {
    expect(() => new PgcacheRateLimitStore({ pool, bucket: '' })).toThrow(InvalidArgumentError);
    expect(() => new PgcacheRateLimitStore({})).toThrow(TypeError);
    expect(() => new PgcacheRateLimitStore({ pool }).init({ windowMs: 0 })).toThrow(InvalidArgumentError);
  });

  it('left express-rate-limit nothing to complain about', () => {
    expect(complaints).toEqual([]);
  });
});

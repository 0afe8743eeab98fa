// A store for express-rate-limit (8.x) backed by pgcache's rate limiter, so every process behind a load
// balancer counts against the same limit in PostgreSQL:
//   rateLimit({ windowMs: 60_000, limit: 100, store: new PgcacheRateLimitStore({ pool }) })
// express-rate-limit decides (it compares the hit count with its limit, which may differ per request); the
// store counts every hit of a key in a fixed window of windowMs opened by the key's first hit, as its
// MemoryStore does, with cache_rate_limit under a limit no count reaches. Keys live in one limiter bucket
// (default `express-rate-limit`); give each middleware its own bucket. A tenant view of a cache
// (cache.forTenant) keeps each tenant's counts apart.
// No type of express-rate-limit is named here, so these declarations type-check without it installed; the
// class has the shape of its Store interface.
import pg from 'pg';
import { Cache, ownedPool } from './client/cache.js';
import { InvalidArgumentError } from './client/errors.js';
import { checkLimiterKey } from './client/rate-limit.js';
import { buildStatements } from './client/statements.js';

/** What the store needs of a pgcache client (any Cache, or a tenant view of one). */
export type RateLimitClient = Pick<
  Cache,
  'pool' | 'rateLimit' | 'rateLimitPeek' | 'rateLimitRefund' | 'rateLimitReset'
>;

export interface PgcacheRateLimitStoreOptions {
  /** A pgcache client (or a tenant view of one) to count through; its pool stays yours. */
  cache?: RateLimitClient | undefined;
  /** Your pool (never ended by the store), or a connection string (the store owns that pool). */
  pool?: pg.Pool | undefined;
  connectionString?: string | undefined;
  /** Install schema of pgcache. Default `pgcache`. Ignored with `cache`. */
  schema?: string | undefined;
  /** The limiter bucket of this middleware's keys. Default `express-rate-limit`. */
  bucket?: string | undefined;
}

/** What the store reports for a key, as express-rate-limit's ClientRateLimitInfo. */
export interface PgcacheRateLimitInfo {
  totalHits: number;
  resetTime: Date | undefined;
}

/** Every hit counts: a limit no window's count reaches (the SQL's integer maximum). */
const UNBOUNDED = 2_147_483_647;

export class PgcacheRateLimitStore {
  /** Counts are shared by every process (express-rate-limit's double-count check reads this). */
  readonly localKeys = false;
  /** Tells this store's keys from another middleware's in express-rate-limit's double-count check. */
  readonly prefix: string;
  readonly bucket: string;
  /** The window in milliseconds, from the middleware's options at init(). */
  windowMs = 60_000;
  private readonly cache: RateLimitClient;
  private readonly ownsPool: boolean;

  constructor(options: PgcacheRateLimitStoreOptions | string = {}) {
    const opts = typeof options === 'string' ? { connectionString: options } : options;
    this.bucket = opts.bucket ?? 'express-rate-limit';
    checkLimiterKey(this.bucket, 'key');
    this.prefix = `${this.bucket}:`;
    this.ownsPool = !opts.cache && !opts.pool;
    if (opts.cache) {
      this.cache = opts.cache;
    } else {
      if (!opts.pool && !opts.connectionString) throw new TypeError('pgcache: pass cache, pool or connectionString');
      const pool = opts.pool ?? ownedPool(opts.connectionString);
      const schema = opts.schema ?? 'pgcache';
      this.cache = new Cache(pool, buildStatements(schema), false, pool, schema);
    }
  }

  /** Called by express-rate-limit with the middleware's options: takes its windowMs. */
  init(options: { windowMs: number }): void {
    const windowMs = options?.windowMs;
    if (typeof windowMs !== 'number' || !Number.isFinite(windowMs) || windowMs <= 0) {
      throw new InvalidArgumentError(
        'PC010',
        `pgcache: argument "windowMs" must be a positive number of milliseconds, got ${String(windowMs)}`,
      );
    }
    this.windowMs = windowMs;
  }

  private get window(): { limit: number; window: number } {
    return { limit: UNBOUNDED, window: this.windowMs / 1000 };
  }

  /** Counts a hit; returns the hits of the key's current window and when it ends. */
  async increment(key: string): Promise<PgcacheRateLimitInfo> {
    const result = await this.cache.rateLimit(this.bucket, key, this.window);
    return { totalHits: UNBOUNDED - result.remaining, resetTime: result.resetAt };
  }

  /** Takes one hit back (skipSuccessfulRequests / skipFailedRequests). */
  async decrement(key: string): Promise<void> {
    await this.cache.rateLimitRefund(this.bucket, key, 1);
  }

  /** Forgets the key's window. */
  async resetKey(key: string): Promise<void> {
    await this.cache.rateLimitReset(this.bucket, key);
  }

  /** The key's hits and window end, or undefined when it has no hits in a live window. */
  async get(key: string): Promise<PgcacheRateLimitInfo | undefined> {
    const result = await this.cache.rateLimitPeek(this.bucket, key, this.window);
    const totalHits = UNBOUNDED - result.remaining;
    return totalHits > 0 ? { totalHits, resetTime: result.resetAt } : undefined;
  }

  /** Ends the pool if the store created it. */
  async shutdown(): Promise<void> {
    if (this.ownsPool) await this.cache.pool.end();
  }
}

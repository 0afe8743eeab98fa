// createCache(): a pool, the install schema, and one typed accessor per registered cache type.
// Over 300 lines because it is the one class of the cache-wide API (transactions, tags, watches, leases, rate
// limits, stats, types): each method is an argument check and one statement.
import pg from 'pg';
import { type AccessorFor, CacheTypeAccessor } from './accessor.js';
import { connectionAsPool } from './connection.js';
import {
  FeatureUnavailableError,
  InvalidArgumentError,
  InvalidTypeDefinitionError,
  NotInstalledError,
  TenantRequiredError,
  translated,
  translateError,
  UnknownCacheTypeError,
} from './errors.js';
import { acquireLease, checkLeaseName, type Lease, type LockOptions, lockSettings } from './lease.js';
import { NearCache, type NearCacheOptions } from './near-cache.js';
import {
  checkCost,
  checkLimiterKey,
  limiterArguments,
  type RateLimitOptions,
  type RateLimitResult,
  rateLimitStatements,
  toRateLimitResult,
} from './rate-limit.js';
import { ReadCounter } from './read-counter.js';
import {
  bindTenant,
  buildStatements,
  type Statement,
  type Statements,
  TENANT_NAME,
  viewStatements,
  writerStatements,
} from './statements.js';
import { type CacheStatsRow, toCacheStats } from './stats.js';
import type {
  CacheStats,
  CacheTypeDefinition,
  CacheTypeMap,
  CacheTypeRow,
  ComputeLock,
  SavingsRow,
  SeedCacheTypes,
  SemanticStats,
  ValueKind,
} from './types.js';
import { checkString, checkTags, sendableText, ttlSeconds } from './validate.js';

export interface CacheOptions {
  /** Your pool (pgcache never ends it), or a connection string (pgcache owns that pool). */
  pool?: pg.Pool | undefined;
  connectionString?: string | undefined;
  /** The schema pgcache was installed in. Default `pgcache`. */
  schema?: string | undefined;
  /**
   * Optional pool for reads (get, getEntry, getMany, scan), e.g. on a hot standby: reads there are served
   * without counting hits or touching rows. Writes, invalidation and admin calls always use `pool`.
   */
  readPool?: pg.Pool | undefined;
  /**
   * Opt-in in-process near-cache (L1) for types with notify on (cache_configure_notify): hits never leave the
   * process; change notifications (keyed tags on the install's channel) drop what other processes change,
   * after they commit. Its role must read cache_settings (the reader group may). Not on PGlite.
   */
  nearCache?: NearCacheOptions | boolean | undefined;
  /**
   * Errors of idle connections in a pool pgcache created (a terminated backend, a restart): the pool drops the
   * connection and the next call reconnects. Default: console.warn. Your own pool keeps your own listener.
   */
  onPoolError?: ((error: Error) => void) | undefined;
  /**
   * getOrCompute's cross-process stampede lock (a call may override it with its own `lock` option):
   * 'advisory' (default) holds a session advisory lock (cache_lock) on one pooled connection while computing:
   * one statement less per miss, but it needs session-pooled connections. 'lease' takes a leased lock
   * (cache_lease_acquire, a row with an expiry) and holds no connection: use it behind PgBouncer in
   * transaction mode and on PGlite, where advisory locks exclude nothing.
   */
  computeLock?: ComputeLock | undefined;
}

/** A pool for a connection string, with the 'error' listener pg requires (without one, Node exits). */
export function ownedPool(connectionString: string | undefined, onError?: (error: Error) => void): pg.Pool {
  const pool = new pg.Pool({ connectionString });
  pool.on('error', onError ?? ((error) => console.warn(`pgcache: idle connection lost: ${error.message}`)));
  return pool;
}

/**
 * What the add-on modules (src/ai) need of a cache, whatever its type map. They reach the SQL only through
 * `run`, so a tenant view (forTenant) binds its tenant to their statements exactly as to the accessors'.
 */
export interface CacheHandle {
  readonly schema: string;
  readonly tenant?: string | undefined;
  type(name: string): CacheTypeAccessor<unknown>;
  run(statement: Statement, values: unknown[]): Promise<Record<string, unknown>[]>;
}

/** Names of the types whose values are jsonb, which take a caller-chosen value type. */
type JsonTypeName<Types extends CacheTypeMap> = {
  [N in keyof Types]: Types[N] extends 'jsonb' ? N : never;
}[keyof Types] &
  string;

export class Cache<Types extends CacheTypeMap = SeedCacheTypes> implements CacheHandle {
  private readonly accessors = new Map<string, CacheTypeAccessor<unknown>>();
  private kinds = new Map<string, ValueKind>();
  private notifying = new Set<string>();
  /** Registry id and tenant scoping of each type, for the reads through its view. */
  private registry = new Map<string, { id: number; tenantScoped: boolean }>();
  /** Counts of the reads made through the views, shared with the tenant views of this cache. */
  private counter: ReadCounter;
  /** The near-cache, when enabled at createCache. */
  near: NearCache | undefined;
  private readonly limiter: ReturnType<typeof rateLimitStatements>;

  constructor(
    readonly pool: pg.Pool,
    private readonly sql: Statements,
    private readonly ownsPool: boolean,
    readonly readPool: pg.Pool = pool,
    /** The install schema, for modules that add their own statements (src/ai). */
    readonly schema = 'pgcache',
    /** The tenant this view of the cache acts for (see forTenant). */
    readonly tenant?: string,
    /** getOrCompute's default cross-process lock (CacheOptions.computeLock). */
    readonly computeLock: ComputeLock = 'advisory',
  ) {
    this.counter = new ReadCounter(pool, sql.recordReads, sql.recordSavings);
    this.limiter = rateLimitStatements(schema);
  }

  /**
   * The same cache acting for one tenant: on tenant-scoped types (cache_configure_tenant_scoped) it reads, writes and
   * invalidates only that tenant's entries; the database enforces it from the pgcache.tenant setting.
   */
  forTenant(tenant: string): Cache<Types> {
    if (typeof tenant !== 'string' || !TENANT_NAME.test(tenant)) {
      throw new TenantRequiredError(
        'PC013',
        `pgcache: argument "tenant" must be a tenant name (1-128 of A-Z a-z 0-9 _ . : @ -), got ${typeof tenant === 'string' ? JSON.stringify(tenant) : typeof tenant}`,
      );
    }
    const view = new Cache<Types>(this.pool, this.sql, false, this.readPool, this.schema, tenant, this.computeLock);
    view.kinds = this.kinds;
    view.registry = this.registry;
    view.counter = this.counter;
    view.notifying = new Set(); // the near-cache is not tenant-aware: tenant views read through
    return view;
  }

  /**
   * The same cache on a connection of yours (a `pg.PoolClient` or `pg.Client`): every call of it, and of its
   * accessors, tenant views and the AI helpers built on it, runs there, inside the transaction you opened with
   * BEGIN, so a cache write or invalidation commits or rolls back with your own writes. Reads there see your
   * transaction's uncommitted writes; the near-cache is bypassed (other processes' near-caches drop what changed
   * when you COMMIT). You release the connection.
   */
  withConnection(client: pg.PoolClient | pg.Client): Cache<Types> {
    const bound = connectionAsPool(client);
    const view = new Cache<Types>(bound, this.sql, false, bound, this.schema, this.tenant);
    view.kinds = this.kinds;
    view.registry = this.registry;
    view.counter = this.counter;
    view.notifying = new Set();
    return view;
  }

  /**
   * Runs `fn` in a transaction on one pooled connection: BEGIN, `fn(tx, client)`, COMMIT, or ROLLBACK when it
   * throws (the error is rethrown). `tx` is this cache on that connection (withConnection); `client` runs your own
   * statements in the same transaction. Returns what `fn` returns.
   */
  async transaction<T>(fn: (tx: Cache<Types>, client: pg.PoolClient) => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    let broken: Error | undefined;
    try {
      await client.query('BEGIN');
      const result = await fn(this.withConnection(client), client);
      await client.query('COMMIT');
      return result;
    } catch (error) {
      await client.query('ROLLBACK').catch((rollbackError: Error) => {
        broken = rollbackError; // a connection that cannot roll back is discarded
      });
      throw translateError(error);
    } finally {
      client.release(broken);
    }
  }

  /**
   * Deletes the entries carrying any of `tags`, of every type or of `options.type`: on tenant-scoped types only
   * this view's tenant's (without a tenant, tenant-scoped types are left alone). Returns how many were live.
   * `cache_invalidate_tags`
   */
  async invalidateTags(tags: readonly string[], options: { type?: string | undefined } = {}): Promise<number> {
    checkTags(tags, 10000);
    if (options.type !== undefined) checkString(options.type, 'type');
    const rows = await this.run(this.sql.invalidateTags, [tags, options.type ?? null]);
    for (const name of options.type === undefined ? this.notifying : [options.type]) this.near?.dropPrefix(name);
    return Number(rows[0]?.n);
  }

  /**
   * Watches a table of yours (admin, and its owner only: PC019 otherwise): every INSERT, UPDATE (of `columns`,
   * if given) and DELETE invalidates, in its own transaction, the entries tagged by `tag`, a template over the
   * row's columns such as `'doc:{id}'`; of `type` only, if given. Returns the watch's name. `cache_watch_table`
   */
  async watchTable(
    table: string,
    tag: string,
    options: { columns?: readonly string[] | undefined; type?: string | undefined } = {},
  ) {
    checkString(table, 'table');
    checkString(tag, 'tag');
    if (options.columns !== undefined) checkTags(options.columns, 1600);
    if (options.type !== undefined) checkString(options.type, 'type');
    const rows = await this.query(this.sql.watchTable, [table, tag, options.columns ?? null, options.type ?? null]);
    return rows[0]?.name as string;
  }

  /** Removes the watch of `tag` (and `type`) from a table, or all its watches; returns how many. `cache_unwatch_table` */
  async unwatchTable(
    table: string,
    options: { tag?: string | undefined; type?: string | undefined } = {},
  ): Promise<number> {
    checkString(table, 'table');
    const rows = await this.query(this.sql.unwatchTable, [table, options.tag ?? null, options.type ?? null]);
    return Number(rows[0]?.n);
  }

  /** The watches of this install (admin): table, name, tag template, columns (null: any), type (null: all). */
  async watches(): Promise<
    { tableName: string; watchName: string; tag: string; columns: string[] | null; cacheType: string | null }[]
  > {
    const rows = await this.query(this.sql.watches);
    return rows.map((r) => ({
      tableName: r.table_name as string,
      watchName: r.watch_name as string,
      tag: r.tag as string,
      columns: r.columns as string[] | null,
      cacheType: r.cache_type as string | null,
    }));
  }

  private async query(statement: { name: string; text: string }, values: unknown[] = []) {
    return translated(async () => (await this.pool.query({ ...statement, values })).rows);
  }

  /**
   * Runs one statement on the primary for this view's tenant (if any), errors translated to their classes
   * (other SQLSTATEs pass unchanged). For add-on modules; applications use the accessors.
   */
  async run(statement: Statement, values: unknown[]): Promise<Record<string, unknown>[]> {
    return translated(async () => (await this.pool.query(bindTenant(statement, values, this.tenant))).rows);
  }

  /** Re-reads the registry of cache types (after types were created elsewhere). */
  async refreshTypes(): Promise<void> {
    const rows = await this.query(this.sql.kinds);
    this.kinds = new Map(rows.map((r) => [r.name as string, r.value_kind as ValueKind]));
    this.registry = new Map(
      rows.map((r) => [r.name as string, { id: Number(r.id), tenantScoped: r.tenant_scoped === true }]),
    );
    this.notifying = new Set(rows.filter((r) => r.notify).map((r) => r.name as string));
    this.accessors.clear();
  }

  /**
   * The accessor of a cache type: values typed by its kind for the names of the type map (jsonb:
   * `type<MyValue>('name')`), untyped for a name known only at run time.
   */
  type<N extends keyof Types & string>(name: N): AccessorFor<Types[N]>;
  type<T>(name: JsonTypeName<Types>): CacheTypeAccessor<T>;
  type(name: string): CacheTypeAccessor<unknown>;
  type(name: string): CacheTypeAccessor<unknown> {
    let accessor = this.accessors.get(name);
    if (!accessor) {
      const kind = this.kinds.get(name);
      if (!kind) {
        throw new UnknownCacheTypeError(
          'PC001',
          `pgcache: cache type "${name}" does not exist (or refreshTypes() first)`,
        );
      }
      const near = this.notifying.has(name) ? this.near : undefined;
      // Reads through the type's view on the primary; a separate read pool (a standby) keeps the functions.
      const entry = this.registry.get(name);
      const view =
        entry && this.readPool === this.pool
          ? {
              statements: viewStatements(this.schema, entry.id, name, kind),
              counter: this.counter,
              tenantScoped: entry.tenantScoped,
            }
          : undefined;
      // Sets through the type's own writer (core/04_write.sql).
      const writer = entry ? writerStatements(this.schema, entry.id, name, kind) : undefined;
      accessor = new CacheTypeAccessor(
        this.pool,
        this.sql,
        name,
        kind,
        this.readPool,
        near,
        this.tenant,
        view,
        writer,
        this.computeLock,
      );
      this.accessors.set(name, accessor);
    }
    return accessor;
  }

  /** @deprecated Use `type(name)`, which does the same; removed after 0.2.0. */
  accessor(name: string): CacheTypeAccessor<unknown> {
    return this.type(name);
  }

  /**
   * Takes the leased lock `name` (Redis SET NX PX / Redlock on one node): the handle's `token` is a fencing
   * token larger than any handed out before; `release()` and `extend()` act only for this holder. Returns
   * undefined while another holder keeps it past `wait` seconds. An expired lease (its holder died or
   * overran `ttl` without extend) can be taken over. Works through any pool and PgBouncer in transaction
   * mode. Names are per tenant in a forTenant view. `cache_lease_acquire`
   */
  async lock(name: string, options: LockOptions = {}): Promise<Lease | undefined> {
    checkLeaseName(name);
    return acquireLease((statement, values) => this.run(statement, values), this.sql, name, lockSettings(options));
  }

  /** Per type: entries, live entries, bytes, exact hits and misses, hit rate, savings. `cache_stats` */
  async stats(): Promise<CacheStats[]> {
    await this.counter.flush().catch(() => undefined); // this client's own reads so far
    return (await this.query(this.sql.stats)).map((row) => toCacheStats(row as CacheStatsRow));
  }

  /**
   * What hits of entries with a recorded cost saved, per day (UTC), type, model, tenant and currency, since a
   * day (a Date or YYYY-MM-DD; default: all). Operators only (the admin role). `cache_savings`
   */
  async savings(options: { since?: Date | string } = {}): Promise<SavingsRow[]> {
    const since = options.since instanceof Date ? options.since.toISOString().slice(0, 10) : (options.since ?? null);
    if (since !== null && !/^\d{4}-\d{2}-\d{2}$/.test(since)) {
      throw new InvalidArgumentError(
        'PC010',
        `pgcache: argument "since" must be a Date or YYYY-MM-DD, got ${JSON.stringify(since)}`,
      );
    }
    const rows = await this.query(this.sql.savings, [since]);
    return rows.map((r) => ({
      day: r.day,
      cacheType: r.cache_type,
      model: r.model,
      tenant: r.tenant,
      currency: r.currency,
      hits: Number(r.hits),
      inputTokens: Number(r.input_tokens),
      outputTokens: Number(r.output_tokens),
      tokens: Number(r.tokens),
      characters: Number(r.characters),
      computeSeconds: Number(r.compute_seconds),
      cost: Number(r.cost),
    }));
  }

  /**
   * Semantic lookups per type and model: hits, misses, feedback, verifier rejections and the histogram of
   * nearest distances. Operators only; needs pgvector (PC011 without). `cache_semantic_quality`
   */
  async semanticStats(): Promise<SemanticStats[]> {
    let quality: Record<string, unknown>[];
    let distances: Record<string, unknown>[];
    try {
      quality = await this.query(this.sql.semanticQuality);
      distances = await this.query(this.sql.semanticDistances);
    } catch (error) {
      if ((error as { code?: string }).code === '42P01') {
        throw new FeatureUnavailableError(
          'PC011',
          'pgcache: semantic statistics need the pgvector extension in this database',
          error,
        );
      }
      throw error;
    }
    return quality.map((q) => ({
      cacheType: q.cache_type as string,
      model: q.model as string,
      lookups: Number(q.lookups),
      hits: Number(q.hits),
      misses: Number(q.misses),
      correctHits: Number(q.correct_hits),
      wrongHits: Number(q.wrong_hits),
      verifierRejections: Number(q.verifier_rejections),
      typeMaxDistance: (q.type_max_distance as number | null) ?? null,
      distances: distances
        .filter((d) => d.cache_type === q.cache_type && d.model === q.model)
        .map((d) => ({
          bucket: Number(d.bucket),
          distanceFrom: d.distance_from as number | null,
          distanceTo: d.distance_to as number | null,
          hits: Number(d.hits),
          misses: Number(d.misses),
        })),
    }));
  }

  /** Registers a cache type and creates its table. `cache_create_type` */
  async createType(def: CacheTypeDefinition): Promise<CacheTypeRow> {
    if (typeof def?.name !== 'string' || !sendableText(def.name)) {
      throw new InvalidTypeDefinitionError(
        'PC008',
        'pgcache: argument "name" must be a string of characters a type name can have',
      );
    }
    const [row] = await this.query(this.sql.createType, [
      def.name,
      def.valueKind ?? 'jsonb',
      def.defaultTtl === 'never' ? Number.POSITIVE_INFINITY : ttlSeconds(def.defaultTtl ?? 3600),
      def.maxEntries ?? null,
      def.maxBytes ?? null,
      def.evictionPolicy ?? 'lru',
      def.unlogged ?? false,
      def.maxValueBytes ?? 1048576,
      JSON.stringify(def.attributes ?? {}),
      def.description ?? '',
    ]);
    this.kinds.set(def.name, row?.value_kind);
    if (row) this.registry.set(def.name, { id: Number(row.id), tenantScoped: row.tenant_scoped === true });
    return row as CacheTypeRow;
  }

  /** Drops a cache type with all its entries. `cache_drop_type` */
  async dropType(name: string): Promise<void> {
    await this.query(this.sql.dropType, [name]);
    this.kinds.delete(name);
    this.registry.delete(name);
    this.accessors.delete(name);
  }

  /** Deletes up to `batch` expired or invalidated entries (all types when none given). `cache_cleanup_expired` */
  async cleanupExpired(options: { type?: string | undefined; batch?: number | undefined } = {}): Promise<number> {
    const [row] = await this.query(this.sql.cleanupExpired, [options.type ?? null, options.batch ?? 10000]);
    return Number(row?.n);
  }

  /**
   * Evicts entries of a type down to its budgets (or the given ones) under a policy. `maxBytes` is a number of
   * bytes or a PostgreSQL size such as '64MB' (pg_size_bytes). `cache_evict`
   */
  async evict(
    type: string,
    options: {
      maxEntries?: number | undefined;
      maxBytes?: number | string | undefined;
      policy?: CacheStats['evictionPolicy'] | undefined;
    } = {},
  ): Promise<number> {
    const statement = typeof options.maxBytes === 'string' ? this.sql.evictSized : this.sql.evict;
    const [row] = await this.query(statement, [
      type,
      options.maxEntries ?? null,
      options.maxBytes ?? null,
      options.policy ?? null,
    ]);
    return Number(row?.n);
  }

  /**
   * Registers the vector width of an embedding model (admin) and returns it; PC006 if the model is registered
   * with another width. Tenants may store vectors only of registered models, so register them up front, in
   * a session without a tenant. `cache_register_model`
   */
  async registerModel(model: string, dimensions: number): Promise<number> {
    checkString(model, 'model');
    if (!Number.isInteger(dimensions) || dimensions < 1 || dimensions > 16000) {
      throw new InvalidArgumentError(
        'PC010',
        `pgcache: argument "dimensions" must be an integer from 1 to 16000, got ${String(dimensions)}`,
      );
    }
    const [row] = await this.query(this.sql.registerModel, [model, dimensions]);
    return Number(row?.dimensions);
  }

  /**
   * Consumes `cost` (default 1) of `key`'s limit in `bucket`: at most `limit` units per `window` seconds, a
   * fixed window opened by the key's first hit, counted exactly under concurrency. A denied call consumes
   * nothing. On a tenant view (forTenant) the key is the tenant's own. `cache_rate_limit`
   */
  async rateLimit(bucket: string, key: string, options: RateLimitOptions): Promise<RateLimitResult> {
    checkLimiterKey(bucket, key);
    const [limit, window, cost] = limiterArguments(options);
    const rows = await this.run(this.limiter.consume, [bucket, key, limit, window, cost]);
    return toRateLimitResult(rows[0]);
  }

  /** What rateLimit would answer now, without consuming anything. `cache_rate_limit_peek` */
  async rateLimitPeek(bucket: string, key: string, options: RateLimitOptions): Promise<RateLimitResult> {
    checkLimiterKey(bucket, key);
    const [limit, window, cost] = limiterArguments(options);
    const rows = await this.run(this.limiter.peek, [bucket, key, limit, window, cost]);
    return toRateLimitResult(rows[0]);
  }

  /**
   * Gives back `cost` (default 1) units of the key's current window; returns the units still consumed in it
   * (0 without a live window). `cache_rate_limit_refund`
   */
  async rateLimitRefund(bucket: string, key: string, cost?: number): Promise<number> {
    checkLimiterKey(bucket, key);
    const rows = await this.run(this.limiter.refund, [bucket, key, checkCost(cost)]);
    return Number(rows[0]?.hits);
  }

  /** Forgets the key's window, so its whole limit is available again; true when it had one. `cache_rate_limit_reset` */
  async rateLimitReset(bucket: string, key: string): Promise<boolean> {
    checkLimiterKey(bucket, key);
    const rows = await this.run(this.limiter.reset, [bucket, key]);
    return rows[0]?.existed === true;
  }

  /** Stops the near-cache listener, and ends the pool if pgcache created it. */
  async close(): Promise<void> {
    await this.counter.flush().catch(() => undefined);
    await this.near?.close();
    if (this.ownsPool) await this.pool.end();
  }
}

/** Connects to an installed pgcache and loads its registry of cache types. */
export async function createCache<Types extends CacheTypeMap = SeedCacheTypes>(
  options: CacheOptions,
): Promise<Cache<Types>> {
  const schema = options.schema ?? 'pgcache';
  if (!options.pool && !options.connectionString) throw new TypeError('pgcache: pass pool or connectionString');
  const pool = options.pool ?? ownedPool(options.connectionString, options.onPoolError);
  if (options.computeLock !== undefined && options.computeLock !== 'advisory' && options.computeLock !== 'lease') {
    throw new InvalidArgumentError('PC010', `pgcache: argument "computeLock" must be 'advisory' or 'lease'`);
  }
  const cache = new Cache<Types>(
    pool,
    buildStatements(schema),
    !options.pool,
    options.readPool ?? pool,
    schema,
    undefined,
    options.computeLock,
  );
  try {
    if (options.nearCache) {
      const near = options.nearCache === true ? {} : options.nearCache;
      const connection = near.listenConnectionString
        ? { connectionString: near.listenConnectionString }
        : (pool as unknown as { options: pg.ClientConfig }).options;
      cache.near = new NearCache(schema, connection, near);
      await cache.near.start();
    }
    await cache.refreshTypes();
  } catch (error) {
    const missing = await notInstalled(pool, schema, error);
    await cache.close();
    throw missing ?? error;
  }
  return cache;
}

// undefined_function, undefined_table, invalid_schema_name: what the first call meets where pgcache is absent.
const ABSENT = new Set(['42883', '42P01', '3F000']);

/** A NotInstalledError when `error` comes from a schema that holds no pgcache install. */
async function notInstalled(pool: pg.Pool, schema: string, error: unknown): Promise<NotInstalledError | undefined> {
  if (!ABSENT.has((error as { code?: string })?.code ?? '')) return undefined;
  try {
    const { rows } = await pool.query('SELECT to_regclass($1) IS NULL AS absent', [
      `${pg.escapeIdentifier(schema)}.cache_types`,
    ]);
    if (!rows[0]?.absent) return undefined;
  } catch {
    return undefined;
  }
  return new NotInstalledError(
    'PC014',
    `pgcache: pgcache is not installed in schema "${schema}" of this database; install it with ` +
      `\`npx pgcache migrate --schema ${schema}\` (or migrate({ databaseUrl, schema: '${schema}' }))`,
    error,
  );
}

// One cache type, typed by its value kind. Each method is one call of a pgcache SQL function.
// Over 300 lines because it is the whole per-type API (some 25 methods, each an argument check and one
// statement); getOrCompute's locks and stale-while-revalidate are in compute-lock.ts and revalidation.ts.
import type pg from 'pg';
import { computeAndStore, computeUnderLease, type LockScope, type Queryable, withComputeLock } from './compute-lock.js';
import { InvalidArgumentError, translated, translateError, WrongValueKindError } from './errors.js';
import type { NearCache } from './near-cache.js';
import type { ReadCounter, StoredCost } from './read-counter.js';
import { Revalidations } from './revalidation.js';
import { SingleFlight } from './single-flight.js';
import {
  bindTenant,
  type Statement,
  type Statements,
  type ViewStatements,
  type WriterStatements,
} from './statements.js';
import {
  type CacheEntry,
  type ComputeLock,
  type ComputeOptions,
  type EntryCost,
  type EntryRow,
  type KindValue,
  NEVER_EXPIRES,
  type SetOptions,
  type Ttl,
  type ValueKind,
} from './types.js';
import {
  checkBytesValue,
  checkFunction,
  checkKey,
  checkKeys,
  checkString,
  checkTags,
  checkText,
  checkTextValue,
  checkTtl,
  checkVector,
  describe,
  encodeJson,
  ttlParams,
  ttlSeconds,
  withCost,
} from './validate.js';

const VALUE_COLUMN = {
  jsonb: 'value_json',
  text: 'value_text',
  bytea: 'value_bytes',
  vector: 'value_vector',
} as const satisfies Record<ValueKind, keyof EntryRow>;

type Row = Record<string, unknown>;

/** How an accessor reads its type's view (see viewStatements), when it can. */
export interface ViewReads {
  statements: ViewStatements;
  counter: ReadCounter;
  tenantScoped: boolean;
}

/** Errors that mean the view cannot serve (gone with its type, or not readable): the SQL function answers. */
const VIEW_UNAVAILABLE = new Set(['42P01', '42501']);
/** Errors that mean the type's writer cannot serve (its type dropped meanwhile, an install without writers,
 * no EXECUTE on it): cache_set answers, with PC001 for a dropped type. */
const WRITER_UNAVAILABLE = new Set(['42P01', '42883', '42501']);
const MAX_KEY_BYTES = 1024;
const MAX_BATCH = 10000;
/** bigint's range, which cache_incr's delta must fit. */
const INT8_MIN = -(2n ** 63n);
const INT8_MAX = 2n ** 63n - 1n;

/** An expiry as pg returns it: a Date, or Infinity for an entry that never expires (NEVER_EXPIRES then). */
export function expiryDate(value: unknown): Date {
  return value === Number.POSITIVE_INFINITY ? NEVER_EXPIRES : (value as Date);
}

export class CacheTypeAccessor<V> {
  private readonly flights = new SingleFlight<V>();
  private readonly revalidations = new Revalidations();

  /**
   * `readPool` serves get, getEntry, getMany and scan (e.g. a hot standby); everything else uses `pool`.
   * `near`, when given, is the in-process near-cache in front of `get` (types with notify on only).
   */
  constructor(
    private readonly pool: pg.Pool,
    private readonly sql: Statements,
    readonly name: string,
    readonly kind: ValueKind,
    private readonly readPool: pg.Pool = pool,
    private readonly near?: NearCache,
    /** For tenant-scoped types: every statement runs with pgcache.tenant set to this, for itself only. */
    readonly tenant?: string,
    /** get and getMany through the type's read view, counted by the client (absent: through the functions). */
    private view?: ViewReads,
    /** set through the type's own writer (absent: through cache_set). */
    private writer?: WriterStatements,
    /** getOrCompute's cross-process lock unless a call names one (see ComputeOptions.lock). */
    private readonly computeLock: ComputeLock = 'advisory',
  ) {}

  /**
   * The view for this call, or undefined where the SQL function must answer: it raises what the view cannot
   * (PC013 for a tenant-scoped type without a tenant, PC002 for a key over 1024 bytes, PC012 for a batch
   * over 10000 keys) and counts reads of a standby or a read-only transaction as it always did.
   */
  private viewFor(keys: readonly string[]): ViewReads | undefined {
    const view = this.view;
    if (!view || (view.tenantScoped && this.tenant === undefined) || keys.length > MAX_BATCH) return undefined;
    for (const key of keys)
      if (key.length * 3 > MAX_KEY_BYTES && Buffer.byteLength(key) > MAX_KEY_BYTES) return undefined;
    return view;
  }

  /** The key as the table stores it: tenant-scoped types prefix the tenant and U+001F (see _stored_key). */
  private storedKey(key: string, view: ViewReads): string {
    return view.tenantScoped ? `${this.tenant}\u001f${key}` : key;
  }

  /** A read through the view; undefined when the view is unavailable (then the function path answers). */
  private async viewRows(view: ViewReads, many: boolean, param: unknown): Promise<Row[] | undefined> {
    const s = view.statements;
    const config = view.tenantScoped
      ? { ...(many ? s.getManyTenant : s.getTenant), values: [param, this.tenant] }
      : { ...(many ? s.getMany : s.get), values: [param] };
    try {
      return (await this.readPool.query(config)).rows;
    } catch (error) {
      if (VIEW_UNAVAILABLE.has((error as { code?: string })?.code ?? '')) {
        this.view = undefined;
        return undefined;
      }
      throw translateError(error);
    }
  }

  /** The query to send, for this accessor's tenant if it has one (see bindTenant). */
  private bind(statement: Statement, values: unknown[]): pg.QueryConfig {
    return bindTenant(statement, values, this.tenant);
  }

  /** Every public method has checked its arguments before it gets here (nothing is coerced on the way). */
  private async query(statement: Statement, values: unknown[], via: Queryable = this.pool): Promise<Row[]> {
    return translated(async () => (await (via as pg.Pool).query(this.bind(statement, values))).rows);
  }

  /** A set through the type's writer; undefined when the writer is unavailable (then cache_set answers). */
  private async write(writer: WriterStatements, values: unknown[], via: Queryable): Promise<Row[] | undefined> {
    try {
      return (await (via as pg.Pool).query(this.bind(writer.set, values))).rows;
    } catch (error) {
      if (WRITER_UNAVAILABLE.has((error as { code?: string })?.code ?? '')) {
        this.writer = undefined;
        return undefined;
      }
      throw translateError(error);
    }
  }

  private read(statement: Statement, values: unknown[]): Promise<Row[]> {
    return this.query(statement, values, this.readPool);
  }

  /** The parameter pg sends for a value of this kind. undefined (and null outside jsonb) becomes SQL NULL,
   * which the SQL rejects (PC005); a jsonb null is stored as JSON null. */
  private encode(value: V, argument = 'value'): unknown {
    if (this.kind === 'jsonb') return encodeJson(value, argument);
    if (this.kind === 'text') {
      checkTextValue(value, argument);
      return value;
    }
    if (this.kind === 'bytea') return checkBytesValue(value, argument);
    if (value === null || value === undefined) {
      throw new WrongValueKindError(
        'PC005',
        `pgcache: argument "${argument}" must be an array of numbers, got ${describe(value)}`,
      );
    }
    checkVector(value, argument);
    return ArrayBuffer.isView(value) ? Array.from(value as unknown as Float32Array) : value;
  }

  private decode(row: Row): V {
    return row[VALUE_COLUMN[this.kind]] as V;
  }

  /** The value, or undefined on a miss (absent, expired or invalidated). `cache_get*` */
  async get(key: string): Promise<V | undefined> {
    checkKey(key);
    if (this.near?.enabled) return this.getThroughNear(key, this.near);
    const view = this.viewFor([key]);
    if (view) {
      const stored = this.storedKey(key, view);
      const rows = await this.viewRows(view, false, stored);
      if (rows) {
        const [row] = rows;
        if (!row) {
          view.counter.count(this.name, 0, 1);
          return undefined;
        }
        view.counter.count(this.name, 1, 0, row.touch_due ? [stored] : undefined);
        if (row.cost) view.counter.save(this.name, this.tenant, row.cost as StoredCost, row.scope as string | null);
        return row.v as V;
      }
    }
    const [row] = await this.read(this.sql.get[this.kind], [this.name, key]);
    return row?.miss ? undefined : (row?.v as V);
  }

  /** L1 first; on a miss the entry (with its expiry) comes from the database and is held, if nothing changed meanwhile. */
  private async getThroughNear(key: string, near: NearCache): Promise<V | undefined> {
    const held = near.lookup(this.name, key);
    if (held.found) return held.value as V;
    const ticket = near.ticket();
    // From the primary: the notifications come from there, and a lagging standby could refill an old value.
    const [row] = await this.query(this.sql.getEntry, [this.name, key]);
    if (!row) return undefined;
    const value = this.decode(row);
    near.fill(this.name, key, value, expiryDate(row.expires_at), ticket);
    return value;
  }

  /** The whole entry (value, model, meta, expiry, hit score), or undefined on a miss. `cache_get_entry` */
  async getEntry(key: string): Promise<CacheEntry<V> | undefined> {
    checkKey(key);
    return this.entryOf((await this.read(this.sql.getEntry, [this.name, key]))[0]);
  }

  private entryOf(row: Row | undefined): CacheEntry<V> | undefined {
    if (!row) return undefined;
    const { type_id, value_json, value_text, value_bytes, value_vector, ...rest } = row;
    return {
      ...(rest as Omit<CacheEntry<V>, 'value'>),
      expires_at: expiryDate(rest.expires_at),
      value: this.decode(row),
    };
  }

  /**
   * A bytea value in chunks, for multi-megabyte audio: each chunk is read on its own (the table stores bytea
   * uncompressed, so a chunk reads only its own TOAST pages), so the whole value is never held twice in
   * memory. All chunks come from one snapshot (REPEATABLE READ), so an overwrite midway cannot mix values.
   * Yields nothing on a miss. `cache_get_bytea_slice`
   */
  async *stream(key: string, options: { chunkBytes?: number | undefined } = {}): AsyncGenerator<Buffer> {
    if (this.kind !== 'bytea') throw new TypeError('pgcache: stream() reads bytea types');
    checkKey(key);
    const chunk = options.chunkBytes ?? 1 << 20;
    const client = await this.readPool.connect();
    try {
      await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ');
      for (let offset = 0; ; offset += chunk) {
        const { rows } = await client.query(this.bind(this.sql.readBytea, [this.name, key, offset, chunk]));
        const row = rows[0];
        if (!row || row.total === null) break;
        if ((row.chunk as Buffer).length > 0) yield row.chunk as Buffer;
        if (offset + chunk >= row.total) break;
      }
      await client.query('COMMIT');
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw translateError(error);
    } finally {
      client.release();
    }
  }

  /** Values for many keys in one round trip, aligned with `keys` (undefined for misses). `cache_get_many` */
  async getMany(keys: readonly string[]): Promise<(V | undefined)[]> {
    checkKeys(keys);
    const view = this.viewFor(keys);
    if (view) {
      const stored = view.tenantScoped ? keys.map((key) => this.storedKey(key, view)) : keys;
      const rows = await this.viewRows(view, true, stored);
      if (rows) {
        const skip = view.tenantScoped ? (this.tenant as string).length + 1 : 0;
        const found = new Map(rows.map((row) => [(row.key as string).slice(skip), row.v as V]));
        const asked = new Set(keys).size;
        const due = rows.filter((row) => row.touch_due).map((row) => row.key as string);
        view.counter.count(this.name, found.size, asked - found.size, due);
        for (const row of rows)
          if (row.cost) view.counter.save(this.name, this.tenant, row.cost as StoredCost, row.scope as string | null);
        return keys.map((key) => found.get(key));
      }
    }
    const rows = await this.read(this.sql.getMany, [this.name, keys]);
    const found = new Map(rows.map((row) => [row.key as string, this.decode(row)]));
    return keys.map((key) => found.get(key));
  }

  /** Stores a value; returns its expiry. `cache_set` */
  async set(key: string, value: V, options: SetOptions = {}): Promise<Date> {
    return this.setVia(this.pool, key, value, options);
  }

  private async setVia(via: Queryable, key: string, value: V, options: SetOptions = {}): Promise<Date> {
    checkKey(key);
    const { ttl, model = null, meta, tags, cost } = options;
    checkText(model, 'model');
    checkTtl(ttl);
    if (tags !== undefined) checkTags(tags);
    const encoded = this.encode(value);
    const metaJson = meta === undefined && cost === undefined ? null : encodeMeta(withCost(meta ?? {}, cost));
    let rows: Row[];
    if (tags !== undefined) {
      // Tagged sets go through cache_set, whose long forms take the tags.
      const [variant, ttlParam] = ttl === undefined ? (['typeDefault', undefined] as const) : ttlVariant(ttl);
      const args = [this.name, key, encoded, ...(variant === 'typeDefault' ? [] : [ttlParam]), model, metaJson, tags];
      rows = await this.query(this.sql.setTagged[variant][this.kind], args, via);
    } else {
      // The type's writer takes the default TTL or one in seconds; a TTL class, or a bad TTL (which cache_set
      // rejects with PC004), goes through cache_set.
      const seconds = typeof ttl === 'number' ? ttlSeconds(ttl) : null;
      rows =
        (this.writer && (ttl === undefined || seconds !== null)
          ? await this.write(this.writer, [key, encoded, seconds, model, metaJson], via)
          : undefined) ?? (await this.setThroughFunction(via, key, encoded, ttl, model, metaJson));
    }
    this.near?.drop(this.name, key);
    return expiryDate(rows[0]?.expires_at);
  }

  /** A set through cache_set, in the variant its TTL and arguments need. */
  private setThroughFunction(
    via: Queryable,
    key: string,
    encoded: unknown,
    ttl: Ttl | undefined,
    model: string | null,
    metaJson: string | null,
  ): Promise<Row[]> {
    if (ttl !== undefined) {
      const [variant, ttlParam] = ttlVariant(ttl);
      return this.query(this.sql.set[variant][this.kind], [this.name, key, encoded, ttlParam, model, metaJson], via);
    }
    if (this.kind === 'vector') return this.query(this.sql.set.default.vector, [this.name, key, encoded, model], via);
    if (model === null && metaJson === null) {
      return this.query(this.sql.set.default[this.kind], [this.name, key, encoded], via);
    }
    return this.query(this.sql.set.typeDefault[this.kind], [this.name, key, encoded, model, metaJson], via);
  }

  /** Stores many entries in one transaction (all or none); returns how many. `cache_set_many` */
  async setMany(
    entries: Iterable<readonly [string, V]>,
    options: { ttl?: Ttl | undefined; tags?: readonly string[] | undefined } = {},
  ): Promise<number> {
    if (this.kind === 'vector') {
      throw new TypeError('pgcache: setMany on a vector type needs a model; use the embeddings API');
    }
    if (entries === null || typeof (entries as Iterable<unknown>)?.[Symbol.iterator] !== 'function') {
      throw new InvalidArgumentError('PC010', `pgcache: argument "entries" must be an iterable of [key, value] pairs`);
    }
    checkTtl(options.ttl);
    if (options.tags !== undefined) checkTags(options.tags);
    const list = [...entries];
    for (const entry of list) {
      if (!Array.isArray(entry) || entry.length !== 2) {
        throw new InvalidArgumentError(
          'PC010',
          `pgcache: argument "entries" must hold [key, value] pairs, got ${describe(entry)}`,
        );
      }
      checkKey(entry[0]);
    }
    const args = [this.name, list.map(([key]) => key), list.map(([, value]) => this.encode(value))];
    const [variant, ttlParam] = options.ttl === undefined ? (['default', undefined] as const) : ttlVariant(options.ttl);
    const withTtl = variant === 'default' ? args : [...args, ttlParam];
    const rows =
      options.tags === undefined
        ? await this.query(this.sql.setMany[variant][this.kind], withTtl)
        : await this.query(this.sql.setManyTagged[variant][this.kind], [...withTtl, options.tags]);
    for (const [key] of list) this.near?.drop(this.name, key);
    return Number(rows[0]?.n);
  }

  /**
   * Deletes this type's entries carrying any of `tags` (of this accessor's tenant, on a tenant-scoped type);
   * returns how many were live. Inside a transaction (Cache.transaction) it takes effect at COMMIT.
   * `cache_invalidate_tags`
   */
  async invalidateTags(tags: readonly string[]): Promise<number> {
    checkTags(tags, MAX_BATCH);
    const [row] = await this.query(this.sql.invalidateTags, [tags, this.name]);
    this.near?.dropPrefix(this.name);
    return Number(row?.n);
  }

  /** Deletes many entries in one round trip; returns how many were live. `cache_delete_many` */
  async deleteMany(keys: readonly string[]): Promise<number> {
    checkKeys(keys);
    const [row] = await this.query(this.sql.deleteMany, [this.name, keys]);
    for (const key of keys) this.near?.drop(this.name, key);
    return Number(row?.n);
  }

  /** Deletes one entry; true if a live entry went. `cache_delete` */
  async delete(key: string): Promise<boolean> {
    checkKey(key);
    const [row] = await this.query(this.sql.delete, [this.name, key]);
    this.near?.drop(this.name, key);
    return row?.ok === true;
  }

  /** Sets a live entry's expiry to now + ttl (default: the type's TTL); false if none. `cache_touch` */
  async touch(key: string, ttl?: Ttl): Promise<boolean> {
    checkKey(key);
    checkTtl(ttl);
    const [variant, ttlParam] = ttl === undefined ? (['default', undefined] as const) : ttlVariant(ttl);
    const args = variant === 'default' ? [this.name, key] : [this.name, key, ttlParam];
    const [row] = await this.query(this.sql.touch[variant], args);
    return row?.ok === true;
  }

  /**
   * Redis INCRBY: adds `delta` (default 1) to the integer under `key` and returns the result. A missing or
   * expired key starts at 0 and is created with `options.ttl` (default: the type's TTL; 'never': no expiry); later increments keep its expiry. Concurrent increments are never lost. jsonb and text types only;
   * NotAnIntegerError (PC015) for an entry that holds no integer or a sum beyond bigint. A number delta gives
   * a number (exact within ±2^53); a bigint delta gives a bigint. `cache_incr`
   */
  async incr(key: string, delta?: number, options?: { ttl?: Ttl | undefined }): Promise<number>;
  async incr(key: string, delta: bigint, options?: { ttl?: Ttl | undefined }): Promise<bigint>;
  async incr(
    key: string,
    delta: number | bigint = 1,
    options: { ttl?: Ttl | undefined } = {},
  ): Promise<number | bigint> {
    checkKey(key);
    if (typeof delta === 'bigint' ? delta < INT8_MIN || delta > INT8_MAX : !Number.isSafeInteger(delta)) {
      throw new InvalidArgumentError(
        'PC010',
        `pgcache: argument "delta" must be an integer (a safe integer number, or a bigint of int8 range), got ${typeof delta === 'number' || typeof delta === 'bigint' ? String(delta) : describe(delta)}`,
      );
    }
    if (this.kind !== 'jsonb' && this.kind !== 'text') {
      throw new WrongValueKindError(
        'PC005',
        `pgcache: cache type "${this.name}" holds ${this.kind} values; incr needs a jsonb or text type`,
      );
    }
    const [seconds, ttlClass] = ttlParams(checkOptions(options).ttl);
    const [row] = await this.query(this.sql.incr, [this.name, key, delta.toString(), seconds, ttlClass]);
    this.near?.drop(this.name, key);
    return typeof delta === 'bigint' ? BigInt(row?.n as string) : Number(row?.n);
  }

  /**
   * Redis SET NX: stores `value` only if no live entry holds `key` (an expired one counts as absent); true
   * only for the caller that created it. `cache_add`
   */
  async add(key: string, value: V, options: { ttl?: Ttl | undefined } = {}): Promise<boolean> {
    checkKey(key);
    if (this.kind === 'vector') {
      throw new WrongValueKindError(
        'PC005',
        `pgcache: cache type "${this.name}" holds vector values; add() stores jsonb, text and bytea values`,
      );
    }
    const [seconds, ttlClass] = ttlParams(checkOptions(options).ttl);
    const encoded = this.encode(value);
    const [row] = await this.query(this.sql.add[this.kind], [this.name, key, encoded, seconds, ttlClass]);
    this.near?.drop(this.name, key);
    return row?.ok === true;
  }

  /**
   * Changes fields of a live jsonb object atomically, keeping its expiry (Redis HSET/HDEL): the top-level
   * fields of `fields` replace or add the entry's, then `options.remove` names fields to delete. Nested
   * objects are replaced whole. Returns the new value, or undefined when no live entry holds `key` (nothing
   * is created). NotAnObjectError (PC016) when the entry is not a JSON object. `cache_patch`
   */
  async patch(
    key: string,
    fields: Record<string, unknown>,
    options: { remove?: readonly string[] | undefined } = {},
  ): Promise<V | undefined> {
    checkKey(key);
    if (this.kind !== 'jsonb') {
      throw new WrongValueKindError(
        'PC005',
        `pgcache: cache type "${this.name}" holds ${this.kind} values; patch() changes jsonb objects`,
      );
    }
    if (typeof fields !== 'object' || fields === null || Array.isArray(fields) || Buffer.isBuffer(fields)) {
      throw new InvalidArgumentError('PC010', `pgcache: argument "patch" must be an object, got ${describe(fields)}`);
    }
    const { remove = [] } = checkOptions(options);
    if (!Array.isArray(remove) || remove.length > 1000) {
      throw new InvalidArgumentError(
        'PC010',
        `pgcache: argument "remove" must be an array of at most 1000 field names`,
      );
    }
    for (const field of remove) checkString(field, 'remove');
    const [row] = await this.query(this.sql.patch, [this.name, key, encodeJson(fields, 'patch'), remove]);
    this.near?.drop(this.name, key);
    return row?.miss ? undefined : (row?.v as V);
  }

  /** Deletes every entry whose key starts with `prefix`, taken literally. `cache_invalidate_prefix` */
  async invalidatePrefix(prefix: string): Promise<number> {
    checkString(prefix, 'prefix');
    const [row] = await this.query(this.sql.invalidatePrefix, [this.name, prefix]);
    this.near?.dropPrefix(this.name, prefix);
    return Number(row?.n);
  }

  /** Deletes every entry whose key matches a LIKE pattern. `cache_invalidate_pattern` */
  async invalidatePattern(pattern: string): Promise<number> {
    checkString(pattern, 'pattern');
    const [row] = await this.query(this.sql.invalidatePattern, [this.name, pattern]);
    this.near?.dropPrefix(this.name);
    return Number(row?.n);
  }

  /** Invalidates every entry of the type at once (O(1)); returns the new version. `cache_bump_version` */
  async bumpVersion(): Promise<number> {
    const [row] = await this.query(this.sql.bumpVersion, [this.name]);
    this.near?.dropPrefix(this.name);
    return row?.v as number;
  }

  /** Live entries in key order, a page at a time, optionally under a literal prefix. `cache_scan` */
  async *scan(
    options: { prefix?: string | undefined; pageSize?: number | undefined } = {},
  ): AsyncGenerator<CacheEntry<V>> {
    let after: string | null = null;
    checkText(options.prefix, 'prefix');
    const pageSize = options.pageSize ?? 500;
    if (!Number.isInteger(pageSize) || pageSize < 1) {
      throw new InvalidArgumentError(
        'PC010',
        `pgcache: argument "pageSize" must be a positive integer, got ${String(pageSize)}`,
      );
    }
    for (;;) {
      const rows = await this.read(this.sql.scan, [this.name, options.prefix ?? null, after, pageSize]);
      for (const row of rows) yield this.entryOf(row) as CacheEntry<V>;
      if (rows.length < pageSize) return;
      after = rows[rows.length - 1]?.key as string;
    }
  }

  /**
   * The cached value, or else `compute()`'s result, stored and returned. Concurrent callers share one
   * computation: in this process through a shared promise, across processes through a per-key session lock
   * in the database (`cache_lock`; see ComputeOptions.lockWaitMs). A compute that throws stores nothing, frees
   * the key, and rejects only the callers that shared it.
   */
  async getOrCompute(key: string, compute: () => Promise<V> | V, options: ComputeOptions = {}): Promise<V> {
    checkKey(key);
    checkFunction(compute, 'compute');
    const {
      lockWaitMs = 10_000,
      staleWhileRevalidate,
      onRevalidateError,
      lock,
      tagsOf,
      costOf,
      ...setOptions
    } = options;
    const lockKind = lock ?? this.computeLock;
    if (lockKind !== 'advisory' && lockKind !== 'lease') {
      throw new InvalidArgumentError(
        'PC010',
        `pgcache: argument "lock" must be 'advisory' or 'lease', got ${describe(lock)}`,
      );
    }
    if (tagsOf !== undefined) checkFunction(tagsOf, 'tagsOf');
    if (costOf !== undefined) checkFunction(costOf, 'costOf');
    checkTtl(setOptions.ttl);
    checkText(setOptions.model, 'model');
    if (typeof lockWaitMs !== 'number' || Number.isNaN(lockWaitMs)) {
      throw new InvalidArgumentError('PC010', `pgcache: argument "lockWaitMs" must be a number of milliseconds`);
    }
    // `via`: the compute lock's own connection when there is one. Holding one pooled connection while
    // waiting for another would deadlock a pool that has no other left (a pool of 1, or N misses at once
    // on a pool of N), so the lock, the re-read and the store share that connection.
    // The compute time and costOf's figures are recorded with the value (stale-while-revalidate entries carry none).
    const store = async (value: V, via: Queryable = this.pool, computeMs?: number) => {
      const tags = tagsOf
        ? [...(setOptions.tags ?? []), ...(tagsOf as (value: V) => readonly string[])(value)]
        : undefined;
      const cost =
        computeMs === undefined
          ? setOptions.cost
          : {
              ...setOptions.cost,
              ...(costOf ? (costOf as (value: V) => EntryCost)(value) : undefined),
              computeMs: Math.round(computeMs),
            };
      if (staleWhileRevalidate === undefined)
        await this.setVia(via, key, value, { ...setOptions, cost, ...(tags ? { tags: [...new Set(tags)] } : {}) });
      else await this.setFreshVia(via, key, value, setOptions.ttl, staleWhileRevalidate);
    };
    // The read is inside the flight too: a caller that arrives while another computes joins it, and one
    // that arrives after finds the stored value.
    return this.flights.run(key, async () => {
      if (staleWhileRevalidate !== undefined) {
        const entry = await this.getEntry(key);
        if (entry) {
          if (entry.stale) this.revalidate(key, compute, store, onRevalidateError, lockKind);
          return entry.value;
        }
      } else {
        const cached = await this.get(key);
        if (cached !== undefined) return cached;
      }
      const storeTimed = (value: V, computeMs: number) => store(value, this.pool, computeMs);
      if (lockWaitMs <= 0) return computeAndStore(compute, storeTimed);
      if (lockKind === 'lease') {
        return computeUnderLease(this.lockScope, key, lockWaitMs, compute, storeTimed, () => this.peek(key));
      }
      return withComputeLock(this.lockScope, key, lockWaitMs, async (client) => {
        // Whoever held the lock has stored the value by now, or failed: read again (on the primary, which
        // has it even when a read standby lags) before computing. The re-read counts nothing: the read
        // above counted this miss already.
        const found = await this.peek(key, client);
        return found ? found.value : computeAndStore(compute, (value, ms) => store(value, client, ms));
      });
    });
  }

  /** The live value on the primary without counting a hit or miss (`cache_peek`). */
  private async peek(key: string, via: Queryable = this.pool): Promise<{ value: V } | undefined> {
    const [row] = await this.query(this.sql.peek, [this.name, key], via);
    return row ? { value: this.decode(row) } : undefined;
  }

  /** Stores a value fresh for `ttl` seconds and then served stale for `staleFor` more. `cache_set_fresh` */
  async setFresh(key: string, value: V, ttl: Ttl | undefined, staleFor: number): Promise<Date> {
    return this.setFreshVia(this.pool, key, value, ttl, staleFor);
  }

  private async setFreshVia(
    via: Queryable,
    key: string,
    value: V,
    ttl: Ttl | undefined,
    staleFor: number,
  ): Promise<Date> {
    checkKey(key);
    if (typeof ttl !== 'number' || this.kind === 'vector') {
      throw new TypeError('pgcache: stale-while-revalidate needs a ttl in seconds and a jsonb, text or bytea type');
    }
    if (typeof staleFor !== 'number') {
      throw new InvalidArgumentError(
        'PC010',
        `pgcache: argument "staleWhileRevalidate" must be seconds, got ${describe(staleFor)}`,
      );
    }
    const freshFor = ttlSeconds(ttl);
    const [row] = await this.query(
      this.sql.setFresh[this.kind],
      [this.name, key, this.encode(value), freshFor, freshFor === null ? null : freshFor + staleFor],
      via,
    );
    this.near?.drop(this.name, key);
    return expiryDate(row?.expires_at);
  }

  /** Resolves when background refreshes started by stale-while-revalidate have finished. */
  async idle(): Promise<void> {
    await this.revalidations.idle();
  }

  /** What the compute locks need of this accessor. */
  private get lockScope(): LockScope {
    return {
      pool: this.pool,
      sql: this.sql,
      type: this.name,
      bind: (statement, values) => this.bind(statement, values),
      run: (statement, values) => this.query(statement, values),
    };
  }

  /** One background refresh of a stale entry, by whichever caller gets the lock without waiting. */
  private revalidate(
    key: string,
    compute: () => Promise<V> | V,
    store: (value: V, via?: Queryable, computeMs?: number) => Promise<void>,
    onError: ((error: unknown) => void) | undefined,
    lockKind: ComputeLock,
  ): void {
    const refresh = async (via?: Queryable) => {
      const entry = this.entryOf((await this.query(this.sql.getEntry, [this.name, key], via))[0]);
      if (entry && !entry.stale) return;
      await computeAndStore(compute, (value, ms) => store(value, via, ms));
    };
    this.revalidations.start(this.lockScope, key, lockKind, refresh, onError);
  }
}

/** An options argument: an object or nothing (PC010 otherwise). */
function checkOptions<T extends object>(options: T): T {
  if (typeof options !== 'object' || options === null) {
    throw new InvalidArgumentError('PC010', `pgcache: argument "options" must be an object, got ${describe(options)}`);
  }
  return options;
}

/** Meta attributes: a plain object, as JSON (PC010 otherwise; the SQL checks each declared attribute). */
function encodeMeta(meta: unknown): string {
  if (typeof meta !== 'object' || meta === null || Array.isArray(meta)) {
    throw new InvalidArgumentError('PC010', `pgcache: argument "meta" must be an object, got ${describe(meta)}`);
  }
  return encodeJson(meta, 'meta');
}

/** Which statement variant a TTL needs, and its parameter. */
function ttlVariant(ttl: Ttl): ['seconds' | 'class', unknown] {
  if (typeof ttl === 'string') return ['class', ttl];
  // A TTL out of range goes as NULL, which the SQL rejects with PC004 like any other bad TTL.
  return ['seconds', ttlSeconds(ttl)];
}

export type AccessorFor<K extends ValueKind> = K extends 'jsonb'
  ? CacheTypeAccessor<unknown>
  : CacheTypeAccessor<KindValue[K]>;

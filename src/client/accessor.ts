// One cache type, typed by its value kind. Each method is one call of a pgcache SQL function.
import type pg from 'pg';
import { translateError } from './errors.js';
import { SingleFlight } from './single-flight.js';
import type { Statements } from './statements.js';
import type { CacheEntry, EntryRow, KindValue, SetOptions, Ttl, ValueKind } from './types.js';

const VALUE_COLUMN = {
  jsonb: 'value_json',
  text: 'value_text',
  bytea: 'value_bytes',
  vector: 'value_vector',
} as const satisfies Record<ValueKind, keyof EntryRow>;

type Row = Record<string, unknown>;

export class CacheTypeAccessor<V> {
  private readonly flights = new SingleFlight<V>();

  /** `readPool` serves get, getEntry, getMany and scan (e.g. a hot standby); everything else uses `pool`. */
  constructor(
    private readonly pool: pg.Pool,
    private readonly sql: Statements,
    readonly name: string,
    readonly kind: ValueKind,
    private readonly readPool: pg.Pool = pool,
  ) {}

  private async query(statement: { name: string; text: string }, values: unknown[], via = this.pool): Promise<Row[]> {
    try {
      return (await via.query({ ...statement, values })).rows;
    } catch (error) {
      throw translateError(error);
    }
  }

  private read(statement: { name: string; text: string }, values: unknown[]): Promise<Row[]> {
    return this.query(statement, values, this.readPool);
  }

  /** The parameter pg sends for a value of this kind. undefined (and null outside jsonb) becomes SQL NULL,
   * which the SQL rejects (PC005); a jsonb null is stored as JSON null. */
  private encode(value: V): unknown {
    if (value === undefined) return null;
    if (this.kind === 'jsonb') return JSON.stringify(value);
    if (this.kind === 'vector' && ArrayBuffer.isView(value)) return Array.from(value as unknown as Float32Array);
    return value;
  }

  private decode(row: Row): V {
    return row[VALUE_COLUMN[this.kind]] as V;
  }

  /** The value, or undefined on a miss (absent, expired or invalidated). `cache_get*` */
  async get(key: string): Promise<V | undefined> {
    const [row] = await this.read(this.sql.get[this.kind], [this.name, key]);
    return row?.miss ? undefined : (row?.v as V);
  }

  /** The whole entry (value, model, meta, expiry, hit score), or undefined on a miss. `cache_get_entry` */
  async getEntry(key: string): Promise<CacheEntry<V> | undefined> {
    const [row] = await this.read(this.sql.getEntry, [this.name, key]);
    if (!row) return undefined;
    const { type_id, value_json, value_text, value_bytes, value_vector, ...rest } = row;
    return { ...(rest as Omit<CacheEntry<V>, 'value'>), value: this.decode(row) };
  }

  /** Values for many keys in one round trip, aligned with `keys` (undefined for misses). `cache_get_many` */
  async getMany(keys: readonly string[]): Promise<(V | undefined)[]> {
    const rows = await this.read(this.sql.getMany, [this.name, keys]);
    const found = new Map(rows.map((row) => [row.key as string, this.decode(row)]));
    return keys.map((key) => found.get(key));
  }

  /** Stores a value; returns its expiry. `cache_set` */
  async set(key: string, value: V, options: SetOptions = {}): Promise<Date> {
    const { ttl, model = null, meta } = options;
    const encoded = this.encode(value);
    const metaJson = meta === undefined ? null : JSON.stringify(meta);
    let rows: Row[];
    if (ttl !== undefined) {
      const [variant, ttlParam] = ttlVariant(ttl);
      rows = await this.query(this.sql.set[variant][this.kind], [this.name, key, encoded, ttlParam, model, metaJson]);
    } else if (this.kind === 'vector') {
      rows = await this.query(this.sql.set.default.vector, [this.name, key, encoded, model]);
    } else if (model === null && metaJson === null) {
      rows = await this.query(this.sql.set.default[this.kind], [this.name, key, encoded]);
    } else {
      rows = await this.query(this.sql.set.typeDefault[this.kind], [this.name, key, encoded, model, metaJson]);
    }
    return rows[0]?.expires_at as Date;
  }

  /** Stores many entries in one transaction (all or none); returns how many. `cache_set_many` */
  async setMany(entries: Iterable<readonly [string, V]>, options: { ttl?: Ttl } = {}): Promise<number> {
    if (this.kind === 'vector') {
      throw new TypeError('pgcache: setMany on a vector type needs a model; use the embeddings API');
    }
    const list = [...entries];
    const args = [this.name, list.map(([key]) => key), list.map(([, value]) => this.encode(value))];
    const [variant, ttlParam] = options.ttl === undefined ? (['default', undefined] as const) : ttlVariant(options.ttl);
    const rows = await this.query(
      this.sql.setMany[variant][this.kind],
      variant === 'default' ? args : [...args, ttlParam],
    );
    return Number(rows[0]?.n);
  }

  /** Deletes one entry; true if a live entry went. `cache_delete` */
  async delete(key: string): Promise<boolean> {
    const [row] = await this.query(this.sql.delete, [this.name, key]);
    return row?.ok === true;
  }

  /** Sets a live entry's expiry to now + ttl (default: the type's TTL); false if none. `cache_touch` */
  async touch(key: string, ttl?: Ttl): Promise<boolean> {
    const [variant, ttlParam] = ttl === undefined ? (['default', undefined] as const) : ttlVariant(ttl);
    const args = variant === 'default' ? [this.name, key] : [this.name, key, ttlParam];
    const [row] = await this.query(this.sql.touch[variant], args);
    return row?.ok === true;
  }

  /** Deletes every entry whose key starts with `prefix`, taken literally. `cache_invalidate_prefix` */
  async invalidatePrefix(prefix: string): Promise<number> {
    const [row] = await this.query(this.sql.invalidatePrefix, [this.name, prefix]);
    return Number(row?.n);
  }

  /** Deletes every entry whose key matches a LIKE pattern. `cache_invalidate_pattern` */
  async invalidatePattern(pattern: string): Promise<number> {
    const [row] = await this.query(this.sql.invalidatePattern, [this.name, pattern]);
    return Number(row?.n);
  }

  /** Invalidates every entry of the type at once (O(1)); returns the new version. `cache_bump_version` */
  async bumpVersion(): Promise<number> {
    const [row] = await this.query(this.sql.bumpVersion, [this.name]);
    return row?.v as number;
  }

  /** Live entries in key order, a page at a time, optionally under a literal prefix. `cache_scan` */
  async *scan(options: { prefix?: string; pageSize?: number } = {}): AsyncGenerator<CacheEntry<V>> {
    let after: string | null = null;
    const pageSize = options.pageSize ?? 500;
    for (;;) {
      const rows = await this.read(this.sql.scan, [this.name, options.prefix ?? null, after, pageSize]);
      for (const row of rows) {
        const { type_id, value_json, value_text, value_bytes, value_vector, ...rest } = row;
        yield { ...(rest as Omit<CacheEntry<V>, 'value'>), value: this.decode(row) };
      }
      if (rows.length < pageSize) return;
      after = rows[rows.length - 1]?.key as string;
    }
  }

  /**
   * The cached value, or else `compute()`'s result, stored and returned. Concurrent callers in this process
   * share one computation; a compute that throws stores nothing and rejects only its own callers.
   */
  async getOrCompute(key: string, compute: () => Promise<V> | V, options: SetOptions = {}): Promise<V> {
    // The read is inside the flight too: a caller that arrives while another computes joins it, and one
    // that arrives after finds the stored value.
    return this.flights.run(key, async () => {
      const cached = await this.get(key);
      if (cached !== undefined) return cached;
      const value = await compute();
      await this.set(key, value, options);
      return value;
    });
  }
}

/** Which statement variant a TTL needs, and its parameter. */
function ttlVariant(ttl: Ttl): ['seconds' | 'class', unknown] {
  if (typeof ttl === 'string') return ['class', ttl];
  // A non-finite number goes as NULL, which the SQL rejects with PC004 like any other bad TTL.
  return ['seconds', Number.isFinite(ttl) ? ttl : null];
}

export type AccessorFor<K extends ValueKind> = K extends 'jsonb'
  ? CacheTypeAccessor<unknown>
  : CacheTypeAccessor<KindValue[K]>;

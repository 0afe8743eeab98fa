// A Keyv store backed by pgcache, so Keyv and cache-manager users switch by changing one line:
//   new Keyv({ store: new KeyvPgcache({ connectionString }) })
// Entries live in a jsonb cache type (default `keyv`, created on first use). Keyv entries without a TTL do not
// expire: they are stored with the no-expiry TTL ('never'). Keyv's namespace is the key prefix `namespace:`.
import { EventEmitter } from 'node:events';
import pg from 'pg';
import type { CacheTypeAccessor } from './client/accessor.js';
import { type Cache, createCache, ownedPool } from './client/cache.js';
import { CacheTypeExistsError } from './client/errors.js';
import { checkKeys } from './client/validate.js';

export interface KeyvPgcacheOptions {
  pool?: pg.Pool | undefined;
  connectionString?: string | undefined;
  /** Install schema of pgcache. Default `pgcache`. */
  schema?: string | undefined;
  /** The jsonb cache type that holds Keyv's entries. Default `keyv`. */
  type?: string | undefined;
}

/**
 * A Keyv storage adapter for keyv 5 and keyv 6. It names no keyv type (their adapter interfaces differ between
 * the majors, and keyv accepts any store object), so its declarations type-check with either installed. On
 * keyv 6 it is a relative-TTL adapter, which keyv wraps in its bridge.
 */
export class KeyvPgcache extends EventEmitter {
  // keyv wires its iterator only for stores whose dialect it knows.
  readonly opts: KeyvPgcacheOptions & { dialect: 'postgres'; url: string };
  namespace?: string | undefined;
  private readonly pool: pg.Pool;
  private ready: Promise<CacheTypeAccessor<unknown>> | undefined;
  private cache: Cache | undefined;

  constructor(options: KeyvPgcacheOptions | string = {}) {
    super();
    const opts = typeof options === 'string' ? { connectionString: options } : options;
    this.opts = { ...opts, type: opts.type ?? 'keyv', dialect: 'postgres', url: opts.connectionString ?? '' };
    this.pool = opts.pool ?? ownedPool(opts.connectionString);
  }

  /** The accessor of the Keyv type, creating the type on first use. */
  private store(): Promise<CacheTypeAccessor<unknown>> {
    this.ready ??= (async () => {
      const type = this.opts.type as string;
      this.cache = await createCache({ pool: this.pool, schema: this.opts.schema });
      try {
        await this.cache.type(type as 'default');
      } catch {
        try {
          await this.cache.createType({
            name: type,
            valueKind: 'jsonb',
            defaultTtl: 'never',
            evictionPolicy: 'lru',
          });
        } catch (error) {
          if (!(error instanceof CacheTypeExistsError)) throw error;
          await this.cache.refreshTypes();
        }
      }
      return this.cache.type(type as 'default');
    })();
    this.ready.catch(() => {
      this.ready = undefined;
    });
    return this.ready;
  }

  async get<Value>(key: string): Promise<Value | undefined> {
    return (await (await this.store()).get(key)) as Value | undefined;
  }

  async getMany<Value>(keys: string[]): Promise<Array<Value | undefined>> {
    return (await (await this.store()).getMany(keys)) as Array<Value | undefined>;
  }

  /** `ttl` is in milliseconds, as Keyv passes it. */
  async set(key: string, value: unknown, ttl?: number): Promise<boolean> {
    const options = { ttl: typeof ttl === 'number' && ttl > 0 ? ttl / 1000 : ('never' as const) };
    await (await this.store()).set(key, value, options);
    return true;
  }

  async delete(key: string): Promise<boolean> {
    return (await this.store()).delete(key);
  }

  async deleteMany(keys: string[]): Promise<boolean> {
    checkKeys(keys);
    return (await (await this.store()).deleteMany(keys)) > 0;
  }

  async has(key: string): Promise<boolean> {
    return (await (await this.store()).get(key)) !== undefined;
  }

  /** Clears this store's namespace only; without a namespace, the whole type at once (a version bump). */
  async clear(): Promise<void> {
    const store = await this.store();
    if (this.namespace) await store.invalidatePrefix(`${this.namespace}:`);
    else await store.bumpVersion();
  }

  async *iterator<Value>(namespace?: string): AsyncGenerator<Array<string | Awaited<Value> | undefined>, void> {
    const store = await this.store();
    const prefix = namespace ? `${namespace}:` : undefined;
    for await (const entry of store.scan({ prefix })) {
      yield [entry.key, entry.value as Awaited<Value>];
    }
  }

  /** Ends the pool if this store created it. */
  async disconnect(): Promise<void> {
    await this.cache?.close(); // reports its read counts; the pool is this store's, ended below
    if (!this.opts.pool) await this.pool.end();
  }
}

// The client's types, derived from the row types generated from the SQL (src/generated/rows.ts).
import type { CacheModelsRow, CacheTypesRow, EntriesRow } from '../generated/rows.js';

export type EntryRow = EntriesRow;
export type CacheTypeRow = CacheTypesRow;
export type ModelRow = CacheModelsRow;

/** What a cache type stores; the CHECK constraint on cache_types.value_kind. */
export type ValueKind = 'jsonb' | 'text' | 'bytea' | 'vector';
export type EvictionPolicy = 'lru' | 'lfu' | 'fifo' | 'ttl';

/** The TypeScript value of each kind. jsonb values are the caller's own type (see JsonAccessor). */
export interface KindValue {
  jsonb: unknown;
  text: string;
  bytea: Buffer;
  vector: number[];
}

/** The types every install registers (sql/core/08_seed_types.sql). Extend it for your own types. */
export type SeedCacheTypes = {
  default: 'jsonb';
  embeddings: 'vector';
  llm_responses: 'text';
  vector_search: 'jsonb';
  audio_chunks: 'bytea';
};

export type CacheTypeMap = Record<string, ValueKind>;

/** Named TTL classes (cache_settings ttl.*). */
export type TtlClass = 'short' | 'medium' | 'long';
/** A TTL in seconds (fractions allowed), or a named class. Omitted: the type's default TTL. */
export type Ttl = number | TtlClass;

export interface SetOptions {
  ttl?: Ttl;
  /** The model that produced the value (required for vector types; checked against its width). */
  model?: string;
  /** Attributes the type declares, e.g. { tokens_used: 812 } for llm_responses. */
  meta?: Record<string, unknown>;
  /**
   * Tags (at most 64, each 1-256 bytes), e.g. the ids of the rows the value was computed from:
   * `invalidateTags(['doc:42'])` or a watched table's change removes the entry. An overwrite replaces them.
   */
  tags?: readonly string[];
}

export interface ComputeOptions extends SetOptions {
  /**
   * Cross-process stampede protection: how long (ms) a caller waits for another process computing the same
   * key before computing itself. Default 10000; 0 disables the lock (in-process sharing still applies).
   * On PGlite every connection shares one session and the lock excludes nothing: only in-process sharing works.
   */
  lockWaitMs?: number;
  /**
   * Stale-while-revalidate (seconds): the entry is fresh for `ttl`, then served stale for this long while
   * exactly one caller (the one that gets the lock without waiting) refreshes it in the background.
   */
  staleWhileRevalidate?: number;
  /** Receives errors of background refreshes (stale-while-revalidate); the stale entry stays meanwhile. */
  onRevalidateError?: (error: unknown) => void;
  /** Tags from the computed value (e.g. the ids of the documents a search returned); added to `tags`. */
  tagsOf?: (value: never) => readonly string[];
}

/** A live entry with its value decoded. */
export type CacheEntry<V> = Omit<EntryRow, 'type_id' | 'value_json' | 'value_text' | 'value_bytes' | 'value_vector'> & {
  value: V;
  /** Past its stale_at (stale-while-revalidate): still served while one caller refreshes it. */
  stale: boolean;
};

/** One row of cache_stats(), with counts as numbers. */
export interface CacheStats {
  cacheType: string;
  valueKind: ValueKind;
  entries: number;
  validEntries: number;
  bytes: number;
  hits: number;
  misses: number;
  /** hits / (hits + misses), or null before the first read. */
  hitRate: number | null;
  version: CacheTypeRow['version'];
  evictionPolicy: EvictionPolicy;
  maxEntries: number | null;
  maxBytes: number | null;
}

export interface CacheTypeDefinition {
  name: string;
  valueKind?: ValueKind;
  /** Default TTL in seconds. */
  defaultTtl?: number;
  maxEntries?: number;
  maxBytes?: number;
  evictionPolicy?: EvictionPolicy;
  unlogged?: boolean;
  maxValueBytes?: number;
  attributes?: Record<string, 'string' | 'number' | 'boolean' | 'object' | 'array'>;
  description?: string;
}

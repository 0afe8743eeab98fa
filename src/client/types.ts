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

/** The types every install registers (sql/core/09_seed_types.sql). Extend it for your own types. */
export type SeedCacheTypes = {
  default: 'jsonb';
  embeddings: 'vector';
  llm_responses: 'text';
  vector_search: 'jsonb';
  audio_chunks: 'bytea';
};

export type CacheTypeMap = Record<string, ValueKind>;

/** Named TTL classes (cache_settings ttl.*); 'never' is the no-expiry TTL (Redis SET without EX). */
export type TtlClass = 'short' | 'medium' | 'long' | 'never';
/**
 * A TTL in seconds (fractions allowed), or a named class. 'never' stores an entry that never expires (its
 * expiresAt is NEVER_EXPIRES); a number stays a finite count of seconds. Omitted: the type's default TTL.
 */
export type Ttl = number | TtlClass;

/** The expiresAt of an entry that never expires (the latest Date JavaScript can hold). */
export const NEVER_EXPIRES: Date = new Date(8.64e15);

/**
 * What producing a value cost, recorded with the entry (the attribute pgcache_cost of its meta): every hit
 * of the entry adds it to the savings (`cache_savings`, `stats()`). Money is derived from the model's price
 * (cache_prices) when a hit is counted. Counts are whole numbers from 0 to 10^12.
 */
export interface EntryCost {
  /** The model that produced the value (an LLM, a TTS model): the price of this model applies. */
  model?: string | undefined;
  inputTokens?: number | undefined;
  outputTokens?: number | undefined;
  /** Characters synthesised (TTS). */
  characters?: number | undefined;
  voice?: string | undefined;
  /** Time the computation took, in milliseconds (getOrCompute measures it itself). */
  computeMs?: number | undefined;
}

export interface SetOptions {
  ttl?: Ttl | undefined;
  /** The model that produced the value (required for vector types; checked against its width). */
  model?: string | undefined;
  /** Attributes the type declares, e.g. { tokens_used: 812 } for llm_responses. */
  meta?: Record<string, unknown> | undefined;
  /**
   * Tags (at most 64, each 1-256 bytes), e.g. the ids of the rows the value was computed from:
   * `invalidateTags(['doc:42'])` or a watched table's change removes the entry. An overwrite replaces them.
   */
  tags?: readonly string[] | undefined;
  /** What producing the value cost: its hits then count as savings. */
  cost?: EntryCost | undefined;
}

export type ComputeLock = 'advisory' | 'lease';

export interface ComputeOptions extends SetOptions {
  /**
   * Cross-process stampede protection: how long (ms) a caller waits for another process computing the same
   * key before computing itself. Default 10000; 0 disables the lock (in-process sharing still applies).
   * On PGlite every connection shares one session and the advisory lock excludes nothing: use `lock: 'lease'`.
   */
  lockWaitMs?: number | undefined;
  /**
   * How the cross-process stampede lock is held (default: the cache's `computeLock`, itself 'advisory'):
   * 'advisory' holds a session advisory lock on one pooled connection while computing; 'lease' takes a leased
   * lock (a row with an expiry, cache_lease_acquire) and holds no connection, so it works through PgBouncer in
   * transaction mode and on PGlite, where advisory locks exclude nothing.
   */
  lock?: ComputeLock | undefined;
  /**
   * Stale-while-revalidate (seconds): the entry is fresh for `ttl`, then served stale for this long while
   * exactly one caller (the one that gets the lock without waiting) refreshes it in the background.
   */
  staleWhileRevalidate?: number | undefined;
  /** Receives errors of background refreshes (stale-while-revalidate); the stale entry stays meanwhile. */
  onRevalidateError?: ((error: unknown) => void) | undefined;
  /** Tags from the computed value (e.g. the ids of the documents a search returned); added to `tags`. */
  tagsOf?: ((value: never) => readonly string[]) | undefined;
  /**
   * What computing the value cost (e.g. the tokens an LLM call reports), recorded with it; the compute time
   * is measured and added as computeMs. Without it, the compute time alone is recorded.
   */
  costOf?: ((value: never) => EntryCost) | undefined;
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
  /** Hits of entries with a recorded cost, and what they saved (the tenant's own on a tenant view of a tenant-scoped type). */
  savedHits: number;
  savedTokens: number;
  savedCharacters: number;
  savedComputeSeconds: number;
  /** Money saved per currency, at the prices when the hits were counted. */
  savedCost: Record<string, number>;
}

export interface CacheTypeDefinition {
  name: string;
  valueKind?: ValueKind | undefined;
  /** Default TTL in seconds; 'never': entries stored without a TTL never expire. */
  defaultTtl?: number | 'never' | undefined;
  maxEntries?: number | undefined;
  maxBytes?: number | undefined;
  evictionPolicy?: EvictionPolicy | undefined;
  unlogged?: boolean | undefined;
  maxValueBytes?: number | undefined;
  attributes?: Record<string, 'string' | 'number' | 'boolean' | 'object' | 'array'> | undefined;
  description?: string | undefined;
}

/** What hits of entries with a recorded cost saved on one day (UTC), per type, model, tenant and currency. */
export interface SavingsRow {
  /** YYYY-MM-DD, UTC. */
  day: string;
  cacheType: string;
  model: string | null;
  tenant: string | null;
  /** Currency of the model's price when the hits were counted; null: the model had no price. */
  currency: string | null;
  hits: number;
  inputTokens: number;
  outputTokens: number;
  tokens: number;
  characters: number;
  computeSeconds: number;
  cost: number;
}

/** Semantic lookups of one type and model whose nearest distance fell in [distanceFrom, distanceTo). */
export interface SemanticDistanceBucket {
  /** 0..199 (0.01 wide); -1: the lookup found no candidate (distanceFrom and distanceTo null). */
  bucket: number;
  distanceFrom: number | null;
  distanceTo: number | null;
  hits: number;
  misses: number;
}

export interface SemanticStats {
  cacheType: string;
  model: string;
  lookups: number;
  hits: number;
  misses: number;
  correctHits: number;
  wrongHits: number;
  verifierRejections: number;
  /** The operator's limit on the type's lookups (cache_configure_semantic_max_distance), or null. */
  typeMaxDistance: number | null;
  /** Nearest distances of the lookups, by bucket. */
  distances: SemanticDistanceBucket[];
}

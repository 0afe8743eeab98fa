// cache_stats() (with cache_savings_stats()) as the client returns it: the one mapping from the SQL row to CacheStats.
import type { CacheStats, EvictionPolicy, ValueKind } from './types.js';

/** A row of cache_stats() as pg returns it: bigint columns as decimal strings. */
export interface CacheStatsRow {
  cache_type: string;
  value_kind: ValueKind;
  entries: string;
  valid_entries: string;
  bytes: string;
  hits: string;
  misses: string;
  hit_rate: number | null;
  version: number;
  eviction_policy: EvictionPolicy;
  max_entries: string | null;
  max_bytes: string | null;
  /** From cache_savings_stats(), which the client's statement joins (absent from a bare cache_stats()). */
  saved_hits?: string | null;
  saved_tokens?: string | null;
  saved_characters?: string | null;
  saved_compute_seconds?: number | null;
  saved_cost?: Record<string, number> | null;
}

/** One row of cache_stats() with counts as numbers. */
export function toCacheStats(r: CacheStatsRow): CacheStats {
  const num = (v: unknown) => (v === null ? null : Number(v));
  return {
    cacheType: r.cache_type,
    valueKind: r.value_kind,
    entries: Number(r.entries),
    validEntries: Number(r.valid_entries),
    bytes: Number(r.bytes),
    hits: Number(r.hits),
    misses: Number(r.misses),
    hitRate: r.hit_rate,
    version: r.version,
    evictionPolicy: r.eviction_policy,
    maxEntries: num(r.max_entries),
    maxBytes: num(r.max_bytes),
    savedHits: Number(r.saved_hits ?? 0),
    savedTokens: Number(r.saved_tokens ?? 0),
    savedCharacters: Number(r.saved_characters ?? 0),
    savedComputeSeconds: Number(r.saved_compute_seconds ?? 0),
    savedCost: r.saved_cost ?? {},
  };
}

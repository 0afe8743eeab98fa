// Vector-search results cached under a key of query vector, filters and knowledge-base version (computed by
// SQL cache_vector_search_key, so psql and TypeScript share keys). A new knowledge-base version, or
// invalidateAll() (a version bump of the type), makes every older result miss at once.
import pg from 'pg';
import type { CacheTypeAccessor } from '../client/accessor.js';
import type { CacheHandle } from '../client/cache.js';
import { translateError } from '../client/errors.js';
import type { ComputeOptions } from '../client/types.js';

export class VectorSearchCache<R> {
  private readonly lookupSql: string;

  constructor(
    private readonly cache: CacheHandle,
    /** A jsonb cache type. Default `vector_search`. */
    readonly type = 'vector_search',
  ) {
    const S = pg.escapeIdentifier(cache.schema);
    this.lookupSql = `SELECT k AS key, v, v IS NULL AS miss
                        FROM ${S}.cache_vector_search_key($2::real[], $3::jsonb, $4) AS k, ${S}.cache_get($1, k) AS v`;
  }

  private get results(): CacheTypeAccessor<R> {
    return this.cache.accessor(this.type) as CacheTypeAccessor<R>;
  }

  /** Cached results for (query, filters, kbVersion), else `search()`'s, stored (one search per key at a time). */
  async getOrSearch(
    query: readonly number[],
    filters: Record<string, unknown>,
    kbVersion: string,
    search: () => Promise<R> | R,
    options: ComputeOptions = {},
  ): Promise<R> {
    let row: { key: string; v: R; miss: boolean } | undefined;
    try {
      row = (await this.cache.pool.query(this.lookupSql, [this.type, [...query], JSON.stringify(filters), kbVersion]))
        .rows[0];
    } catch (error) {
      throw translateError(error);
    }
    if (row && !row.miss) return row.v;
    return this.results.getOrCompute(row?.key as string, search, options);
  }

  /** Every cached result of the type misses from now on (O(1)). */
  invalidateAll(): Promise<number> {
    return this.results.bumpVersion();
  }
}

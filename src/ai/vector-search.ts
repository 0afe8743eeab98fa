// Vector-search results cached under a key of query vector, filters and knowledge-base version (computed by
// SQL cache_vector_search_key, so psql and TypeScript share keys). A new knowledge-base version, or
// invalidateAll() (a version bump of the type), makes every older result miss at once.
import pg from 'pg';
import type { CacheTypeAccessor } from '../client/accessor.js';
import type { CacheHandle } from '../client/cache.js';
import { InvalidArgumentError } from '../client/errors.js';
import type { Statement } from '../client/statements.js';
import type { ComputeOptions } from '../client/types.js';
import { checkFunction, checkString, checkVector, describe, encodeJson } from '../client/validate.js';

export class VectorSearchCache<R> {
  private readonly lookupSql: Statement;

  /**
   * `options.documentIds` names the documents a result holds (default: the `id` of each item of an array
   * result); each cached result is tagged `<tagPrefix><id>` (default `doc:`), so invalidating a document's
   * tag (cache.invalidateTags, or a watched documents table) removes exactly the results that returned it.
   */
  constructor(
    private readonly cache: CacheHandle,
    /** A jsonb cache type. Default `vector_search`. */
    readonly type = 'vector_search',
    private readonly options: {
      documentIds?: ((result: R) => readonly (string | number)[]) | undefined;
      tagPrefix?: string | undefined;
    } = {},
  ) {
    const S = pg.escapeIdentifier(cache.schema);
    this.lookupSql = {
      name: `pgcache:${cache.schema}:vector_search:lookup`,
      text: `SELECT k AS key, v, v IS NULL AS miss
               FROM ${S}.cache_vector_search_key($2::real[], $3::jsonb, $4) AS k, ${S}.cache_get($1, k) AS v`,
    };
  }

  private get results(): CacheTypeAccessor<R> {
    return this.cache.type(this.type) as CacheTypeAccessor<R>;
  }

  /** Cached results for (query, filters, kbVersion), else `search()`'s, stored (one search per key at a time). */
  async getOrSearch(
    query: readonly number[],
    filters: Record<string, unknown>,
    kbVersion: string,
    search: () => Promise<R> | R,
    options: ComputeOptions = {},
  ): Promise<R> {
    if (query === null || query === undefined) {
      throw new InvalidArgumentError('PC010', 'pgcache: argument "query" must be an array of numbers');
    }
    checkVector(query, 'query');
    if (typeof filters !== 'object' || filters === null || Array.isArray(filters)) {
      throw new InvalidArgumentError(
        'PC010',
        `pgcache: argument "filters" must be an object, got ${describe(filters)}`,
      );
    }
    checkString(kbVersion, 'kbVersion');
    checkFunction(search, 'search');
    // Through the cache: on a tenant view the key's entry is looked up for that tenant only.
    const [row] = (await this.cache.run(this.lookupSql, [
      this.type,
      [...query],
      encodeJson(filters, 'filters'),
      kbVersion,
    ])) as { key: string; v: R; miss: boolean }[];
    if (row && !row.miss) return row.v;
    return this.results.getOrCompute(row?.key as string, search, {
      ...options,
      tagsOf: (result: R) => this.tagsOf(result),
    });
  }

  /** The tags of a result: one per document it returned. */
  tagsOf(result: R): string[] {
    const prefix = this.options.tagPrefix ?? 'doc:';
    const ids = this.options.documentIds
      ? this.options.documentIds(result)
      : Array.isArray(result)
        ? result.map((item) => (item as { id?: unknown } | null)?.id)
        : [];
    const tags = ids
      .filter((id): id is string | number => typeof id === 'string' || typeof id === 'number')
      .map((id) => `${prefix}${id}`);
    return [...new Set(tags)].slice(0, 64);
  }

  /** Every cached result of the type misses from now on (O(1)); on a tenant view, that tenant's only. */
  invalidateAll(): Promise<number> {
    return this.results.bumpVersion();
  }
}

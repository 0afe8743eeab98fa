// Embeddings in batches: one round trip finds the cached vectors, the embedder is called once with only the
// misses (deduplicated, in input order), one round trip stores them, and the result is aligned with the input.

import pg from 'pg';
import type { CacheHandle } from '../client/cache.js';
import { InvalidArgumentError, VectorWidthMismatchError } from '../client/errors.js';
import { cacheKey } from '../client/key.js';
import type { Statement } from '../client/statements.js';
import { checkFunction, checkString, checkTtl, checkVector, describe } from '../client/validate.js';

export type Embedder = (texts: string[]) => Promise<number[][]> | number[][];

/** set_many takes at most 1000 entries per call. */
const STORE_BATCH = 1000;

export class EmbeddingCache {
  private readonly storeSql: Statement;
  private readonly storeWithTtlSql: Statement;

  constructor(
    private readonly cache: CacheHandle,
    /** A vector cache type. Default `embeddings`. */
    readonly type = 'embeddings',
  ) {
    const S = pg.escapeIdentifier(cache.schema);
    const n = (name: string) => `pgcache:${cache.schema}:embeddings:${name}`;
    this.storeSql = { name: n('store'), text: `SELECT ${S}.cache_set_many($1, $2, $3::real[], $4) AS n` };
    this.storeWithTtlSql = {
      name: n('store_ttl'),
      text: `SELECT ${S}.cache_set_many($1, $2, $3::real[], $4, $5::float8 * interval '1 second') AS n`,
    };
  }

  /** The key of a text's embedding: sha256 of model and content (cache_key(model, text) in SQL). */
  static key(model: string, text: string): string {
    return cacheKey(model, text);
  }

  /** Vectors for `texts`, aligned with them; only texts never seen for `model` reach `embedder`. */
  async embed(
    texts: readonly string[],
    model: string,
    embedder: Embedder,
    options: { ttl?: number | undefined } = {},
  ): Promise<number[][]> {
    if (!Array.isArray(texts)) {
      throw new InvalidArgumentError(
        'PC010',
        `pgcache: argument "texts" must be an array of strings, got ${describe(texts)}`,
      );
    }
    for (const text of texts) checkString(text, 'texts');
    checkString(model, 'model');
    checkFunction(embedder, 'embedder');
    checkTtl(options.ttl);
    const keys = texts.map((text) => EmbeddingCache.key(model, text));
    const cached = await this.cache.type(this.type).getMany(keys);
    const missing = new Map<string, number>(); // key -> position in the embedder's batch
    const missingTexts: string[] = [];
    texts.forEach((text, i) => {
      const key = keys[i] as string;
      if (cached[i] === undefined && !missing.has(key)) {
        missing.set(key, missingTexts.length);
        missingTexts.push(text);
      }
    });
    if (missingTexts.length === 0) return cached as number[][];

    const fresh = await embedder(missingTexts);
    if (fresh.length !== missingTexts.length) {
      throw new TypeError(`pgcache: the embedder returned ${fresh.length} vectors for ${missingTexts.length} texts`);
    }
    for (const vector of fresh) checkVector(vector, 'vectors');
    const width = fresh[0]?.length;
    if (fresh.some((v) => v.length !== width)) {
      throw new VectorWidthMismatchError(
        'PC006',
        `pgcache: argument "vectors" from the embedder differ in width (model "${model}")`,
      );
    }
    await this.store([...missing.keys()], fresh, model, options.ttl);
    return texts.map(
      (_, i) => (cached[i] as number[] | undefined) ?? (fresh[missing.get(keys[i] as string) as number] as number[]),
    );
  }

  private async store(keys: string[], vectors: number[][], model: string, ttl: number | undefined): Promise<void> {
    for (let start = 0; start < keys.length; start += STORE_BATCH) {
      const values = [
        this.type,
        keys.slice(start, start + STORE_BATCH),
        vectors.slice(start, start + STORE_BATCH),
        model,
      ];
      await this.cache.run(
        ttl === undefined ? this.storeSql : this.storeWithTtlSql,
        ttl === undefined ? values : [...values, ttl],
      );
    }
  }
}

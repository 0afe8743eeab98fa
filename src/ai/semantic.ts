// A semantic LLM cache: exact-key hits first (the fast path), then, when the caller asks for it, the nearest
// cached prompt embedding of the same model and scope within a COSINE DISTANCE threshold (0..2; 0 = exact).

import pg from 'pg';
import type { CacheHandle } from '../client/cache.js';
import { FeatureUnavailableError, InvalidArgumentError } from '../client/errors.js';
import { cacheKey } from '../client/key.js';
import type { Statement } from '../client/statements.js';
import type { EntryCost, Ttl } from '../client/types.js';
import {
  checkString,
  checkTags,
  checkText,
  checkTextValue,
  checkTtl,
  checkVector,
  describe,
  encodeJson,
  ttlSeconds,
  withCost,
} from '../client/validate.js';
import { toVectorSql } from './pgvector.js';

/** The default threshold: tight enough for paraphrases of one question, not for a different question. */
export const DEFAULT_MAX_COSINE_DISTANCE = 0.05;

export interface SemanticHit {
  key: string;
  response: string;
  /** 0 for an exact-key hit. */
  cosineDistance: number;
  exact: boolean;
  meta: Record<string, unknown> | null;
}

export interface SemanticOptions {
  /** Namespace or tenant. Entries of another scope never match; undefined is the global scope. */
  scope?: string | undefined;
  /**
   * Largest cosine distance (0..2) accepted for a semantic hit; 0 accepts identical embeddings only. Limits an
   * operator set for the type or the scope (cache_configure_semantic_max_distance) cap it: a request only tightens.
   */
  maxCosineDistance?: number | undefined;
  /**
   * Sees a semantic (not exact) candidate before it is served, e.g. a lexical check that a negation did not
   * flip the meaning: false turns it into a miss, counted as a verifier rejection (cache_semantic_quality).
   */
  verify?: ((candidate: SemanticHit, prompt: string) => boolean | Promise<boolean>) | undefined;
}

export class SemanticLlmCache {
  private readonly lookupSql: Statement;
  private readonly storeSql: Statement;
  private readonly indexSql: Statement;
  private readonly feedbackSql: Statement;

  constructor(
    private readonly cache: CacheHandle,
    readonly model: string,
    /** A text cache type. Default `llm_responses`. */
    readonly type = 'llm_responses',
  ) {
    checkString(model, 'model');
    const S = pg.escapeIdentifier(cache.schema);
    const n = (name: string) => `pgcache:${cache.schema}:semantic:${name}`;
    this.lookupSql = {
      name: n('lookup'),
      text: `SELECT key, value_text, meta, cosine_distance FROM ${S}.cache_semantic_get($1, $2::vector, $3, $4, $5, 1)`,
    };
    this.storeSql = {
      name: n('store_tagged'),
      text: `SELECT ${S}.cache_set_with_embedding($1, $2, $3::text, $4::real[], $5, $6::float8 * interval '1 second', $7, $8::jsonb, $9::text[]) AS expires_at`,
    };
    this.indexSql = { name: n('index'), text: `SELECT ${S}.cache_semantic_index($1, $2) AS name` };
    this.feedbackSql = { name: n('feedback'), text: `SELECT ${S}.cache_semantic_feedback($1, $2, $3, $4) AS counted` };
  }

  /** The exact key of a prompt: sha256 of model, scope and prompt. */
  key(prompt: string, scope?: string): string {
    return cacheKey(this.model, scope ?? '', prompt);
  }

  /** Exact hit on the prompt, else (only if an embedding is given) the nearest within the threshold. */
  async lookup(
    prompt: string,
    embedding?: readonly number[],
    options: SemanticOptions = {},
  ): Promise<SemanticHit | undefined> {
    checkString(prompt, 'prompt');
    checkText(options.scope, 'scope');
    if (embedding !== undefined) checkEmbedding(embedding);
    const { maxCosineDistance, verify } = options;
    if (verify !== undefined && typeof verify !== 'function') {
      throw new InvalidArgumentError('PC010', `pgcache: argument "verify" must be a function, got ${describe(verify)}`);
    }
    if (maxCosineDistance !== undefined && (typeof maxCosineDistance !== 'number' || Number.isNaN(maxCosineDistance))) {
      throw new InvalidArgumentError('PC010', `pgcache: argument "maxCosineDistance" must be a number from 0 to 2`);
    }
    const key = this.key(prompt, options.scope);
    const exact = await this.cache.type(this.type).getEntry(key);
    if (exact) {
      return {
        key,
        response: exact.value as string,
        cosineDistance: 0,
        exact: true,
        meta: exact.meta as SemanticHit['meta'],
      };
    }
    if (!embedding) return undefined;
    const rows = await this.run(this.lookupSql, [
      this.type,
      toVectorSql(embedding),
      this.model,
      options.maxCosineDistance ?? DEFAULT_MAX_COSINE_DISTANCE,
      options.scope ?? null,
    ]);
    const row = rows[0];
    if (!row) return undefined;
    const hit: SemanticHit = {
      key: row.key as string,
      response: row.value_text as string,
      cosineDistance: row.cosine_distance as number,
      exact: false,
      meta: row.meta as SemanticHit['meta'],
    };
    if (verify && !(await verify(hit, prompt))) {
      await this.run(this.feedbackSql, [this.type, hit.key, false, 'verifier']);
      return undefined;
    }
    return hit;
  }

  /**
   * Reports whether a semantic hit was right (by its key): wrong hits are counted per type and model
   * (cache_semantic_quality). False when the entry is gone by then. `cache_semantic_feedback`
   */
  async feedback(key: string, correct: boolean): Promise<boolean> {
    checkString(key, 'key');
    if (typeof correct !== 'boolean') {
      throw new InvalidArgumentError(
        'PC010',
        `pgcache: argument "correct" must be true or false, got ${describe(correct)}`,
      );
    }
    const rows = await this.run(this.feedbackSql, [this.type, key, correct, 'caller']);
    return rows[0]?.counted === true;
  }

  /** Stores a response under the prompt's exact key, findable by its embedding within the scope. */
  async store(
    prompt: string,
    embedding: readonly number[],
    response: string,
    options: {
      scope?: string | undefined;
      ttl?: Ttl | undefined;
      meta?: Record<string, unknown> | undefined;
      /** What producing the response cost (tokens, model): its hits then count as savings. */
      cost?: EntryCost | undefined;
      /**
       * Ids of the sources the answer was grounded on: the entry is tagged `<sourceTagPrefix><id>` (default
       * `doc:`), so invalidating a source's tag, or changing its row in a watched table, removes the answer.
       */
      sources?: readonly (string | number)[] | undefined;
      sourceTagPrefix?: string | undefined;
    } = {},
  ): Promise<void> {
    checkString(prompt, 'prompt');
    checkEmbedding(embedding);
    checkText(options.scope, 'scope');
    checkTextValue(response, 'response');
    checkTtl(options.ttl);
    if (
      options.meta !== undefined &&
      (typeof options.meta !== 'object' || options.meta === null || Array.isArray(options.meta))
    ) {
      throw new InvalidArgumentError(
        'PC010',
        `pgcache: argument "meta" must be an object, got ${describe(options.meta)}`,
      );
    }
    let tags: string[] | null = null;
    if (options.sources !== undefined) {
      if (!Array.isArray(options.sources)) {
        throw new InvalidArgumentError(
          'PC018',
          `pgcache: argument "sources" must be an array of ids, got ${describe(options.sources)}`,
        );
      }
      const prefix = options.sourceTagPrefix ?? 'doc:';
      checkText(prefix, 'sourceTagPrefix');
      tags = [...new Set(options.sources.map((id) => `${prefix}${String(id)}`))];
      checkTags(tags);
    }
    const ttl = typeof options.ttl === 'number' ? options.ttl : 3600;
    await this.run(this.storeSql, [
      this.type,
      this.key(prompt, options.scope),
      response,
      [...embedding],
      this.model,
      ttlSeconds(ttl),
      options.scope ?? null,
      options.meta === undefined && options.cost === undefined
        ? null
        : encodeJson(withCost(options.meta ?? {}, options.cost), 'meta'),
      tags,
    ]);
  }

  /** Creates the HNSW index this model's lookups use (once the model has a stored vector). */
  async ensureIndex(): Promise<string> {
    const rows = await this.run(this.indexSql, [this.type, this.model]);
    return rows[0]?.name as string;
  }

  /** Through the cache, so a tenant view's lookups and stores act for its tenant only. */
  private async run(statement: Statement, values: unknown[]) {
    try {
      return await this.cache.run(statement, values);
    } catch (error) {
      if ((error as { code?: string }).code === '42883' || (error as { code?: string }).code === '42704') {
        throw new FeatureUnavailableError(
          'PC011',
          'pgcache: semantic lookup needs the pgvector extension in this database',
          error,
        );
      }
      throw error;
    }
  }
}

/** An embedding: a non-empty array of finite float4 numbers (PC010). */
function checkEmbedding(embedding: unknown): void {
  checkVector(embedding, 'embedding');
  if ((embedding as ArrayLike<number>).length === 0) {
    throw new InvalidArgumentError('PC010', 'pgcache: argument "embedding" must not be empty');
  }
}

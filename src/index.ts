// pgcache: a Postgres-native cache. The SQL functions are the product; this is their typed client.

export { type Embedder, EmbeddingCache } from './ai/embeddings.js';
export {
  DEFAULT_MAX_COSINE_DISTANCE,
  type SemanticHit,
  SemanticLlmCache,
  type SemanticOptions,
} from './ai/semantic.js';
export { VectorSearchCache } from './ai/vector-search.js';
export { CacheTypeAccessor } from './client/accessor.js';
export { Cache, type CacheOptions, createCache } from './client/cache.js';
export * from './client/errors.js';
export { cacheKey } from './client/key.js';
export { Lease, type LockOptions } from './client/lease.js';
export type { RateLimitOptions, RateLimitResult } from './client/rate-limit.js';
export type * from './client/types.js';
export { NEVER_EXPIRES } from './client/types.js';
export type * from './generated/rows.js';
export { type DistributeOptions, distribute } from './install/distribute.js';
export { installRoles, type MigrateOptions, migrate, type UninstallOptions, uninstall } from './install/migrate.js';

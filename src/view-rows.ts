// Rows of pgcache's monitoring views as the package reads them: the generated row types (src/generated), with
// the columns a view never leaves NULL marked so. PostgreSQL reports every view column as nullable, so the
// generated types cannot tell these apart.
import type {
  CacheCronJobsRow,
  CacheHitRateHistoryRow,
  CacheMaintenanceHistoryRow,
  CacheSavingsRow,
  CacheSemanticQualityRow,
  CacheSizesRow,
  CacheTopKeysRow,
} from './generated/rows.js';

/** `T` with the columns `K` never NULL. */
type Present<T, K extends keyof T> = Omit<T, K> & { [P in K]: NonNullable<T[P]> };

/** A row of cache_sizes: one per cache type. */
export type SizeRow = Present<CacheSizesRow, 'cache_type' | 'table_bytes' | 'toast_bytes' | 'index_bytes'>;
/** A row of cache_maintenance_history. */
export type RunRow = CacheMaintenanceHistoryRow;
/** A row of cache_hit_rate_history: one per type and snapshot interval. */
export type RateRow = Present<CacheHitRateHistoryRow, 'cache_type'>;
/** A row of cache_top_keys. */
export type TopKeyRow = Present<CacheTopKeysRow, 'cache_type' | 'rank' | 'key' | 'hit_score'>;
/** A row of cache_cron_jobs (or of cache_cron_status_query(), run in pg_cron's database). */
export type CronRow = Present<CacheCronJobsRow, 'job_name' | 'jobid' | 'schedule' | 'active' | 'recorded_failures'>;
/** What hits saved per type, model and currency: cache_savings summed over days and tenants. */
export type SavingsTotalRow = Present<
  Pick<
    CacheSavingsRow,
    'cache_type' | 'model' | 'currency' | 'hits' | 'tokens' | 'characters' | 'compute_seconds' | 'cost'
  >,
  'cache_type' | 'hits' | 'tokens' | 'characters' | 'compute_seconds' | 'cost'
>;
/** A row of cache_semantic_quality: one per type and embedding model. */
export type SemanticQualityRow = Present<
  CacheSemanticQualityRow,
  'cache_type' | 'model' | 'hits' | 'misses' | 'wrong_hits' | 'verifier_rejections'
>;

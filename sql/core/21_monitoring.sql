-- Monitoring views, beside cache_stats() (08_stats.sql) and cache_cron_jobs (19_cron.sql). None of them
-- shows cached values.

-- Size on disk per type: the heap, its TOAST table (large values) and its indexes, with autovacuum's view of it.
-- A type whose table is hash-partitioned (cache_hash_partition_type) is summed over its leaf tables.
CREATE OR REPLACE VIEW cache_sizes AS
SELECT t.cache_type,
       t.type_table COLLATE "C" AS table_name,  -- as a relation name (name's collation), since 0.1.0
       sum(CASE WHEN leaf.reltuples >= 0 THEN leaf.reltuples END)::bigint AS rows_estimate,
       coalesce(sum(pg_table_size(leaf.oid) - coalesce(pg_total_relation_size(nullif(leaf.reltoastrelid, 0)), 0)), 0)::bigint
         AS table_bytes,
       coalesce(sum(coalesce(pg_total_relation_size(nullif(leaf.reltoastrelid, 0)), 0)), 0)::bigint AS toast_bytes,
       coalesce(sum(pg_indexes_size(leaf.oid)), 0)::bigint AS index_bytes,
       coalesce(sum(pg_total_relation_size(leaf.oid)), 0)::bigint AS total_bytes,
       sum(s.n_live_tup)::bigint AS live_rows,
       sum(s.n_dead_tup)::bigint AS dead_rows,
       max(greatest(s.last_vacuum, s.last_autovacuum)) AS last_vacuum,
       max(greatest(s.last_analyze, s.last_autoanalyze)) AS last_analyze,
       sum(s.autovacuum_count)::bigint AS autovacuum_count
  FROM _type_tables() t
  JOIN pg_class leaf ON leaf.oid = t.leaf
  LEFT JOIN pg_stat_user_tables s ON s.relid = leaf.oid
 GROUP BY t.type_id, t.cache_type, t.type_table;
COMMENT ON VIEW cache_sizes IS
  'Per cache type (summed over hash partitions): bytes of its table, TOAST and indexes (total = all three), row estimate, live and dead rows, last (auto)vacuum/analyze.';

-- The 100 live entries per type with the highest hit score (hit_count: +1 per touch, at most one touch per
-- touch_interval, so it ranks keys by how often they are read, not by exact hits). Filter by cache_type to
-- scan one type only.
CREATE OR REPLACE VIEW cache_top_keys AS
SELECT t.name AS cache_type, k.rank, k.key, k.hit_score, k.last_accessed_at, k.created_at, k.expires_at, k.byte_size
  FROM cache_types t
 CROSS JOIN LATERAL (
   SELECT row_number() OVER (ORDER BY e.hit_count DESC, e.last_accessed_at DESC, e.key) AS rank,
          e.key::text AS key, e.hit_count AS hit_score, e.last_accessed_at, e.created_at, e.expires_at, e.byte_size
     FROM entries e
    WHERE e.type_id = t.id AND e.expires_at > now()
      AND e.version = coalesce((SELECT tv.version FROM cache_tenant_versions tv
                                 WHERE t.tenant_scoped AND tv.type_id = t.id AND tv.tenant = e.scope), t.version)
    ORDER BY e.hit_count DESC, e.last_accessed_at DESC, e.key
    LIMIT 100) k;
COMMENT ON VIEW cache_top_keys IS
  'Per cache type, the 100 live keys with the highest hit score (reads counted at most once per touch_interval), rank 1 first.';

-- Hit rate per snapshot interval: the change in hits and misses between consecutive snapshots of a type.
CREATE OR REPLACE VIEW cache_hit_rate_history AS
SELECT d.cache_type, d.period_start, d.period_end, d.hits, d.misses,
       CASE WHEN d.hits + d.misses > 0 THEN d.hits::double precision / (d.hits + d.misses) END AS hit_rate,
       d.total_hits, d.total_misses, d.entries, d.bytes
  FROM (SELECT s.cache_type, s.prev_taken_at AS period_start, s.taken_at AS period_end,
               -- The counters are unlogged sequences that restart at 0 after a crash: a drop means a restart.
               CASE WHEN s.hits >= s.prev_hits THEN s.hits - s.prev_hits ELSE s.hits END AS hits,
               CASE WHEN s.misses >= s.prev_misses THEN s.misses - s.prev_misses ELSE s.misses END AS misses,
               s.hits AS total_hits, s.misses AS total_misses, s.entries, s.bytes
          FROM (SELECT ss.*, lag(ss.taken_at) OVER w AS prev_taken_at, lag(ss.hits) OVER w AS prev_hits,
                       lag(ss.misses) OVER w AS prev_misses
                  FROM cache_stats_snapshots ss
                WINDOW w AS (PARTITION BY ss.type_id ORDER BY ss.taken_at)) s
         WHERE s.prev_taken_at IS NOT NULL) d;
COMMENT ON VIEW cache_hit_rate_history IS
  'Hit rate over time: per type and snapshot interval (period_start..period_end), the hits, misses and hit rate in it, from cache_stats_snapshots.';

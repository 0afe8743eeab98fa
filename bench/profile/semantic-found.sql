-- Found rates of the candidates (semantic.sql) per ef_search and probe, and of cache_semantic_get as it is:
-- exact and near repeats must return their own key; never-stored vectors must return nothing.
\timing on
SELECT q.kind, c.ef, c.probe,
       count(*) FILTER (WHERE f.key = q.key) AS own_key, count(f.key) AS answered, count(*) AS asked
  FROM (VALUES (10, false), (20, false), (40, false), (100, false), (40, true)) c(ef, probe),
       pgcache_proto.semq q
       LEFT JOIN LATERAL pgcache_proto.sem_get(q.v, 0.05, c.ef, c.probe) f ON true
 GROUP BY 1, 2, 3 ORDER BY 1, 2, 3;
SELECT q.kind, 'cache_semantic_get' AS fn,
       count(*) FILTER (WHERE f.key = q.key) AS own_key, count(f.key) AS answered, count(*) AS asked
  FROM pgcache_proto.semq q
       LEFT JOIN LATERAL pgcache.cache_semantic_get('bench_semantic', q.v, 'bench-1536', 0.05, NULL, 1) f ON true
 GROUP BY 1 ORDER BY 1;

-- Found rates over the query sets of semantic.sql: the bare pgvector query per hnsw.ef_search (on the type's
-- HNSW index as it was built), then cache_semantic_get as installed. exact, near and far must return their
-- own key; never must return nothing within 0.05 (the bare query always returns a row, so never is left out).
\timing on
-- enable_seqscan off: near the planner's crossover (m = 32 at 100,000 rows) a generic plan may sort every row.
CREATE OR REPLACE FUNCTION pgcache_proto.bare_nearest(p_v public.vector, p_ef integer) RETURNS text
LANGUAGE plpgsql SET enable_seqscan = off AS $$
DECLARE
  k text;
BEGIN
  PERFORM set_config('hnsw.ef_search', p_ef::text, true);
  SELECT key INTO k FROM pgcache.cache_bench_semantic WHERE model = 'bench-1536'
   ORDER BY embedding::public.vector(1536) OPERATOR(public.<=>) p_v LIMIT 1;
  RETURN k;
END $$;
SELECT q.kind, ef, count(*) FILTER (WHERE pgcache_proto.bare_nearest(q.v, ef) = q.key) AS own_key, count(*) AS asked
  FROM pgcache_proto.semq q, unnest(ARRAY[20, 40, 64, 100]) ef
 WHERE q.kind IN ('near', 'far')
 GROUP BY 1, 2 ORDER BY 1, 2;
SELECT q.kind, 'cache_semantic_get' AS fn,
       count(*) FILTER (WHERE f.key = q.key) AS own_key, count(f.key) AS answered, count(*) AS asked
  FROM pgcache_proto.semq q
       LEFT JOIN LATERAL pgcache.cache_semantic_get('bench_semantic', q.v, 'bench-1536', 0.05, NULL, 1) f ON true
 GROUP BY 1 ORDER BY 1;

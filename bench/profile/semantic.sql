-- Candidate semantic lookups over the bench's semantic type (pgcache.cache_bench_semantic, model bench-1536,
-- with its HNSW index), and 1,000 queries of each kind in pgcache_proto.semq: exact repeats, near repeats
-- (a stored vector plus noise of norm 0.1, cosine ~0.995) and never-stored vectors.
-- Then: found rates per ef_search (the queries at the end) and pgbench scripts semantic_*.sql for timing.
\set ON_ERROR_STOP on
CREATE SCHEMA IF NOT EXISTS pgcache_proto;
DROP TABLE IF EXISTS pgcache_proto.semq;
CREATE TABLE pgcache_proto.semq (i int, kind text, key text, v public.vector(1536), PRIMARY KEY (kind, i));
INSERT INTO pgcache_proto.semq
SELECT row_number() OVER (), 'exact', key, embedding::public.vector(1536)
  FROM (SELECT key, embedding FROM pgcache.cache_bench_semantic ORDER BY hashtext(key) LIMIT 1000) s;
-- Uniform noise of standard deviation 0.1 / sqrt(1536) per element: a noise vector of norm ~0.1.
INSERT INTO pgcache_proto.semq
SELECT q.i, 'near', q.key,
       (SELECT array_agg(x + (random() - 0.5) * (0.1 / sqrt(1536) / 0.288675) ORDER BY o)
          FROM unnest(q.v::real[]) WITH ORDINALITY u(x, o))::public.vector(1536)
  FROM pgcache_proto.semq q WHERE q.kind = 'exact';
INSERT INTO pgcache_proto.semq
SELECT g, 'never', NULL,
       public.l2_normalize((SELECT array_agg((random() - 0.5)::real) FROM generate_series(1, 1536) WHERE g > 0)::public.vector)
  FROM generate_series(1, 1000) g;
-- The exact-repeat probe: a B-tree on a hash of the embedding (model first, as lookups are per model).
CREATE INDEX IF NOT EXISTS cache_bench_semantic_exact ON pgcache.cache_bench_semantic (model, hash_array(embedding));
ANALYZE pgcache.cache_bench_semantic;

-- The candidate: static SQL for one (type, model) (as cache_semantic_index could generate it), so PL/pgSQL
-- caches its plan; jit off; no enable_seqscan; an exact probe by hash first; ef_search as asked, restored after.
CREATE OR REPLACE FUNCTION pgcache_proto.sem_get(p_embedding public.vector, p_max float8, p_ef integer DEFAULT 40,
                                                 p_probe boolean DEFAULT true)
RETURNS TABLE (key text, cosine_distance float8)
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pgcache, pg_temp SET jit = off
SET plan_cache_mode = force_generic_plan AS $$
DECLARE
  v real[] := p_embedding::real[];
  ef text := current_setting('hnsw.ef_search');
BEGIN
  IF p_probe THEN
    RETURN QUERY SELECT e.key, 0::float8 FROM pgcache.cache_bench_semantic e
      WHERE e.model = 'bench-1536' AND hash_array(e.embedding) = hash_array(v) AND e.embedding = v
        AND e.version = 1 AND e.expires_at > now() LIMIT 1;
    IF FOUND THEN RETURN; END IF;
  END IF;
  PERFORM set_config('hnsw.ef_search', p_ef::text, true);
  RETURN QUERY SELECT s.key, s.d FROM (
    SELECT e.key, (e.embedding::public.vector(1536) OPERATOR(public.<=>) p_embedding)::float8 AS d
      FROM pgcache.cache_bench_semantic e
     WHERE e.model = 'bench-1536' AND e.version = 1 AND e.expires_at > now()
     ORDER BY e.embedding::public.vector(1536) OPERATOR(public.<=>) p_embedding LIMIT 1) s
   WHERE s.d <= p_max;
  PERFORM set_config('hnsw.ef_search', ef, true);
END $$;

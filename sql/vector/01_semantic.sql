-- Semantic lookup: find a cached entry by the nearest embedding (cosine distance) within a model and scope.
-- pgvector's HNSW indexes need a fixed width, so each (type, model) pair gets a partial expression index
-- on embedding::vector(<width of the model>) WHERE model = '<model>': 768-, 1536- and 3072-wide models share
-- one table, each with its own index. HNSW indexes vector up to 2000 dimensions and halfvec up to 4000, so
-- wider models (3072) are indexed and searched as halfvec: half the index size, a little precision lost.
-- pgvector's schema is on the search_path while this file runs, as in 00_vector.sql.
DO $$
BEGIN
  PERFORM set_config('search_path', format('%I, %s, pg_temp', current_schema(),
    (SELECT x.extnamespace::regnamespace::text FROM pg_extension x WHERE x.extname = 'vector')), true);
END $$;


CREATE OR REPLACE FUNCTION cache_set_with_embedding(p_type text, p_key text, p_value text, p_embedding vector,
                                                    p_model text, p_ttl interval, p_scope text DEFAULT NULL,
                                                    p_meta jsonb DEFAULT NULL) RETURNS timestamptz
LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
BEGIN
  RETURN cache_set_with_embedding(p_type, p_key, p_value, p_embedding::real[], p_model, p_ttl, p_scope, p_meta);
END $$;
COMMENT ON FUNCTION cache_set_with_embedding(text, text, text, vector, text, interval, text, jsonb) IS
  'Stores a text value with the pgvector embedding (of model) it is found by in semantic lookups, within scope.';

-- pgvector's schema, quoted, for the dynamic SQL below: every pgvector type, operator and operator class is
-- named with it, never found through the search_path.
CREATE OR REPLACE FUNCTION _vector_schema() RETURNS text
LANGUAGE sql STABLE SET search_path FROM CURRENT AS $$
  SELECT x.extnamespace::regnamespace::text FROM pg_extension x WHERE x.extname = 'vector'
$$;

-- The width registered for a model, or PC010.
CREATE OR REPLACE FUNCTION _model_width(p_model text) RETURNS integer
LANGUAGE plpgsql STABLE SET search_path FROM CURRENT AS $$
DECLARE
  width integer;
BEGIN
  SELECT dimensions INTO width FROM cache_models WHERE model = p_model;
  IF width IS NULL THEN
    RAISE EXCEPTION 'pgcache: argument "model" % has no registered width; store one of its vectors first', quote_literal(p_model)
      USING ERRCODE = 'PC010';
  END IF;
  RETURN width;
END $$;

-- The pgvector type a model's embeddings are indexed and compared as.
CREATE OR REPLACE FUNCTION _semantic_type(p_width integer) RETURNS text
LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
  IF p_width > 4000 THEN
    RAISE EXCEPTION 'pgcache: semantic lookup supports models of at most 4000 dimensions, got %', p_width
      USING ERRCODE = 'PC010';
  END IF;
  RETURN CASE WHEN p_width <= 2000 THEN 'vector' ELSE 'halfvec' END;
END $$;

-- The name of the HNSW index of (type, model): the type's table name (cut to 25 characters) and the whole
-- md5 of type id and model, at most 63 bytes. Models whose md5 share a prefix, and types whose names share
-- their first 25 characters, get different names.
CREATE OR REPLACE FUNCTION _semantic_index_name(t cache_types, p_model text) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
  SELECT left(t.table_name, 25) || '_hnsw_' || md5(t.id || ':' || p_model)
$$;

-- Creates (if missing) the HNSW index that semantic lookups of (type, model) use; returns its name.
-- It runs CREATE INDEX, which blocks writes to the type's table while it builds: on a large table, run the
-- statement from cache_semantic_index_sql() yourself with CONCURRENTLY instead.
CREATE OR REPLACE FUNCTION cache_semantic_index_sql(p_type text, p_model text, p_concurrently boolean DEFAULT false)
RETURNS text
LANGUAGE plpgsql STABLE SET search_path FROM CURRENT AS $$
DECLARE
  t cache_types := _type(p_type);
  width integer := _model_width(p_model);
  kind text := _semantic_type(width);
BEGIN
  RETURN format('CREATE INDEX %s IF NOT EXISTS %I ON %I.%I USING hnsw ((embedding::%s.%s(%s)) %s.%s) WHERE model = %L',
    CASE WHEN p_concurrently THEN 'CONCURRENTLY' ELSE '' END,
    _semantic_index_name(t, p_model), current_schema(), t.table_name, _vector_schema(), kind, width,
    _vector_schema(), kind || '_cosine_ops', p_model);
END $$;
COMMENT ON FUNCTION cache_semantic_index_sql(text, text, boolean) IS
  'The CREATE INDEX statement of the HNSW index for semantic lookups of (type, model), optionally CONCURRENTLY.';

CREATE OR REPLACE FUNCTION cache_semantic_index(p_type text, p_model text) RETURNS text
LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
DECLARE
  t cache_types := _type(p_type);
BEGIN
  EXECUTE cache_semantic_index_sql(p_type, p_model);
  RETURN _semantic_index_name(t, p_model);
END $$;
COMMENT ON FUNCTION cache_semantic_index(text, text) IS
  'Creates the HNSW index semantic lookups of (type, model) use, if missing; returns its name. Blocks writes while building.';

-- The lookup query for one (type, model): literal model and width, so the planner matches the partial
-- index; $1 query vector, $2 scope, $3 version, $4 candidates. Exposed for EXPLAIN in tests and by operators.
CREATE OR REPLACE FUNCTION _semantic_sql(t cache_types, p_model text, p_width integer) RETURNS text
LANGUAGE sql STABLE SET search_path FROM CURRENT AS $$
  SELECT format($q$
    SELECT key, value_text, value_json, model, meta, scope,
           (embedding::%6$s.%5$s(%1$s) OPERATOR(%6$s.<=>) $1::%6$s.%5$s(%1$s))::float8 AS distance,
           embedding = $1::real[] AS exact
      FROM %2$I.%3$I
     WHERE model = %4$L AND scope IS NOT DISTINCT FROM $2 AND embedding IS NOT NULL
       -- Written so the btree expiry index cannot serve them: the planner takes the HNSW index and
       -- filters these during its (iterative) scan instead of sorting every live row by distance.
       AND version + 0 = $3 AND (expires_at > now()) IS TRUE
     ORDER BY embedding::%6$s.%5$s(%1$s) OPERATOR(%6$s.<=>) $1::%6$s.%5$s(%1$s)
     LIMIT $4 $q$, p_width, current_schema(), t.table_name, p_model, _semantic_type(p_width), _vector_schema())
$$;

-- The nearest live entries to p_embedding among entries of model p_model in scope p_scope (NULL: the
-- global scope only; another scope never matches), whose cosine distance is at most p_max_distance.
-- Cosine distance runs from 0 (same direction) to 2 (opposite); 0 means exact matches only. The default,
-- 0.05, is tight: paraphrases of one question, not answers to a different one.
CREATE OR REPLACE FUNCTION cache_semantic_get(
  p_type text, p_embedding vector, p_model text,
  p_max_cosine_distance float8 DEFAULT 0.05, p_scope text DEFAULT NULL, p_limit integer DEFAULT 1
) RETURNS TABLE (key text, value_text text, value_json jsonb, model text, meta jsonb, scope text, cosine_distance float8)
LANGUAGE plpgsql SET search_path FROM CURRENT
-- Iterative index scans (pgvector 0.8) keep a selective scope filter from starving the result set.
SET hnsw.iterative_scan = strict_order
-- Candidates kept per search: 40 (pgvector's default) found the true nearest of 100 queries only ~71 times
-- on 100,000 random 1536-wide vectors, 200 did 99 times, at about twice the latency of 100.
SET hnsw.ef_search = 200
-- With few live rows estimated for the filters, the planner would rather sort a sequential scan, which is
-- exact but reads every vector of the table: seconds at 100,000 entries. Where the index exists, use it.
SET enable_seqscan = off AS $$
DECLARE
  t cache_types := _type(p_type);
  width integer;
BEGIN
  IF p_max_cosine_distance IS NULL OR p_max_cosine_distance < 0 OR p_max_cosine_distance > 2
     OR p_max_cosine_distance = 'NaN' THEN
    RAISE EXCEPTION 'pgcache: argument "max_cosine_distance" must be a cosine distance from 0 to 2, got %',
      coalesce(p_max_cosine_distance::text, 'NULL') USING ERRCODE = 'PC010';
  END IF;
  IF p_embedding IS NULL THEN
    RAISE EXCEPTION 'pgcache: argument "embedding" must not be NULL' USING ERRCODE = 'PC010';
  END IF;
  PERFORM _check_model(p_model);
  PERFORM _check_batch('limit', p_limit, 100);
  IF t.tenant_scoped THEN
    p_scope := _tenant(t);  -- a tenant's lookups see only its own entries, whatever scope it asks for
    t.version := _tenant_version(t);
  END IF;
  SELECT dimensions INTO width FROM cache_models WHERE cache_models.model = p_model;
  IF width IS NULL THEN
    RETURN;  -- nothing was ever stored for this model
  END IF;
  IF cardinality(p_embedding::real[]) <> width THEN
    RAISE EXCEPTION 'pgcache: argument "embedding" has % dimensions; model "%" is registered with %',
      cardinality(p_embedding::real[]), p_model, width USING ERRCODE = 'PC006';
  END IF;
  RETURN QUERY EXECUTE format(
    'SELECT _user_key($6, key), value_text, value_json, model, meta, scope, distance FROM (%s) found
      WHERE CASE WHEN $5 = 0 THEN exact ELSE distance <= $5 END ORDER BY distance',
    _semantic_sql(t, p_model, width))
    USING p_embedding, p_scope, t.version, p_limit, p_max_cosine_distance, t;
END $$;
COMMENT ON FUNCTION cache_semantic_get(text, vector, text, float8, text, integer) IS
  'Semantic lookup: the nearest live entries of model and scope whose COSINE DISTANCE (0..2; 0 = exact only) is at most max_cosine_distance (default 0.05), nearest first.';

-- Back to the pinned path for the files that follow.
DO $$
BEGIN
  PERFORM set_config('search_path', format('%I, pg_temp', current_schema()), true);
END $$;

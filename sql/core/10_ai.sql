-- AI workloads: entries found by an embedding within a scope, vector batches and vector-search keys.
-- Semantic lookup itself needs pgvector (sql/vector/01_semantic.sql).

-- Stores an LLM response (or any text or jsonb value) with the embedding it is found by and its scope
-- (namespace or tenant). The embedding's width must match the model's.
DROP FUNCTION IF EXISTS cache_set_with_embedding(text, text, text, real[], text, interval, text, jsonb);  -- before tags
CREATE OR REPLACE FUNCTION cache_set_with_embedding(p_type text, p_key text, p_value text, p_embedding real[],
                                                    p_model text, p_ttl interval, p_scope text DEFAULT NULL,
                                                    p_meta jsonb DEFAULT NULL, p_tags text[] DEFAULT NULL) RETURNS timestamptz
LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
BEGIN
  PERFORM _check_ttl(p_ttl);
  IF p_embedding IS NULL THEN
    RAISE EXCEPTION 'pgcache: argument "embedding" must not be NULL' USING ERRCODE = 'PC010';
  END IF;
  RETURN _set_entry(p_type, p_key, 'text', p_text => p_value,
                    p_ttl => p_ttl, p_model => p_model, p_meta => p_meta, p_embedding => p_embedding,
                    p_scope => p_scope, p_tags => p_tags);
END $$;

DROP FUNCTION IF EXISTS cache_set_with_embedding(text, text, jsonb, real[], text, interval, text, jsonb);  -- before tags
CREATE OR REPLACE FUNCTION cache_set_with_embedding(p_type text, p_key text, p_value jsonb, p_embedding real[],
                                                    p_model text, p_ttl interval, p_scope text DEFAULT NULL,
                                                    p_meta jsonb DEFAULT NULL, p_tags text[] DEFAULT NULL) RETURNS timestamptz
LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
BEGIN
  PERFORM _check_ttl(p_ttl);
  IF p_embedding IS NULL THEN
    RAISE EXCEPTION 'pgcache: argument "embedding" must not be NULL' USING ERRCODE = 'PC010';
  END IF;
  RETURN _set_entry(p_type, p_key, 'jsonb', p_json => p_value,
                    p_ttl => p_ttl, p_model => p_model, p_meta => p_meta, p_embedding => p_embedding,
                    p_scope => p_scope, p_tags => p_tags);
END $$;
COMMENT ON FUNCTION cache_set_with_embedding(text, text, text, real[], text, interval, text, jsonb, text[]) IS
  'Stores a text value with the embedding (of model) it is found by in semantic lookups, within scope (NULL: global).';
COMMENT ON FUNCTION cache_set_with_embedding(text, text, jsonb, real[], text, interval, text, jsonb, text[]) IS
  'Stores a jsonb value with the embedding (of model) it is found by in semantic lookups, within scope (NULL: global).';

-- Embedding batches: one row of p_values per key, all of p_model.
CREATE OR REPLACE FUNCTION cache_set_many(p_type text, p_keys text[], p_values real[], p_model text) RETURNS integer
LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
BEGIN
  RETURN _set_many(p_type, 'vector', p_keys, p_vectors => p_values, p_model => p_model);
END $$;

DROP FUNCTION IF EXISTS cache_set_many(text, text[], real[], text, interval);  -- before tags
CREATE OR REPLACE FUNCTION cache_set_many(p_type text, p_keys text[], p_values real[], p_model text, p_ttl interval,
                                          p_tags text[] DEFAULT NULL)
RETURNS integer
LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
BEGIN
  PERFORM _check_ttl(p_ttl);
  RETURN _set_many(p_type, 'vector', p_keys,
                   p_ttl => p_ttl, p_vectors => p_values, p_model => p_model, p_tags => p_tags);
END $$;
COMMENT ON FUNCTION cache_set_many(text, text[], real[], text) IS
  'Stores up to 1000 vectors of one model (a 2-D real[], one row per key) in one transaction, default TTL.';
COMMENT ON FUNCTION cache_set_many(text, text[], real[], text, interval, text[]) IS
  'Stores up to 1000 vectors of one model (a 2-D real[], one row per key) for ttl in one transaction, each with the tags given.';

-- The key of a vector-search result: the query vector, the filters (jsonb, so key order does not matter)
-- and the knowledge-base version. A new knowledge-base version misses every old key at once.
CREATE OR REPLACE FUNCTION cache_vector_search_key(p_query real[], p_filters jsonb, p_kb_version text) RETURNS text
LANGUAGE plpgsql IMMUTABLE SET search_path FROM CURRENT AS $$
BEGIN
  PERFORM _check_vector('query', p_query);
  RETURN cache_key('vector_search', coalesce(p_kb_version, ''), coalesce(p_filters, '{}'::jsonb)::text, p_query::text);
END $$;
COMMENT ON FUNCTION cache_vector_search_key(real[], jsonb, text) IS
  'Stable key for a vector-search result from query vector, filters and knowledge-base version.';

-- Who may call the functions of this file (pgcache_functions; core/30_security.sql grants by it).
INSERT INTO pgcache_functions (function_name, role_group) VALUES
  ('cache_set_with_embedding', 'writer'),
  ('cache_vector_search_key', 'reader')
ON CONFLICT (function_name) DO UPDATE SET role_group = excluded.role_group;

-- AI workloads: entries found by an embedding within a scope, vector batches, vector-search keys and
-- cross-process stampede protection. Semantic lookup itself needs pgvector (sql/vector/01_semantic.sql).

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
  RETURN _set_entry(p_type, p_key, 'text', NULL, p_value, NULL, NULL, p_ttl, p_model, p_meta, p_embedding, p_scope, NULL, p_tags);
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
  RETURN _set_entry(p_type, p_key, 'jsonb', p_value, NULL, NULL, NULL, p_ttl, p_model, p_meta, p_embedding, p_scope, NULL, p_tags);
END $$;
COMMENT ON FUNCTION cache_set_with_embedding(text, text, text, real[], text, interval, text, jsonb, text[]) IS
  'Stores a text value with the embedding (of model) it is found by in semantic lookups, within scope (NULL: global).';
COMMENT ON FUNCTION cache_set_with_embedding(text, text, jsonb, real[], text, interval, text, jsonb, text[]) IS
  'Stores a jsonb value with the embedding (of model) it is found by in semantic lookups, within scope (NULL: global).';

-- Embedding batches: one row of p_values per key, all of p_model.
CREATE OR REPLACE FUNCTION cache_set_many(p_type text, p_keys text[], p_values real[], p_model text) RETURNS integer
LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
BEGIN
  RETURN _set_many(p_type, 'vector', p_keys, NULL, NULL, NULL, NULL, p_values, p_model);
END $$;

DROP FUNCTION IF EXISTS cache_set_many(text, text[], real[], text, interval);  -- before tags
CREATE OR REPLACE FUNCTION cache_set_many(p_type text, p_keys text[], p_values real[], p_model text, p_ttl interval,
                                          p_tags text[] DEFAULT NULL)
RETURNS integer
LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
BEGIN
  PERFORM _check_ttl(p_ttl);
  RETURN _set_many(p_type, 'vector', p_keys, p_ttl, NULL, NULL, NULL, p_values, p_model, p_tags);
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

-- Stampede protection across processes: one caller computes a missing entry while the others wait.
-- A session-level advisory lock per (type, key): it dies with its session, so a computing process that
-- crashes or disconnects frees the key at once. Waits at most p_wait; returns whether the lock is held.
-- (On PGlite every connection shares one session, so these locks exclude nothing there.)
CREATE OR REPLACE FUNCTION cache_lock(p_type text, p_key text, p_wait interval DEFAULT interval '0') RETURNS boolean
LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
DECLARE
  previous text := current_setting('lock_timeout');
  got boolean;
BEGIN
  PERFORM _check_key(p_key);
  p_key := _stored_key(_type(p_type), p_key);
  -- lock_timeout holds at most 2^31-1 ms (24.8 days); a compute lock wait is capped well below, at one day.
  IF p_wait IS NULL OR p_wait < interval '0' OR p_wait > interval '1 day' THEN
    RAISE EXCEPTION 'pgcache: argument "wait" must be an interval from 0 to 1 day, got %', coalesce(p_wait::text, 'NULL')
      USING ERRCODE = 'PC010';
  END IF;
  IF pg_try_advisory_lock(hashtext('pgcache:' || current_schema() || ':' || p_type), hashtext(p_key)) THEN
    RETURN true;
  END IF;
  IF p_wait = interval '0' THEN
    RETURN false;
  END IF;
  PERFORM set_config('lock_timeout', (ceil(extract(epoch FROM p_wait) * 1000))::bigint::text, true);
  BEGIN
    PERFORM pg_advisory_lock(hashtext('pgcache:' || current_schema() || ':' || p_type), hashtext(p_key));
    got := true;
  EXCEPTION WHEN lock_not_available THEN
    got := false;
  END;
  PERFORM set_config('lock_timeout', previous, true);
  RETURN got;
END $$;
COMMENT ON FUNCTION cache_lock(text, text, interval) IS
  'Takes the compute lock of (type, key) for this session, waiting at most wait; true if held. Release with cache_unlock.';

CREATE OR REPLACE FUNCTION cache_unlock(p_type text, p_key text) RETURNS boolean
LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
BEGIN
  PERFORM _check_key(p_key);
  RETURN pg_advisory_unlock(hashtext('pgcache:' || current_schema() || ':' || p_type), hashtext(_stored_key(_type(p_type), p_key)));
END $$;
COMMENT ON FUNCTION cache_unlock(text, text) IS 'Releases the compute lock of (type, key) held by this session.';

-- Stale-while-revalidate: an entry fresh for p_fresh_for and then served stale until p_ttl, while one
-- caller refreshes it (the client takes cache_lock without waiting to decide who).
DROP FUNCTION IF EXISTS cache_set_fresh(text, text, jsonb, interval, interval);  -- before tags
CREATE OR REPLACE FUNCTION cache_set_fresh(p_type text, p_key text, p_value jsonb, p_fresh_for interval, p_ttl interval,
                                           p_tags text[] DEFAULT NULL)
RETURNS timestamptz
LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
BEGIN
  PERFORM _check_ttl(p_ttl);
  RETURN _set_entry(p_type, p_key, 'jsonb', p_value, NULL, NULL, NULL, p_ttl, NULL, NULL, NULL, NULL, p_fresh_for, p_tags);
END $$;

DROP FUNCTION IF EXISTS cache_set_fresh(text, text, text, interval, interval);  -- before tags
CREATE OR REPLACE FUNCTION cache_set_fresh(p_type text, p_key text, p_value text, p_fresh_for interval, p_ttl interval,
                                           p_tags text[] DEFAULT NULL)
RETURNS timestamptz
LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
BEGIN
  PERFORM _check_ttl(p_ttl);
  RETURN _set_entry(p_type, p_key, 'text', NULL, p_value, NULL, NULL, p_ttl, NULL, NULL, NULL, NULL, p_fresh_for, p_tags);
END $$;

DROP FUNCTION IF EXISTS cache_set_fresh(text, text, bytea, interval, interval);  -- before tags
CREATE OR REPLACE FUNCTION cache_set_fresh(p_type text, p_key text, p_value bytea, p_fresh_for interval, p_ttl interval,
                                           p_tags text[] DEFAULT NULL)
RETURNS timestamptz
LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
BEGIN
  PERFORM _check_ttl(p_ttl);
  RETURN _set_entry(p_type, p_key, 'bytea', NULL, NULL, p_value, NULL, p_ttl, NULL, NULL, NULL, NULL, p_fresh_for, p_tags);
END $$;
COMMENT ON FUNCTION cache_set_fresh(text, text, jsonb, interval, interval, text[]) IS
  'Stores a jsonb value fresh for fresh_for (stale_at), kept and served stale until ttl (stale-while-revalidate).';
COMMENT ON FUNCTION cache_set_fresh(text, text, text, interval, interval, text[]) IS
  'Stores a text value fresh for fresh_for (stale_at), kept and served stale until ttl (stale-while-revalidate).';
COMMENT ON FUNCTION cache_set_fresh(text, text, bytea, interval, interval, text[]) IS
  'Stores a bytea value fresh for fresh_for (stale_at), kept and served stale until ttl (stale-while-revalidate).';

-- pgvector conveniences, installed only where the vector extension exists. Vectors are stored as real[]
-- (so the core needs no pgvector); these overloads take and return pgvector's vector type.
--
-- pgvector's schema is on the search_path only while these files create their functions, so that the
-- signatures can name its types (bound by OID when created). The bodies never resolve a pgvector name through
-- the path, which core/30_security.sql pins without pgvector's schema: vector <-> real[] conversions are casts
-- (found by type, not by name), and the dynamic SQL of 01_semantic.sql qualifies every pgvector name.
DO $$
BEGIN
  PERFORM set_config('search_path', format('%I, %s, pg_temp', current_schema(),
    (SELECT x.extnamespace::regnamespace::text FROM pg_extension x WHERE x.extname = 'vector')), true);
END $$;

CREATE OR REPLACE FUNCTION cache_set(p_type text, p_key text, p_value vector, p_model text) RETURNS timestamptz
LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
BEGIN
  RETURN _set_entry(p_type, p_key, 'vector', p_vector => p_value::real[], p_model => p_model);
END $$;

DROP FUNCTION IF EXISTS cache_set(text, text, vector, interval, text, jsonb);  -- before tags
CREATE OR REPLACE FUNCTION cache_set(p_type text, p_key text, p_value vector, p_ttl interval,
                                     p_model text, p_meta jsonb DEFAULT NULL, p_tags text[] DEFAULT NULL) RETURNS timestamptz
LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
BEGIN
  PERFORM _check_ttl(p_ttl);
  RETURN _set_entry(p_type, p_key, 'vector', p_vector => p_value::real[],
                    p_ttl => p_ttl, p_model => p_model, p_meta => p_meta, p_tags => p_tags);
END $$;

CREATE OR REPLACE FUNCTION cache_get_vector(p_type text, p_key text) RETURNS vector
LANGUAGE plpgsql SET search_path FROM CURRENT SET plan_cache_mode = force_generic_plan AS $$
BEGIN
  RETURN (_get_entry(p_type, p_key, 'vector')).value_vector;  -- real[] to vector: pgvector's assignment cast
END $$;

COMMENT ON FUNCTION cache_set(text, text, vector, text) IS
  'Stores a pgvector vector of model with the type''s default TTL; its width must match the model''s. Returns the expiry.';
COMMENT ON FUNCTION cache_set(text, text, vector, interval, text, jsonb, text[]) IS
  'Stores a pgvector vector of model for ttl; its width must match the model''s. Returns the expiry.';
COMMENT ON FUNCTION cache_get_vector(text, text) IS 'The value of a live entry of a vector type as a pgvector vector, or NULL on a miss.';

-- Back to the pinned path for the files that follow.
DO $$
BEGIN
  PERFORM set_config('search_path', format('%I, pg_temp', current_schema()), true);
END $$;

-- Who may call the functions of this file (pgcache_functions; core/30_security.sql grants by it).
INSERT INTO pgcache_functions (function_name, role_group) VALUES
  ('cache_get_vector', 'reader')
ON CONFLICT (function_name) DO UPDATE SET role_group = excluded.role_group;

-- pgvector conveniences, installed only where the vector extension exists. Vectors are stored as real[]
-- (so the core needs no pgvector); these overloads take and return pgvector's vector type.

CREATE OR REPLACE FUNCTION cache_set(p_type text, p_key text, p_value vector, p_model text) RETURNS timestamptz
LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
BEGIN
  RETURN _set_entry(p_type, p_key, 'vector', NULL, NULL, NULL, p_value::real[], NULL, p_model, NULL);
END $$;

CREATE OR REPLACE FUNCTION cache_set(p_type text, p_key text, p_value vector, p_ttl interval,
                                     p_model text, p_meta jsonb DEFAULT NULL) RETURNS timestamptz
LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
BEGIN
  PERFORM _check_ttl(p_ttl);
  RETURN _set_entry(p_type, p_key, 'vector', NULL, NULL, NULL, p_value::real[], p_ttl, p_model, p_meta);
END $$;

CREATE OR REPLACE FUNCTION cache_get_vector(p_type text, p_key text) RETURNS vector
LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
BEGIN
  RETURN (_get_entry(p_type, p_key, 'vector')).value_vector::vector;
END $$;

COMMENT ON FUNCTION cache_set(text, text, vector, text) IS
  'Stores a pgvector vector of model with the type''s default TTL; its width must match the model''s. Returns the expiry.';
COMMENT ON FUNCTION cache_set(text, text, vector, interval, text, jsonb) IS
  'Stores a pgvector vector of model for ttl; its width must match the model''s. Returns the expiry.';
COMMENT ON FUNCTION cache_get_vector(text, text) IS 'The value of a live entry of a vector type as a pgvector vector, or NULL on a miss.';

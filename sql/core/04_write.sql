-- The write path: one validated upsert per entry.

-- Rejects vectors that pgvector could not hold: NULL or non-finite elements, several dimensions, empty, > 16000.
CREATE OR REPLACE FUNCTION _check_vector(p_name text, p_vector real[]) RETURNS void
LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
  IF array_ndims(p_vector) IS DISTINCT FROM 1 OR array_position(p_vector, NULL) IS NOT NULL
     OR cardinality(p_vector) > 16000
     OR EXISTS (SELECT 1 FROM unnest(p_vector) x WHERE x IN ('NaN', 'Infinity', '-Infinity')) THEN
    RAISE EXCEPTION 'pgcache: argument "%" must be a one-dimensional array of 1 to 16000 finite numbers', p_name
      USING ERRCODE = 'PC010';
  END IF;
END $$;

-- Model names are at most 200 bytes (they are keys of cache_models and literals in index predicates).
CREATE OR REPLACE FUNCTION _check_model(p_model text) RETURNS void
LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
  IF p_model IS NULL OR p_model = '' THEN
    RAISE EXCEPTION 'pgcache: argument "model" must be a non-empty string' USING ERRCODE = 'PC010';
  END IF;
  IF octet_length(p_model) > 200 THEN
    RAISE EXCEPTION 'pgcache: argument "model" is % bytes; the limit is 200', octet_length(p_model) USING ERRCODE = 'PC010';
  END IF;
END $$;

-- A vector's width must match its model's registered width. Widths are global (one per model name, as the
-- HNSW index of a model has one width), so they are not a tenant's to set: the first vector of a model
-- registers it only in a session without pgcache.tenant; a tenant may use only registered models. Operators
-- register models up front with cache_register_model().
CREATE OR REPLACE FUNCTION _check_model_width(p_model text, p_vector real[]) RETURNS void
LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
DECLARE
  width integer;
BEGIN
  IF p_model IS NULL OR p_model = '' THEN
    RAISE EXCEPTION 'pgcache: argument "model" is required with a vector' USING ERRCODE = 'PC010';
  END IF;
  PERFORM _check_model(p_model);
  SELECT dimensions INTO width FROM cache_models WHERE model = p_model;
  IF width IS NULL AND coalesce(current_setting('pgcache.tenant', true), '') <> '' THEN
    RAISE EXCEPTION 'pgcache: argument "model" % is not registered, and a tenant (pgcache.tenant) may not register a model width',
      quote_literal(p_model) USING ERRCODE = 'PC010',
      HINT = 'An operator registers it with cache_register_model(model, dimensions).';
  END IF;
  IF width IS NULL THEN
    INSERT INTO cache_models (model, dimensions) VALUES (p_model, cardinality(p_vector))
    ON CONFLICT (model) DO NOTHING;
    SELECT dimensions INTO width FROM cache_models WHERE model = p_model;
  END IF;
  IF width <> cardinality(p_vector) THEN
    RAISE EXCEPTION 'pgcache: argument "value" has % dimensions; model "%" is registered with %', cardinality(p_vector), p_model, width
      USING ERRCODE = 'PC006';
  END IF;
END $$;

-- Registers a model's vector width (admin); idempotent for the same width, PC006 for another one.
CREATE OR REPLACE FUNCTION cache_register_model(p_model text, p_dimensions integer) RETURNS integer
LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
DECLARE
  width integer;
BEGIN
  PERFORM _check_model(p_model);
  IF p_dimensions IS NULL OR p_dimensions NOT BETWEEN 1 AND 16000 THEN
    RAISE EXCEPTION 'pgcache: argument "dimensions" must be an integer from 1 to 16000, got %', coalesce(p_dimensions::text, 'NULL')
      USING ERRCODE = 'PC010';
  END IF;
  INSERT INTO cache_models (model, dimensions) VALUES (p_model, p_dimensions) ON CONFLICT (model) DO NOTHING;
  SELECT dimensions INTO width FROM cache_models WHERE model = p_model;
  IF width <> p_dimensions THEN
    RAISE EXCEPTION 'pgcache: argument "dimensions" is %; model "%" is registered with %', p_dimensions, p_model, width
      USING ERRCODE = 'PC006';
  END IF;
  RETURN width;
END $$;
COMMENT ON FUNCTION cache_register_model(text, integer) IS
  'Registers the vector width of an embedding model (admin). Tenants may store vectors only of registered models. PC006 if registered with another width.';

-- Entry attributes (meta) must be declared by the type, with the declared JSON type.
CREATE OR REPLACE FUNCTION _check_meta(t cache_types, p_meta jsonb) RETURNS void
LANGUAGE plpgsql IMMUTABLE AS $$
DECLARE
  bad text;
BEGIN
  IF jsonb_typeof(p_meta) <> 'object' THEN
    RAISE EXCEPTION 'pgcache: argument "meta" must be a JSON object' USING ERRCODE = 'PC010';
  END IF;
  SELECT m.key INTO bad FROM jsonb_each(p_meta) m
   WHERE jsonb_typeof(m.value) <> 'null' AND jsonb_typeof(m.value) IS DISTINCT FROM (t.attributes ->> m.key)
     AND m.key <> 'pgcache_cost'  -- what producing the entry cost, on every type (core/22_savings.sql)
   LIMIT 1;
  IF bad IS NOT NULL THEN
    RAISE EXCEPTION 'pgcache: argument "meta" has attribute "%" that type "%" does not declare as %', bad, t.name,
      coalesce(t.attributes ->> bad, 'anything') USING ERRCODE = 'PC010', DETAIL = format('declared: %s', t.attributes);
  END IF;
  IF p_meta ? 'pgcache_cost' THEN
    PERFORM _check_cost(p_meta -> 'pgcache_cost');
  END IF;
END $$;

-- Validates and stores one entry of a type whose write lock the caller holds: t comes from _write_type (or a
-- type's own writer, below) with the caller's version in t.version. p_ttl NULL means the type's default TTL
-- (public callers check it first). p_embedding and p_scope serve semantic lookups; p_fresh_for sets stale_at
-- (stale-while-revalidate). The one definition of a single write's checks and upsert: every setter ends here.
-- No SET clause (a SET clause costs each call about as much as the checks): owner-only, it runs under its
-- caller's pinned search_path. The checks of _check_key and _check_kind are inline; rarer arguments
-- (vectors, meta, fresh_for) call their helpers.
DROP FUNCTION IF EXISTS _store_entry(cache_types, text, text, jsonb, text, bytea, real[], interval, text, jsonb, real[], text, interval);
CREATE OR REPLACE FUNCTION _store_entry(
  t cache_types, p_key text, p_kind text,
  p_json jsonb, p_text text, p_bytes bytea, p_vector real[],
  p_ttl interval, p_model text, p_meta jsonb,
  p_embedding real[] DEFAULT NULL, p_scope text DEFAULT NULL, p_fresh_for interval DEFAULT NULL,
  p_tags text[] DEFAULT NULL
) RETURNS timestamptz
LANGUAGE plpgsql AS $$
DECLARE
  value_size integer;
  expiry timestamptz;
BEGIN
  -- As _check_key and _check_kind.
  IF p_key IS NULL OR p_key = '' OR octet_length(p_key) > 1024 THEN
    PERFORM _check_key(p_key);
  END IF;
  IF t.value_kind <> p_kind THEN
    PERFORM _check_kind(t, p_kind);
  END IF;
  IF num_nonnulls(p_json, p_text, p_bytes, p_vector) = 0 THEN
    RAISE EXCEPTION 'pgcache: argument "value" must not be NULL' USING ERRCODE = 'PC005';
  END IF;
  IF p_vector IS NOT NULL THEN
    PERFORM _check_vector('value', p_vector);
    PERFORM _check_model_width(p_model, p_vector);
  END IF;
  IF p_embedding IS NOT NULL THEN
    PERFORM _check_vector('embedding', p_embedding);
    PERFORM _check_model_width(p_model, p_embedding);
  END IF;
  IF octet_length(p_model) > 200 THEN
    PERFORM _check_model(p_model);
  END IF;
  IF p_meta IS NOT NULL THEN
    PERFORM _check_meta(t, p_meta);
  END IF;
  IF octet_length(p_scope) > 1024 THEN
    RAISE EXCEPTION 'pgcache: argument "scope" is % bytes; the limit is 1024', octet_length(p_scope) USING ERRCODE = 'PC010';
  END IF;
  IF p_fresh_for IS NOT NULL THEN
    PERFORM _check_ttl(p_fresh_for);
  END IF;
  IF p_tags IS NOT NULL THEN
    p_tags := _check_tags(p_tags);
  END IF;
  IF t.tenant_scoped THEN
    p_key := _stored_key(t, p_key);
    p_scope := _tenant(t);  -- semantic lookups of a tenant-scoped type see only the tenant's entries
  END IF;

  value_size := coalesce(pg_column_size(p_json), octet_length(p_text), octet_length(p_bytes), 4 * cardinality(p_vector));
  IF value_size > t.max_value_bytes THEN
    RAISE EXCEPTION 'pgcache: argument "value" is % bytes; cache type "%" allows %', value_size, t.name, t.max_value_bytes
      USING ERRCODE = 'PC007';
  END IF;
  -- Attributes count against the same limit as the value: together they are what the entry stores.
  IF value_size + coalesce(pg_column_size(p_meta), 0) > t.max_value_bytes THEN
    RAISE EXCEPTION 'pgcache: argument "meta" is % bytes; with the value (% bytes) it exceeds the % bytes cache type "%" allows',
      pg_column_size(p_meta), value_size, t.max_value_bytes, t.name USING ERRCODE = 'PC007';
  END IF;

  expiry := _expiry(coalesce(p_ttl, t.default_ttl));  -- 'infinity' for cache_ttl('never')
  INSERT INTO entries AS e (type_id, key, version, value_json, value_text, value_bytes, value_vector, embedding,
                            model, meta, scope, byte_size, created_at, expires_at, stale_at, last_accessed_at, tags)
  VALUES (t.id, p_key, t.version, p_json, p_text, p_bytes, p_vector, p_embedding, p_model, p_meta, p_scope,
          octet_length(p_key) + value_size + coalesce(pg_column_size(p_meta), 0)
            + coalesce(4 * cardinality(p_embedding), 0) + coalesce(octet_length(p_model), 0)
            + coalesce(octet_length(p_scope), 0) + coalesce(pg_column_size(p_tags), 0),
          now(), expiry, least(_expiry(p_fresh_for), expiry), now(), p_tags)
  ON CONFLICT (type_id, key) DO UPDATE
     SET version = excluded.version, value_json = excluded.value_json, value_text = excluded.value_text,
         value_bytes = excluded.value_bytes, value_vector = excluded.value_vector, embedding = excluded.embedding,
         model = excluded.model, meta = excluded.meta, scope = excluded.scope, byte_size = excluded.byte_size,
         created_at = excluded.created_at, expires_at = excluded.expires_at, stale_at = excluded.stale_at,
         last_accessed_at = excluded.last_accessed_at, tags = excluded.tags,
         -- A key's read score survives an overwrite, not an expiry or invalidation. excluded.created_at is now():
         -- Citus takes no stable function in ON CONFLICT (docs/scaling.md).
         hit_count = CASE WHEN e.version = excluded.version AND e.expires_at > excluded.created_at THEN e.hit_count ELSE 0 END;
  IF t.notify THEN
    PERFORM _notify(t, jsonb_build_object('k', p_key));
  END IF;
  RETURN expiry;
END $$;

-- Stores one entry of a type named by the caller: the type lock and registry row of _write_type, then
-- _store_entry. The path of the public setters (cache_set, cache_set_with_embedding, cache_set_fresh).
-- Every argument after p_kind defaults to NULL: callers name the ones they pass (p_json => p_value, ...).
DROP FUNCTION IF EXISTS _set_entry(text, text, text, jsonb, text, bytea, real[], interval, text, jsonb, real[]);  -- 0.1 signature
DROP FUNCTION IF EXISTS _set_entry(text, text, text, jsonb, text, bytea, real[], interval, text, jsonb, real[], text, interval);
CREATE OR REPLACE FUNCTION _set_entry(
  p_type text, p_key text, p_kind text,
  p_json jsonb DEFAULT NULL, p_text text DEFAULT NULL, p_bytes bytea DEFAULT NULL, p_vector real[] DEFAULT NULL,
  p_ttl interval DEFAULT NULL, p_model text DEFAULT NULL, p_meta jsonb DEFAULT NULL,
  p_embedding real[] DEFAULT NULL, p_scope text DEFAULT NULL, p_fresh_for interval DEFAULT NULL,
  p_tags text[] DEFAULT NULL
) RETURNS timestamptz
LANGUAGE plpgsql AS $$
BEGIN
  RETURN _store_entry(_write_type(p_type), p_key, p_kind, p_json, p_text, p_bytes, p_vector, p_ttl, p_model, p_meta,
                      p_embedding, p_scope, p_fresh_for, p_tags);
END $$;

-- Public setters: one pair per value kind. Without ttl the type's default applies; an explicit ttl must be positive.
CREATE OR REPLACE FUNCTION cache_set(p_type text, p_key text, p_value jsonb) RETURNS timestamptz
LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
BEGIN
  RETURN _set_entry(p_type, p_key, 'jsonb', p_json => p_value);
END $$;

DROP FUNCTION IF EXISTS cache_set(text, text, jsonb, interval, text, jsonb);  -- before tags
CREATE OR REPLACE FUNCTION cache_set(p_type text, p_key text, p_value jsonb, p_ttl interval,
                                     p_model text DEFAULT NULL, p_meta jsonb DEFAULT NULL,
                                     p_tags text[] DEFAULT NULL) RETURNS timestamptz
LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
BEGIN
  PERFORM _check_ttl(p_ttl);
  RETURN _set_entry(p_type, p_key, 'jsonb', p_json => p_value,
                    p_ttl => p_ttl, p_model => p_model, p_meta => p_meta, p_tags => p_tags);
END $$;

CREATE OR REPLACE FUNCTION cache_set(p_type text, p_key text, p_value text) RETURNS timestamptz
LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
BEGIN
  RETURN _set_entry(p_type, p_key, 'text', p_text => p_value);
END $$;

DROP FUNCTION IF EXISTS cache_set(text, text, text, interval, text, jsonb);  -- before tags
CREATE OR REPLACE FUNCTION cache_set(p_type text, p_key text, p_value text, p_ttl interval,
                                     p_model text DEFAULT NULL, p_meta jsonb DEFAULT NULL,
                                     p_tags text[] DEFAULT NULL) RETURNS timestamptz
LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
BEGIN
  PERFORM _check_ttl(p_ttl);
  RETURN _set_entry(p_type, p_key, 'text', p_text => p_value,
                    p_ttl => p_ttl, p_model => p_model, p_meta => p_meta, p_tags => p_tags);
END $$;

CREATE OR REPLACE FUNCTION cache_set(p_type text, p_key text, p_value bytea) RETURNS timestamptz
LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
BEGIN
  RETURN _set_entry(p_type, p_key, 'bytea', p_bytes => p_value);
END $$;

DROP FUNCTION IF EXISTS cache_set(text, text, bytea, interval, text, jsonb);  -- before tags
CREATE OR REPLACE FUNCTION cache_set(p_type text, p_key text, p_value bytea, p_ttl interval,
                                     p_model text DEFAULT NULL, p_meta jsonb DEFAULT NULL,
                                     p_tags text[] DEFAULT NULL) RETURNS timestamptz
LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
BEGIN
  PERFORM _check_ttl(p_ttl);
  RETURN _set_entry(p_type, p_key, 'bytea', p_bytes => p_value,
                    p_ttl => p_ttl, p_model => p_model, p_meta => p_meta, p_tags => p_tags);
END $$;

-- Vectors as real[] work without pgvector; with it, cache_set(type, key, vector, ...) is added (sql/vector).
CREATE OR REPLACE FUNCTION cache_set(p_type text, p_key text, p_value real[], p_model text) RETURNS timestamptz
LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
BEGIN
  RETURN _set_entry(p_type, p_key, 'vector', p_vector => p_value, p_model => p_model);
END $$;

DROP FUNCTION IF EXISTS cache_set(text, text, real[], interval, text, jsonb);  -- before tags
CREATE OR REPLACE FUNCTION cache_set(p_type text, p_key text, p_value real[], p_ttl interval,
                                     p_model text, p_meta jsonb DEFAULT NULL, p_tags text[] DEFAULT NULL) RETURNS timestamptz
LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
BEGIN
  PERFORM _check_ttl(p_ttl);
  RETURN _set_entry(p_type, p_key, 'vector', p_vector => p_value,
                    p_ttl => p_ttl, p_model => p_model, p_meta => p_meta, p_tags => p_tags);
END $$;

COMMENT ON FUNCTION cache_set(text, text, jsonb) IS 'Stores a jsonb value under key with the type''s default TTL; returns the expiry.';
COMMENT ON FUNCTION cache_set(text, text, jsonb, interval, text, jsonb, text[]) IS 'Stores a jsonb value for ttl, with optional model, attributes (meta) and tags; returns the expiry.';
COMMENT ON FUNCTION cache_set(text, text, text) IS 'Stores a text value under key with the type''s default TTL; returns the expiry.';
COMMENT ON FUNCTION cache_set(text, text, text, interval, text, jsonb, text[]) IS 'Stores a text value for ttl, with optional model, attributes (meta) and tags; returns the expiry.';
COMMENT ON FUNCTION cache_set(text, text, bytea) IS 'Stores a bytea value under key with the type''s default TTL; returns the expiry.';
COMMENT ON FUNCTION cache_set(text, text, bytea, interval, text, jsonb, text[]) IS 'Stores a bytea value for ttl, with optional model, attributes (meta) and tags; returns the expiry.';
COMMENT ON FUNCTION cache_set(text, text, real[], text) IS
  'Stores a vector (real[]) of model with the type''s default TTL; its width must match the model''s. Returns the expiry.';
COMMENT ON FUNCTION cache_set(text, text, real[], interval, text, jsonb, text[]) IS
  'Stores a vector (real[]) of model for ttl; its width must match the model''s. Returns the expiry.';

-- Stores a batch in one transaction, through the same checks as single sets: all entries or none.
-- Vectors come as one 2-D real[] (a row per entry, all of one model and width).
-- jsonb, text and bytea batches are one set-based statement: the checks run over the unnested arrays (the
-- first offending element in key order raises, with the single set's SQLSTATE), duplicate keys fold to the
-- last element, and one INSERT ... SELECT ... ON CONFLICT writes the rows in key order (as prefix deletes
-- lock them, so concurrent batches cannot deadlock). Vector batches, with their per-element width checks,
-- go through _store_entry element by element, under the batch's one type lock. No SET clause: it runs under
-- its caller's pinned search_path and is executable by the owner only. Callers name the arguments after
-- p_keys that they pass (p_jsons => p_values, ...).
DROP FUNCTION IF EXISTS _set_many(text, text, text[], interval, jsonb[], text[], bytea[]);  -- 0.1 signature
DROP FUNCTION IF EXISTS _set_many(text, text, text[], interval, jsonb[], text[], bytea[], real[], text);
CREATE OR REPLACE FUNCTION _set_many(p_type text, p_kind text, p_keys text[], p_ttl interval DEFAULT NULL,
                                     p_jsons jsonb[] DEFAULT NULL, p_texts text[] DEFAULT NULL, p_bytes bytea[] DEFAULT NULL,
                                     p_vectors real[] DEFAULT NULL, p_model text DEFAULT NULL,
                                     p_tags text[] DEFAULT NULL) RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
  n integer := cardinality(p_keys);
  t cache_types;
  bad record;
  expiry timestamptz;
  prefix text := '';
  tenant_scope text;
  stored text;
  i bigint;
BEGIN
  PERFORM _check_batch('keys', n, 1000);
  -- The type lock, held in share mode until commit, keeps cache_bump_version from committing in the middle:
  -- every entry of the batch is written at the one version read here.
  t := _write_type(p_type);
  IF n <> coalesce(cardinality(p_jsons), cardinality(p_texts), cardinality(p_bytes), array_length(p_vectors, 1), -1)
     OR (p_vectors IS NOT NULL AND array_ndims(p_vectors) <> 2) THEN
    RAISE EXCEPTION 'pgcache: arguments "keys" and "values" must have the same length (vectors: one row each)'
      USING ERRCODE = 'PC010';
  END IF;
  IF n = 0 THEN
    RETURN 0;
  END IF;
  IF p_tags IS NOT NULL THEN
    p_tags := _check_tags(p_tags);  -- every entry of the batch carries them (core/15_tags.sql)
  END IF;

  IF p_vectors IS NOT NULL OR p_kind = 'vector' THEN
    -- Rows in key order; within one key, the later element wins.
    FOR i IN SELECT u.o FROM unnest(p_keys) WITH ORDINALITY AS u(k, o) ORDER BY u.k COLLATE "C", u.o LOOP
      PERFORM _store_entry(t, p_keys[i], p_kind, p_jsons[i], p_texts[i], p_bytes[i],
                           CASE WHEN p_vectors IS NOT NULL THEN ARRAY(SELECT unnest(p_vectors[i:i][:])) END,
                           p_ttl, p_model, NULL, NULL, NULL, NULL, p_tags);
    END LOOP;
    RETURN n;
  END IF;

  IF t.value_kind <> p_kind THEN
    PERFORM _check_kind(t, p_kind);
  END IF;
  IF octet_length(p_model) > 200 THEN
    PERFORM _check_model(p_model);
  END IF;
  -- Sizes as a single set counts them: an array holds a short jsonb with a 1-byte header, a parameter has 4.
  SELECT u.k, u.j, u.x, u.b, u.size INTO bad
    FROM (SELECT v.*, coalesce(pg_column_size(v.j) + CASE WHEN pg_column_size(v.j) <= 127 THEN 3 ELSE 0 END,
                               octet_length(v.x), octet_length(v.b)) AS size
            FROM unnest(p_keys, p_jsons, p_texts, p_bytes) WITH ORDINALITY AS v(k, j, x, b, o)) u
   WHERE u.k IS NULL OR u.k = '' OR octet_length(u.k) > 1024 OR u.size IS NULL OR u.size > t.max_value_bytes
   ORDER BY u.k COLLATE "C", u.o
   LIMIT 1;
  IF FOUND THEN
    PERFORM _check_key(bad.k);
    IF num_nonnulls(bad.j, bad.x, bad.b) = 0 THEN
      RAISE EXCEPTION 'pgcache: argument "value" must not be NULL' USING ERRCODE = 'PC005';
    END IF;
    RAISE EXCEPTION 'pgcache: argument "value" is % bytes; cache type "%" allows %', bad.size, t.name, t.max_value_bytes
      USING ERRCODE = 'PC007';
  END IF;
  IF t.tenant_scoped THEN
    tenant_scope := _tenant(t);  -- semantic lookups of a tenant-scoped type see only the tenant's entries
    prefix := tenant_scope || chr(31);
  END IF;

  expiry := _expiry(coalesce(p_ttl, t.default_ttl));  -- 'infinity' for cache_ttl('never')
  INSERT INTO entries AS e (type_id, key, version, value_json, value_text, value_bytes, model, scope, byte_size,
                            created_at, expires_at, stale_at, last_accessed_at, tags)
  SELECT DISTINCT ON (u.k) t.id, prefix || u.k, t.version, u.j, u.x, u.b, p_model, tenant_scope,
         octet_length(prefix || u.k) + u.size + coalesce(octet_length(p_model), 0) + coalesce(octet_length(tenant_scope), 0)
           + coalesce(pg_column_size(p_tags), 0),
         now(), expiry, expiry, now(), p_tags
    FROM (SELECT v.k COLLATE "C" AS k, v.j, v.x, v.b, v.o,
                 coalesce(pg_column_size(v.j) + CASE WHEN pg_column_size(v.j) <= 127 THEN 3 ELSE 0 END,
                          octet_length(v.x), octet_length(v.b)) AS size
            FROM unnest(p_keys, p_jsons, p_texts, p_bytes) WITH ORDINALITY AS v(k, j, x, b, o)) u
   ORDER BY u.k, u.o DESC
  ON CONFLICT (type_id, key) DO UPDATE
     SET version = excluded.version, value_json = excluded.value_json, value_text = excluded.value_text,
         value_bytes = excluded.value_bytes, value_vector = excluded.value_vector, embedding = excluded.embedding,
         model = excluded.model, meta = excluded.meta, scope = excluded.scope, byte_size = excluded.byte_size,
         created_at = excluded.created_at, expires_at = excluded.expires_at, stale_at = excluded.stale_at,
         last_accessed_at = excluded.last_accessed_at, tags = excluded.tags,
         -- A key's read score survives an overwrite, not an expiry or invalidation. excluded.created_at is now():
         -- Citus takes no stable function in ON CONFLICT (docs/scaling.md).
         hit_count = CASE WHEN e.version = excluded.version AND e.expires_at > excluded.created_at THEN e.hit_count ELSE 0 END;
  IF t.notify THEN
    FOR stored IN SELECT DISTINCT prefix || k FROM unnest(p_keys) k LOOP
      PERFORM _notify(t, jsonb_build_object('k', stored));
    END LOOP;
  END IF;
  RETURN n;
END $$;

-- Batches: without ttl the type's default applies; an explicit ttl must be positive. Returns the count stored.
CREATE OR REPLACE FUNCTION cache_set_many(p_type text, p_keys text[], p_values jsonb[]) RETURNS integer
LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
BEGIN
  RETURN _set_many(p_type, 'jsonb', p_keys, p_jsons => p_values);
END $$;

DROP FUNCTION IF EXISTS cache_set_many(text, text[], jsonb[], interval);  -- before tags
CREATE OR REPLACE FUNCTION cache_set_many(p_type text, p_keys text[], p_values jsonb[], p_ttl interval,
                                          p_tags text[] DEFAULT NULL) RETURNS integer
LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
BEGIN
  PERFORM _check_ttl(p_ttl);
  RETURN _set_many(p_type, 'jsonb', p_keys, p_ttl => p_ttl, p_jsons => p_values, p_tags => p_tags);
END $$;

CREATE OR REPLACE FUNCTION cache_set_many(p_type text, p_keys text[], p_values text[]) RETURNS integer
LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
BEGIN
  RETURN _set_many(p_type, 'text', p_keys, p_texts => p_values);
END $$;

DROP FUNCTION IF EXISTS cache_set_many(text, text[], text[], interval);  -- before tags
CREATE OR REPLACE FUNCTION cache_set_many(p_type text, p_keys text[], p_values text[], p_ttl interval,
                                          p_tags text[] DEFAULT NULL) RETURNS integer
LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
BEGIN
  PERFORM _check_ttl(p_ttl);
  RETURN _set_many(p_type, 'text', p_keys, p_ttl => p_ttl, p_texts => p_values, p_tags => p_tags);
END $$;

CREATE OR REPLACE FUNCTION cache_set_many(p_type text, p_keys text[], p_values bytea[]) RETURNS integer
LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
BEGIN
  RETURN _set_many(p_type, 'bytea', p_keys, p_bytes => p_values);
END $$;

DROP FUNCTION IF EXISTS cache_set_many(text, text[], bytea[], interval);  -- before tags
CREATE OR REPLACE FUNCTION cache_set_many(p_type text, p_keys text[], p_values bytea[], p_ttl interval,
                                          p_tags text[] DEFAULT NULL) RETURNS integer
LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
BEGIN
  PERFORM _check_ttl(p_ttl);
  RETURN _set_many(p_type, 'bytea', p_keys, p_ttl => p_ttl, p_bytes => p_values, p_tags => p_tags);
END $$;

COMMENT ON FUNCTION cache_set_many(text, text[], jsonb[]) IS 'Stores up to 1000 jsonb values in one transaction (all or none), default TTL.';
COMMENT ON FUNCTION cache_set_many(text, text[], jsonb[], interval, text[]) IS 'Stores up to 1000 jsonb values for ttl in one transaction (all or none), each with the tags given.';
COMMENT ON FUNCTION cache_set_many(text, text[], text[]) IS 'Stores up to 1000 text values in one transaction (all or none), default TTL.';
COMMENT ON FUNCTION cache_set_many(text, text[], text[], interval, text[]) IS 'Stores up to 1000 text values for ttl in one transaction (all or none), each with the tags given.';
COMMENT ON FUNCTION cache_set_many(text, text[], bytea[]) IS 'Stores up to 1000 bytea values in one transaction (all or none), default TTL.';
COMMENT ON FUNCTION cache_set_many(text, text[], bytea[], interval, text[]) IS 'Stores up to 1000 bytea values for ttl in one transaction (all or none), each with the tags given.';

-- Stale-while-revalidate: an entry fresh for p_fresh_for and then served stale until p_ttl, while one
-- caller refreshes it (the client takes cache_lock without waiting to decide who).
DROP FUNCTION IF EXISTS cache_set_fresh(text, text, jsonb, interval, interval);  -- before tags
CREATE OR REPLACE FUNCTION cache_set_fresh(p_type text, p_key text, p_value jsonb, p_fresh_for interval, p_ttl interval,
                                           p_tags text[] DEFAULT NULL)
RETURNS timestamptz
LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
BEGIN
  PERFORM _check_ttl(p_ttl);
  RETURN _set_entry(p_type, p_key, 'jsonb', p_json => p_value,
                    p_ttl => p_ttl, p_fresh_for => p_fresh_for, p_tags => p_tags);
END $$;

DROP FUNCTION IF EXISTS cache_set_fresh(text, text, text, interval, interval);  -- before tags
CREATE OR REPLACE FUNCTION cache_set_fresh(p_type text, p_key text, p_value text, p_fresh_for interval, p_ttl interval,
                                           p_tags text[] DEFAULT NULL)
RETURNS timestamptz
LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
BEGIN
  PERFORM _check_ttl(p_ttl);
  RETURN _set_entry(p_type, p_key, 'text', p_text => p_value,
                    p_ttl => p_ttl, p_fresh_for => p_fresh_for, p_tags => p_tags);
END $$;

DROP FUNCTION IF EXISTS cache_set_fresh(text, text, bytea, interval, interval);  -- before tags
CREATE OR REPLACE FUNCTION cache_set_fresh(p_type text, p_key text, p_value bytea, p_fresh_for interval, p_ttl interval,
                                           p_tags text[] DEFAULT NULL)
RETURNS timestamptz
LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
BEGIN
  PERFORM _check_ttl(p_ttl);
  RETURN _set_entry(p_type, p_key, 'bytea', p_bytes => p_value,
                    p_ttl => p_ttl, p_fresh_for => p_fresh_for, p_tags => p_tags);
END $$;
COMMENT ON FUNCTION cache_set_fresh(text, text, jsonb, interval, interval, text[]) IS
  'Stores a jsonb value fresh for fresh_for (stale_at), kept and served stale until ttl (stale-while-revalidate).';
COMMENT ON FUNCTION cache_set_fresh(text, text, text, interval, interval, text[]) IS
  'Stores a text value fresh for fresh_for (stale_at), kept and served stale until ttl (stale-while-revalidate).';
COMMENT ON FUNCTION cache_set_fresh(text, text, bytea, interval, interval, text[]) IS
  'Stores a bytea value fresh for fresh_for (stale_at), kept and served stale until ttl (stale-while-revalidate).';

-- A type's own writer, cache_<type>_set(key, value [, ttl, model, meta]): the single set the client sends.
-- Generated per type (from its registry row, names quoted with format('%I')), so its statements are static:
-- the EXECUTE of _lock_type (a parse per call, the largest cost of a generic set) goes, the lock protocol
-- stays. It locks entries and then the type's table in ROW EXCLUSIVE mode, as _lock_type does, and only then
-- reads the registry row, so a concurrent bump, tenant switch or drop is either waited for or waits for it.
-- The common set (a jsonb, text or bytea value, no attributes, a type neither tenant-scoped nor notifying,
-- READ COMMITTED) is one statement after the locks: the upsert straight into the type's table reads the
-- registry row in its own SELECT, and its WHERE holds the checks that need that row, so a set that fails one
-- of them stores nothing and takes the full path (_write_version + _store_entry), which raises the error
-- or stores what the short path leaves to it (attributes, tenants, notifications, cache_ttl('never') as
-- ttl). The upsert names cache_<type>, never entries, after the static lock of entries, so the lock order
-- stays entries before cache_<type>.
-- ttl NULL (or omitted) means the type's default. SECURITY DEFINER with a pinned search_path, EXECUTE for
-- the writer role only; dropped with the type. A call that waited for a concurrent drop of its type fails
-- with 42P01 (its table is gone); the client then goes through cache_set, which raises PC001.
CREATE OR REPLACE FUNCTION _create_type_writer(t cache_types) RETURNS void
LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
DECLARE
  schema_name text := current_schema();
  writer_name text := t.table_name || '_set';
  value_type text := CASE t.value_kind WHEN 'vector' THEN 'real[]' ELSE t.value_kind END;
  value_column text := CASE t.value_kind WHEN 'jsonb' THEN 'value_json' WHEN 'text' THEN 'value_text'
                                          WHEN 'bytea' THEN 'value_bytes' ELSE 'value_vector' END;
  value_size text := CASE t.value_kind WHEN 'jsonb' THEN 'pg_column_size(p_value)' ELSE 'octet_length(p_value)' END;
  short_path text := '';
  writer text;
BEGIN
  IF t.value_kind <> 'vector' THEN
    -- The seconds-only TTL test is _check_ttl's own first test; anything else goes to the full path.
    short_path := format($s$
      IF p_key <> '' AND octet_length(p_key) <= 1024 AND p_value IS NOT NULL AND p_meta IS NULL
         AND (p_model IS NULL OR octet_length(p_model) <= 200)
         AND (p_ttl IS NULL OR (date_part('year', p_ttl) = 0 AND date_part('month', p_ttl) = 0
              AND date_part('day', p_ttl) = 0 AND p_ttl > interval '0' AND p_ttl <= interval '36000 days')) THEN
        INSERT INTO %1$I.%2$I AS e (type_id, key, version, %3$I, model, byte_size, created_at, expires_at,
                                    stale_at, last_accessed_at)
        SELECT %4$s, p_key, r.version, p_value, p_model,
               octet_length(p_key) + %5$s + coalesce(octet_length(p_model), 0),
               now(), %1$I._expiry(coalesce(p_ttl, r.default_ttl)), %1$I._expiry(coalesce(p_ttl, r.default_ttl)), now()
          FROM %1$I.cache_types r
         WHERE r.id = %4$s AND r.value_kind = %6$L AND NOT r.tenant_scoped AND NOT r.notify
           AND %5$s <= r.max_value_bytes
           AND current_setting('transaction_isolation') = 'read committed'
        ON CONFLICT (type_id, key) DO UPDATE
           SET version = excluded.version, value_json = excluded.value_json, value_text = excluded.value_text,
               value_bytes = excluded.value_bytes, value_vector = NULL, embedding = NULL,
               model = excluded.model, meta = NULL, scope = NULL, byte_size = excluded.byte_size,
               created_at = excluded.created_at, expires_at = excluded.expires_at, stale_at = excluded.stale_at,
               last_accessed_at = excluded.last_accessed_at, tags = NULL,
               -- A key's read score survives an overwrite, not an expiry or invalidation. excluded.created_at is now():
               -- Citus takes no stable function in ON CONFLICT (docs/scaling.md).
               hit_count = CASE WHEN e.version = excluded.version AND e.expires_at > excluded.created_at THEN e.hit_count ELSE 0 END
        RETURNING e.expires_at INTO expiry;
        IF FOUND THEN
          RETURN expiry;
        END IF;
      END IF;$s$, schema_name, t.table_name, value_column, t.id, value_size, t.value_kind);
  END IF;
  EXECUTE format($w$
    CREATE OR REPLACE FUNCTION %1$I.%2$I(p_key text, p_value %3$s, p_ttl interval DEFAULT NULL,
                                         p_model text DEFAULT NULL, p_meta jsonb DEFAULT NULL)
    RETURNS timestamptz
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = %1$I, pg_temp AS $f$
    DECLARE
      t %1$I.cache_types;
      expiry timestamptz;
    BEGIN
      LOCK TABLE ONLY %1$I.entries IN ROW EXCLUSIVE MODE;
      LOCK TABLE %1$I.%4$I IN ROW EXCLUSIVE MODE;%9$s
      SELECT * INTO t FROM %1$I.cache_types WHERE id = %5$s;
      IF NOT FOUND THEN
        RAISE EXCEPTION 'pgcache: cache type "%%" does not exist (it was dropped)', %6$L USING ERRCODE = 'PC001';
      END IF;
      IF p_ttl IS NOT NULL THEN
        PERFORM %1$I._check_ttl(p_ttl);
      END IF;
      RETURN %1$I._store_entry(%1$I._write_version(t), p_key, %7$L, %8$s, p_ttl, p_model, p_meta);
    END $f$
  $w$, schema_name, writer_name, value_type, t.table_name, t.id, t.name, t.value_kind,
    CASE t.value_kind WHEN 'jsonb' THEN 'p_value, NULL, NULL, NULL' WHEN 'text' THEN 'NULL, p_value, NULL, NULL'
                      WHEN 'bytea' THEN 'NULL, NULL, p_value, NULL' ELSE 'NULL, NULL, NULL, p_value' END,
    short_path);
  writer := format('%I.%I(text, %s, interval, text, jsonb)', schema_name, writer_name, value_type);
  EXECUTE format('COMMENT ON FUNCTION %s IS %L', writer,
    format('Stores a %s value of type %s under key for ttl (the type''s default when NULL), with optional model and attributes (meta); returns the expiry. As cache_set, for this type only.',
           t.value_kind, t.name));
  EXECUTE format('REVOKE ALL ON FUNCTION %s FROM PUBLIC', writer);
  PERFORM _grant_to_group('writer', format('EXECUTE ON FUNCTION %s', writer));
END $$;
COMMENT ON FUNCTION _create_type_writer(cache_types) IS
  'Creates (or re-creates) the writer cache_<type>_set of a type, EXECUTE granted to the writer role only.';

CREATE OR REPLACE FUNCTION _drop_type_writer(t cache_types) RETURNS void
LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
BEGIN
  EXECUTE format('DROP FUNCTION IF EXISTS %I.%I(text, %s, interval, text, jsonb)', current_schema(),
    t.table_name || '_set', CASE t.value_kind WHEN 'vector' THEN 'real[]' ELSE t.value_kind END);
END $$;
COMMENT ON FUNCTION _drop_type_writer(cache_types) IS 'Drops the writer cache_<type>_set of a type.';

-- The writer of every type (new installs have none yet; an upgrade creates them for existing types).
DO $$
DECLARE
  t cache_types;
BEGIN
  FOR t IN SELECT * FROM cache_types ORDER BY id LOOP
    PERFORM _create_type_writer(t);
  END LOOP;
END $$;

-- Who may call the functions of this file (pgcache_functions; core/30_security.sql grants by it).
INSERT INTO pgcache_functions (function_name, role_group) VALUES
  ('_check_vector', 'internal'),
  ('_check_model', 'internal'),
  ('_check_model_width', 'internal'),
  ('cache_register_model', 'admin'),
  ('_check_meta', 'internal'),
  ('_store_entry', 'internal'),
  ('_set_entry', 'internal'),
  ('cache_set', 'writer'),
  ('_set_many', 'internal'),
  ('cache_set_many', 'writer'),
  ('cache_set_fresh', 'writer'),
  ('_create_type_writer', 'internal'),
  ('_drop_type_writer', 'internal')
ON CONFLICT (function_name) DO UPDATE SET role_group = excluded.role_group;

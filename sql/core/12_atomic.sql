-- Atomic read-modify-write on one entry: counters (Redis INCRBY), set-if-absent (SET NX) and partial updates of
-- jsonb objects (HSET / HDEL-style field changes). Each works on the live entry under its row lock, in one
-- transaction, so concurrent callers never lose an update. Writers take the type lock through _write_type.

-- The next value of a counter entry: the stored integer plus p_delta. A jsonb entry must hold a JSON number
-- without a fraction, a text entry decimal digits with an optional minus sign (as Redis stores counters).
-- PC015 when it holds anything else, or when the sum leaves bigint's range (Redis: "would overflow").
CREATE OR REPLACE FUNCTION _incremented(p_json jsonb, p_text text, p_delta bigint) RETURNS bigint
LANGUAGE plpgsql IMMUTABLE AS $$
DECLARE
  stored_value numeric;
  sum_value numeric;
BEGIN
  IF p_json IS NOT NULL THEN
    IF jsonb_typeof(p_json) <> 'number' THEN
      RAISE EXCEPTION 'pgcache: the entry holds a JSON %, not an integer', jsonb_typeof(p_json)
        USING ERRCODE = 'PC015', HINT = 'cache_incr works on entries it created or that hold an integer.';
    END IF;
    stored_value := p_json::numeric;
  ELSIF p_text ~ '^-?[0-9]{1,19}$' THEN
    stored_value := p_text::numeric;
  ELSE
    RAISE EXCEPTION 'pgcache: the entry holds %, not an integer', quote_literal(left(coalesce(p_text, ''), 40))
      USING ERRCODE = 'PC015', HINT = 'cache_incr works on entries it created or that hold an integer.';
  END IF;
  IF stored_value <> trunc(stored_value) OR stored_value NOT BETWEEN -9223372036854775808 AND 9223372036854775807 THEN
    -- Shortened: a stored JSON number may have 100,000 digits.
    RAISE EXCEPTION 'pgcache: the entry holds %, not an integer of bigint''s range',
      CASE WHEN length(stored_value::text) > 40 THEN left(stored_value::text, 40) || '...' ELSE stored_value::text END
      USING ERRCODE = 'PC015';
  END IF;
  sum_value := stored_value + p_delta;
  IF sum_value NOT BETWEEN -9223372036854775808 AND 9223372036854775807 THEN
    RAISE EXCEPTION 'pgcache: argument "delta" % would take the entry (%) out of bigint''s range', p_delta, stored_value
      USING ERRCODE = 'PC015';
  END IF;
  RETURN sum_value;
END $$;

-- Writes a new entry of a jsonb, text or bytea type unless a live one holds the key: an absent, expired or
-- invalidated (older version) entry is replaced whole. True when this call wrote it. The insert and the
-- conflict check are one statement: of two concurrent callers exactly one writes, the other sees a live entry
-- (it waits for the first to commit). The caller holds the type lock (_write_type) and passes its row.
CREATE OR REPLACE FUNCTION _create_if_absent(t cache_types, p_key text, p_json jsonb, p_text text, p_bytes bytea,
                                             p_ttl interval) RETURNS boolean
LANGUAGE plpgsql AS $$
DECLARE
  stored text := _stored_key(t, p_key);
  tenant_scope text;
  value_size integer := coalesce(pg_column_size(p_json), octet_length(p_text), octet_length(p_bytes));
  expiry timestamptz := _expiry(coalesce(p_ttl, t.default_ttl));
  written boolean;
BEGIN
  IF value_size > t.max_value_bytes THEN
    RAISE EXCEPTION 'pgcache: argument "value" is % bytes; cache type "%" allows %', value_size, t.name, t.max_value_bytes
      USING ERRCODE = 'PC007';
  END IF;
  IF t.tenant_scoped THEN
    tenant_scope := _tenant(t);
  END IF;
  INSERT INTO entries AS e (type_id, key, version, value_json, value_text, value_bytes, scope, byte_size,
                            created_at, expires_at, stale_at, last_accessed_at)
  VALUES (t.id, stored, t.version, p_json, p_text, p_bytes, tenant_scope,
          octet_length(stored) + value_size + coalesce(octet_length(tenant_scope), 0), now(), expiry, NULL, now())
  ON CONFLICT (type_id, key) DO UPDATE
     SET version = excluded.version, value_json = excluded.value_json, value_text = excluded.value_text,
         value_bytes = excluded.value_bytes, value_vector = NULL, embedding = NULL, model = NULL, meta = NULL,
         scope = excluded.scope, byte_size = excluded.byte_size, created_at = excluded.created_at,
         expires_at = excluded.expires_at, stale_at = NULL, last_accessed_at = excluded.last_accessed_at, hit_count = 0
   -- excluded.created_at is now(): Citus takes no stable function in ON CONFLICT (docs/scaling.md).
   WHERE e.version <> excluded.version OR e.expires_at <= excluded.created_at
  RETURNING true INTO written;
  IF written AND t.notify THEN
    PERFORM _notify(t, jsonb_build_object('k', stored));
  END IF;
  RETURN coalesce(written, false);
END $$;

-- Redis INCRBY: adds p_delta to the integer under key and returns the result. A missing, expired or invalidated
-- entry counts as 0 and is created with p_ttl (NULL: the type's default; cache_ttl('never'): no expiry); later
-- increments keep the expiry it has. jsonb types store a JSON number, text types decimal text. The increment is
-- one UPDATE of the live row: concurrent increments queue on its row lock and none is lost.
-- byte_size keeps the value the entry was created with (a counter's size changes by a few bytes at most).
CREATE OR REPLACE FUNCTION cache_incr(p_type text, p_key text, p_delta bigint DEFAULT 1, p_ttl interval DEFAULT NULL)
RETURNS bigint
LANGUAGE plpgsql SET search_path FROM CURRENT SET plan_cache_mode = force_generic_plan AS $$
DECLARE
  t cache_types := _write_type(p_type);
  stored text;
  result bigint;
BEGIN
  PERFORM _check_key(p_key);
  IF p_delta IS NULL THEN
    RAISE EXCEPTION 'pgcache: argument "delta" must be an integer, got NULL' USING ERRCODE = 'PC010';
  END IF;
  IF p_ttl IS NOT NULL THEN
    PERFORM _check_ttl(p_ttl);
  END IF;
  IF t.value_kind NOT IN ('jsonb', 'text') THEN
    RAISE EXCEPTION 'pgcache: cache type "%" holds % values; counters need a jsonb or text type', t.name, t.value_kind
      USING ERRCODE = 'PC005';
  END IF;
  stored := _stored_key(t, p_key);
  LOOP
    UPDATE entries
       SET value_json = CASE WHEN value_json IS NOT NULL THEN to_jsonb(_incremented(value_json, value_text, p_delta)) END,
           value_text = CASE WHEN value_json IS NULL THEN _incremented(NULL, value_text, p_delta)::text END,
           last_accessed_at = now()
     WHERE type_id = t.id AND key = stored AND version = t.version AND expires_at > now()
    RETURNING coalesce((value_json #>> '{}')::bigint, value_text::bigint) INTO result;
    IF FOUND THEN
      EXIT;
    END IF;
    -- No live entry: create one holding p_delta. A concurrent caller that created it first makes this false;
    -- the next round increments what it wrote.
    IF _create_if_absent(t, p_key,
                         CASE WHEN t.value_kind = 'jsonb' THEN to_jsonb(p_delta) END,
                         CASE WHEN t.value_kind = 'text' THEN p_delta::text END, NULL, p_ttl) THEN
      RETURN p_delta;
    END IF;
  END LOOP;
  IF t.notify THEN
    PERFORM _notify(t, jsonb_build_object('k', stored));
  END IF;
  RETURN result;
END $$;
COMMENT ON FUNCTION cache_incr(text, text, bigint, interval) IS
  'Redis INCRBY: adds delta (default 1) to the integer under key and returns it; a missing or expired key starts at 0 and is created with ttl (NULL: the type''s default), later increments keep its expiry. PC015 if the entry is not an integer or the sum leaves bigint.';

-- Redis SET NX: stores the value only where no live entry holds the key (an expired or invalidated one counts
-- as absent). True only for the caller that created the entry.
CREATE OR REPLACE FUNCTION _add(p_type text, p_key text, p_kind text, p_json jsonb, p_text text, p_bytes bytea,
                                p_ttl interval) RETURNS boolean
LANGUAGE plpgsql AS $$
DECLARE
  t cache_types := _write_type(p_type);
BEGIN
  PERFORM _check_key(p_key);
  IF p_ttl IS NOT NULL THEN
    PERFORM _check_ttl(p_ttl);
  END IF;
  PERFORM _check_kind(t, p_kind);
  IF num_nonnulls(p_json, p_text, p_bytes) = 0 THEN
    RAISE EXCEPTION 'pgcache: argument "value" must not be NULL' USING ERRCODE = 'PC005';
  END IF;
  RETURN _create_if_absent(t, p_key, p_json, p_text, p_bytes, p_ttl);
END $$;

CREATE OR REPLACE FUNCTION cache_add(p_type text, p_key text, p_value jsonb, p_ttl interval DEFAULT NULL) RETURNS boolean
LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
BEGIN
  RETURN _add(p_type, p_key, 'jsonb', p_value, NULL, NULL, p_ttl);
END $$;

CREATE OR REPLACE FUNCTION cache_add(p_type text, p_key text, p_value text, p_ttl interval DEFAULT NULL) RETURNS boolean
LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
BEGIN
  RETURN _add(p_type, p_key, 'text', NULL, p_value, NULL, p_ttl);
END $$;

CREATE OR REPLACE FUNCTION cache_add(p_type text, p_key text, p_value bytea, p_ttl interval DEFAULT NULL) RETURNS boolean
LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
BEGIN
  RETURN _add(p_type, p_key, 'bytea', NULL, NULL, p_value, p_ttl);
END $$;
COMMENT ON FUNCTION cache_add(text, text, jsonb, interval) IS
  'Redis SET NX: stores a jsonb value for ttl (NULL: the type''s default) only if no live entry holds key; true if this call created it.';
COMMENT ON FUNCTION cache_add(text, text, text, interval) IS
  'Redis SET NX: stores a text value for ttl (NULL: the type''s default) only if no live entry holds key; true if this call created it.';
COMMENT ON FUNCTION cache_add(text, text, bytea, interval) IS
  'Redis SET NX: stores a bytea value for ttl (NULL: the type''s default) only if no live entry holds key; true if this call created it.';

-- Partial update of a live jsonb object: the top-level fields of p_patch replace (or add) those of the entry,
-- then the fields named in p_remove go (Redis HSET / HDEL on a hash). Nested objects are replaced whole, not
-- merged. The expiry, attributes and hit score stay. Returns the new value, or NULL when no live entry holds
-- key (nothing is created: store the whole object with cache_set or cache_add first). The row is locked from
-- the read to the write, so concurrent patches of different fields all land. PC016 when the entry is not a
-- JSON object; PC007 when the result exceeds the type's max_value_bytes.
CREATE OR REPLACE FUNCTION cache_patch(p_type text, p_key text, p_patch jsonb, p_remove text[] DEFAULT NULL)
RETURNS jsonb
LANGUAGE plpgsql SET search_path FROM CURRENT SET plan_cache_mode = force_generic_plan AS $$
DECLARE
  t cache_types := _write_type(p_type);
  stored text;
  old_value jsonb;
  patched jsonb;
  size_change integer;
BEGIN
  PERFORM _check_key(p_key);
  PERFORM _check_kind(t, 'jsonb');
  IF p_patch IS NOT NULL AND jsonb_typeof(p_patch) <> 'object' THEN
    RAISE EXCEPTION 'pgcache: argument "patch" must be a JSON object, got a JSON %', jsonb_typeof(p_patch)
      USING ERRCODE = 'PC010';
  END IF;
  IF p_remove IS NOT NULL THEN
    IF array_ndims(p_remove) > 1 THEN
      RAISE EXCEPTION 'pgcache: argument "remove" must be a one-dimensional array of field names' USING ERRCODE = 'PC010';
    END IF;
    PERFORM _check_batch('remove', cardinality(p_remove), 1000);
    IF array_position(p_remove, NULL) IS NOT NULL THEN
      RAISE EXCEPTION 'pgcache: argument "remove" must not contain NULL' USING ERRCODE = 'PC010';
    END IF;
  END IF;
  IF p_patch IS NULL AND p_remove IS NULL THEN
    RAISE EXCEPTION 'pgcache: argument "patch" must be a JSON object (or give fields to remove)' USING ERRCODE = 'PC010';
  END IF;
  stored := _stored_key(t, p_key);
  SELECT value_json INTO old_value FROM entries
   WHERE type_id = t.id AND key = stored AND version = t.version AND expires_at > now()
     FOR NO KEY UPDATE;
  IF NOT FOUND THEN
    RETURN NULL;
  END IF;
  IF jsonb_typeof(old_value) IS DISTINCT FROM 'object' THEN
    RAISE EXCEPTION 'pgcache: the entry holds a JSON %, not an object; cache_patch changes fields of objects',
      coalesce(jsonb_typeof(old_value), 'NULL') USING ERRCODE = 'PC016';
  END IF;
  patched := (old_value || coalesce(p_patch, '{}'::jsonb)) - coalesce(p_remove, '{}'::text[]);
  IF pg_column_size(patched) > t.max_value_bytes THEN
    RAISE EXCEPTION 'pgcache: argument "patch" makes the value % bytes; cache type "%" allows %',
      pg_column_size(patched), t.name, t.max_value_bytes USING ERRCODE = 'PC007';
  END IF;
  size_change := pg_column_size(patched) - pg_column_size(old_value);
  UPDATE entries SET value_json = patched, byte_size = greatest(byte_size + size_change, 0), last_accessed_at = now()
   WHERE type_id = t.id AND key = stored;
  IF t.notify THEN
    PERFORM _notify(t, jsonb_build_object('k', stored));
  END IF;
  RETURN patched;
END $$;
COMMENT ON FUNCTION cache_patch(text, text, jsonb, text[]) IS
  'Merges the top-level fields of patch into a live jsonb object and removes the fields named in remove, atomically, keeping its expiry (Redis HSET/HDEL). Returns the new value, or NULL when no live entry holds key. PC016 if the entry is not a JSON object.';

-- Who may call the functions of this file (pgcache_functions; core/30_security.sql grants by it).
INSERT INTO pgcache_functions (function_name, role_group) VALUES
  ('_incremented', 'internal'),
  ('_create_if_absent', 'internal'),
  ('cache_incr', 'writer'),
  ('_add', 'internal'),
  ('cache_add', 'writer'),
  ('cache_patch', 'writer')
ON CONFLICT (function_name) DO UPDATE SET role_group = excluded.role_group;

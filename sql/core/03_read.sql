-- The read path. A hit costs one registry probe, one primary-key probe and one nextval(); it writes the row
-- only when its last touch is older than the type's touch_interval (never, for touch_interval NULL).
-- Hot-path functions force generic plans: a custom plan of a query on the partitioned entries table is
-- always estimated cheaper (pruned at plan time), so the plan cache would re-plan on every call (~3x slower);
-- the generic plan prunes to the type's partition at executor start instead.

-- Records a read of existing rows for LRU/LFU: at most once per touch_interval, skipping rows that another
-- session holds locked so a hot key never queues readers behind a row lock.
CREATE OR REPLACE FUNCTION _touch(t cache_types, p_keys text[]) RETURNS void
LANGUAGE plpgsql SET search_path FROM CURRENT SET plan_cache_mode = force_generic_plan AS $$
BEGIN
  UPDATE entries e
     SET last_accessed_at = now(), hit_count = e.hit_count + 1
    FROM (SELECT s.key FROM entries s
           WHERE s.type_id = t.id AND s.key = ANY (p_keys) AND s.last_accessed_at < now() - t.touch_interval
           FOR NO KEY UPDATE SKIP LOCKED) stale
   WHERE e.type_id = t.id AND e.key = stale.key;
END $$;

-- One live entry as a row (NULL on a miss), counting the hit or miss. p_kind, when given, must match the type.
CREATE OR REPLACE FUNCTION _get_entry(p_type text, p_key text, p_kind text) RETURNS entries
LANGUAGE plpgsql SET search_path FROM CURRENT SET plan_cache_mode = force_generic_plan AS $$
DECLARE
  t cache_types;
  e entries;
  -- On a hot standby or in a READ ONLY transaction nothing may be written: serve without counting.
  writable boolean := NOT current_setting('transaction_read_only')::boolean;
BEGIN
  SELECT * INTO t FROM cache_types WHERE name = p_type;
  IF NOT FOUND THEN
    t := _type(p_type);  -- raises PC001
  END IF;
  IF p_key IS NULL OR p_key = '' OR octet_length(p_key) > 1024 THEN
    PERFORM _check_key(p_key);
  END IF;
  IF p_kind IS NOT NULL AND p_kind <> t.value_kind THEN
    PERFORM _check_kind(t, p_kind);
  END IF;
  IF t.tenant_scoped THEN
    p_key := _stored_key(t, p_key);
    t.version := _tenant_version(t);
  END IF;

  IF NOT writable AND pg_is_in_recovery() THEN
    -- A standby cannot open unlogged partitions, which a plan over all of entries would: read the type's own.
    e := _peek_entry(t, p_key);
    RETURN CASE WHEN e.key IS NULL THEN NULL ELSE e END;
  END IF;
  SELECT * INTO e FROM entries
   WHERE type_id = t.id AND key = p_key AND version = t.version AND expires_at > now();
  IF NOT FOUND THEN
    IF writable THEN
      -- A type dropped since its registry row was read has no partition (and no sequences) any more. Once
      -- the SELECT above has locked entries, no drop can commit before this transaction ends.
      PERFORM _check_type_alive(t);
      PERFORM nextval(t.misses_sequence);
    END IF;
    RETURN NULL;
  END IF;
  IF writable THEN
    PERFORM nextval(t.hits_sequence);
    IF e.last_accessed_at < now() - t.touch_interval THEN
      PERFORM _touch(t, ARRAY[p_key]);
    END IF;
  END IF;
  RETURN e;
END $$;

CREATE OR REPLACE FUNCTION cache_get(p_type text, p_key text) RETURNS jsonb
LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
BEGIN
  RETURN (_get_entry(p_type, p_key, 'jsonb')).value_json;
END $$;
COMMENT ON FUNCTION cache_get(text, text) IS
  'The jsonb value of a live entry of a jsonb type, or NULL on a miss (absent, expired or invalidated). Counts the hit or miss.';

CREATE OR REPLACE FUNCTION cache_get_text(p_type text, p_key text) RETURNS text
LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
BEGIN
  RETURN (_get_entry(p_type, p_key, 'text')).value_text;
END $$;
COMMENT ON FUNCTION cache_get_text(text, text) IS 'The value of a live entry of a text type, or NULL on a miss.';

CREATE OR REPLACE FUNCTION cache_get_bytea(p_type text, p_key text) RETURNS bytea
LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
BEGIN
  RETURN (_get_entry(p_type, p_key, 'bytea')).value_bytes;
END $$;
COMMENT ON FUNCTION cache_get_bytea(text, text) IS 'The value of a live entry of a bytea type, or NULL on a miss.';

CREATE OR REPLACE FUNCTION cache_get_real_array(p_type text, p_key text) RETURNS real[]
LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
BEGIN
  RETURN (_get_entry(p_type, p_key, 'vector')).value_vector;
END $$;
COMMENT ON FUNCTION cache_get_real_array(text, text) IS
  'The value of a live entry of a vector type as real[], or NULL on a miss. With pgvector, cache_get_vector returns a vector.';

CREATE OR REPLACE FUNCTION cache_get_entry(p_type text, p_key text) RETURNS SETOF entries
LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
DECLARE
  e entries := _get_entry(p_type, p_key, NULL);
BEGIN
  IF e.key IS NOT NULL THEN
    e.key := p_key;  -- the caller's key, without a tenant scope
    RETURN NEXT e;
  END IF;
END $$;
COMMENT ON FUNCTION cache_get_entry(text, text) IS
  'The whole live entry (value, model, meta, expiry, hit score) of any type as one row, or no row on a miss.';

-- Many keys in one round trip. Returns the live entries found, in no particular order; absent keys are misses.
CREATE OR REPLACE FUNCTION cache_get_many(p_type text, p_keys text[]) RETURNS SETOF entries
LANGUAGE plpgsql SET search_path FROM CURRENT SET plan_cache_mode = force_generic_plan AS $$
DECLARE
  t cache_types := _type(p_type);
  found_count integer := 0;
  asked integer;
  e entries;
BEGIN
  PERFORM _check_batch('keys', cardinality(p_keys));
  PERFORM _check_key(k) FROM unnest(p_keys) AS k WHERE k IS NULL OR k = '' OR octet_length(k) > 1024;
  IF t.tenant_scoped THEN
    t.version := _tenant_version(t);
  END IF;
  IF NOT t.tenant_scoped THEN
    RETURN QUERY
      SELECT * FROM entries
       WHERE type_id = t.id AND key = ANY (p_keys) AND version = t.version AND expires_at > now();
    GET DIAGNOSTICS found_count = ROW_COUNT;
  ELSE
    p_keys := ARRAY(SELECT _stored_key(t, k) FROM unnest(p_keys) AS k);
    FOR e IN SELECT * FROM entries
              WHERE type_id = t.id AND key = ANY (p_keys) AND version = t.version AND expires_at > now() LOOP
      e.key := _user_key(t, e.key);
      found_count := found_count + 1;
      RETURN NEXT e;
    END LOOP;
  END IF;
  IF NOT current_setting('transaction_read_only')::boolean THEN
    SELECT count(DISTINCT k) INTO asked FROM unnest(p_keys) AS k;
    IF found_count = 0 THEN
      PERFORM _check_type_alive(t);
    END IF;
    PERFORM nextval(t.hits_sequence) FROM generate_series(1, found_count);
    PERFORM nextval(t.misses_sequence) FROM generate_series(1, asked - found_count);
    IF t.touch_interval IS NOT NULL THEN
      PERFORM _touch(t, p_keys);
    END IF;
  END IF;
END $$;
COMMENT ON FUNCTION cache_get_many(text, text[]) IS
  'The live entries for up to 10000 keys in one call (rows of entries; pick value_json/value_text/...). Missing keys are not returned.';

-- Live entries in key order, a page at a time (like Redis SCAN, but consistent): pass the last key of a
-- page as p_after to get the next. Reads never count as hits and never touch.
CREATE OR REPLACE FUNCTION cache_scan(p_type text, p_prefix text DEFAULT NULL, p_after text DEFAULT NULL,
                                      p_limit integer DEFAULT 1000) RETURNS SETOF entries
LANGUAGE plpgsql STABLE SET search_path FROM CURRENT SET plan_cache_mode = force_generic_plan AS $$
DECLARE
  t cache_types := _type(p_type);
  e entries;
BEGIN
  PERFORM _check_batch('limit', p_limit);
  IF t.tenant_scoped THEN
    p_prefix := _stored_key(t, coalesce(p_prefix, ''));
    p_after := _stored_key(t, p_after);
    t.version := _tenant_version(t);
  END IF;
  FOR e IN
    SELECT * FROM entries
     WHERE type_id = t.id AND version = t.version AND expires_at > now()
       AND (p_prefix IS NULL OR key LIKE _like_prefix(p_prefix))
       AND (p_after IS NULL OR key > p_after)
     ORDER BY key
     LIMIT p_limit LOOP
    e.key := _user_key(t, e.key);
    RETURN NEXT e;
  END LOOP;
END $$;
COMMENT ON FUNCTION cache_scan(text, text, text, integer) IS
  'Live entries of a type in key order, optionally under a literal prefix, after a key, at most limit (<= 10000) per page.';

-- A slice of a bytea value (for streaming multi-megabyte audio in chunks) and the value's full length.
-- bytea is stored uncompressed (STORAGE EXTERNAL), so a slice reads only its own TOAST chunks. The first
-- slice (offset 0) counts as the hit or miss. Returns no row on a miss.
CREATE OR REPLACE FUNCTION cache_read_bytea(p_type text, p_key text, p_offset integer, p_length integer)
RETURNS TABLE (total integer, chunk bytea)
LANGUAGE plpgsql SET search_path FROM CURRENT SET plan_cache_mode = force_generic_plan AS $$
DECLARE
  t cache_types := _type(p_type);
BEGIN
  PERFORM _check_key(p_key);
  PERFORM _check_kind(t, 'bytea');
  IF p_offset IS NULL OR p_offset < 0 OR p_length IS NULL OR p_length <= 0 THEN
    RAISE EXCEPTION 'pgcache: arguments "offset" and "length" must be non-negative and positive' USING ERRCODE = 'PC010';
  END IF;
  IF t.tenant_scoped THEN
    t.version := _tenant_version(t);
  END IF;
  -- An offset at or past the end reads an empty chunk; least() keeps p_offset + 1 from overflowing integer.
  RETURN QUERY
    SELECT octet_length(e.value_bytes),
           CASE WHEN p_offset >= octet_length(e.value_bytes) THEN ''::bytea
                ELSE substring(e.value_bytes FROM least(p_offset, 2147483646) + 1 FOR p_length) END
      FROM entries e
     WHERE e.type_id = t.id AND e.key = _stored_key(t, p_key) AND e.version = t.version AND e.expires_at > now();
  IF p_offset = 0 AND NOT current_setting('transaction_read_only')::boolean THEN
    IF FOUND THEN
      PERFORM nextval(t.hits_sequence);
    ELSE
      PERFORM _check_type_alive(t);
      PERFORM nextval(t.misses_sequence);
    END IF;
  END IF;
END $$;
COMMENT ON FUNCTION cache_read_bytea(text, text, integer, integer) IS
  'A slice (offset, length in bytes) of a live bytea entry and its total length; no row on a miss. For streaming large values.';

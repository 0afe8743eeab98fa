-- Removing entries: one key, a key prefix, a LIKE pattern, or a whole type's key space at once.

CREATE OR REPLACE FUNCTION cache_delete(p_type text, p_key text) RETURNS boolean
LANGUAGE plpgsql SET search_path FROM CURRENT SET plan_cache_mode = force_generic_plan AS $$
DECLARE
  t cache_types := _type(p_type);
  was_live boolean;
BEGIN
  PERFORM _check_key(p_key);
  p_key := _stored_key(t, p_key);
  IF t.tenant_scoped THEN
    t.version := _tenant_version(t);
  END IF;
  DELETE FROM entries WHERE type_id = t.id AND key = p_key
  RETURNING version = t.version AND expires_at > now() INTO was_live;
  IF FOUND THEN
    PERFORM _notify(t, jsonb_build_object('k', p_key));
  END IF;
  RETURN coalesce(was_live, false);
END $$;
COMMENT ON FUNCTION cache_delete(text, text) IS 'Deletes one entry; true if a live entry was deleted.';

-- Many keys in one statement (Keyv's deleteMany). Returns how many live entries were deleted.
CREATE OR REPLACE FUNCTION cache_delete_many(p_type text, p_keys text[]) RETURNS integer
LANGUAGE plpgsql SET search_path FROM CURRENT SET plan_cache_mode = force_generic_plan AS $$
DECLARE
  t cache_types := _type(p_type);
  live integer;
  gone text[];
BEGIN
  PERFORM _check_batch('keys', cardinality(p_keys));
  PERFORM _check_key(k) FROM unnest(p_keys) AS k WHERE k IS NULL OR k = '' OR octet_length(k) > 1024;
  IF t.tenant_scoped THEN
    p_keys := ARRAY(SELECT _stored_key(t, k) FROM unnest(p_keys) AS k);
    t.version := _tenant_version(t);
  END IF;
  WITH d AS (
    DELETE FROM entries WHERE type_id = t.id AND key = ANY (p_keys)
    RETURNING key, version = t.version AND expires_at > now() AS was_live)
  SELECT count(*) FILTER (WHERE was_live), array_agg(key) INTO live, gone FROM d;
  IF gone IS NOT NULL AND t.notify THEN
    PERFORM _notify(t, jsonb_build_object('k', k)) FROM unnest(gone) AS k;
  END IF;
  RETURN live;
END $$;
COMMENT ON FUNCTION cache_delete_many(text, text[]) IS
  'Deletes the entries of up to 10000 keys in one call; returns how many of them were live.';

-- Extends a live entry's life to now() + ttl (the type's default when omitted); cache_ttl('never') makes it
-- never expire (Redis PERSIST).
CREATE OR REPLACE FUNCTION cache_touch(p_type text, p_key text, p_ttl interval) RETURNS boolean
LANGUAGE plpgsql SET search_path FROM CURRENT SET plan_cache_mode = force_generic_plan AS $$
DECLARE
  t cache_types := _type(p_type);
BEGIN
  PERFORM _check_key(p_key);
  PERFORM _check_ttl(p_ttl);
  IF t.tenant_scoped THEN
    t.version := _tenant_version(t);
  END IF;
  UPDATE entries SET expires_at = _expiry(p_ttl), last_accessed_at = now()
   WHERE type_id = t.id AND key = _stored_key(t, p_key) AND version = t.version AND expires_at > now();
  RETURN FOUND;
END $$;

CREATE OR REPLACE FUNCTION cache_touch(p_type text, p_key text) RETURNS boolean
LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
BEGIN
  RETURN cache_touch(p_type, p_key, (_type(p_type)).default_ttl);
END $$;
COMMENT ON FUNCTION cache_touch(text, text, interval) IS 'Sets a live entry''s expiry to now() + ttl; false if there is no live entry.';
COMMENT ON FUNCTION cache_touch(text, text) IS 'Sets a live entry''s expiry to now() + the type''s default TTL; false if there is no live entry.';

CREATE OR REPLACE FUNCTION cache_invalidate_prefix(p_type text, p_prefix text) RETURNS bigint
LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
DECLARE
  t cache_types := _type(p_type);
  deleted bigint;
BEGIN
  IF p_prefix IS NULL OR p_prefix = '' THEN
    RAISE EXCEPTION 'pgcache: argument "prefix" must be a non-empty string (use cache_bump_version to drop all)'
      USING ERRCODE = 'PC010';
  END IF;
  -- Rows are locked in key order, as cache_set_many locks them, so the two cannot deadlock.
  WITH doomed AS MATERIALIZED (
    SELECT key FROM entries WHERE type_id = t.id AND key LIKE _like_prefix(_stored_key(t, p_prefix))
     ORDER BY key FOR UPDATE)
  DELETE FROM entries e USING doomed d WHERE e.type_id = t.id AND e.key = d.key;
  GET DIAGNOSTICS deleted = ROW_COUNT;
  IF deleted > 0 THEN
    PERFORM _notify(t, jsonb_build_object('p', p_prefix));
  END IF;
  RETURN deleted;
END $$;
COMMENT ON FUNCTION cache_invalidate_prefix(text, text) IS
  'Deletes every entry whose key starts with prefix, taken literally (%, _ and \ match only themselves). Returns the count.';

CREATE OR REPLACE FUNCTION cache_invalidate_pattern(p_type text, p_pattern text) RETURNS bigint
LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
DECLARE
  t cache_types := _type(p_type);
  deleted bigint;
BEGIN
  -- An odd run of backslashes at the end escapes nothing: LIKE would fail on it (22025) or match nothing.
  IF p_pattern IS NULL OR p_pattern = '' OR p_pattern ~ '(^|[^\\])(\\\\)*\\$' THEN
    RAISE EXCEPTION 'pgcache: argument "pattern" must be a non-empty LIKE pattern that does not end in an escape'
      USING ERRCODE = 'PC010';
  END IF;
  -- A tenant's pattern applies under its own (escaped) key prefix only.
  WITH doomed AS MATERIALIZED (
    SELECT key FROM entries WHERE type_id = t.id AND key LIKE left(_like_prefix(_stored_key(t, '')), -1) || p_pattern
     ORDER BY key FOR UPDATE)
  DELETE FROM entries e USING doomed d WHERE e.type_id = t.id AND e.key = d.key;
  GET DIAGNOSTICS deleted = ROW_COUNT;
  IF deleted > 0 THEN
    PERFORM _notify(t, '{"all": true}');
  END IF;
  RETURN deleted;
END $$;
COMMENT ON FUNCTION cache_invalidate_pattern(text, text) IS
  'Deletes every entry whose key matches a LIKE pattern (% any run, _ one character, \ escapes). O(entries of the type); prefer prefixes or versions.';

-- A tenant-scoped type has a version per tenant: the calling tenant's moves, the others' stay (PC013 without
-- a tenant). The bump takes the type's lock in SHARE mode, so it waits for writes in flight (of every tenant)
-- and a batch (cache_set_many) is never split across two versions.
CREATE OR REPLACE FUNCTION cache_bump_version(p_type text) RETURNS integer
LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
DECLARE
  t cache_types := _type(p_type);
  caller_tenant text;
  new_version integer;
BEGIN
  IF t.tenant_scoped THEN
    caller_tenant := _tenant(t);
    PERFORM _lock_type(t.name, 'SHARE');
    t := _type(p_type);
    INSERT INTO cache_tenant_versions AS tv (type_id, tenant, version) VALUES (t.id, caller_tenant, t.version + 1)
    ON CONFLICT (type_id, tenant) DO UPDATE SET version = greatest(tv.version, t.version) + 1
    RETURNING tv.version INTO new_version;
  ELSE
    PERFORM _lock_type(t.name, 'SHARE');
    UPDATE cache_types SET version = version + 1 WHERE id = t.id RETURNING version INTO new_version;
    IF NOT FOUND THEN
      t := _type(p_type);  -- dropped meanwhile: PC001
    END IF;
  END IF;
  PERFORM _notify(t, '{"all": true}');
  RETURN new_version;
END $$;
COMMENT ON FUNCTION cache_bump_version(text) IS
  'Invalidates every entry of a type (of a tenant-scoped type: of the calling tenant) at once (O(1)) by moving it to a new key-space version; maintenance removes the old rows. Returns the new version.';

-- Who may call the functions of this file (pgcache_functions; core/30_security.sql grants by it).
INSERT INTO pgcache_functions (function_name, role_group) VALUES
  ('cache_delete', 'writer'),
  ('cache_delete_many', 'writer'),
  ('cache_touch', 'writer'),
  ('cache_invalidate_prefix', 'writer'),
  ('cache_invalidate_pattern', 'writer'),
  ('cache_bump_version', 'writer')
ON CONFLICT (function_name) DO UPDATE SET role_group = excluded.role_group;

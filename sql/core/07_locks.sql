-- Compute locks: stampede protection across processes, where one caller computes a missing entry while the
-- others wait (and one caller refreshes a stale entry under stale-while-revalidate, cache_set_fresh).
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

-- Who may call the functions of this file (pgcache_functions; core/30_security.sql grants by it).
INSERT INTO pgcache_functions (function_name, role_group) VALUES
  ('cache_lock', 'writer'),
  ('cache_unlock', 'writer')
ON CONFLICT (function_name) DO UPDATE SET role_group = excluded.role_group;

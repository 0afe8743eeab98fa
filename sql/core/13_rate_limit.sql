-- Rate limiting: a fixed-window counter per (bucket, key), one row per key (never a row per request).
--
--   SELECT * FROM cache_rate_limit('api', 'user:42', 100, interval '1 minute');
--    allowed | remaining | retry_after | reset_at
--
-- A key's window opens at its first hit and lasts p_window; within it at most p_limit units pass (exactly:
-- every hit is counted under the row's lock, so concurrent callers never pass more). A denied call consumes
-- nothing. When the window has ended, the next hit opens a new one and the whole limit is back. Accuracy: the
-- count per window is exact; across a window boundary a client may pass up to 2 x limit within one window's
-- length (limit at the end of one window, limit at the start of the next), as with Redis INCR + EXPIRE.
-- Windows start at each key's own first hit, not on a clock grid, so clients do not all reset at once.
--
-- Tenants: when the session sets pgcache.tenant, every limiter key is that tenant's own (a tenant column in
-- the primary key); sessions without a tenant share one global key space. Limiter buckets are not registered
-- anywhere, so there is no per-bucket declaration to forget: a tenant can never consume, read or reset another
-- tenant's limit.
--
-- Hot rows: each allowed hit updates only `hits` (no index covers it) and a new window only the window
-- columns (no index covers them either), so updates are HOT; fillfactor leaves room on the page for them.
-- Expired rows are deleted by cache_maintenance() in bounded batches (_cleanup_rate_limits).

CREATE TABLE IF NOT EXISTS rate_limits (
  bucket       text COLLATE "C" NOT NULL,
  tenant       text COLLATE "C" NOT NULL DEFAULT '',
  key          text COLLATE "C" NOT NULL,
  hits         integer NOT NULL CHECK (hits >= 0),
  window_start timestamptz NOT NULL,
  window_end   timestamptz NOT NULL,
  PRIMARY KEY (bucket, tenant, key)
) WITH (fillfactor = 75);
COMMENT ON TABLE rate_limits IS
  'pgcache rate limiters: one fixed-window counter per (bucket, tenant, key). Use cache_rate_limit() and friends; cache_maintenance() deletes ended windows.';
COMMENT ON COLUMN rate_limits.tenant IS 'The pgcache.tenant of the sessions that use the key ('''' without a tenant).';
COMMENT ON COLUMN rate_limits.hits IS 'Units consumed in the current window.';
COMMENT ON COLUMN rate_limits.window_start IS 'When the current window opened (the first hit after the previous one ended).';
COMMENT ON COLUMN rate_limits.window_end IS 'When the current window ends and the whole limit is available again.';

-- Bucket and key of a limiter: a bucket is non-empty text of at most 255 bytes, a key as for the cache
-- (PC002/PC003, at most 1024 bytes).
CREATE OR REPLACE FUNCTION _check_rate_limit_key(p_bucket text, p_key text) RETURNS void
LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
  IF p_bucket IS NULL OR p_bucket = '' THEN
    RAISE EXCEPTION 'pgcache: argument "bucket" must be a non-empty string' USING ERRCODE = 'PC010';
  END IF;
  IF octet_length(p_bucket) > 255 THEN
    RAISE EXCEPTION 'pgcache: argument "bucket" is % bytes; the limit is 255', octet_length(p_bucket)
      USING ERRCODE = 'PC010';
  END IF;
  PERFORM _check_key(p_key);
END $$;

-- Limit, window and cost of a call: limit >= 1, a window in (0, 100 years] by its effect on now(), and a
-- cost from 1 to the limit (a cost above the limit could never pass, so it is a mistake, not a denial).
CREATE OR REPLACE FUNCTION _check_rate_limit_args(p_limit integer, p_window interval, p_cost integer) RETURNS void
LANGUAGE plpgsql STABLE AS $$
BEGIN
  IF p_limit IS NULL OR p_limit < 1 THEN
    RAISE EXCEPTION 'pgcache: argument "limit" must be a positive integer, got %', coalesce(p_limit::text, 'NULL')
      USING ERRCODE = 'PC010';
  END IF;
  IF p_window IS NULL OR p_window > interval '100 years'
     OR abs(extract(year FROM p_window) * 12 + extract(month FROM p_window)) > 1200
     OR abs(extract(day FROM p_window)) > 36525
     OR abs(extract(hour FROM p_window) * 3600 + extract(minute FROM p_window) * 60
            + extract(second FROM p_window)) > 3155760000
     OR now() + p_window <= now() OR now() + p_window > now() + interval '100 years' THEN
    RAISE EXCEPTION 'pgcache: argument "window" must be a positive interval of at most 100 years, got %',
      coalesce(p_window::text, 'NULL') USING ERRCODE = 'PC010';
  END IF;
  IF p_cost IS NULL OR p_cost < 1 OR p_cost > p_limit THEN
    RAISE EXCEPTION 'pgcache: argument "cost" must be an integer from 1 to the limit (%), got %', p_limit,
      coalesce(p_cost::text, 'NULL') USING ERRCODE = 'PC010';
  END IF;
END $$;

CREATE OR REPLACE FUNCTION cache_rate_limit(p_bucket text, p_key text, p_limit integer, p_window interval,
                                            p_cost integer DEFAULT 1)
RETURNS TABLE (allowed boolean, remaining integer, retry_after interval, reset_at timestamptz)
LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
DECLARE
  v_tenant text := coalesce(current_setting('pgcache.tenant', true), '');
  v_now timestamptz := clock_timestamp();  -- not now(): a long transaction must not keep an old window open
  r rate_limits;
BEGIN
  -- The common valid call in one expression (a window of hours, minutes and seconds only); anything else,
  -- NULLs among it, goes through the checks that name the bad argument.
  IF NOT coalesce(p_bucket <> '' AND octet_length(p_bucket) <= 255 AND p_key <> '' AND octet_length(p_key) <= 1024
                  AND p_limit >= 1 AND p_cost >= 1 AND p_cost <= p_limit
                  AND date_part('year', p_window) = 0 AND date_part('month', p_window) = 0
                  AND date_part('day', p_window) = 0 AND p_window > interval '0'
                  AND p_window <= interval '36000 days', false) THEN
    PERFORM _check_rate_limit_key(p_bucket, p_key);
    PERFORM _check_rate_limit_args(p_limit, p_window, p_cost);
  END IF;
  IF v_tenant <> '' THEN
    v_tenant := _session_tenant();  -- PC013 for a malformed name
  END IF;

  -- The common case, a hit that fits the live window: one HOT update. Its WHERE is evaluated again on the
  -- newest row version after a concurrent hit commits, so no two hits are counted against one free unit.
  UPDATE rate_limits l SET hits = l.hits + p_cost
   WHERE l.bucket = p_bucket AND l.tenant = v_tenant AND l.key = p_key
     AND l.window_end > v_now AND l.hits::bigint + p_cost <= p_limit
  RETURNING l.* INTO r;
  IF r.bucket IS NOT NULL THEN
    allowed := true; remaining := p_limit - r.hits; retry_after := interval '0'; reset_at := r.window_end;
    RETURN NEXT;
    RETURN;
  END IF;
  -- A key whose live window is spent is denied from a plain read: no row lock, no write, so a client
  -- hammering a spent limit neither queues behind nor slows the others. (Within a window the count only grows,
  -- but for a refund or reset, so the denial was true when read.)
  SELECT * INTO r FROM rate_limits l WHERE l.bucket = p_bucket AND l.tenant = v_tenant AND l.key = p_key;
  IF r.window_end > v_now AND r.hits::bigint + p_cost > p_limit THEN
    allowed := false; remaining := greatest(p_limit - r.hits, 0); retry_after := r.window_end - v_now;
    reset_at := r.window_end;
    RETURN NEXT;
    RETURN;
  END IF;
  -- A new window (a new row, or an ended window), under the row's lock: ON CONFLICT settles a race with another
  -- first hit. If someone else opened the window meanwhile and it is full, this updates nothing but still
  -- locks the row, so the re-read below sees what the denial was based on.
  INSERT INTO rate_limits AS l (bucket, tenant, key, hits, window_start, window_end)
  VALUES (p_bucket, v_tenant, p_key, p_cost, v_now, v_now + p_window)
  ON CONFLICT (bucket, tenant, key) DO UPDATE
     SET hits = CASE WHEN l.window_end <= v_now THEN excluded.hits ELSE l.hits + excluded.hits END,
         window_start = CASE WHEN l.window_end <= v_now THEN excluded.window_start ELSE l.window_start END,
         window_end = CASE WHEN l.window_end <= v_now THEN excluded.window_end ELSE l.window_end END
   WHERE l.window_end <= v_now OR l.hits::bigint + excluded.hits <= p_limit
  RETURNING l.* INTO r;
  IF r.bucket IS NOT NULL THEN
    allowed := true; remaining := greatest(p_limit - r.hits, 0); retry_after := interval '0';
    reset_at := r.window_end;
    RETURN NEXT;
    RETURN;
  END IF;
  SELECT * INTO r FROM rate_limits l WHERE l.bucket = p_bucket AND l.tenant = v_tenant AND l.key = p_key;
  allowed := false; remaining := greatest(p_limit - r.hits, 0);
  retry_after := greatest(r.window_end - v_now, interval '0'); reset_at := r.window_end;
  RETURN NEXT;
END $$;
COMMENT ON FUNCTION cache_rate_limit(text, text, integer, interval, integer) IS
  'Consumes cost (default 1) of key''s limit in bucket: at most limit units per window (a fixed window opened by the key''s first hit). Returns allowed, remaining, retry_after (0 when allowed) and reset_at (end of the window). A denied call consumes nothing. Keys are the tenant''s own when pgcache.tenant is set.';

-- Whether a call of p_cost would pass now, without consuming anything. A key without a live window has its
-- whole limit, and reset_at is when a window opened now would end.
CREATE OR REPLACE FUNCTION cache_rate_limit_peek(p_bucket text, p_key text, p_limit integer, p_window interval,
                                                 p_cost integer DEFAULT 1)
RETURNS TABLE (allowed boolean, remaining integer, retry_after interval, reset_at timestamptz)
LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
DECLARE
  v_tenant text := _session_tenant();
  v_now timestamptz := clock_timestamp();
  r rate_limits;
BEGIN
  PERFORM _check_rate_limit_key(p_bucket, p_key);
  PERFORM _check_rate_limit_args(p_limit, p_window, p_cost);
  SELECT * INTO r FROM rate_limits l
   WHERE l.bucket = p_bucket AND l.tenant = v_tenant AND l.key = p_key AND l.window_end > v_now;
  IF r.bucket IS NULL THEN
    RETURN QUERY SELECT true, p_limit, interval '0', v_now + p_window;
    RETURN;
  END IF;
  RETURN QUERY SELECT r.hits::bigint + p_cost <= p_limit, greatest(p_limit - r.hits, 0),
    CASE WHEN r.hits::bigint + p_cost <= p_limit THEN interval '0' ELSE r.window_end - v_now END, r.window_end;
END $$;
COMMENT ON FUNCTION cache_rate_limit_peek(text, text, integer, interval, integer) IS
  'What cache_rate_limit would answer now for cost (default 1), without consuming: allowed, remaining, retry_after, reset_at.';

-- Gives back units consumed in the key's current window (a request that should not count after all, as
-- express-rate-limit's skipSuccessfulRequests does). Returns the units still consumed in the window (0 when
-- none is live); never goes below 0, never touches an ended window.
CREATE OR REPLACE FUNCTION cache_rate_limit_refund(p_bucket text, p_key text, p_cost integer DEFAULT 1)
RETURNS integer
LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
DECLARE
  v_tenant text := _session_tenant();
  left_hits integer;
BEGIN
  PERFORM _check_rate_limit_key(p_bucket, p_key);
  IF p_cost IS NULL OR p_cost < 1 THEN
    RAISE EXCEPTION 'pgcache: argument "cost" must be a positive integer, got %', coalesce(p_cost::text, 'NULL')
      USING ERRCODE = 'PC010';
  END IF;
  UPDATE rate_limits l SET hits = greatest(l.hits - p_cost, 0)
   WHERE l.bucket = p_bucket AND l.tenant = v_tenant AND l.key = p_key AND l.window_end > clock_timestamp()
  RETURNING l.hits INTO left_hits;
  RETURN coalesce(left_hits, 0);
END $$;
COMMENT ON FUNCTION cache_rate_limit_refund(text, text, integer) IS
  'Gives back cost (default 1) units of the key''s current window in bucket; returns the units still consumed (0 without a live window).';

-- Forgets a key's window: its whole limit is available at once (e.g. after a successful login).
CREATE OR REPLACE FUNCTION cache_rate_limit_reset(p_bucket text, p_key text) RETURNS boolean
LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
DECLARE
  v_tenant text := _session_tenant();
  n integer;
BEGIN
  PERFORM _check_rate_limit_key(p_bucket, p_key);
  DELETE FROM rate_limits l WHERE l.bucket = p_bucket AND l.tenant = v_tenant AND l.key = p_key;
  GET DIAGNOSTICS n = ROW_COUNT;
  RETURN n > 0;
END $$;
COMMENT ON FUNCTION cache_rate_limit_reset(text, text) IS
  'Deletes the key''s window in bucket, so its whole limit is available again; true when there was one.';

-- Deletes up to p_batch rows whose window ended (of every tenant). Returns the number deleted; call again
-- while it returns p_batch. Like the expiry of entries, it needs no index on window_end (which would make
-- every new window a non-HOT update): the table is swept in ranges of 1024 pages by ctid, and rows other
-- sessions hold locked (a hit in progress) are skipped.
CREATE OR REPLACE FUNCTION _cleanup_rate_limits(p_batch integer) RETURNS bigint
LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
DECLARE
  deleted bigint := 0;
  n bigint;
  pages bigint := pg_relation_size('rate_limits') / current_setting('block_size')::bigint;
  first_page bigint := 0;
  step constant bigint := 1024;
BEGIN
  IF p_batch IS NULL OR p_batch <= 0 THEN
    RAISE EXCEPTION 'pgcache: argument "batch" must be positive' USING ERRCODE = 'PC010';
  END IF;
  WHILE first_page < pages AND deleted < p_batch LOOP
    WITH doomed AS MATERIALIZED (
      SELECT l.bucket, l.tenant, l.key FROM rate_limits l
       WHERE l.ctid >= format('(%s,0)', first_page)::tid AND l.ctid < format('(%s,0)', first_page + step)::tid
         AND l.window_end <= clock_timestamp()
       LIMIT p_batch - deleted
       FOR UPDATE SKIP LOCKED)
    DELETE FROM rate_limits l USING doomed d WHERE l.bucket = d.bucket AND l.tenant = d.tenant AND l.key = d.key;
    GET DIAGNOSTICS n = ROW_COUNT;
    deleted := deleted + n;
    first_page := first_page + step;
  END LOOP;
  RETURN deleted;
END $$;

-- Who may call the functions of this file (pgcache_functions; core/30_security.sql grants by it).
INSERT INTO pgcache_functions (function_name, role_group) VALUES
  ('_check_rate_limit_key', 'internal'),
  ('_check_rate_limit_args', 'internal'),
  ('cache_rate_limit', 'writer'),
  ('cache_rate_limit_peek', 'reader'),
  ('cache_rate_limit_refund', 'writer'),
  ('cache_rate_limit_reset', 'writer'),
  ('_cleanup_rate_limits', 'internal')
ON CONFLICT (function_name) DO UPDATE SET role_group = excluded.role_group;

-- Change notifications for client near-caches (L1). One channel, pgcache_changes; the payload is JSON:
--   {"s": schema, "t": type, "k": key}      one key changed or was deleted
--   {"s": schema, "t": type, "p": prefix}   every key under a literal prefix
--   {"s": schema, "t": type, "all": true}   the whole type (pattern invalidation, version bump, eviction, drop)
-- NOTIFY is transactional: listeners hear of a change only after it commits, and never of one rolled back.

CREATE OR REPLACE FUNCTION _notify(t cache_types, p_change jsonb) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
  IF t.notify THEN
    PERFORM pg_notify('pgcache_changes', (jsonb_build_object('s', current_schema(), 't', t.name) || p_change)::text);
  END IF;
END $$;

-- Turns notifications of a type on or off; returns the new setting.
CREATE OR REPLACE FUNCTION cache_set_notify(p_type text, p_notify boolean) RETURNS boolean
LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
DECLARE
  t cache_types := _type(p_type);
BEGIN
  IF p_notify IS NULL THEN
    RAISE EXCEPTION 'pgcache: argument "notify" must not be NULL' USING ERRCODE = 'PC010';
  END IF;
  UPDATE cache_types SET notify = p_notify WHERE id = t.id;
  RETURN p_notify;
END $$;
COMMENT ON FUNCTION cache_set_notify(text, boolean) IS
  'Turns pgcache_changes notifications of a type on or off (needed by client near-caches); returns the setting.';

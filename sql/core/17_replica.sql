-- Read replicas (hot standbys). A standby replays the primary's WAL and refuses every write, so a read there
-- can neither count a hit (nextval) nor touch a row. cache_get and its siblings notice that (a READ ONLY
-- transaction) and serve without counting; cache_peek is the lookup made for standbys: it never writes or
-- counts anywhere, and it keeps working on a standby when unlogged cache types exist, whose tables a standby
-- cannot open at all. docs/replicas.md explains what works where, and replica lag.

CREATE OR REPLACE FUNCTION cache_peek(p_type text, p_key text) RETURNS SETOF entries
LANGUAGE plpgsql STABLE SET search_path FROM CURRENT AS $$
DECLARE
  t cache_types := _type(p_type);
  e entries;
BEGIN
  IF p_key IS NULL OR p_key = '' OR octet_length(p_key) > 1024 THEN
    PERFORM _check_key(p_key);
  END IF;
  IF t.tenant_scoped THEN
    t.version := _tenant_version(t);
  END IF;
  e := _peek_entry(t, _stored_key(t, p_key));
  IF e.key IS NOT NULL THEN
    e.key := p_key;
    RETURN NEXT e;
  END IF;
END $$;
COMMENT ON FUNCTION cache_peek(text, text) IS
  'The standby-safe lookup: the whole live entry of any type as one row (pick value_json, value_text, ...), or no row on a miss. Never writes: no hit or miss count, no touch. Works on a hot standby; PC011 there for an unlogged type.';

-- What this server is and how far it has replayed. On a standby, entries are as fresh as replay_lsn: writes,
-- deletes and invalidations on the primary after that are not visible yet (expiry is not affected: it is
-- checked against this server's clock on every read).
CREATE OR REPLACE FUNCTION cache_replica_status(
  OUT is_standby boolean,
  OUT receive_lsn pg_lsn,
  OUT replay_lsn pg_lsn,
  OUT replay_pending_bytes numeric,
  OUT last_replay_at timestamptz,
  OUT since_last_replay interval
)
LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
BEGIN
  is_standby := pg_is_in_recovery();
  IF is_standby THEN
    receive_lsn := pg_last_wal_receive_lsn();
    replay_lsn := pg_last_wal_replay_lsn();
    replay_pending_bytes := pg_wal_lsn_diff(receive_lsn, replay_lsn);
    last_replay_at := pg_last_xact_replay_timestamp();
    since_last_replay := clock_timestamp() - last_replay_at;
  END IF;
END $$;
COMMENT ON FUNCTION cache_replica_status() IS
  'Whether this server is a hot standby and, if so, the WAL received and replayed, the bytes received but not yet replayed, and the commit time of the last replayed transaction (since_last_replay also grows while the primary is idle). NULLs on a primary.';

-- Who may call the functions of this file (pgcache_functions; core/30_security.sql grants by it).
INSERT INTO pgcache_functions (function_name, role_group) VALUES
  ('cache_peek', 'reader'),
  ('cache_replica_status', 'reader')
ON CONFLICT (function_name) DO UPDATE SET role_group = excluded.role_group;

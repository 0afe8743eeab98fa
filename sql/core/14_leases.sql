-- Leased locks: a lock is a row of cache_leases with an owner, an expiry and a fencing token. Unlike session
-- advisory locks (cache_lock), a lease belongs to no connection: it is taken, extended and released by single
-- statements, so it works through any pool, through PgBouncer in transaction mode and on PGlite, and it ends by
-- itself when its holder dies (at its expiry). Each acquisition draws a new token from a sequence, so tokens
-- only grow: a resource that remembers the highest token it has seen can refuse a holder whose lease expired
-- and was taken over (fencing). Release and extend need the token, so only the holder can do either.
-- Leases are named per tenant: in a session with pgcache.tenant set, names are that tenant's own.

CREATE SEQUENCE IF NOT EXISTS cache_lease_tokens AS bigint;
COMMENT ON SEQUENCE cache_lease_tokens IS 'pgcache fencing tokens of leases: each acquisition takes the next.';

CREATE TABLE IF NOT EXISTS cache_leases (
  -- '' for sessions without pgcache.tenant.
  tenant      text NOT NULL,
  name        text COLLATE "C" NOT NULL CHECK (octet_length(name) BETWEEN 1 AND 1024),
  owner       text NOT NULL CHECK (octet_length(owner) BETWEEN 1 AND 200),
  token       bigint NOT NULL,
  acquired_at timestamptz NOT NULL,
  expires_at  timestamptz NOT NULL,
  PRIMARY KEY (tenant, name)
) WITH (fillfactor = 80);
COMMENT ON TABLE cache_leases IS
  'pgcache leased locks: holder (owner), fencing token and expiry per name. Use cache_lease_acquire/extend/release; expired rows are deleted by cache_maintenance().';

CREATE OR REPLACE FUNCTION _check_lease_args(p_name text, p_ttl interval) RETURNS void
LANGUAGE plpgsql STABLE AS $$
BEGIN
  IF p_name IS NULL OR p_name = '' OR octet_length(p_name) > 1024 THEN
    RAISE EXCEPTION 'pgcache: argument "name" must be a non-empty string of at most 1024 bytes' USING ERRCODE = 'PC010';
  END IF;
  -- A lease must end by itself if its holder dies: no "never", and at most a day (extend it while working).
  IF p_ttl IS NULL OR p_ttl <= interval '0' OR p_ttl > interval '1 day'
     OR clock_timestamp() + p_ttl <= clock_timestamp() OR clock_timestamp() + p_ttl > clock_timestamp() + interval '1 day' THEN
    RAISE EXCEPTION 'pgcache: argument "ttl" must be a positive interval of at most 1 day, got %', coalesce(p_ttl::text, 'NULL')
      USING ERRCODE = 'PC004';
  END IF;
END $$;

-- Takes the lease p_name for p_ttl on behalf of p_owner (a label for operators: host, process, job). Returns
-- its fencing token, or NULL while another holder's lease is live. An expired lease is taken over. Never waits
-- (the client polls): a statement that waited would hold a connection, and a row lock, meanwhile.
CREATE OR REPLACE FUNCTION cache_lease_acquire(p_name text, p_ttl interval, p_owner text) RETURNS bigint
LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
DECLARE
  lease_tenant text := _session_tenant();
  new_token bigint;
BEGIN
  PERFORM _check_lease_args(p_name, p_ttl);
  IF p_owner IS NULL OR p_owner = '' OR octet_length(p_owner) > 200 THEN
    RAISE EXCEPTION 'pgcache: argument "owner" must be a non-empty string of at most 200 bytes' USING ERRCODE = 'PC010';
  END IF;
  -- A live lease is answered without locking its row (a failed ON CONFLICT would hold that lock until our
  -- transaction ends, and stall the holder's extend or release).
  IF EXISTS (SELECT 1 FROM cache_leases l
              WHERE l.tenant = lease_tenant AND l.name = p_name AND l.expires_at > clock_timestamp()) THEN
    RETURN NULL;
  END IF;
  -- Of concurrent takers, one inserts (or replaces the expired row); the others find its live row.
  INSERT INTO cache_leases AS l (tenant, name, owner, token, acquired_at, expires_at)
  VALUES (lease_tenant, p_name, p_owner, nextval('cache_lease_tokens'), clock_timestamp(), clock_timestamp() + p_ttl)
  ON CONFLICT (tenant, name) DO UPDATE
     SET owner = excluded.owner, token = excluded.token, acquired_at = excluded.acquired_at,
         expires_at = excluded.expires_at
   WHERE l.expires_at <= clock_timestamp()
  RETURNING l.token INTO new_token;
  RETURN new_token;
END $$;
COMMENT ON FUNCTION cache_lease_acquire(text, interval, text) IS
  'Takes the leased lock name for ttl (at most 1 day) for owner; returns its fencing token (always larger than any earlier one), or NULL while another holder''s lease is live. Works through any pool and PgBouncer.';

-- Extends a live lease held with p_token to now + p_ttl. False when the lease expired or another holds it:
-- the holder has lost it and must stop.
CREATE OR REPLACE FUNCTION cache_lease_extend(p_name text, p_token bigint, p_ttl interval) RETURNS boolean
LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
BEGIN
  PERFORM _check_lease_args(p_name, p_ttl);
  IF p_token IS NULL THEN
    RAISE EXCEPTION 'pgcache: argument "token" must be the token cache_lease_acquire returned, got NULL' USING ERRCODE = 'PC010';
  END IF;
  UPDATE cache_leases SET expires_at = clock_timestamp() + p_ttl
   WHERE tenant = _session_tenant() AND name = p_name AND token = p_token AND expires_at > clock_timestamp();
  RETURN FOUND;
END $$;
COMMENT ON FUNCTION cache_lease_extend(text, bigint, interval) IS
  'Extends the lease name held with token to now + ttl (at most 1 day); false if it expired or another holder has it.';

-- Releases the lease held with p_token. True when it was still live; false when it had expired (or another
-- holder has it, whose lease stays).
CREATE OR REPLACE FUNCTION cache_lease_release(p_name text, p_token bigint) RETURNS boolean
LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
DECLARE
  was_live boolean;
BEGIN
  PERFORM _check_lease_args(p_name, interval '1 second');
  IF p_token IS NULL THEN
    RAISE EXCEPTION 'pgcache: argument "token" must be the token cache_lease_acquire returned, got NULL' USING ERRCODE = 'PC010';
  END IF;
  DELETE FROM cache_leases
   WHERE tenant = _session_tenant() AND name = p_name AND token = p_token
  RETURNING expires_at > clock_timestamp() INTO was_live;
  RETURN coalesce(was_live, false);
END $$;
COMMENT ON FUNCTION cache_lease_release(text, bigint) IS
  'Releases the lease name held with token; true if it was still live, false if it had expired or is another holder''s.';

-- The live lease of a name (no row when it is free): who holds it, with which token, until when.
CREATE OR REPLACE FUNCTION cache_lease_holder(p_name text)
RETURNS TABLE (owner text, token bigint, acquired_at timestamptz, expires_at timestamptz)
LANGUAGE plpgsql STABLE SET search_path FROM CURRENT AS $$
BEGIN
  PERFORM _check_lease_args(p_name, interval '1 second');
  RETURN QUERY
    SELECT l.owner, l.token, l.acquired_at, l.expires_at FROM cache_leases l
     WHERE l.tenant = _session_tenant() AND l.name = p_name AND l.expires_at > clock_timestamp();
END $$;
COMMENT ON FUNCTION cache_lease_holder(text) IS 'The live lease of name: owner, fencing token, acquired_at, expires_at; no row when free.';

-- Deletes up to p_batch expired leases (of every tenant), skipping rows others hold locked. cache_maintenance()
-- calls it; an expired lease behaves as a free one whether or not its row is still there.
CREATE OR REPLACE FUNCTION _cleanup_leases(p_batch integer) RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
  deleted bigint;
BEGIN
  WITH doomed AS MATERIALIZED (
    SELECT l.tenant, l.name FROM cache_leases l WHERE l.expires_at <= clock_timestamp()
     LIMIT p_batch FOR UPDATE SKIP LOCKED)
  DELETE FROM cache_leases l USING doomed d
   WHERE l.tenant = d.tenant AND l.name = d.name AND l.expires_at <= clock_timestamp();
  GET DIAGNOSTICS deleted = ROW_COUNT;
  RETURN deleted;
END $$;
COMMENT ON FUNCTION _cleanup_leases(integer) IS 'Deletes up to batch expired leases; returns the count (cache_maintenance).';

-- Who may call the functions of this file (pgcache_functions; core/30_security.sql grants by it).
INSERT INTO pgcache_functions (function_name, role_group) VALUES
  ('_check_lease_args', 'internal'),
  ('cache_lease_acquire', 'writer'),
  ('cache_lease_extend', 'writer'),
  ('cache_lease_release', 'writer'),
  ('cache_lease_holder', 'reader'),
  ('_cleanup_leases', 'internal')
ON CONFLICT (function_name) DO UPDATE SET role_group = excluded.role_group;

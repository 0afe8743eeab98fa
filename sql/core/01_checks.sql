-- Argument checks shared by the cache functions. Each raises the package's own SQLSTATE (see README).

-- The registry row of a type, or PC001.
CREATE OR REPLACE FUNCTION _type(p_type text) RETURNS cache_types
LANGUAGE plpgsql STABLE SET search_path FROM CURRENT AS $$
DECLARE
  t cache_types;
BEGIN
  SELECT * INTO t FROM cache_types WHERE name = p_type;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'pgcache: cache type "%" does not exist', p_type
      USING ERRCODE = 'PC001', HINT = 'List types with SELECT name FROM cache_types; create one with cache_create_type().';
  END IF;
  RETURN t;
END $$;

-- Keys are non-empty text of at most 1024 bytes (a B-tree entry holds about 2.7 kB; hash longer keys with cache_key()).
CREATE OR REPLACE FUNCTION _check_key(p_key text) RETURNS void
LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
  IF p_key IS NULL OR p_key = '' THEN
    RAISE EXCEPTION 'pgcache: argument "key" must be a non-empty string' USING ERRCODE = 'PC002';
  END IF;
  IF octet_length(p_key) > 1024 THEN
    RAISE EXCEPTION 'pgcache: argument "key" is % bytes; the limit is 1024', octet_length(p_key)
      USING ERRCODE = 'PC003', HINT = 'Hash long keys with cache_key(...).';
  END IF;
END $$;

-- A TTL must be positive and at most 100 years; NULL is rejected (omit the argument for the type's default).
-- What counts is its effect, now() + ttl, not the sign of its parts: '-1 year 361 days' compares above zero
-- as an interval (a year counts 360 days there) but ends in the past. Each part is bounded first, so the sum
-- cannot overflow a timestamp; as an interval it must also compare at most '100 years' (36,000 days).
-- No expiry. PostgreSQL 15 intervals have no infinity, so one interval stands for "never": 1,000,000 years,
-- far beyond the 100 years any real TTL may be. cache_ttl('never') returns it; every write maps it to
-- expires_at = 'infinity', which every "expires_at > now()" test treats as live for ever. Such entries go only
-- by deletion, invalidation, version bumps and eviction under the type's budgets (policy ttl evicts them last).
CREATE OR REPLACE FUNCTION _ttl_never() RETURNS interval
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$ SELECT interval '1000000 years' $$;

-- The expiry of an entry written now with p_ttl ('infinity' for the no-expiry TTL). Inlined by the planner.
CREATE OR REPLACE FUNCTION _expiry(p_ttl interval) RETURNS timestamptz
LANGUAGE sql STABLE PARALLEL SAFE AS $$
  SELECT CASE WHEN p_ttl = interval '1000000 years' THEN 'infinity'::timestamptz ELSE now() + p_ttl END
$$;

CREATE OR REPLACE FUNCTION _check_ttl(p_ttl interval) RETURNS void
LANGUAGE plpgsql STABLE AS $$
BEGIN
  -- The common case first, in one expression: a TTL of seconds only (no months or days, as the client's
  -- seconds * interval '1 second' makes) is valid exactly when it is above 0 and at most 36,000 days.
  IF date_part('year', p_ttl) = 0 AND date_part('month', p_ttl) = 0 AND date_part('day', p_ttl) = 0
     AND p_ttl > interval '0' AND p_ttl <= interval '36000 days' THEN
    RETURN;
  END IF;
  IF p_ttl = interval '1000000 years' THEN
    RETURN;  -- the no-expiry TTL, cache_ttl('never')
  END IF;
  IF p_ttl IS NULL OR p_ttl > interval '100 years'
     OR abs(extract(year FROM p_ttl) * 12 + extract(month FROM p_ttl)) > 1200
     OR abs(extract(day FROM p_ttl)) > 36525
     OR abs(extract(hour FROM p_ttl) * 3600 + extract(minute FROM p_ttl) * 60 + extract(second FROM p_ttl)) > 3155760000 THEN
    RAISE EXCEPTION 'pgcache: argument "ttl" must be a positive interval of at most 100 years (or cache_ttl(''never'')), got %', coalesce(p_ttl::text, 'NULL')
      USING ERRCODE = 'PC004';
  END IF;
  IF now() + p_ttl <= now() OR now() + p_ttl > now() + interval '100 years' THEN
    RAISE EXCEPTION 'pgcache: argument "ttl" must be a positive interval of at most 100 years, got % (now() + ttl is %)',
      p_ttl, now() + p_ttl USING ERRCODE = 'PC004';
  END IF;
END $$;

CREATE OR REPLACE FUNCTION _check_kind(t cache_types, p_kind text) RETURNS void
LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
  IF t.value_kind <> p_kind THEN
    RAISE EXCEPTION 'pgcache: argument "value" is %, but cache type "%" holds % values', p_kind, t.name, t.value_kind
      USING ERRCODE = 'PC005';
  END IF;
END $$;

-- Batches are capped so one call cannot hold locks or memory without bound.
CREATE OR REPLACE FUNCTION _check_batch(p_name text, p_size integer, p_limit integer DEFAULT 10000) RETURNS void
LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
  IF p_size IS NULL OR p_size < 0 THEN
    RAISE EXCEPTION 'pgcache: argument "%" must not be NULL or negative', p_name USING ERRCODE = 'PC010';
  END IF;
  IF p_size > p_limit THEN
    RAISE EXCEPTION 'pgcache: argument "%" has % items; the limit is %', p_name, p_size, p_limit USING ERRCODE = 'PC012';
  END IF;
END $$;

-- Named TTL classes from cache_settings: cache_ttl('short') -> 00:05:00.
CREATE OR REPLACE FUNCTION cache_ttl(p_class text) RETURNS interval
LANGUAGE plpgsql STABLE SET search_path FROM CURRENT AS $$
DECLARE
  v text;
BEGIN
  IF p_class = 'never' THEN
    RETURN _ttl_never();
  END IF;
  SELECT value INTO v FROM cache_settings WHERE name = 'ttl.' || p_class;
  IF v IS NULL THEN
    RAISE EXCEPTION 'pgcache: argument "class" must be a TTL class (short, medium, long, never), got %', coalesce(p_class, 'NULL')
      USING ERRCODE = 'PC004';
  END IF;
  RETURN v::interval;
END $$;
COMMENT ON FUNCTION cache_ttl(text) IS
  'The interval of a TTL class (short, medium, long by default; see cache_settings). cache_ttl(''never'') is the no-expiry TTL (1000000 years, stored as expires_at = infinity).';

-- A stable sha256 hex key from parts; each part is length-prefixed, so ('a|b','c') and ('a','b|c') differ.
-- Not STRICT: a NULL or empty array of parts is an error, not a NULL key.
CREATE OR REPLACE FUNCTION cache_key(VARIADIC p_parts text[]) RETURNS text
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE SET search_path FROM CURRENT AS $$
BEGIN
  IF p_parts IS NULL OR cardinality(p_parts) = 0 THEN
    RAISE EXCEPTION 'pgcache: argument "parts" must hold at least one part' USING ERRCODE = 'PC010';
  END IF;
  IF array_position(p_parts, NULL) IS NOT NULL THEN
    RAISE EXCEPTION 'pgcache: argument "parts" must not contain NULL' USING ERRCODE = 'PC010';
  END IF;
  RETURN encode(sha256(convert_to(
    (SELECT string_agg(octet_length(p)::text || ':' || p, '|' ORDER BY i) FROM unnest(p_parts) WITH ORDINALITY AS u(p, i)),
    'UTF8')), 'hex');
END $$;
COMMENT ON FUNCTION cache_key(text[]) IS 'Stable sha256 hex key from one or more text parts, e.g. cache_key(model, prompt).';

-- Tenant scoping. A tenant-scoped type stores each key as <tenant> U+001F <key>, the tenant taken from the
-- session setting pgcache.tenant, never from the key: no key a tenant passes can name another tenant's entry,
-- and its prefixes and patterns stay inside its own keys. The separator cannot occur in a tenant name.
CREATE OR REPLACE FUNCTION _tenant(t cache_types) RETURNS text
LANGUAGE plpgsql STABLE AS $$
DECLARE
  tenant text := current_setting('pgcache.tenant', true);
BEGIN
  IF tenant IS NULL OR tenant !~ '^[A-Za-z0-9_.:@-]{1,128}$' THEN
    RAISE EXCEPTION 'pgcache: cache type "%" is tenant-scoped: SET pgcache.tenant to a tenant name (1-128 of A-Z a-z 0-9 _ . : @ -), got %',
      t.name, coalesce(quote_literal(tenant), 'nothing') USING ERRCODE = 'PC013';
  END IF;
  RETURN tenant;
END $$;

-- The tenant of the session for what is not a cache type (rate limiters, leases): its pgcache.tenant, or ''
-- without one, so those sessions share one global key space; PC013 for a malformed name.
CREATE OR REPLACE FUNCTION _session_tenant() RETURNS text
LANGUAGE plpgsql STABLE AS $$
DECLARE
  tenant text := nullif(current_setting('pgcache.tenant', true), '');
BEGIN
  IF tenant IS NOT NULL AND tenant !~ '^[A-Za-z0-9_.:@-]{1,128}$' THEN
    RAISE EXCEPTION 'pgcache: pgcache.tenant must be a tenant name (1-128 of A-Z a-z 0-9 _ . : @ -), got %',
      quote_literal(tenant) USING ERRCODE = 'PC013';
  END IF;
  RETURN coalesce(tenant, '');
END $$;

CREATE OR REPLACE FUNCTION _stored_key(t cache_types, p_key text) RETURNS text
LANGUAGE plpgsql STABLE AS $$
BEGIN
  IF NOT t.tenant_scoped THEN
    RETURN p_key;
  END IF;
  RETURN _tenant(t) || chr(31) || p_key;
END $$;

CREATE OR REPLACE FUNCTION _user_key(t cache_types, p_stored text) RETURNS text
LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
  IF NOT t.tenant_scoped THEN
    RETURN p_stored;
  END IF;
  RETURN substr(p_stored, strpos(p_stored, chr(31)) + 1);
END $$;

-- Per-tenant versions. A tenant-scoped type has one key-space version per tenant: cache_bump_version() run by
-- a tenant moves only that tenant's entries to a new version. A tenant that never bumped uses the type's
-- version. (Entries of a tenant-scoped type carry their tenant in scope, so maintenance can tell them apart.)
-- The version the calling tenant reads and writes a tenant-scoped type at (PC013 without a tenant).
CREATE OR REPLACE FUNCTION _tenant_version(t cache_types) RETURNS integer
LANGUAGE plpgsql STABLE SET search_path FROM CURRENT AS $$
DECLARE
  v integer;
BEGIN
  SELECT tv.version INTO v FROM cache_tenant_versions tv WHERE tv.type_id = t.id AND tv.tenant = _tenant(t);
  RETURN coalesce(v, t.version);
END $$;

-- Type locks: table locks on the type's own table (cache_<type>), held until commit. Only the install owner
-- may lock its tables, so no other role can hold them to stall a type (an advisory lock anyone could take).
-- Every write takes ROW EXCLUSIVE (writes share it, and their INSERT takes it anyway); changes of the key space
-- take a mode that conflicts with it: cache_bump_version and cache_configure_tenant_scoped SHARE, cache_drop_type
-- ACCESS EXCLUSIVE. So a batch is written at one version, no write lands in a dropped type, and no write made
-- before a tenant switch commits after it. A type dropped while we wait raises PC001. The parent entries is
-- locked first, as every query on it and DROP TABLE of a partition lock it, so lock orders never cross.
-- No SET clause (it is on every generic write): owner-only, it runs under its caller's pinned search_path.
-- A type's own writer (cache_<type>_set, core/04_write.sql) takes the same locks with static statements.
CREATE OR REPLACE FUNCTION _lock_type(p_type text, p_mode text) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
  IF p_type IS NULL OR p_type !~ '^[a-z][a-z0-9_]{0,47}$' THEN
    PERFORM _type(p_type);  -- raises PC001
  END IF;
  IF p_mode = 'ROW EXCLUSIVE' THEN
    LOCK TABLE ONLY entries IN ROW EXCLUSIVE MODE;
  ELSIF p_mode = 'ACCESS EXCLUSIVE' THEN
    LOCK TABLE ONLY entries IN ACCESS EXCLUSIVE MODE;
  ELSE
    LOCK TABLE ONLY entries IN ACCESS SHARE MODE;
  END IF;
  EXECUTE format('LOCK TABLE %I.%I IN %s MODE', current_schema(), 'cache_' || p_type, p_mode);
EXCEPTION WHEN undefined_table THEN
  RAISE EXCEPTION 'pgcache: cache type "%" does not exist', p_type
    USING ERRCODE = 'PC001', HINT = 'List types with SELECT name FROM cache_types; create one with cache_create_type().';
END $$;

-- The registry row of a type for a write, with its type lock (ROW EXCLUSIVE on the type's table, see
-- _lock_type) held until commit, and the caller's version (the tenant's, for a tenant-scoped type) in
-- t.version. Read after the lock, so it is never a row a concurrent switch, drop or bump has replaced. No SET
-- clause: owner-only, it runs under its caller's pinned search_path.
CREATE OR REPLACE FUNCTION _write_type(p_type text) RETURNS cache_types
LANGUAGE plpgsql AS $$
DECLARE
  t cache_types;
BEGIN
  IF p_type IS NULL THEN
    t := _type(p_type);  -- raises PC001
  END IF;
  PERFORM _lock_type(p_type, 'ROW EXCLUSIVE');
  SELECT * INTO t FROM cache_types WHERE name = p_type;
  IF NOT FOUND THEN
    t := _type(p_type);  -- raises PC001
  END IF;
  RETURN _write_version(t);
END $$;

-- The second half of _write_type, for a registry row read after the type lock (by _write_type, or by a
-- type's own writer, which locks with static statements): under REPEATABLE READ or SERIALIZABLE the snapshot
-- may predate the lock, so the row is locked too, which raises 40001 (retry) if it changed since; and for a
-- tenant-scoped type the calling tenant's version goes into t.version.
CREATE OR REPLACE FUNCTION _write_version(t cache_types) RETURNS cache_types
LANGUAGE plpgsql AS $$
BEGIN
  IF current_setting('transaction_isolation') <> 'read committed' THEN
    PERFORM 1 FROM cache_types WHERE id = t.id FOR SHARE;
  END IF;
  IF t.tenant_scoped THEN
    t.version := _tenant_version(t);
  END IF;
  RETURN t;
END $$;

-- Whether a type found in the registry was dropped since (a type of the same name may exist again). Its
-- sequences are looked up by OID in the catalog cache, which sees the latest commit whatever the snapshot:
-- has_sequence_privilege(oid, ...) is NULL for an OID that no longer exists (one cache probe each).
CREATE OR REPLACE FUNCTION _type_dropped(t cache_types) RETURNS boolean
LANGUAGE plpgsql STABLE SET search_path FROM CURRENT AS $$
BEGIN
  RETURN has_sequence_privilege(t.misses_sequence::oid, 'USAGE') IS NULL
      OR has_sequence_privilege(t.hits_sequence::oid, 'USAGE') IS NULL;
END $$;

-- PC001 when a type found in the registry was dropped since: for paths that would otherwise touch its
-- dropped sequences.
CREATE OR REPLACE FUNCTION _check_type_alive(t cache_types) RETURNS void
LANGUAGE plpgsql STABLE SET search_path FROM CURRENT AS $$
BEGIN
  IF _type_dropped(t) THEN
    RAISE EXCEPTION 'pgcache: cache type "%" does not exist (it was dropped)', t.name USING ERRCODE = 'PC001';
  END IF;
END $$;

-- Escapes LIKE's wildcards and escape character so a prefix matches only itself.
CREATE OR REPLACE FUNCTION _like_prefix(p_prefix text) RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
  SELECT replace(replace(replace(p_prefix, '\', '\\'), '%', '\%'), '_', '\_') || '%'
$$;


-- Tags (core/15_tags.sql) are non-empty text of at most 256 bytes, at most 64 per entry (p_limit elsewhere), without NULLs.
-- Returns them sorted and distinct, or NULL for none (an empty array).
CREATE OR REPLACE FUNCTION _check_tags(p_tags text[], p_limit integer DEFAULT 64) RETURNS text[]
LANGUAGE plpgsql IMMUTABLE AS $$
DECLARE
  bad text;
BEGIN
  IF p_tags IS NULL OR cardinality(p_tags) = 0 THEN
    RETURN NULL;
  END IF;
  IF array_ndims(p_tags) <> 1 THEN
    RAISE EXCEPTION 'pgcache: argument "tags" must be a one-dimensional array of text' USING ERRCODE = 'PC018';
  END IF;
  IF cardinality(p_tags) > p_limit THEN
    RAISE EXCEPTION 'pgcache: argument "tags" has % tags; the limit is %', cardinality(p_tags), p_limit
      USING ERRCODE = 'PC018';
  END IF;
  SELECT coalesce(quote_literal(x), 'NULL') INTO bad FROM unnest(p_tags) x
   WHERE x IS NULL OR x = '' OR octet_length(x) > 256 LIMIT 1;
  IF FOUND THEN
    RAISE EXCEPTION 'pgcache: argument "tags" must hold non-empty strings of at most 256 bytes, got %', left(bad, 80)
      USING ERRCODE = 'PC018';
  END IF;
  RETURN ARRAY(SELECT DISTINCT x COLLATE "C" FROM unnest(p_tags) x ORDER BY 1);
END $$;


-- Grants p_privilege (e.g. 'SELECT ON <view>') to this install's role of p_group (reader, writer or admin),
-- as pgcache_install names it. Without the record or the role (a role that may not create roles installs
-- without them), nothing: core/30_security.sql grants what exists when it runs.
CREATE OR REPLACE FUNCTION _grant_to_group(p_group text, p_privilege text) RETURNS void
LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
DECLARE
  schema_name text := current_schema();
  role_name text;
BEGIN
  IF p_group IS NULL OR p_group NOT IN ('reader', 'writer', 'admin') THEN
    RAISE EXCEPTION 'pgcache: group must be reader, writer or admin, got %', coalesce(p_group, 'NULL') USING ERRCODE = 'PC010';
  END IF;
  -- The record is read with dynamic SQL: functions of this file are created before it exists on an upgrade.
  IF to_regclass(format('%I.pgcache_install', schema_name)) IS NOT NULL THEN
    EXECUTE format('SELECT %I FROM %I.pgcache_install', p_group || '_role', schema_name) INTO role_name;
  END IF;
  IF role_name IS NOT NULL AND EXISTS (SELECT 1 FROM pg_roles WHERE rolname = role_name) THEN
    EXECUTE format('GRANT %s TO %I', p_privilege, role_name);
  END IF;
END $$;
COMMENT ON FUNCTION _grant_to_group(text, text) IS
  'Grants a privilege to this install''s reader, writer or admin role, when pgcache_install names one that exists.';

-- A setting's value; raises PC010 naming the setting when it is missing.
CREATE OR REPLACE FUNCTION _setting(p_name text) RETURNS text
LANGUAGE plpgsql STABLE SET search_path FROM CURRENT AS $$
DECLARE
  v text;
BEGIN
  SELECT value INTO v FROM cache_settings WHERE name = p_name;
  IF v IS NULL THEN
    RAISE EXCEPTION 'pgcache: setting "%" is missing from cache_settings', p_name USING ERRCODE = 'PC010',
      HINT = 'Re-run the install (it restores missing settings with their defaults).';
  END IF;
  RETURN v;
END $$;
COMMENT ON FUNCTION _setting(text) IS 'The value of a cache_settings row; PC010 when it is missing.';

-- Who may call the functions of this file (pgcache_functions; core/30_security.sql grants by it).
INSERT INTO pgcache_functions (function_name, role_group) VALUES
  ('_like_prefix', 'internal'),
  ('_check_tags', 'internal'),
  ('_type', 'internal'),
  ('_check_key', 'internal'),
  ('_ttl_never', 'internal'),
  ('_expiry', 'internal'),
  ('_check_ttl', 'internal'),
  ('_check_kind', 'internal'),
  ('_check_batch', 'internal'),
  ('cache_ttl', 'reader'),
  ('cache_key', 'reader'),
  ('_tenant', 'internal'),
  ('_session_tenant', 'internal'),
  ('_stored_key', 'internal'),
  ('_user_key', 'internal'),
  ('_tenant_version', 'internal'),
  ('_lock_type', 'internal'),
  ('_write_type', 'internal'),
  ('_write_version', 'internal'),
  ('_type_dropped', 'internal'),
  ('_check_type_alive', 'internal'),
  ('_grant_to_group', 'internal'),
  ('_setting', 'internal')
ON CONFLICT (function_name) DO UPDATE SET role_group = excluded.role_group;

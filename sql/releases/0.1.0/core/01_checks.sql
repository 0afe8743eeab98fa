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
CREATE OR REPLACE FUNCTION _check_ttl(p_ttl interval) RETURNS void
LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
  IF p_ttl IS NULL OR p_ttl <= interval '0' OR p_ttl > interval '100 years' THEN
    RAISE EXCEPTION 'pgcache: argument "ttl" must be a positive interval of at most 100 years, got %', coalesce(p_ttl::text, 'NULL')
      USING ERRCODE = 'PC004';
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
  SELECT value INTO v FROM cache_settings WHERE name = 'ttl.' || p_class;
  IF v IS NULL THEN
    RAISE EXCEPTION 'pgcache: argument "class" must be a TTL class (short, medium, long), got %', coalesce(p_class, 'NULL')
      USING ERRCODE = 'PC004';
  END IF;
  RETURN v::interval;
END $$;
COMMENT ON FUNCTION cache_ttl(text) IS 'The interval of a TTL class (short, medium, long by default; see cache_settings).';

-- A stable sha256 hex key from parts; each part is length-prefixed, so ('a|b','c') and ('a','b|c') differ.
CREATE OR REPLACE FUNCTION cache_key(VARIADIC p_parts text[]) RETURNS text
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE SET search_path FROM CURRENT AS $$
BEGIN
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

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

-- One live entry of a type, or NULL: no count, no touch, no write of any kind (cache_peek, and reads on a
-- hot standby; core/17_replica.sql).
-- On a standby, a plan over the whole entries table would open every partition, and the first unlogged one
-- raises "cannot access temporary or unlogged relations during recovery" even for a logged type's key. So
-- there, once any type is unlogged, the lookup is planned for the type's own table alone (one-off plan).
CREATE OR REPLACE FUNCTION _peek_entry(t cache_types, p_key text) RETURNS entries
LANGUAGE plpgsql STABLE SET search_path FROM CURRENT SET plan_cache_mode = force_generic_plan AS $$
DECLARE
  e entries;
BEGIN
  IF pg_is_in_recovery() THEN
    IF t.unlogged THEN
      RAISE EXCEPTION 'pgcache: cache type "%" is unlogged, so its entries exist only on the primary, not on this standby', t.name
        USING ERRCODE = 'PC011',
              HINT = 'Read unlogged types from the primary, or create the type logged to read it on standbys.';
    END IF;
    IF EXISTS (SELECT 1 FROM cache_types WHERE unlogged) THEN
      EXECUTE format('SELECT * FROM %I.%I WHERE key = $1 AND version = $2 AND expires_at > now()',
                     current_schema(), t.table_name)
         INTO e USING p_key, t.version;
      RETURN e;
    END IF;
  END IF;
  SELECT * INTO e FROM entries
   WHERE type_id = t.id AND key = p_key AND version = t.version AND expires_at > now();
  RETURN e;
END $$;
COMMENT ON FUNCTION _peek_entry(cache_types, text) IS
  'One live entry of a type or NULL, without counting or touching; on a standby with unlogged types it reads only the type''s own table. PC011 for an unlogged type on a standby.';

-- One live entry as a row (NULL on a miss), counting the hit or miss. p_kind, when given, must match the type.
-- No SET clause of its own (each costs every call, at every level): it runs under its callers' pinned
-- search_path and their plan_cache_mode = force_generic_plan.
CREATE OR REPLACE FUNCTION _get_entry(p_type text, p_key text, p_kind text) RETURNS entries
LANGUAGE plpgsql AS $$
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
    IF e.meta ? 'pgcache_cost' THEN
      PERFORM _save_hit(t, e.meta -> 'pgcache_cost', e.scope);  -- core/22_savings.sql
    END IF;
    IF e.last_accessed_at < now() - t.touch_interval THEN
      PERFORM _touch(t, ARRAY[p_key]);
    END IF;
  END IF;
  RETURN e;
END $$;

CREATE OR REPLACE FUNCTION cache_get(p_type text, p_key text) RETURNS jsonb
LANGUAGE plpgsql SET search_path FROM CURRENT SET plan_cache_mode = force_generic_plan AS $$
BEGIN
  RETURN (_get_entry(p_type, p_key, 'jsonb')).value_json;
END $$;
COMMENT ON FUNCTION cache_get(text, text) IS
  'The jsonb value of a live entry of a jsonb type, or NULL on a miss (absent, expired or invalidated). Counts the hit or miss.';

CREATE OR REPLACE FUNCTION cache_get_text(p_type text, p_key text) RETURNS text
LANGUAGE plpgsql SET search_path FROM CURRENT SET plan_cache_mode = force_generic_plan AS $$
BEGIN
  RETURN (_get_entry(p_type, p_key, 'text')).value_text;
END $$;
COMMENT ON FUNCTION cache_get_text(text, text) IS 'The value of a live entry of a text type, or NULL on a miss.';

CREATE OR REPLACE FUNCTION cache_get_bytea(p_type text, p_key text) RETURNS bytea
LANGUAGE plpgsql SET search_path FROM CURRENT SET plan_cache_mode = force_generic_plan AS $$
BEGIN
  RETURN (_get_entry(p_type, p_key, 'bytea')).value_bytes;
END $$;
COMMENT ON FUNCTION cache_get_bytea(text, text) IS 'The value of a live entry of a bytea type, or NULL on a miss.';

CREATE OR REPLACE FUNCTION cache_get_real_array(p_type text, p_key text) RETURNS real[]
LANGUAGE plpgsql SET search_path FROM CURRENT SET plan_cache_mode = force_generic_plan AS $$
BEGIN
  RETURN (_get_entry(p_type, p_key, 'vector')).value_vector;
END $$;
COMMENT ON FUNCTION cache_get_real_array(text, text) IS
  'The value of a live entry of a vector type as real[], or NULL on a miss. With pgvector, cache_get_vector returns a vector.';

CREATE OR REPLACE FUNCTION cache_get_entry(p_type text, p_key text) RETURNS SETOF entries
LANGUAGE plpgsql SET search_path FROM CURRENT SET plan_cache_mode = force_generic_plan AS $$
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
    IF found_count > 0 THEN
      PERFORM _save_hit(t, c.meta -> 'pgcache_cost', c.scope) FROM entries c  -- core/22_savings.sql
        WHERE c.type_id = t.id AND c.key = ANY (p_keys) AND c.version = t.version AND c.expires_at > now()
          AND c.meta ? 'pgcache_cost';
    END IF;
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
CREATE OR REPLACE FUNCTION cache_get_bytea_slice(p_type text, p_key text, p_offset integer, p_length integer)
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
      PERFORM _save_hit(t, c.meta -> 'pgcache_cost', c.scope) FROM entries c  -- core/22_savings.sql
        WHERE c.type_id = t.id AND c.key = _stored_key(t, p_key) AND c.version = t.version
          AND c.meta ? 'pgcache_cost';
    ELSE
      PERFORM _check_type_alive(t);
      PERFORM nextval(t.misses_sequence);
    END IF;
  END IF;
END $$;
COMMENT ON FUNCTION cache_get_bytea_slice(text, text, integer, integer) IS
  'A slice (offset, length in bytes) of a live bytea entry and its total length; no row on a miss. For streaming large values.';

-- Deprecated alias of cache_get_bytea_slice, kept for one release (CHANGELOG.md).
CREATE OR REPLACE FUNCTION cache_read_bytea(p_type text, p_key text, p_offset integer, p_length integer)
RETURNS TABLE (total integer, chunk bytea)
LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
BEGIN
  RETURN QUERY SELECT s.total, s.chunk FROM cache_get_bytea_slice(p_type, p_key, p_offset, p_length) s;
END $$;
COMMENT ON FUNCTION cache_read_bytea(text, text, integer, integer) IS 'Deprecated: use cache_get_bytea_slice (same arguments).';

-- The read view of a type, cache_<type>_live: the live entries of the type's table, as the client reads them
-- with a named prepared statement (the plan is the bare primary-key probe plus a one-row InitPlan for the
-- type's version).
-- security_barrier: the view's own conditions run before any condition of the query on it, except leakproof
-- ones such as the key equality, which stays an index condition. It filters expiry, the key-space version
-- (the tenant's version for a tenant-scoped type) and, for a tenant-scoped type, the session's pgcache.tenant:
-- a tenant sees only entries whose scope is its own (the stored key is "<tenant><US><key>"). A session without
-- a tenant sees nothing of a tenant-scoped type. Owned by the install owner; SELECT for the reader role only
-- (the table itself stays unreadable). The view resolves every name when it is created, so the caller's
-- search_path plays no part. touch_due: the entry's last touch is older than the type's touch_interval.
CREATE OR REPLACE FUNCTION _create_read_view(t cache_types) RETURNS void
LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
DECLARE
  schema_name text := current_schema();
  view_name text := t.table_name || '_live';
  value_column text := CASE t.value_kind WHEN 'jsonb' THEN 'value_json' WHEN 'text' THEN 'value_text'
                                          WHEN 'bytea' THEN 'value_bytes' ELSE 'value_vector' END;
BEGIN
  -- One shape per type, no join: the type's version is a one-row InitPlan (read once per call, never per row)
  -- and touch_interval a literal (it is fixed at cache_create_type). A tenant-scoped type adds the scope and
  -- the tenant's version; cache_configure_tenant_scoped re-creates the view when that changes.
  -- Only the columns a read returns (key, the kind's value column, touch_due, and for what a hit saved the
  -- entry's cost and scope, core/22_savings.sql): every column of a view costs each execution its share of
  -- the projection and tuple descriptor, read or not, and a query that names all of them in order plans
  -- without the barrier's Subquery Scan. A view of another shape (an older install's) is dropped first:
  -- CREATE OR REPLACE VIEW cannot drop columns.
  IF EXISTS (SELECT 1 FROM pg_attribute a
              WHERE a.attrelid = to_regclass(format('%I.%I', schema_name, view_name)) AND a.attnum > 0
                AND NOT a.attisdropped
                AND a.attname NOT IN ('key', value_column, 'touch_due', 'cost', 'scope')) THEN
    EXECUTE format('DROP VIEW %I.%I', schema_name, view_name);
  END IF;
  EXECUTE format($v$
    CREATE OR REPLACE VIEW %1$I.%2$I WITH (security_barrier) AS
    SELECT e.key, e.%7$I, %5$s AS touch_due, e.meta -> 'pgcache_cost' AS cost, e.scope
      FROM %1$I.%3$I e
     WHERE e.type_id = %4$s AND e.expires_at > now()
       AND %6$s
  $v$, schema_name, view_name, t.table_name, t.id,
    CASE WHEN t.touch_interval IS NULL THEN 'false'
         ELSE format('e.last_accessed_at < now() - %L::interval', t.touch_interval) END,
    CASE WHEN t.tenant_scoped
         THEN format($c$e.scope = current_setting('pgcache.tenant', true)
       AND e.version = coalesce((SELECT v.version FROM %1$I.cache_tenant_versions v
                                  WHERE v.type_id = %2$s AND v.tenant = current_setting('pgcache.tenant', true)),
                                (SELECT r.version FROM %1$I.cache_types r WHERE r.id = %2$s))$c$, schema_name, t.id)
         ELSE format('e.version = (SELECT r.version FROM %I.cache_types r WHERE r.id = %s)', schema_name, t.id) END,
    value_column);
  EXECUTE format('COMMENT ON VIEW %I.%I IS %L', schema_name, view_name,
    format('pgcache live entries of type %s, for the client''s reads (SELECT: the reader role). Does not count hits.', t.name));
  EXECUTE format('REVOKE ALL ON %I.%I FROM PUBLIC', schema_name, view_name);
  PERFORM _grant_to_group('reader', format('SELECT ON %I.%I', schema_name, view_name));
END $$;
COMMENT ON FUNCTION _create_read_view(cache_types) IS
  'Creates (or re-creates) the read view cache_<type>_live of a type, SELECT granted to the reader role only.';

CREATE OR REPLACE FUNCTION _drop_read_view(t cache_types) RETURNS void
LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
BEGIN
  EXECUTE format('DROP VIEW IF EXISTS %I.%I', current_schema(), t.table_name || '_live');
END $$;
COMMENT ON FUNCTION _drop_read_view(cache_types) IS 'Drops the read view cache_<type>_live of a type.';

-- Reads counted by a client (which reads through the view) and reported about once a second: added to the
-- type's counters; cache_stats() shows them with the counts of the SQL functions. p_touch: stored keys whose
-- read found touch_due, touched as cache_get touches (at most once per touch_interval, skipping locked rows).
-- Counts lost with a client that ends without close() are at most its last second's.
CREATE OR REPLACE FUNCTION cache_record_reads(p_type text, p_hits bigint, p_misses bigint, p_touch text[] DEFAULT NULL)
RETURNS void
LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
DECLARE
  t cache_types;
BEGIN
  SELECT * INTO t FROM cache_types WHERE name = p_type;
  IF NOT FOUND THEN
    t := _type(p_type);  -- raises PC001
  END IF;
  -- A client reports about a second of reads: a billion per call is far beyond any real count, and the cap
  -- keeps the running totals from overflowing.
  IF p_hits IS NULL OR p_misses IS NULL OR p_hits NOT BETWEEN 0 AND 1000000000 OR p_misses NOT BETWEEN 0 AND 1000000000 THEN
    RAISE EXCEPTION 'pgcache: arguments "hits" and "misses" must be counts from 0 to 1000000000' USING ERRCODE = 'PC010';
  END IF;
  IF p_hits + p_misses > 0 THEN
    INSERT INTO cache_read_counts AS c (type_id, hits, misses) VALUES (t.id, p_hits, p_misses)
    ON CONFLICT (type_id) DO UPDATE SET hits = c.hits + excluded.hits, misses = c.misses + excluded.misses;
  END IF;
  IF cardinality(p_touch) > 0 AND t.touch_interval IS NOT NULL THEN
    PERFORM _check_batch('touch', cardinality(p_touch));
    PERFORM _touch(t, p_touch);
  END IF;
END $$;
COMMENT ON FUNCTION cache_record_reads(text, bigint, bigint, text[]) IS
  'Adds hits and misses a client counted (reading through cache_<type>_live) to the type''s totals in cache_stats(), and touches the keys given.';

-- The read view of every type (new installs have none yet; an upgrade creates them for existing types).
DO $$
DECLARE
  t cache_types;
BEGIN
  FOR t IN SELECT * FROM cache_types ORDER BY id LOOP
    PERFORM _create_read_view(t);
  END LOOP;
END $$;

-- Who may call the functions of this file (pgcache_functions; core/30_security.sql grants by it).
INSERT INTO pgcache_functions (function_name, role_group) VALUES
  ('_touch', 'internal'),
  ('_peek_entry', 'internal'),
  ('_get_entry', 'internal'),
  ('cache_get', 'reader'),
  ('cache_get_text', 'reader'),
  ('cache_get_bytea', 'reader'),
  ('cache_get_real_array', 'reader'),
  ('cache_get_entry', 'reader'),
  ('cache_get_many', 'reader'),
  ('cache_scan', 'reader'),
  ('cache_get_bytea_slice', 'reader'),
  ('cache_read_bytea', 'reader'),
  ('_create_read_view', 'internal'),
  ('_drop_read_view', 'internal'),
  ('cache_record_reads', 'reader')
ON CONFLICT (function_name) DO UPDATE SET role_group = excluded.role_group;

-- Monitoring: one row per cache type. Hits and misses are exact totals since the type was created or the
-- last crash (unlogged sequences restart at 0) of the SQL functions' reads, plus the reads clients counted
-- and reported (cache_read_counts; at most a second behind, and lost for a client that ends without close()). Entry counts and bytes scan the type's table.
-- In a session with pgcache.tenant set, a tenant-scoped type shows only that tenant's entries, bytes and
-- version, and no hit or miss totals (they are the type's, counted across tenants).
-- A type dropped while this runs is left out (its sequences are gone: a per-type block catches that).
CREATE OR REPLACE FUNCTION cache_stats()
RETURNS TABLE (
  cache_type text, value_kind text, entries bigint, valid_entries bigint, bytes bigint,
  hits bigint, misses bigint, hit_rate double precision, version integer, eviction_policy text,
  max_entries bigint, max_bytes bigint
)
LANGUAGE plpgsql STABLE SET search_path FROM CURRENT AS $$
DECLARE
  t cache_types;
  caller_tenant text := nullif(current_setting('pgcache.tenant', true), '');
  scoped boolean;
BEGIN
  FOR t IN SELECT * FROM cache_types ORDER BY name LOOP
    scoped := t.tenant_scoped AND caller_tenant IS NOT NULL;
    BEGIN
      IF scoped THEN
        t.version := _tenant_version(t);
      END IF;
      cache_type := t.name;
      value_kind := t.value_kind;
      version := t.version;
      eviction_policy := t.eviction_policy;
      max_entries := t.max_entries;
      max_bytes := t.max_bytes;
      SELECT count(*),
             count(*) FILTER (WHERE e.version = coalesce(tv.version, t.version) AND e.expires_at > now()),
             coalesce(sum(e.byte_size), 0)::bigint
        INTO entries, valid_entries, bytes
        FROM entries e
        LEFT JOIN cache_tenant_versions tv ON t.tenant_scoped AND tv.type_id = t.id AND tv.tenant = e.scope
       WHERE e.type_id = t.id AND (NOT scoped OR e.scope = caller_tenant);
      IF scoped THEN
        hits := NULL;
        misses := NULL;
      ELSE
        -- The SQL functions' counts (sequences) plus those clients reported (cache_record_reads).
        SELECT coalesce(pg_sequence_last_value(t.hits_sequence), 0) + coalesce(max(c.hits), 0),
               coalesce(pg_sequence_last_value(t.misses_sequence), 0) + coalesce(max(c.misses), 0)
          INTO hits, misses
          FROM cache_read_counts c WHERE c.type_id = t.id;
      END IF;
      hit_rate := CASE WHEN hits + misses > 0 THEN hits::double precision / (hits + misses) END;
    EXCEPTION WHEN OTHERS THEN
      IF _type_dropped(t) THEN
        CONTINUE;  -- dropped meanwhile
      END IF;
      RAISE;
    END;
    RETURN NEXT;
  END LOOP;
END $$;
COMMENT ON FUNCTION cache_stats() IS
  'Per cache type: entries, valid (live) entries, bytes, exact hits and misses, hit rate, version, policy and budgets. A tenant sees only its own entries of tenant-scoped types.';

-- Who may call the functions of this file (pgcache_functions; core/30_security.sql grants by it).
INSERT INTO pgcache_functions (function_name, role_group) VALUES
  ('cache_stats', 'reader')
ON CONFLICT (function_name) DO UPDATE SET role_group = excluded.role_group;

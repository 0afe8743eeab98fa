-- Tags: labels an entry carries (the ids of the rows or documents it was computed from) so that one call
-- removes every entry computed from a changed source, across keys and types.
-- Tags live in the entry's own row, in a column a partial GIN index covers (only rows that carry tags): a set
-- without tags writes NULL, adds no index entry, and an overwrite that keeps the same tags (or none) stays a
-- HOT update. Because the tags are part of the row, expiry, eviction, deletes and overwrites drop or replace
-- them with the row itself: no separate tag rows can go stale.
ALTER TABLE entries ADD COLUMN IF NOT EXISTS tags text[];
COMMENT ON COLUMN entries.tags IS
  'Tags of the entry (cache_invalidate_tags removes the entries carrying any given tag); NULL when it has none.';
-- On the partitioned table, so every type's table (and every table created later) gets its own. Without
-- fastupdate: a pending list makes every lookup scan all of it, and a watch trigger looks up thousands of
-- tags at once; a tagged write pays its index insert at once instead (an untagged one never does).
CREATE INDEX IF NOT EXISTS entries_tags_idx ON entries USING gin (tags) WITH (fastupdate = off) WHERE tags IS NOT NULL;

-- Deletes the entries carrying any of p_tags: of one type (p_type_id) or of all; of one tenant (p_tenant) on
-- tenant-scoped types, or of every tenant (p_all_tenants, for watch triggers); without either, tenant-scoped
-- types are left alone. The candidates are found through the tag index, then each type's rows are locked in
-- key order (as other bulk deletes and batches lock them, so concurrent calls cannot deadlock) and deleted by
-- primary key. Near-caches hear of each key (of the whole type past 100 keys) when the transaction commits.
-- Returns how many of the deleted entries were live.
-- No JIT: a probe per tag over every type's table is estimated dear, and compiling it would cost more (up to
-- seconds) than running it.
CREATE OR REPLACE FUNCTION _invalidate_tags(p_tags text[], p_type_id smallint, p_tenant text, p_all_tenants boolean)
RETURNS bigint
LANGUAGE plpgsql SET jit = off AS $$
DECLARE
  t cache_types;
  found_keys record;
  gone text[];
  type_live bigint;
  live bigint := 0;
BEGIN
  IF p_tags IS NULL OR cardinality(p_tags) = 0 THEN
    RETURN 0;
  END IF;
  FOR found_keys IN
    SELECT c.type_id, array_agg(DISTINCT c.key) AS keys
      FROM (SELECT e.type_id, e.key, e.scope FROM entries e
             WHERE cardinality(p_tags) <= 64 AND e.tags && p_tags
               AND (p_type_id IS NULL OR e.type_id = p_type_id)
            UNION ALL
            -- Many tags (a bulk statement on a watched table): one index probe per tag. A GIN scan of one
            -- array of thousands of keys costs time quadratic in their number.
            SELECT e.type_id, e.key, e.scope FROM unnest(p_tags) AS u(tag)
             CROSS JOIN LATERAL (SELECT e.type_id, e.key, e.scope FROM entries e
                                  WHERE e.tags @> ARRAY[u.tag] AND (p_type_id IS NULL OR e.type_id = p_type_id)) e
             WHERE cardinality(p_tags) > 64) c
      JOIN cache_types ct ON ct.id = c.type_id
     WHERE p_all_tenants OR NOT ct.tenant_scoped OR c.scope = p_tenant
     GROUP BY c.type_id
     ORDER BY c.type_id
  LOOP
    SELECT * INTO t FROM cache_types WHERE id = found_keys.type_id;
    PERFORM 1 FROM entries WHERE type_id = t.id AND key = ANY (found_keys.keys) ORDER BY key FOR UPDATE;
    WITH deleted AS (
      DELETE FROM entries e WHERE e.type_id = t.id AND e.key = ANY (found_keys.keys)
      RETURNING e.key, e.version, e.scope, e.expires_at)
    SELECT array_agg(d.key),
           count(*) FILTER (WHERE d.expires_at > now() AND d.version = coalesce(
             (SELECT tv.version FROM cache_tenant_versions tv WHERE t.tenant_scoped AND tv.type_id = t.id AND tv.tenant = d.scope),
             t.version))
      INTO gone, type_live
      FROM deleted d;
    live := live + type_live;
    IF t.notify AND gone IS NOT NULL THEN
      IF cardinality(gone) > 100 THEN
        PERFORM _notify(t, '{"all": true}');
      ELSE
        PERFORM _notify(t, jsonb_build_object('k', k)) FROM unnest(gone) AS k;
      END IF;
    END IF;
  END LOOP;
  RETURN live;
END $$;

-- Removes the entries carrying any of the tags, of one type or of every type, in the caller's transaction.
-- On a tenant-scoped type only the calling tenant's entries go (PC013 without pgcache.tenant when the type is
-- named); across types, a session without a tenant leaves tenant-scoped types alone.
CREATE OR REPLACE FUNCTION cache_invalidate_tags(p_tags text[], p_type text DEFAULT NULL) RETURNS bigint
LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
DECLARE
  t cache_types;
  tags text[];
  tenant text := nullif(current_setting('pgcache.tenant', true), '');
BEGIN
  IF p_tags IS NULL THEN
    RAISE EXCEPTION 'pgcache: argument "tags" must be an array of tags, got NULL' USING ERRCODE = 'PC018';
  END IF;
  PERFORM _check_batch('tags', cardinality(p_tags));
  tags := _check_tags(p_tags, 10000);
  IF p_type IS NOT NULL THEN
    t := _type(p_type);
    IF t.tenant_scoped THEN
      tenant := _tenant(t);  -- PC013 without a valid tenant
    END IF;
  ELSIF tenant IS NOT NULL AND tenant !~ '^[A-Za-z0-9_.:@-]{1,128}$' THEN
    RAISE EXCEPTION 'pgcache: SET pgcache.tenant to a tenant name (1-128 of A-Z a-z 0-9 _ . : @ -), got %', quote_literal(tenant)
      USING ERRCODE = 'PC013';
  END IF;
  RETURN _invalidate_tags(tags, t.id, tenant, false);
END $$;
COMMENT ON FUNCTION cache_invalidate_tags(text[], text) IS
  'Deletes the entries (of one type, or of all when type is NULL) carrying any of the tags, in the caller''s transaction; a tenant only its own. Returns how many were live.';

-- Who may call the functions of this file (pgcache_functions; core/30_security.sql grants by it).
INSERT INTO pgcache_functions (function_name, role_group) VALUES
  ('_invalidate_tags', 'internal'),
  ('cache_invalidate_tags', 'writer')
ON CONFLICT (function_name) DO UPDATE SET role_group = excluded.role_group;

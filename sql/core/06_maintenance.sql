-- Expiry clean-up and budget eviction. Both work in bounded batches and skip rows other sessions hold locked.

-- Deletes up to p_batch expired or invalidated (older-version) entries of one type, or of all types when
-- p_type is NULL. Returns the number deleted; call again while it returns p_batch.
-- No index covers expires_at (it would make every overwrite a non-HOT update): each type's table is swept in
-- ranges of 1024 pages by ctid (a TID range scan reads just those pages), from the start of the table, until
-- the batch is full or the table ends. A hash-partitioned type's leaves are swept together, the same range
-- in each. Rows other sessions hold locked are skipped; readers never wait for a DELETE.
-- cache_maintenance() passes a grace (maintenance.expired_grace): a row expired less than that long ago stays,
-- so a key set again soon after it expired is overwritten in place (a HOT update on the same page) rather than
-- deleted and inserted anew elsewhere with a new index entry. Invalidated rows go at once.
CREATE OR REPLACE FUNCTION _cleanup_expired(p_type text, p_batch integer, p_grace interval) RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
  t cache_types;
  deleted bigint := 0;
  n bigint;
  pages bigint;
  first_page bigint;
  step constant bigint := 1024;
BEGIN
  IF p_batch IS NULL OR p_batch <= 0 THEN
    RAISE EXCEPTION 'pgcache: argument "batch" must be positive' USING ERRCODE = 'PC010';
  END IF;
  IF p_type IS NOT NULL THEN
    PERFORM _type(p_type);
  END IF;
  p_grace := greatest(coalesce(p_grace, interval '0'), interval '0');
  FOR t IN SELECT * FROM cache_types WHERE p_type IS NULL OR name = p_type ORDER BY id LOOP
    EXIT WHEN deleted >= p_batch;
    SELECT coalesce(max(pg_relation_size(tree.relid)), 0) / current_setting('block_size')::bigint INTO pages
      FROM pg_partition_tree(to_regclass(format('%I.%I', current_schema(), t.table_name))) tree
     WHERE tree.isleaf;
    first_page := 0;
    WHILE first_page < pages AND deleted < p_batch LOOP
      -- Materialized, so the LIMIT picks one set of rows (a correlated IN could re-run it per row).
      -- Entries of a tenant-scoped type are current at their tenant's version (scope holds the tenant).
      WITH doomed AS MATERIALIZED (
        SELECT s.key FROM entries s
          LEFT JOIN cache_tenant_versions tv ON t.tenant_scoped AND tv.type_id = t.id AND tv.tenant = s.scope
         WHERE s.type_id = t.id
           AND s.ctid >= format('(%s,0)', first_page)::tid AND s.ctid < format('(%s,0)', first_page + step)::tid
           AND ((s.version = coalesce(tv.version, t.version) AND s.expires_at <= now() - p_grace)
                OR s.version < coalesce(tv.version, t.version))
         LIMIT p_batch - deleted
         FOR UPDATE OF s SKIP LOCKED)
      DELETE FROM entries e USING doomed d WHERE e.type_id = t.id AND e.key = d.key;
      GET DIAGNOSTICS n = ROW_COUNT;
      deleted := deleted + n;
      first_page := first_page + step;
    END LOOP;
  END LOOP;
  RETURN deleted;
END $$;

CREATE OR REPLACE FUNCTION cache_cleanup_expired(p_type text DEFAULT NULL, p_batch integer DEFAULT 10000) RETURNS bigint
LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
BEGIN
  RETURN _cleanup_expired(p_type, p_batch, interval '0');
END $$;
COMMENT ON FUNCTION cache_cleanup_expired(text, integer) IS
  'Deletes up to batch expired or invalidated entries (one type, or all when type is NULL), skipping locked rows. Returns the count.';

-- Evicts entries of a type until it holds at most p_max_entries entries and p_max_bytes bytes (each NULL:
-- the type's budget). Expired and invalidated entries go first, then the policy's order:
--   lru  least recently touched first   lfu  lowest hit score first
--   fifo oldest write first             ttl  soonest expiry first
CREATE OR REPLACE FUNCTION cache_evict(p_type text, p_max_entries bigint DEFAULT NULL, p_max_bytes bigint DEFAULT NULL,
                                       p_policy text DEFAULT NULL) RETURNS bigint
LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
DECLARE
  t cache_types := _type(p_type);
  policy text := coalesce(p_policy, t.eviction_policy);
  entry_budget bigint := coalesce(p_max_entries, t.max_entries);
  byte_budget bigint := coalesce(p_max_bytes, t.max_bytes);
  entry_count bigint;
  byte_count bigint;
  excess_entries bigint;
  excess_bytes bigint;
  deleted bigint;
BEGIN
  IF policy IS NULL OR policy NOT IN ('lru', 'lfu', 'fifo', 'ttl') THEN
    RAISE EXCEPTION 'pgcache: argument "policy" must be lru, lfu, fifo or ttl, got %', coalesce(p_policy, 'NULL')
      USING ERRCODE = 'PC010';
  END IF;
  IF entry_budget < 0 OR byte_budget < 0 THEN
    RAISE EXCEPTION 'pgcache: budgets must not be negative' USING ERRCODE = 'PC010';
  END IF;
  IF entry_budget IS NULL AND byte_budget IS NULL THEN
    RETURN 0;
  END IF;

  SELECT count(*), coalesce(sum(byte_size), 0) INTO entry_count, byte_count FROM entries WHERE type_id = t.id;
  excess_entries := greatest(entry_count - coalesce(entry_budget, entry_count), 0);
  excess_bytes := greatest(byte_count - coalesce(byte_budget, byte_count), 0);
  IF excess_entries = 0 AND excess_bytes = 0 THEN
    RETURN 0;
  END IF;

  WITH ranked AS (
    SELECT key,
           row_number() OVER w AS position,
           sum(byte_size) OVER w - byte_size AS bytes_before
      FROM entries
     WHERE type_id = t.id
    WINDOW w AS (ORDER BY (expires_at <= now()
                           OR version < coalesce((SELECT tv.version FROM cache_tenant_versions tv
                                                   WHERE t.tenant_scoped AND tv.type_id = t.id AND tv.tenant = scope),
                                                 t.version)) DESC,
                          CASE WHEN policy = 'lru' THEN last_accessed_at END,
                          CASE WHEN policy = 'lfu' THEN hit_count END,
                          CASE WHEN policy = 'ttl' THEN expires_at END,
                          created_at, key)
  ),
  -- Rows that writers hold are skipped, not waited for: eviction never blocks or deadlocks a writer.
  doomed AS MATERIALIZED (
    SELECT e.key FROM entries e JOIN ranked r ON r.key = e.key
     WHERE e.type_id = t.id AND (r.position <= excess_entries OR r.bytes_before < excess_bytes)
     FOR UPDATE OF e SKIP LOCKED
  )
  DELETE FROM entries e USING doomed d WHERE e.type_id = t.id AND e.key = d.key;
  GET DIAGNOSTICS deleted = ROW_COUNT;
  IF deleted > 0 THEN
    PERFORM _notify(t, '{"all": true}');  -- near-caches drop the type rather than hear of each key
  END IF;
  RETURN deleted;
END $$;
COMMENT ON FUNCTION cache_evict(text, bigint, bigint, text) IS
  'Evicts entries until the type fits max_entries and max_bytes (NULL: its budgets), expired first, then by policy (lru, lfu, fifo, ttl). Returns the count.';

CREATE OR REPLACE FUNCTION cache_evict_lru(p_type text, p_max_entries bigint DEFAULT NULL, p_max_bytes bigint DEFAULT NULL)
RETURNS bigint
LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
BEGIN
  RETURN cache_evict(p_type, p_max_entries, p_max_bytes, 'lru');
END $$;
COMMENT ON FUNCTION cache_evict_lru(text, bigint, bigint) IS
  'Evicts least recently used entries until the type fits max_entries and max_bytes (NULL: its budgets). Returns the count.';

-- Monitoring: one row per cache type. Hits and misses are exact totals since the type was created or the
-- last crash (unlogged sequences restart at 0). Entry counts and bytes scan the type's table.
CREATE OR REPLACE FUNCTION cache_stats()
RETURNS TABLE (
  cache_type text, value_kind text, entries bigint, valid_entries bigint, bytes bigint,
  hits bigint, misses bigint, hit_rate double precision, version integer, eviction_policy text,
  max_entries bigint, max_bytes bigint
)
LANGUAGE plpgsql STABLE SET search_path FROM CURRENT AS $$
BEGIN
  RETURN QUERY
  SELECT t.name, t.value_kind, c.entries, c.valid_entries, c.bytes,
         h.hits, h.misses,
         CASE WHEN h.hits + h.misses > 0 THEN h.hits::double precision / (h.hits + h.misses) END,
         t.version, t.eviction_policy, t.max_entries, t.max_bytes
    FROM cache_types t
    CROSS JOIN LATERAL (
      SELECT count(*) AS entries,
             count(*) FILTER (WHERE e.version = t.version AND e.expires_at > now()) AS valid_entries,
             coalesce(sum(e.byte_size), 0)::bigint AS bytes
        FROM entries e WHERE e.type_id = t.id) c
    CROSS JOIN LATERAL (
      SELECT coalesce(pg_sequence_last_value(t.hits_sequence), 0) AS hits,
             coalesce(pg_sequence_last_value(t.misses_sequence), 0) AS misses) h
   ORDER BY t.name;
END $$;
COMMENT ON FUNCTION cache_stats() IS
  'Per cache type: entries, valid (live) entries, bytes, exact hits and misses, hit rate, version, policy and budgets.';

-- Storage parameters of the cache tables under churn. cache_create_type() creates each type's table with
-- _entries_storage_options(); this brings tables made by an older install to the same settings, touching only
-- tables whose settings differ (ALTER TABLE ... SET takes a SHARE UPDATE EXCLUSIVE lock). docs/operations.md
-- explains each value.
-- A type's table may be hash-partitioned (core/18_partitioning.sql): the options belong on its leaf tables.
DO $$
DECLARE
  leaf record;
  main_options text[];
  toast_options text[];
BEGIN
  SELECT array_agg(o) FILTER (WHERE o NOT LIKE 'toast.%'),
         array_agg(substr(o, 7)) FILTER (WHERE o LIKE 'toast.%')
    INTO main_options, toast_options
    FROM unnest(_entries_storage_options()) AS o;
  FOR leaf IN
    SELECT n.nspname, c.relname
      FROM _type_tables() tt
      JOIN pg_class c ON c.oid = tt.leaf
      JOIN pg_namespace n ON n.oid = c.relnamespace
      LEFT JOIN pg_class toast ON toast.oid = c.reltoastrelid
     WHERE NOT (coalesce(c.reloptions, '{}') @> main_options
                AND (c.reltoastrelid = 0 OR coalesce(toast.reloptions, '{}') @> toast_options))
     ORDER BY tt.type_id, c.relname
  LOOP
    EXECUTE format('ALTER TABLE %I.%I SET (%s)', leaf.nspname, leaf.relname,
      array_to_string(_entries_storage_options(), ', '));
  END LOOP;
END $$;

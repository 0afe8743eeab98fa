-- Storage parameters of the cache tables under churn. cache_create_type() creates each type's table with
-- _entries_storage_options(); this brings tables made by an older install to the same settings, touching only
-- tables whose settings differ (ALTER TABLE ... SET takes a SHARE UPDATE EXCLUSIVE lock). docs/operations.md
-- explains each value.
DO $$
DECLARE
  t cache_types;
  rel regclass;
  main_options text[];
  toast_options text[];
BEGIN
  SELECT array_agg(o) FILTER (WHERE o NOT LIKE 'toast.%'),
         array_agg(substr(o, 7)) FILTER (WHERE o LIKE 'toast.%')
    INTO main_options, toast_options
    FROM unnest(_entries_storage_options()) AS o;
  FOR t IN SELECT * FROM cache_types ORDER BY id LOOP
    rel := to_regclass(format('%I.%I', current_schema(), t.table_name));
    CONTINUE WHEN rel IS NULL;
    IF NOT EXISTS (
      SELECT 1 FROM pg_class c LEFT JOIN pg_class toast ON toast.oid = c.reltoastrelid
       WHERE c.oid = rel
         AND coalesce(c.reloptions, '{}') @> main_options
         AND (c.reltoastrelid = 0 OR coalesce(toast.reloptions, '{}') @> toast_options)) THEN
      EXECUTE format('ALTER TABLE %I.%I SET (%s)', current_schema(), t.table_name,
        array_to_string(_entries_storage_options(), ', '));
    END IF;
  END LOOP;
END $$;

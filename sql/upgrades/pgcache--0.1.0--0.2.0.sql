-- pgcache 0.1.0 -> 0.2.0: the DDL an install of 0.1.0 needs before the 0.2.0 files are applied.
-- Runs in the install transaction after the prelude (search_path = the install schema), before every file
-- sql/install.sql lists is re-applied; those re-create the functions, views and grants of 0.2.0.
-- Put here what CREATE ... IF NOT EXISTS and CREATE OR REPLACE cannot do on an existing install: new columns
-- of existing tables, changed defaults or constraints, dropped or renamed functions (a changed signature
-- leaves the old one behind), data fixes. Keep each statement re-runnable (IF EXISTS / IF NOT EXISTS).

-- Semantic lookup: the exact-repeat probe index, a B-tree on (model, hash_array(embedding)), on every type's
-- table that has an HNSW index of a semantic lookup (vector/01_semantic.sql creates the same one, by the same
-- name, and the lookup functions, when the files are re-applied).
DO $$
DECLARE
  t record;
BEGIN
  FOR t IN SELECT ct.id, ct.table_name FROM cache_types ct
            WHERE EXISTS (SELECT 1 FROM pg_index i JOIN pg_class ic ON ic.oid = i.indexrelid JOIN pg_am am ON am.oid = ic.relam
                           WHERE i.indrelid = to_regclass(format('%I.%I', current_schema(), ct.table_name))
                             AND am.amname = 'hnsw' AND ic.relname LIKE left(ct.table_name, 25) || '\_hnsw\_%') LOOP
    EXECUTE format('CREATE INDEX IF NOT EXISTS %I ON %I.%I (model, hash_array(embedding)) WHERE embedding IS NOT NULL',
      left(t.table_name, 25) || '_hash_' || md5(t.id || ':embedding'), current_schema(), t.table_name);
  END LOOP;
END $$;

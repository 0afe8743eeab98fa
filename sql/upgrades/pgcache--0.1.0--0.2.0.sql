-- pgcache 0.1.0 -> 0.2.0: the DDL an install of 0.1.0 needs before the 0.2.0 files are applied.
-- Runs in the install transaction after the prelude (search_path = the install schema), before every file
-- sql/install.sql lists is re-applied; those re-create the functions, views and grants of 0.2.0.
-- Put here what CREATE ... IF NOT EXISTS and CREATE OR REPLACE cannot do on an existing install: new columns
-- of existing tables, changed defaults or constraints, dropped or renamed functions (a changed signature
-- leaves the old one behind), data fixes. Keep each statement re-runnable (IF EXISTS / IF NOT EXISTS).

-- Read path: the counts clients report with cache_record_reads().
CREATE TABLE IF NOT EXISTS cache_read_counts (
  type_id smallint PRIMARY KEY REFERENCES cache_types (id) ON DELETE CASCADE,
  hits    bigint NOT NULL DEFAULT 0,
  misses  bigint NOT NULL DEFAULT 0
);

-- Semantic lookup: 0.1.0 named a (type, model)'s HNSW index <table>_hnsw_<first 10 of md5(model)>; 0.2.0 names
-- it as _semantic_index_name() does, which cache_semantic_index and the lookup functions look for.
DO $$
DECLARE
  t record;
BEGIN
  FOR t IN SELECT n.old_name, n.new_name
             FROM cache_types ct CROSS JOIN cache_models m
                  CROSS JOIN LATERAL (SELECT ct.table_name || '_hnsw_' || left(md5(m.model), 10) AS old_name,
                                             left(ct.table_name, 25) || '_hnsw_' || md5(ct.id || ':' || m.model) AS new_name) n
            WHERE to_regclass(format('%I.%I', current_schema(), n.old_name)) IS NOT NULL
              AND to_regclass(format('%I.%I', current_schema(), n.new_name)) IS NULL LOOP
    EXECUTE format('ALTER INDEX %I.%I RENAME TO %I', current_schema(), t.old_name, t.new_name);
  END LOOP;
END $$;

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

-- Type tables keep no index on (version, expires_at): overwrites become HOT updates, and expiry clean-up
-- sweeps the table by ctid ranges instead (core/20_maintenance.sql). On a hash-partitioned type's table the
-- index is a partitioned index: dropping it drops the leaves' indexes too.
DO $$
DECLARE
  ix regclass;
BEGIN
  FOR ix IN
    SELECT to_regclass(format('%I.%I', current_schema(), t.table_name || '_expiry'))
      FROM cache_types t
  LOOP
    CONTINUE WHEN ix IS NULL;
    EXECUTE format('DROP INDEX IF EXISTS %s', ix);
  END LOOP;
END $$;

-- Tags: core/15_tags.sql adds entries.tags and its index with IF NOT EXISTS when the 0.2.0 files are applied,
-- after every column 00_schema.sql adds, so upgraded and fresh installs order the columns alike. The setters
-- that gained p_tags drop their previous signatures in their own files (DROP FUNCTION IF EXISTS).

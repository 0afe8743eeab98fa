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

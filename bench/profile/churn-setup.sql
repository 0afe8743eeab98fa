-- Tables for churn.sql, loaded alike from kv: :tbl with fillfactor :ff, with or without an index on
-- expires_at (:expiry_index = true/false). Usage: psql -v tbl=... -v ff=90 -v expiry_index=true -f ...
\set ON_ERROR_STOP on
DROP TABLE IF EXISTS pgcache_proto.:tbl;
CREATE TABLE pgcache_proto.:tbl (LIKE pgcache_proto.t_bench INCLUDING DEFAULTS)
  WITH (fillfactor = :ff, autovacuum_vacuum_scale_factor = 0.05, autovacuum_analyze_scale_factor = 0.05);
ALTER TABLE pgcache_proto.:tbl ADD PRIMARY KEY (key);
\if :expiry_index
CREATE INDEX ON pgcache_proto.:tbl (expires_at);
\endif
INSERT INTO pgcache_proto.:tbl (key, version, value_json, byte_size, expires_at)
  SELECT k, 1, v, 1100, now() + interval '1 hour' FROM kv;
VACUUM ANALYZE pgcache_proto.:tbl;

-- churn.sql with a delete that expires the row in place (a HOT update that drops the value) instead of
-- deleting it; maintenance deletes only rows expired for longer than a grace period (churn.sh GRACE=...).
\set r random(1, 100)
\set n random(1, 10000)
\if :r <= 60
SELECT value_json FROM pgcache_proto.:tbl WHERE key = 'k' || :n AND expires_at > now();
\elif :r <= 98
INSERT INTO pgcache_proto.:tbl AS e (key, version, value_json, byte_size, expires_at)
SELECT 'k' || :n, 1, v, 1100, now() + CASE WHEN :r <= 88 THEN interval '1 hour' ELSE interval '2 seconds' END FROM kv WHERE k = 'k1'
ON CONFLICT (key) DO UPDATE SET version = excluded.version, value_json = excluded.value_json, byte_size = excluded.byte_size,
  created_at = excluded.created_at, expires_at = excluded.expires_at, last_accessed_at = excluded.last_accessed_at;
\else
UPDATE pgcache_proto.:tbl SET expires_at = '-infinity', value_json = 'null' WHERE key = 'k' || :n;
\endif

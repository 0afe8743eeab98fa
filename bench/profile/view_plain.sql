\set n random(1, 10000)
SELECT value_json FROM pgcache_proto.v_bench WHERE key = 'k' || :n;

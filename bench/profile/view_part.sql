\set n random(1, 10000)
SELECT value_json FROM pgcache_proto.v_part WHERE key = 'k' || :n;

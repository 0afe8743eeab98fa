\set n random(1, 10000)
SELECT pgcache_proto.get_sql('k' || :n);

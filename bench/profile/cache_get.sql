\set n random(1, 10000)
SELECT v, v IS NULL AS miss FROM pgcache.cache_get('bench', 'k' || :n) AS v;

\set i random(1, 1000)
SELECT key FROM pgcache.cache_bench_semantic WHERE model = 'bench-1536' ORDER BY embedding::vector(1536) <=> (SELECT v FROM pgcache_proto.semq WHERE kind = 'near' AND i = :i) LIMIT 1;

\set i random(1, 1000)
SELECT key, cosine_distance FROM pgcache.cache_semantic_get('bench_semantic', (SELECT v FROM pgcache_proto.semq WHERE kind = 'near' AND i = :i), 'bench-1536', 0.05, NULL, 1);

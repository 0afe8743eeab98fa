\set i random(1, 1000)
SELECT * FROM pgcache_proto.sem_get((SELECT v FROM pgcache_proto.semq WHERE kind = 'near' AND i = :i), 0.05, 40, true);

-- Query sets for the semantic lookup over the bench's semantic type (pgcache.cache_bench_semantic, model
-- bench-1536, with its HNSW index; `npm run bench -- --only=semantic --semantic --keep-cluster` leaves it):
-- 1,000 queries of each kind in pgcache_proto.semq, made as bench/scenarios/semantic.ts makes them:
--   exact  a stored vector as it is
--   near   a stored vector plus gaussian noise of norm 0.1 (cosine distance ~0.005), the bench's near repeats
--   far    a stored vector plus gaussian noise of norm 0.3 (cosine distance ~0.04), as test/ai/semantic-recall
--   never  a fresh random unit vector
-- Then semantic-found.sql (found rates per ef_search) and the pgbench scripts semantic_*.sql (run.sh).
\set ON_ERROR_STOP on
CREATE SCHEMA IF NOT EXISTS pgcache_proto;
DROP TABLE IF EXISTS pgcache_proto.semq;
CREATE TABLE pgcache_proto.semq (i int, kind text, key text, v public.vector(1536), PRIMARY KEY (kind, i));
SELECT setseed(0.17);
CREATE TEMP TABLE picked AS
SELECT row_number() OVER () AS i, key, embedding
  FROM (SELECT key, embedding FROM pgcache.cache_bench_semantic ORDER BY hashtext(key) LIMIT 1000) s;
-- Gaussian noise (Box-Muller), scaled to the norm asked for.
CREATE TEMP TABLE noise AS
SELECT p.i, public.l2_normalize(n.g::real[]::public.vector(1536))::real[] AS unit
  FROM picked p,
       LATERAL (SELECT array_agg(sqrt(-2 * ln(1 - random())) * cos(2 * pi() * random()) ORDER BY d) AS g
                  FROM generate_series(1, 1536) d WHERE p.i > 0) n;
INSERT INTO pgcache_proto.semq SELECT p.i, 'exact', p.key, p.embedding::public.vector(1536) FROM picked p;
INSERT INTO pgcache_proto.semq
SELECT p.i, k.kind, p.key,
       (SELECT array_agg(x + k.norm * y ORDER BY o) FROM unnest(p.embedding, n.unit) WITH ORDINALITY u(x, y, o))::public.vector(1536)
  FROM picked p JOIN noise n USING (i), (VALUES ('near', 0.1), ('far', 0.3)) k(kind, norm);
INSERT INTO pgcache_proto.semq
SELECT g, 'never', NULL,
       public.l2_normalize((SELECT array_agg(sqrt(-2 * ln(1 - random())) * cos(2 * pi() * random()))::real[]
                              FROM generate_series(1, 1536) WHERE g > 0)::public.vector(1536))
  FROM generate_series(1, 1000) g;
SELECT kind, count(*), round(avg(q.v OPERATOR(public.<=>) e.embedding::public.vector(1536))::numeric, 4) AS mean_distance_to_own
  FROM pgcache_proto.semq q LEFT JOIN pgcache.cache_bench_semantic e USING (key) GROUP BY kind ORDER BY kind;

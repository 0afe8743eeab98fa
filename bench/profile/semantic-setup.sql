-- The semantic lookup at 100,000 x 1536 in a scratch schema pgcache_semproto: the same deterministic unit
-- vectors as bench/scenarios/semantic.ts, the HNSW index pgcache builds (partial on the model; m and
-- ef_construction as given, pgvector's 16 and 64 by default; maintenance_work_mem large enough for the graph to
-- be built in memory), and an index on a hash of the embedding for an exact-repeat probe. A scratch copy for
-- trying build parameters; semantic.sql and semantic-found.sql read the bench's own table.
-- Usage: psql -v n=100000 [-v m=16 -v efc=64] -f bench/profile/semantic-setup.sql
\set ON_ERROR_STOP on
\if :{?m}
\else
  \set m 16
\endif
\if :{?efc}
\else
  \set efc 64
\endif
DROP SCHEMA IF EXISTS pgcache_semproto CASCADE;
CREATE SCHEMA pgcache_semproto;
CREATE TABLE pgcache_semproto.sem (
  key text COLLATE "C" PRIMARY KEY,
  version integer NOT NULL DEFAULT 1,
  model text NOT NULL,
  scope text,
  embedding real[] NOT NULL,
  value_text text NOT NULL,
  expires_at timestamptz NOT NULL DEFAULT now() + interval '1 day'
);
INSERT INTO pgcache_semproto.sem (key, model, embedding, value_text)
SELECT 'r' || g, 'bench-1536',
       public.l2_normalize(ARRAY(SELECT (hashint8extended(g::bigint * 4096 + i, 7) & 16777215) * (1.0::real / 16777215) - 0.5::real
                                   FROM generate_series(1, 1536) i)::public.vector)::real[],
       'response ' || g
  FROM generate_series(1, :n) g;
SET maintenance_work_mem = '2GB';
\timing on
CREATE INDEX sem_hnsw ON pgcache_semproto.sem USING hnsw ((embedding::vector(1536)) vector_cosine_ops) WITH (m = :m, ef_construction = :efc)
  WHERE model = 'bench-1536';
CREATE INDEX sem_exact ON pgcache_semproto.sem (model, hash_array(embedding));
\timing off
VACUUM ANALYZE pgcache_semproto.sem;

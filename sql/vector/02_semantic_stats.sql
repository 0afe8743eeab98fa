-- How right semantic hits are, and the limits operators put on them. Every semantic lookup adds its nearest
-- cosine distance, hit or miss, to a histogram per (type, model) in buckets 0.01 wide, so operators see how
-- close misses come to the threshold and choose it from data (cache_semantic_distances, `pgcache
-- semantic-stats`). Callers report wrong and right hits (cache_semantic_feedback), and a client-side verifier
-- its rejections; both are counted per (type, model) (cache_semantic_quality). Operators set a largest
-- distance per type and per tenant (cache_configure_semantic_max_distance) that a lookup may ask below, never above.
-- Counters are sharded by backend pid as the savings are (core/22_savings.sql).

-- Buckets: 0 to 199 hold distances [b/100, (b+1)/100) (199 also holds 2.0); -1 a lookup that found no candidate.
-- UNLOGGED, like the statistics PostgreSQL keeps itself: a lookup writes no WAL and its commit waits for no
-- flush; a clean restart keeps the histogram, a crash empties it.
CREATE UNLOGGED TABLE IF NOT EXISTS cache_semantic_histogram (
  type_id smallint NOT NULL REFERENCES cache_types (id) ON DELETE CASCADE,
  model   text NOT NULL,
  bucket  smallint NOT NULL CHECK (bucket BETWEEN -1 AND 199),
  shard   smallint NOT NULL,
  hits    bigint NOT NULL DEFAULT 0,
  misses  bigint NOT NULL DEFAULT 0,
  PRIMARY KEY (type_id, model, bucket, shard)
);
COMMENT ON TABLE cache_semantic_histogram IS
  'pgcache nearest cosine distance of every semantic lookup per type and model, in buckets 0.01 wide (-1: no candidate), as hits and misses. Read cache_semantic_distances.';

CREATE TABLE IF NOT EXISTS cache_semantic_feedback_counts (
  type_id             smallint NOT NULL REFERENCES cache_types (id) ON DELETE CASCADE,
  model               text NOT NULL,
  shard               smallint NOT NULL,
  correct_hits        bigint NOT NULL DEFAULT 0,
  wrong_hits          bigint NOT NULL DEFAULT 0,
  verifier_rejections bigint NOT NULL DEFAULT 0,
  PRIMARY KEY (type_id, model, shard)
);
COMMENT ON TABLE cache_semantic_feedback_counts IS
  'pgcache semantic hits reported right or wrong by callers, and rejected by a client-side verifier, per type and model.';

-- The largest cosine distance a lookup of a type may accept: for the whole type (tenant NULL) and per tenant
-- (the lookup's scope). A lookup asking for more gets the least of the limits that apply.
CREATE TABLE IF NOT EXISTS cache_semantic_limits (
  type_id      smallint NOT NULL REFERENCES cache_types (id) ON DELETE CASCADE,
  tenant       text,
  max_distance double precision NOT NULL CHECK (max_distance BETWEEN 0 AND 2),
  UNIQUE NULLS NOT DISTINCT (type_id, tenant)
);
COMMENT ON TABLE cache_semantic_limits IS
  'pgcache largest cosine distance semantic lookups of a type (tenant NULL) or of one tenant of it may accept; requests only tighten it.';

CREATE OR REPLACE FUNCTION cache_configure_semantic_max_distance(p_type text, p_max_distance double precision,
                                                           p_tenant text DEFAULT NULL) RETURNS boolean
LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
DECLARE
  t cache_types := _type(p_type);
BEGIN
  IF p_max_distance < 0 OR p_max_distance > 2 OR p_max_distance = 'NaN' THEN
    RAISE EXCEPTION 'pgcache: argument "max_distance" must be a cosine distance from 0 to 2 (NULL removes the limit), got %',
      p_max_distance USING ERRCODE = 'PC010';
  END IF;
  IF p_tenant = '' OR octet_length(p_tenant) > 1024 THEN
    RAISE EXCEPTION 'pgcache: argument "tenant" must be NULL (the whole type) or a scope of 1-1024 bytes' USING ERRCODE = 'PC010';
  END IF;
  IF p_max_distance IS NULL THEN
    DELETE FROM cache_semantic_limits WHERE type_id = t.id AND tenant IS NOT DISTINCT FROM p_tenant;
    RETURN FOUND;
  END IF;
  INSERT INTO cache_semantic_limits AS l (type_id, tenant, max_distance) VALUES (t.id, p_tenant, p_max_distance)
  ON CONFLICT (type_id, tenant) DO UPDATE SET max_distance = excluded.max_distance;
  RETURN true;
END $$;
COMMENT ON FUNCTION cache_configure_semantic_max_distance(text, double precision, text) IS
  'Sets (NULL: removes) the largest cosine distance semantic lookups of a type, or of one tenant (scope) of it, accept (admin). Lookups may ask for less, never more.';

-- The distance a lookup may accept: the least of what it asks and the limits of its type and tenant.
CREATE OR REPLACE FUNCTION _semantic_max_distance(t cache_types, p_scope text, p_requested double precision)
RETURNS double precision
LANGUAGE sql STABLE AS $$
  SELECT least(p_requested, min(l.max_distance))
    FROM cache_semantic_limits l
   WHERE l.type_id = t.id AND (l.tenant IS NULL OR l.tenant = p_scope)
$$;
COMMENT ON FUNCTION _semantic_max_distance(cache_types, text, double precision) IS
  'pgcache internal: the largest distance a semantic lookup may accept, its request tightened by the type''s and tenant''s limits.';

-- Adds one lookup to the histogram: its nearest distance (NULL: no candidate) and whether it was a hit.
CREATE OR REPLACE FUNCTION _semantic_record(t cache_types, p_model text, p_nearest double precision, p_hit boolean)
RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
  IF current_setting('transaction_read_only')::boolean THEN
    RETURN;  -- a standby or a read-only transaction serves without counting
  END IF;
  INSERT INTO cache_semantic_histogram AS h (type_id, model, bucket, shard, hits, misses)
  VALUES (t.id, p_model, CASE WHEN p_nearest IS NULL THEN -1 ELSE least(floor(greatest(p_nearest, 0) * 100), 199) END, pg_backend_pid() % 16,
          CASE WHEN p_hit THEN 1 ELSE 0 END, CASE WHEN p_hit THEN 0 ELSE 1 END)
  ON CONFLICT (type_id, model, bucket, shard) DO UPDATE
     SET hits = h.hits + excluded.hits, misses = h.misses + excluded.misses;
END $$;
COMMENT ON FUNCTION _semantic_record(cache_types, text, double precision, boolean) IS
  'pgcache internal: adds a semantic lookup''s nearest distance (hit or miss) to the histogram of its type and model.';

-- A caller's report on a semantic hit it was served (p_key, its key): right or wrong, counted per type and
-- the entry's model. p_source 'verifier' counts a rejection by a client-side verifier (p_correct false).
-- False when the entry is gone (expired or overwritten by then): nothing is counted.
CREATE OR REPLACE FUNCTION cache_semantic_feedback(p_type text, p_key text, p_correct boolean,
                                                   p_source text DEFAULT 'caller') RETURNS boolean
LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
DECLARE
  t cache_types := _type(p_type);
  entry_model text;
BEGIN
  PERFORM _check_key(p_key);
  IF p_correct IS NULL OR p_source IS NULL OR p_source NOT IN ('caller', 'verifier') OR (p_source = 'verifier' AND p_correct) THEN
    RAISE EXCEPTION 'pgcache: arguments "correct" must be true or false and "source" caller or verifier (a verifier reports rejections, correct false)'
      USING ERRCODE = 'PC010';
  END IF;
  IF t.tenant_scoped THEN
    t.version := _tenant_version(t);
  END IF;
  SELECT e.model INTO entry_model FROM entries e
   WHERE e.type_id = t.id AND e.key = _stored_key(t, p_key) AND e.version = t.version AND e.expires_at > now()
     AND e.embedding IS NOT NULL;
  IF entry_model IS NULL THEN
    RETURN false;
  END IF;
  INSERT INTO cache_semantic_feedback_counts AS f (type_id, model, shard, correct_hits, wrong_hits, verifier_rejections)
  VALUES (t.id, entry_model, pg_backend_pid() % 16,
          CASE WHEN p_correct THEN 1 ELSE 0 END,
          CASE WHEN NOT p_correct AND p_source = 'caller' THEN 1 ELSE 0 END,
          CASE WHEN p_source = 'verifier' THEN 1 ELSE 0 END)
  ON CONFLICT (type_id, model, shard) DO UPDATE
     SET correct_hits = f.correct_hits + excluded.correct_hits, wrong_hits = f.wrong_hits + excluded.wrong_hits,
         verifier_rejections = f.verifier_rejections + excluded.verifier_rejections;
  RETURN true;
END $$;
COMMENT ON FUNCTION cache_semantic_feedback(text, text, boolean, text) IS
  'Reports a semantic hit (by its key) right or wrong (source caller), or rejected by a client-side verifier (source verifier); counted per type and model. False if the entry is gone.';

CREATE OR REPLACE VIEW cache_semantic_distances AS
SELECT t.name AS cache_type, h.model, h.bucket,
       CASE WHEN h.bucket >= 0 THEN h.bucket / 100.0 END::double precision AS distance_from,
       CASE WHEN h.bucket >= 0 THEN (h.bucket + 1) / 100.0 END::double precision AS distance_to,
       sum(h.hits)::bigint AS hits, sum(h.misses)::bigint AS misses
  FROM cache_semantic_histogram h
  JOIN cache_types t ON t.id = h.type_id
 GROUP BY t.name, h.model, h.bucket;
COMMENT ON VIEW cache_semantic_distances IS
  'Semantic lookups per type, model and nearest cosine distance (buckets 0.01 wide; bucket -1: no candidate), as hits and misses.';

CREATE OR REPLACE VIEW cache_semantic_quality AS
WITH lookups AS (
  SELECT h.type_id, h.model, sum(h.hits)::bigint AS hits, sum(h.misses)::bigint AS misses
    FROM cache_semantic_histogram h GROUP BY h.type_id, h.model
), feedback AS (
  SELECT f.type_id, f.model, sum(f.correct_hits)::bigint AS correct_hits, sum(f.wrong_hits)::bigint AS wrong_hits,
         sum(f.verifier_rejections)::bigint AS verifier_rejections
    FROM cache_semantic_feedback_counts f GROUP BY f.type_id, f.model
)
SELECT t.name AS cache_type, coalesce(l.model, f.model) AS model,
       coalesce(l.hits, 0) + coalesce(l.misses, 0) AS lookups, coalesce(l.hits, 0) AS hits, coalesce(l.misses, 0) AS misses,
       coalesce(f.correct_hits, 0) AS correct_hits, coalesce(f.wrong_hits, 0) AS wrong_hits,
       coalesce(f.verifier_rejections, 0) AS verifier_rejections,
       (SELECT m.max_distance FROM cache_semantic_limits m WHERE m.type_id = t.id AND m.tenant IS NULL) AS type_max_distance
  FROM lookups l
  FULL JOIN feedback f ON f.type_id = l.type_id AND f.model = l.model
  JOIN cache_types t ON t.id = coalesce(l.type_id, f.type_id);
COMMENT ON VIEW cache_semantic_quality IS
  'Semantic lookups per type and model: hits, misses, hits reported right and wrong, verifier rejections and the type''s distance limit.';

-- Who may call the functions of this file (pgcache_functions; core/30_security.sql grants by it).
INSERT INTO pgcache_functions (function_name, role_group) VALUES
  ('cache_semantic_feedback', 'reader'),
  ('cache_configure_semantic_max_distance', 'admin'),
  ('_semantic_max_distance', 'internal'),
  ('_semantic_record', 'internal')
ON CONFLICT (function_name) DO UPDATE SET role_group = excluded.role_group;

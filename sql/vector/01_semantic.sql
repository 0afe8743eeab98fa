-- Semantic lookup: find a cached entry by the nearest embedding (cosine distance) within a model and scope.
-- pgvector's HNSW indexes need a fixed width, so each (type, model) pair gets a partial expression index
-- on embedding::vector(<width of the model>) WHERE model = '<model>': 768-, 1536- and 3072-wide models share
-- one table, each with its own index. HNSW indexes vector up to 2000 dimensions and halfvec up to 4000, so
-- wider models (3072) are indexed and searched as halfvec: half the index size, a little precision lost.
-- pgvector's schema is on the search_path while this file runs, as in 00_vector.sql.
DO $$
BEGIN
  PERFORM set_config('search_path', format('%I, %s, pg_temp', current_schema(),
    (SELECT x.extnamespace::regnamespace::text FROM pg_extension x WHERE x.extname = 'vector')), true);
END $$;


DROP FUNCTION IF EXISTS cache_set_with_embedding(text, text, text, vector, text, interval, text, jsonb);  -- before tags
CREATE OR REPLACE FUNCTION cache_set_with_embedding(p_type text, p_key text, p_value text, p_embedding vector,
                                                    p_model text, p_ttl interval, p_scope text DEFAULT NULL,
                                                    p_meta jsonb DEFAULT NULL, p_tags text[] DEFAULT NULL) RETURNS timestamptz
LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
BEGIN
  RETURN cache_set_with_embedding(p_type, p_key, p_value, p_embedding::real[], p_model, p_ttl, p_scope, p_meta, p_tags);
END $$;
COMMENT ON FUNCTION cache_set_with_embedding(text, text, text, vector, text, interval, text, jsonb, text[]) IS
  'Stores a text value with the pgvector embedding (of model) it is found by in semantic lookups, within scope.';

-- pgvector's schema, quoted, for the dynamic SQL below: every pgvector type, operator and operator class is
-- named with it, never found through the search_path.
CREATE OR REPLACE FUNCTION _vector_schema() RETURNS text
LANGUAGE sql STABLE SET search_path FROM CURRENT AS $$
  SELECT x.extnamespace::regnamespace::text FROM pg_extension x WHERE x.extname = 'vector'
$$;

-- The width registered for a model, or PC010.
CREATE OR REPLACE FUNCTION _model_width(p_model text) RETURNS integer
LANGUAGE plpgsql STABLE SET search_path FROM CURRENT AS $$
DECLARE
  width integer;
BEGIN
  SELECT dimensions INTO width FROM cache_models WHERE model = p_model;
  IF width IS NULL THEN
    RAISE EXCEPTION 'pgcache: argument "model" % has no registered width; store one of its vectors first', quote_literal(p_model)
      USING ERRCODE = 'PC010';
  END IF;
  RETURN width;
END $$;

-- The pgvector type a model's embeddings are indexed and compared as.
CREATE OR REPLACE FUNCTION _semantic_type(p_width integer) RETURNS text
LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
  IF p_width > 4000 THEN
    RAISE EXCEPTION 'pgcache: semantic lookup supports models of at most 4000 dimensions, got %', p_width
      USING ERRCODE = 'PC010';
  END IF;
  RETURN CASE WHEN p_width <= 2000 THEN 'vector' ELSE 'halfvec' END;
END $$;

-- The name of the HNSW index of (type, model): the type's table name (cut to 25 characters) and the whole
-- md5 of type id and model, at most 63 bytes. Models whose md5 share a prefix, and types whose names share
-- their first 25 characters, get different names.
CREATE OR REPLACE FUNCTION _semantic_index_name(t cache_types, p_model text) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
  SELECT left(t.table_name, 25) || '_hnsw_' || md5(t.id || ':' || p_model)
$$;

-- Creates (if missing) the HNSW index that semantic lookups of (type, model) use; returns its name.
-- It runs CREATE INDEX, which blocks writes to the type's table while it builds: on a large table, run the
-- statement from cache_semantic_index_sql() yourself with CONCURRENTLY instead.
CREATE OR REPLACE FUNCTION cache_semantic_index_sql(p_type text, p_model text, p_concurrently boolean DEFAULT false)
RETURNS text
LANGUAGE plpgsql STABLE SET search_path FROM CURRENT AS $$
DECLARE
  t cache_types := _type(p_type);
  width integer := _model_width(p_model);
  kind text := _semantic_type(width);
BEGIN
  RETURN format('CREATE INDEX %s IF NOT EXISTS %I ON %I.%I USING hnsw ((embedding::%s.%s(%s)) %s.%s) WHERE model = %L',
    CASE WHEN p_concurrently THEN 'CONCURRENTLY' ELSE '' END,
    _semantic_index_name(t, p_model), current_schema(), t.table_name, _vector_schema(), kind, width,
    _vector_schema(), kind || '_cosine_ops', p_model);
END $$;
COMMENT ON FUNCTION cache_semantic_index_sql(text, text, boolean) IS
  'The CREATE INDEX statement of the HNSW index for semantic lookups of (type, model), optionally CONCURRENTLY.';

-- The exact-repeat probe of a type's table: a B-tree on (model, hash_array(embedding)), one per table for
-- every model. A lookup checks it before any graph search; hash_array(embedding) = hash_array(query) AND
-- embedding = query, the equality guarding against hash collisions. Exact repeats are answered from it
-- alone, and so is every lookup with a maximum distance of 0.
CREATE OR REPLACE FUNCTION _semantic_probe_index_name(t cache_types) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
  SELECT left(t.table_name, 25) || '_hash_' || md5(t.id || ':embedding')
$$;
COMMENT ON FUNCTION _semantic_probe_index_name(cache_types) IS
  'pgcache internal: the name of the exact-repeat probe index of a type''s table.';

CREATE OR REPLACE FUNCTION _semantic_probe_index_sql(t cache_types) RETURNS text
LANGUAGE sql STABLE AS $$
  SELECT format('CREATE INDEX IF NOT EXISTS %I ON %I.%I (model, hash_array(embedding)) WHERE embedding IS NOT NULL',
    _semantic_probe_index_name(t), current_schema(), t.table_name)
$$;
COMMENT ON FUNCTION _semantic_probe_index_sql(cache_types) IS
  'pgcache internal: the CREATE INDEX statement of the exact-repeat probe index, a B-tree on (model, hash_array(embedding)).';

-- The lookup function of (type, model), created by cache_semantic_index: named by the OID of the type's
-- table (a dropped and re-created type gets new ones) and the md5 of the model. NULL when the table is gone.
CREATE OR REPLACE FUNCTION _semantic_lookup_name(t cache_types, p_model text) RETURNS text
LANGUAGE sql STABLE AS $$
  SELECT '_semantic_lookup_' || to_regclass(format('%I.%I', current_schema(), t.table_name))::oid || '_' || md5(p_model)
$$;
COMMENT ON FUNCTION _semantic_lookup_name(cache_types, text) IS
  'pgcache internal: the name of the lookup function of (type, model), by the OID of the type''s table and the md5 of the model.';

-- hnsw.ef_search of the graph search (candidates kept per HNSW search); the exact probe answers exact
-- repeats, so this only has to find near ones. The lookup sets it in its body and restores it before
-- returning (a non-superuser may put SET hnsw.* on a function only once pgvector is loaded in the session).
-- 'auto' (the default) scales it with the graph: one candidate per 500 rows of the model's HNSW index
-- (pg_class.reltuples, kept by CREATE INDEX, VACUUM and ANALYZE; the largest partition's on a
-- hash-partitioned type), at least pgvector's default of 40, at most 200. Measured on random 1536-wide
-- vectors (docs/performance.md): at 10,000 rows 40 finds 998 near repeats in 1,000; at 100,000 it finds about
-- 7 in 10 and 200 about 99 in 100. A search costs about linearly in ef_search, so a small graph should not
-- pay for a large one's recall. An integer fixes it instead.
INSERT INTO cache_settings (name, value, description) VALUES
  ('semantic.ef_search', 'auto',
   'hnsw.ef_search of semantic lookups (recall against speed): auto (rows of the model''s index / 500, from 40 to 200) or an integer; applies to lookup functions cache_semantic_index creates after the change')
ON CONFLICT (name) DO NOTHING;

-- The setting as a number, NULL for 'auto'.
CREATE OR REPLACE FUNCTION _semantic_ef_search() RETURNS integer
LANGUAGE plpgsql STABLE AS $$
DECLARE
  v text := _setting('semantic.ef_search');
BEGIN
  IF v = 'auto' THEN
    RETURN NULL;
  END IF;
  IF v !~ '^[0-9]{1,4}$' OR v::integer NOT BETWEEN 1 AND 1000 THEN
    RAISE EXCEPTION 'pgcache: setting "semantic.ef_search" must be auto or an integer from 1 to 1000, got %', quote_literal(v)
      USING ERRCODE = 'PC010';
  END IF;
  RETURN v::integer;
END $$;
COMMENT ON FUNCTION _semantic_ef_search() IS
  'pgcache internal: hnsw.ef_search of a semantic lookup''s graph search (NULL: scaled with the index, see semantic.ef_search).';

-- (Re)creates the lookup function of (type, model): static SQL with the model, width, table and every
-- pgvector name (qualified) as literals, so PL/pgSQL plans each statement once per session (a generic plan:
-- planning a query with a 6 KB vector parameter takes milliseconds), never JIT-compiles, and the planner
-- matches the partial HNSW index on cost alone. $1 query, $2 scope, $3 version, $4 limit, $5 maximum cosine
-- distance, $6 the type (for the user's key of a tenant-scoped type). Executable by the owner only; lookups
-- of the model's other tables stay with their own functions. Drops the lookup functions of dropped tables.
CREATE OR REPLACE FUNCTION _semantic_lookup_create(t cache_types, p_model text) RETURNS text
LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
DECLARE
  width integer := _model_width(p_model);
  kind text := _semantic_type(width);
  vs text := _vector_schema();
  fn text := _semantic_lookup_name(t, p_model);
  sig text;
  stale record;
BEGIN
  FOR stale IN SELECT p.oid::regprocedure AS sig FROM pg_proc p
                WHERE p.pronamespace = current_schema()::regnamespace AND p.proname ~ '^_semantic_lookup_[0-9]+_[0-9a-f]{32}$'
                  AND NOT EXISTS (SELECT 1 FROM pg_class c
                                   WHERE c.oid = split_part(substr(p.proname, 18), '_', 1)::oid
                                     AND c.relnamespace = current_schema()::regnamespace) LOOP
    EXECUTE format('DROP FUNCTION %s', stale.sig);
  END LOOP;
  EXECUTE format($f$
CREATE OR REPLACE FUNCTION %1$I.%2$I(p_query %3$s.vector, p_scope text, p_version integer, p_limit integer,
                                     p_max float8, t %1$I.cache_types)
RETURNS TABLE (key text, value_text text, value_json jsonb, model text, meta jsonb, scope text, cosine_distance float8)
LANGUAGE plpgsql STABLE
SET search_path = %1$I, pg_temp
SET jit = off
SET plan_cache_mode = force_generic_plan AS $body$
#variable_conflict use_column
DECLARE
  v real[] := p_query::real[];
  q %3$s.%4$s(%5$s) := p_query::%3$s.%4$s(%5$s);
  ef text := current_setting('hnsw.ef_search', true);
  n integer;
BEGIN
  -- The exact-repeat probe.
  RETURN QUERY
    SELECT _user_key(t, e.key), e.value_text, e.value_json, e.model, e.meta, e.scope, 0::float8
      FROM %1$I.%6$I e
     WHERE e.model = %7$L AND e.embedding IS NOT NULL AND hash_array(e.embedding) = hash_array(v) AND e.embedding = v
       AND e.scope IS NOT DISTINCT FROM p_scope AND e.version = p_version AND e.expires_at > now()
     LIMIT p_limit;
  GET DIAGNOSTICS n = ROW_COUNT;
  IF n >= p_limit OR p_max = 0 THEN
    RETURN;
  END IF;
  -- The graph search. Scope, version and expiry are one opaque condition, which the planner estimates at
  -- one half whatever the statistics say (a generic plan knows no scope, and scope IS NOT DISTINCT FROM $2
  -- alone is estimated at a row): it filters during the (iterative) HNSW scan, and the planner does not
  -- prefer sorting what a B-tree index or a sequential scan returns. LIMIT 1, the common case, is a literal
  -- for the same reason (a generic plan takes LIMIT $n for a tenth of the rows). Exact matches the probe
  -- returned are not returned twice.
  PERFORM set_config('hnsw.ef_search', %8$s, true);
  IF p_limit = 1 THEN
    RETURN QUERY
    SELECT _user_key(t, s.key), s.value_text, s.value_json, s.model, s.meta, s.scope, s.distance
      FROM (SELECT e.key, e.value_text, e.value_json, e.model, e.meta, e.scope, e.embedding = v AS exact,
                   (e.embedding::%3$s.%4$s(%5$s) OPERATOR(%3$s.<=>) q)::float8 AS distance
              FROM %1$I.%6$I e
             WHERE e.model = %7$L AND e.embedding IS NOT NULL
               AND CASE WHEN e.scope IS NOT DISTINCT FROM p_scope AND e.version = p_version AND e.expires_at > now()
                        THEN true ELSE false END
             ORDER BY e.embedding::%3$s.%4$s(%5$s) OPERATOR(%3$s.<=>) q
             LIMIT 1) s
     WHERE s.distance <= p_max;
  ELSE
    RETURN QUERY
    SELECT _user_key(t, s.key), s.value_text, s.value_json, s.model, s.meta, s.scope, s.distance
      FROM (SELECT e.key, e.value_text, e.value_json, e.model, e.meta, e.scope, e.embedding = v AS exact,
                   (e.embedding::%3$s.%4$s(%5$s) OPERATOR(%3$s.<=>) q)::float8 AS distance
              FROM %1$I.%6$I e
             WHERE e.model = %7$L AND e.embedding IS NOT NULL
               AND CASE WHEN e.scope IS NOT DISTINCT FROM p_scope AND e.version = p_version AND e.expires_at > now()
                        THEN true ELSE false END
             ORDER BY e.embedding::%3$s.%4$s(%5$s) OPERATOR(%3$s.<=>) q
             LIMIT p_limit) s
     WHERE s.distance <= p_max AND NOT (n > 0 AND s.exact)
     ORDER BY s.distance
     LIMIT p_limit - n;
  END IF;
  PERFORM set_config('hnsw.ef_search', ef, true);
END $body$ $f$, current_schema(), fn, vs, kind, width, t.table_name, p_model,
    coalesce(quote_literal(_semantic_ef_search()::text),
             -- auto: from the size of the graph (of the largest one, on a hash-partitioned type: each
             -- partition's graph is searched on its own; pg_partition_tree lists nothing for a plain
             -- index); 200 if the index is gone
             format($e$(SELECT CASE WHEN max(c.reltuples) IS NULL THEN '200'
                                    ELSE least(200, greatest(40, ceil(max(c.reltuples) / 500)))::integer::text END
                          FROM pg_catalog.pg_class c
                         WHERE c.oid = pg_catalog.to_regclass(%1$L)
                            OR c.oid IN (SELECT p.relid FROM pg_catalog.pg_partition_tree(pg_catalog.to_regclass(%1$L)) p
                                          WHERE p.isleaf))$e$,
                    format('%I.%I', current_schema(), _semantic_index_name(t, p_model)))));
  sig := format('%I.%I(%s.vector, text, integer, integer, float8, %I.cache_types)', current_schema(), fn, vs, current_schema());
  EXECUTE format('REVOKE ALL ON FUNCTION %s FROM PUBLIC', sig);
  EXECUTE format('COMMENT ON FUNCTION %s IS %L', sig,
    format('pgcache semantic lookup of type %s, model %s (created by cache_semantic_index; internal).', t.name, p_model));
  RETURN fn;
END $$;
COMMENT ON FUNCTION _semantic_lookup_create(cache_types, text) IS
  'pgcache internal: (re)creates the lookup function of (type, model) with static SQL; returns its name.';

CREATE OR REPLACE FUNCTION cache_semantic_index(p_type text, p_model text) RETURNS text
LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
DECLARE
  t cache_types := _type(p_type);
BEGIN
  EXECUTE cache_semantic_index_sql(p_type, p_model);
  EXECUTE _semantic_probe_index_sql(t);
  PERFORM _semantic_lookup_create(t, p_model);
  RETURN _semantic_index_name(t, p_model);
END $$;
COMMENT ON FUNCTION cache_semantic_index(text, text) IS
  'Creates the HNSW index semantic lookups of (type, model) use, if missing, the exact-repeat probe index and the lookup function; returns the HNSW index''s name. Blocks writes while building (after building it CONCURRENTLY yourself, call it for the rest).';

-- The lookup query for one (type, model): literal model and width, so the planner matches the partial
-- index; $1 query vector, $2 scope, $3 version, $4 candidates. Exposed for EXPLAIN in tests and by operators.
CREATE OR REPLACE FUNCTION _semantic_sql(t cache_types, p_model text, p_width integer) RETURNS text
LANGUAGE sql STABLE SET search_path FROM CURRENT AS $$
  SELECT format($q$
    SELECT key, value_text, value_json, model, meta, scope,
           (embedding::%6$s.%5$s(%1$s) OPERATOR(%6$s.<=>) $1::%6$s.%5$s(%1$s))::float8 AS distance,
           embedding = $1::real[] AS exact
      FROM %2$I.%3$I
     WHERE model = %4$L AND scope IS NOT DISTINCT FROM $2 AND embedding IS NOT NULL
       -- Written so the btree expiry index cannot serve them: the planner takes the HNSW index and
       -- filters these during its (iterative) scan instead of sorting every live row by distance.
       AND version + 0 = $3 AND (expires_at > now()) IS TRUE
     ORDER BY embedding::%6$s.%5$s(%1$s) OPERATOR(%6$s.<=>) $1::%6$s.%5$s(%1$s)
     LIMIT $4 $q$, p_width, current_schema(), t.table_name, p_model, _semantic_type(p_width), _vector_schema())
$$;

-- The nearest live entries to p_embedding among entries of model p_model in scope p_scope (NULL: the
-- global scope only; another scope never matches), whose cosine distance is at most p_max_distance.
-- Cosine distance runs from 0 (same direction) to 2 (opposite); 0 means exact matches only. The default,
-- 0.05, is tight: paraphrases of one question, not answers to a different one. Limits operators set for the
-- type or the scope (cache_configure_semantic_max_distance) cap it. Each lookup adds its nearest distance, hit or
-- miss, to the histogram of (type, model) (vector/02_semantic_stats.sql).
CREATE OR REPLACE FUNCTION cache_semantic_get(
  p_type text, p_embedding vector, p_model text,
  p_max_cosine_distance float8 DEFAULT 0.05, p_scope text DEFAULT NULL, p_limit integer DEFAULT 1
) RETURNS TABLE (key text, value_text text, value_json jsonb, model text, meta jsonb, scope text, cosine_distance float8)
LANGUAGE plpgsql SET search_path FROM CURRENT
-- Iterative index scans (pgvector 0.8) keep a selective scope filter from starving the result set.
SET hnsw.iterative_scan = strict_order
-- A lookup's plans cost little to run; JIT would compile them on every call.
SET jit = off AS $$
DECLARE
  t cache_types := _type(p_type);
  width integer;
  lookup text;
  candidates text;
  r record;
  nearest float8;
  served integer := 0;
BEGIN
  IF p_max_cosine_distance IS NULL OR p_max_cosine_distance < 0 OR p_max_cosine_distance > 2
     OR p_max_cosine_distance = 'NaN' THEN
    RAISE EXCEPTION 'pgcache: argument "max_cosine_distance" must be a cosine distance from 0 to 2, got %',
      coalesce(p_max_cosine_distance::text, 'NULL') USING ERRCODE = 'PC010';
  END IF;
  IF p_embedding IS NULL THEN
    RAISE EXCEPTION 'pgcache: argument "embedding" must not be NULL' USING ERRCODE = 'PC010';
  END IF;
  PERFORM _check_model(p_model);
  PERFORM _check_batch('limit', p_limit, 100);
  IF t.tenant_scoped THEN
    p_scope := _tenant(t);  -- a tenant's lookups see only its own entries, whatever scope it asks for
    t.version := _tenant_version(t);
  END IF;
  SELECT dimensions INTO width FROM cache_models WHERE cache_models.model = p_model;
  IF width IS NULL THEN
    RETURN;  -- nothing was ever stored for this model
  END IF;
  IF cardinality(p_embedding::real[]) <> width THEN
    RAISE EXCEPTION 'pgcache: argument "embedding" has % dimensions; model "%" is registered with %',
      cardinality(p_embedding::real[]), p_model, width USING ERRCODE = 'PC006';
  END IF;
  -- Operators' limits of the type and the tenant: a request may only tighten them (02_semantic_stats.sql).
  p_max_cosine_distance := _semantic_max_distance(t, p_scope, p_max_cosine_distance);
  -- The nearest candidates whatever their distance (2 is the largest), so a miss records how near it came;
  -- only those within the threshold are returned. An exact-only lookup (0) looks for exact repeats alone.
  -- The lookup function cache_semantic_index created for (type, model): its statements are planned once.
  lookup := _semantic_lookup_name(t, p_model);
  IF to_regproc(quote_ident(current_schema()) || '.' || quote_ident(lookup)) IS NOT NULL THEN
    candidates := format('SELECT * FROM %I.%I($1, $2, $3, $4, $5, $6)', current_schema(), lookup);
  ELSE
    -- No index for (type, model): an exact search over the model's entries.
    candidates := format(
      'SELECT _user_key($6, key) AS key, value_text, value_json, model, meta, scope, distance AS cosine_distance FROM (%s) found
        WHERE CASE WHEN $5 = 0 THEN exact ELSE distance <= $5 END ORDER BY distance',
      _semantic_sql(t, p_model, width));
  END IF;
  FOR r IN EXECUTE candidates
    USING p_embedding, p_scope, t.version, p_limit, CASE WHEN p_max_cosine_distance = 0 THEN 0 ELSE 2 END, t LOOP
    nearest := least(nearest, r.cosine_distance);
    CONTINUE WHEN r.cosine_distance > p_max_cosine_distance;
    served := served + 1;
    key := r.key; value_text := r.value_text; value_json := r.value_json; model := r.model; meta := r.meta;
    scope := r.scope; cosine_distance := r.cosine_distance;
    IF r.meta ? 'pgcache_cost' AND NOT current_setting('transaction_read_only')::boolean THEN
      PERFORM _save_hit(t, r.meta -> 'pgcache_cost', r.scope);  -- core/22_savings.sql
    END IF;
    RETURN NEXT;
  END LOOP;
  PERFORM _semantic_record(t, p_model, nearest, served > 0);
END $$;
COMMENT ON FUNCTION cache_semantic_get(text, vector, text, float8, text, integer) IS
  'Semantic lookup: the nearest live entries of model and scope whose COSINE DISTANCE (0..2; 0 = exact only) is at most max_cosine_distance (default 0.05), nearest first.';

-- Installs and upgrades bring the probe index and the lookup function to every (type, model) that has its
-- HNSW index, and re-create the functions from the current text.
DO $$
DECLARE
  t cache_types;
  m record;
BEGIN
  FOR t IN SELECT * FROM cache_types LOOP
    FOR m IN SELECT model FROM cache_models LOOP
      IF to_regclass(format('%I.%I', current_schema(), _semantic_index_name(t, m.model))) IS NOT NULL THEN
        EXECUTE _semantic_probe_index_sql(t);
        PERFORM _semantic_lookup_create(t, m.model);
      END IF;
    END LOOP;
  END LOOP;
END $$;

-- Back to the pinned path for the files that follow.
DO $$
BEGIN
  PERFORM set_config('search_path', format('%I, pg_temp', current_schema()), true);
END $$;

-- Who may call the functions of this file (pgcache_functions; core/30_security.sql grants by it).
INSERT INTO pgcache_functions (function_name, role_group) VALUES
  ('_vector_schema', 'internal'),
  ('_model_width', 'internal'),
  ('_semantic_type', 'internal'),
  ('_semantic_index_name', 'internal'),
  ('cache_semantic_index_sql', 'admin'),
  ('_semantic_probe_index_name', 'internal'),
  ('_semantic_probe_index_sql', 'internal'),
  ('_semantic_lookup_name', 'internal'),
  ('_semantic_ef_search', 'internal'),
  ('_semantic_lookup_create', 'internal'),
  ('cache_semantic_index', 'admin'),
  ('_semantic_sql', 'internal'),
  ('cache_semantic_get', 'reader')
ON CONFLICT (function_name) DO UPDATE SET role_group = excluded.role_group;

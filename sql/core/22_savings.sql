-- What the cache saves. An entry may carry what producing it cost, as the reserved attribute pgcache_cost of
-- its meta: {"model", "input_tokens", "output_tokens", "characters", "voice", "compute_ms"} (cache_cost()
-- builds it; an overwrite replaces it with the new value's, or none). Every hit of such an entry adds the cost
-- to the savings of (day, type, model, tenant): hits, tokens, characters, compute time and money, the money
-- at the model's price in cache_prices when the hit is counted. Nothing is written to the entry's row.
-- The SQL read functions add each hit as it happens; the client, which reads through the read views, sums
-- the costs of its hits in memory and adds them about once a second with cache_record_savings(). What a
-- crash keeps is said at cache_savings_counts.

-- Prices per model, set by operators with cache_configure_price() (the admin role may read the table) or UPDATE as
-- the install owner. A change applies to the hits counted from then on; figures already counted keep the
-- price they were counted at.
CREATE TABLE IF NOT EXISTS cache_prices (
  model             text PRIMARY KEY CHECK (model <> '' AND octet_length(model) <= 200),
  currency          text NOT NULL DEFAULT 'USD' CHECK (currency ~ '^[A-Z]{3}$'),
  input_per_1k      numeric NOT NULL DEFAULT 0 CHECK (input_per_1k >= 0),
  output_per_1k     numeric NOT NULL DEFAULT 0 CHECK (output_per_1k >= 0),
  characters_per_1k numeric NOT NULL DEFAULT 0 CHECK (characters_per_1k >= 0),
  updated_at        timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE cache_prices IS
  'pgcache prices per model: per 1,000 input tokens, output tokens and characters, in currency (ISO 4217). Savings are priced when counted.';

-- The savings, in shards: a hit adds to the row of its (day, type, model, tenant, currency) and of its
-- session's shard (backend pid modulo 16), so concurrent readers seldom wait on one row and no row is hot.
-- Two partitions by durability. The logged one holds what clients report (cache_record_savings, about once a
-- second) for durable types, and survives a crash. The unlogged one holds the savings of UNLOGGED types and
-- those the SQL read functions add hit by hit: a read that adds to a logged table would make its commit wait
-- for a WAL flush, each time. Maintenance (cache_maintenance) moves the durable types' rows from it to the
-- logged one. A clean restart keeps both; a crash empties the unlogged one, losing the UNLOGGED types'
-- savings (with their entries) and the SQL functions' savings since the last maintenance run.
CREATE TABLE IF NOT EXISTS cache_savings_counts (
  logged        boolean NOT NULL,
  day           date NOT NULL,
  type_id       smallint NOT NULL REFERENCES cache_types (id) ON DELETE CASCADE,
  model         text,
  tenant        text,
  currency      text,
  shard         smallint NOT NULL,
  hits          bigint NOT NULL DEFAULT 0,
  input_tokens  bigint NOT NULL DEFAULT 0,
  output_tokens bigint NOT NULL DEFAULT 0,
  characters    bigint NOT NULL DEFAULT 0,
  compute_ms    bigint NOT NULL DEFAULT 0,
  cost          numeric NOT NULL DEFAULT 0,
  UNIQUE NULLS NOT DISTINCT (logged, day, type_id, model, tenant, currency, shard)
) PARTITION BY LIST (logged);
CREATE TABLE IF NOT EXISTS cache_savings_counts_logged PARTITION OF cache_savings_counts FOR VALUES IN (true);
CREATE UNLOGGED TABLE IF NOT EXISTS cache_savings_counts_unlogged PARTITION OF cache_savings_counts FOR VALUES IN (false);
COMMENT ON TABLE cache_savings_counts IS
  'pgcache savings of hits on entries with a recorded cost, per day (UTC), type, model, tenant, currency and shard; logged: in the partition a crash keeps. Read cache_savings.';

-- The cost attribute: an object of the known fields, counts as integers from 0 to 10^12, names of 1-200 bytes.
CREATE OR REPLACE FUNCTION _check_cost(p_cost jsonb) RETURNS void
LANGUAGE plpgsql IMMUTABLE AS $$
DECLARE
  bad text;
BEGIN
  IF jsonb_typeof(p_cost) IS DISTINCT FROM 'object' THEN
    RAISE EXCEPTION 'pgcache: argument "cost" must be a JSON object' USING ERRCODE = 'PC010';
  END IF;
  SELECT c.key INTO bad FROM jsonb_each(p_cost) c
   WHERE CASE WHEN c.key IN ('model', 'voice')
              THEN jsonb_typeof(c.value) <> 'string' OR c.value #>> '{}' = '' OR octet_length(c.value #>> '{}') > 200
              WHEN c.key IN ('input_tokens', 'output_tokens', 'characters', 'compute_ms')
              THEN jsonb_typeof(c.value) <> 'number' OR c.value::numeric <> trunc(c.value::numeric)
                   OR c.value::numeric NOT BETWEEN 0 AND 1e12
              ELSE true END
   LIMIT 1;
  IF bad IS NOT NULL THEN
    RAISE EXCEPTION 'pgcache: argument "cost" has a bad field "%": model and voice are names of 1-200 bytes; input_tokens, output_tokens, characters and compute_ms whole numbers from 0 to 10^12',
      bad USING ERRCODE = 'PC010';
  END IF;
END $$;
COMMENT ON FUNCTION _check_cost(jsonb) IS 'pgcache internal: validates the cost attribute (pgcache_cost) of an entry''s meta.';

-- The meta of an entry that records what producing it cost: cache_set(..., p_meta => cache_cost(...)), or
-- merged with the type's own attributes: '{"tokens_used": 812}'::jsonb || cache_cost(...).
CREATE OR REPLACE FUNCTION cache_cost(p_model text DEFAULT NULL, p_input_tokens bigint DEFAULT NULL,
                                      p_output_tokens bigint DEFAULT NULL, p_characters bigint DEFAULT NULL,
                                      p_voice text DEFAULT NULL, p_compute_ms bigint DEFAULT NULL) RETURNS jsonb
LANGUAGE plpgsql IMMUTABLE SET search_path FROM CURRENT AS $$
DECLARE
  cost jsonb := jsonb_strip_nulls(jsonb_build_object('model', p_model, 'input_tokens', p_input_tokens,
    'output_tokens', p_output_tokens, 'characters', p_characters, 'voice', p_voice, 'compute_ms', p_compute_ms));
BEGIN
  PERFORM _check_cost(cost);
  RETURN jsonb_build_object('pgcache_cost', cost);
END $$;
COMMENT ON FUNCTION cache_cost(text, bigint, bigint, bigint, text, bigint) IS
  'The meta recording what producing an entry cost (tokens and model, characters and voice, compute time): pass it, or merge it into, the meta of a set.';

CREATE OR REPLACE FUNCTION cache_configure_price(p_model text, p_input_per_1k numeric DEFAULT 0, p_output_per_1k numeric DEFAULT 0,
                                           p_characters_per_1k numeric DEFAULT 0, p_currency text DEFAULT 'USD')
RETURNS cache_prices
LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
DECLARE
  p cache_prices;
BEGIN
  PERFORM _check_model(p_model);
  IF p_currency IS NULL OR p_currency !~ '^[A-Z]{3}$' THEN
    RAISE EXCEPTION 'pgcache: argument "currency" must be an ISO 4217 code such as USD, got %', coalesce(quote_literal(p_currency), 'NULL')
      USING ERRCODE = 'PC010';
  END IF;
  -- NaN and Infinity sort above every number: the range test refuses them too.
  IF NOT coalesce(p_input_per_1k BETWEEN 0 AND 1e9 AND p_output_per_1k BETWEEN 0 AND 1e9
                  AND p_characters_per_1k BETWEEN 0 AND 1e9, false) THEN
    RAISE EXCEPTION 'pgcache: prices (per 1,000 input tokens, output tokens and characters) must be numbers from 0 to 10^9'
      USING ERRCODE = 'PC010';
  END IF;
  INSERT INTO cache_prices AS c (model, currency, input_per_1k, output_per_1k, characters_per_1k)
  VALUES (p_model, p_currency, p_input_per_1k, p_output_per_1k, p_characters_per_1k)
  ON CONFLICT (model) DO UPDATE
     SET currency = excluded.currency, input_per_1k = excluded.input_per_1k, output_per_1k = excluded.output_per_1k,
         characters_per_1k = excluded.characters_per_1k, updated_at = now()
  RETURNING * INTO p;
  RETURN p;
END $$;
COMMENT ON FUNCTION cache_configure_price(text, numeric, numeric, numeric, text) IS
  'Sets the price of a model per 1,000 input tokens, output tokens and characters (admin). Applies to hits counted from then on.';

-- Adds hits (with the tokens, characters and compute time they saved) to the savings of the session's shard,
-- priced now; p_logged: into the logged partition (only ever for a durable type). Callers check that the
-- transaction may write.
CREATE OR REPLACE FUNCTION _add_savings(t cache_types, p_logged boolean, p_model text, p_tenant text, p_hits bigint,
                                        p_input_tokens bigint, p_output_tokens bigint, p_characters bigint,
                                        p_compute_ms bigint) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
  price cache_prices;
  row cache_savings_counts;
BEGIN
  IF p_model IS NOT NULL THEN
    SELECT * INTO price FROM cache_prices WHERE model = p_model;
  END IF;
  row := ROW(p_logged AND NOT t.unlogged, (now() AT TIME ZONE 'UTC')::date, t.id, p_model, p_tenant, price.currency,
             pg_backend_pid() % 16, p_hits, p_input_tokens, p_output_tokens, p_characters, p_compute_ms,
             coalesce((p_input_tokens * price.input_per_1k + p_output_tokens * price.output_per_1k
                       + p_characters * price.characters_per_1k) / 1000, 0));
  -- Straight into the partition: a statement on the partitioned parent would route each row anew.
  IF row.logged THEN
    INSERT INTO cache_savings_counts_logged AS s VALUES (row.*)
    ON CONFLICT (logged, day, type_id, model, tenant, currency, shard) DO UPDATE
       SET hits = s.hits + excluded.hits, input_tokens = s.input_tokens + excluded.input_tokens,
           output_tokens = s.output_tokens + excluded.output_tokens, characters = s.characters + excluded.characters,
           compute_ms = s.compute_ms + excluded.compute_ms, cost = s.cost + excluded.cost;
  ELSE
    INSERT INTO cache_savings_counts_unlogged AS s VALUES (row.*)
    ON CONFLICT (logged, day, type_id, model, tenant, currency, shard) DO UPDATE
       SET hits = s.hits + excluded.hits, input_tokens = s.input_tokens + excluded.input_tokens,
           output_tokens = s.output_tokens + excluded.output_tokens, characters = s.characters + excluded.characters,
           compute_ms = s.compute_ms + excluded.compute_ms, cost = s.cost + excluded.cost;
  END IF;
END $$;
COMMENT ON FUNCTION _add_savings(cache_types, boolean, text, text, bigint, bigint, bigint, bigint, bigint) IS
  'pgcache internal: adds hits and what they saved to the savings of (day, type, model, tenant), priced now.';

-- One hit of an entry whose cost attribute is p_cost, in scope (tenant) p_scope: the SQL read path's call,
-- into the unlogged partition (no WAL, so its commit waits for no flush).
CREATE OR REPLACE FUNCTION _save_hit(t cache_types, p_cost jsonb, p_scope text) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
  PERFORM _add_savings(t, false, p_cost ->> 'model', p_scope, 1, coalesce((p_cost ->> 'input_tokens')::bigint, 0),
    coalesce((p_cost ->> 'output_tokens')::bigint, 0), coalesce((p_cost ->> 'characters')::bigint, 0),
    coalesce((p_cost ->> 'compute_ms')::bigint, 0));
END $$;
COMMENT ON FUNCTION _save_hit(cache_types, jsonb, text) IS
  'pgcache internal: adds one hit of an entry with a recorded cost to the savings.';

-- What a client's hits saved, summed per (model, tenant) and reported about once a second: a JSON array of
-- {"model", "tenant", "hits", "input_tokens", "output_tokens", "characters", "compute_ms"}. For a
-- tenant-scoped type every tenant must be the session's pgcache.tenant.
CREATE OR REPLACE FUNCTION cache_record_savings(p_type text, p_savings jsonb) RETURNS void
LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
DECLARE
  t cache_types := _type(p_type);
  s record;
BEGIN
  IF jsonb_typeof(p_savings) IS DISTINCT FROM 'array' THEN
    RAISE EXCEPTION 'pgcache: argument "savings" must be a JSON array' USING ERRCODE = 'PC010';
  END IF;
  PERFORM _check_batch('savings', jsonb_array_length(p_savings));
  FOR s IN SELECT x.value AS item FROM jsonb_array_elements(p_savings) x LOOP
    IF jsonb_typeof(s.item) IS DISTINCT FROM 'object' OR jsonb_typeof(s.item -> 'hits') IS DISTINCT FROM 'number'
       OR (s.item ->> 'hits')::numeric NOT BETWEEN 1 AND 1e9
       OR jsonb_typeof(coalesce(s.item -> 'tenant', 'null')) NOT IN ('null', 'string')
       OR octet_length(s.item ->> 'tenant') > 1024 THEN
      RAISE EXCEPTION 'pgcache: argument "savings" holds %: each item needs hits (1 to 10^9), tenant a string or null',
        s.item USING ERRCODE = 'PC010';
    END IF;
    PERFORM _check_cost(s.item - 'hits' - 'tenant');
    IF t.tenant_scoped AND s.item ->> 'tenant' IS DISTINCT FROM _tenant(t) THEN
      RAISE EXCEPTION 'pgcache: cache type "%" is tenant-scoped: savings may be reported only for the session''s tenant', t.name
        USING ERRCODE = 'PC013';
    END IF;
    PERFORM _add_savings(t, true, s.item ->> 'model', s.item ->> 'tenant', (s.item ->> 'hits')::bigint,
      coalesce((s.item ->> 'input_tokens')::bigint, 0), coalesce((s.item ->> 'output_tokens')::bigint, 0),
      coalesce((s.item ->> 'characters')::bigint, 0), coalesce((s.item ->> 'compute_ms')::bigint, 0));
  END LOOP;
END $$;
COMMENT ON FUNCTION cache_record_savings(text, jsonb) IS
  'Adds what a client''s hits of entries with a recorded cost saved (summed per model and tenant) to the savings; the client''s counterpart of the SQL read path''s own counting.';

-- Moves the savings of durable types from the unlogged partition to the logged one, where a crash keeps
-- them: cache_maintenance() runs it. A hit added meanwhile waits for the move, then starts a new row.
CREATE OR REPLACE FUNCTION _keep_savings() RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
  moved bigint;
BEGIN
  WITH taken AS (
    DELETE FROM cache_savings_counts_unlogged u
     USING cache_types t
     WHERE t.id = u.type_id AND NOT t.unlogged
    RETURNING u.*
  ), summed AS (
    SELECT day, type_id, model, tenant, currency, shard, sum(hits) AS hits, sum(input_tokens) AS input_tokens,
           sum(output_tokens) AS output_tokens, sum(characters) AS characters, sum(compute_ms) AS compute_ms,
           sum(cost) AS cost
      FROM taken GROUP BY day, type_id, model, tenant, currency, shard
  )
  INSERT INTO cache_savings_counts AS s (logged, day, type_id, model, tenant, currency, shard, hits, input_tokens,
                                         output_tokens, characters, compute_ms, cost)
  SELECT true, day, type_id, model, tenant, currency, shard, hits, input_tokens, output_tokens, characters,
         compute_ms, cost
    FROM summed
  ON CONFLICT (logged, day, type_id, model, tenant, currency, shard) DO UPDATE
     SET hits = s.hits + excluded.hits, input_tokens = s.input_tokens + excluded.input_tokens,
         output_tokens = s.output_tokens + excluded.output_tokens, characters = s.characters + excluded.characters,
         compute_ms = s.compute_ms + excluded.compute_ms, cost = s.cost + excluded.cost;
  GET DIAGNOSTICS moved = ROW_COUNT;
  RETURN moved;
END $$;
COMMENT ON FUNCTION _keep_savings() IS
  'pgcache internal: moves durable types'' savings from the unlogged partition to the logged one (maintenance).';

-- The savings of one type (of one tenant, when given) since a day: cache_savings_stats() shows them.
CREATE OR REPLACE FUNCTION _type_savings(t cache_types, p_tenant text, p_since date DEFAULT NULL,
  OUT hits bigint, OUT tokens bigint, OUT characters bigint, OUT compute_seconds double precision, OUT costs jsonb)
LANGUAGE sql STABLE AS $$
  SELECT coalesce(sum(s.hits), 0)::bigint, coalesce(sum(s.input_tokens + s.output_tokens), 0)::bigint,
         coalesce(sum(s.characters), 0)::bigint, coalesce(sum(s.compute_ms), 0)::double precision / 1000,
         coalesce((SELECT jsonb_object_agg(c.currency, c.cost) FROM (
                     SELECT s2.currency, sum(s2.cost) AS cost FROM cache_savings_counts s2
                      WHERE s2.type_id = t.id AND s2.currency IS NOT NULL AND (p_tenant IS NULL OR s2.tenant = p_tenant)
                        AND (p_since IS NULL OR s2.day >= p_since)
                      GROUP BY s2.currency) c), '{}'::jsonb)
    FROM cache_savings_counts s
   WHERE s.type_id = t.id AND (p_tenant IS NULL OR s.tenant = p_tenant) AND (p_since IS NULL OR s.day >= p_since)
$$;
COMMENT ON FUNCTION _type_savings(cache_types, text, date) IS
  'pgcache internal: a type''s savings (hits, tokens, characters, compute seconds, cost per currency), of one tenant when given.';

-- Per type, what hits saved, beside cache_stats() (whose result type stays that of 0.1.0: migrations replay
-- 0.1.0's CREATE OR REPLACE of it over a schema installed with a newer sql/install.sql). In a session with
-- pgcache.tenant set, a tenant-scoped type shows that tenant's savings only, as cache_stats() its entries.
CREATE OR REPLACE FUNCTION cache_savings_stats()
RETURNS TABLE (cache_type text, saved_hits bigint, saved_tokens bigint, saved_characters bigint,
               saved_compute_seconds double precision, saved_cost jsonb)
LANGUAGE plpgsql STABLE SET search_path FROM CURRENT AS $$
DECLARE
  t cache_types;
  caller_tenant text := nullif(current_setting('pgcache.tenant', true), '');
BEGIN
  FOR t IN SELECT * FROM cache_types ORDER BY name LOOP
    cache_type := t.name;
    SELECT * INTO saved_hits, saved_tokens, saved_characters, saved_compute_seconds, saved_cost
      FROM _type_savings(t, CASE WHEN t.tenant_scoped THEN caller_tenant END);
    RETURN NEXT;
  END LOOP;
END $$;
COMMENT ON FUNCTION cache_savings_stats() IS
  'Per cache type: hits of entries with a recorded cost, the tokens, characters and compute seconds they saved, and the money per currency. A tenant sees its own of tenant-scoped types.';

CREATE OR REPLACE VIEW cache_savings AS
SELECT s.day, t.name AS cache_type, s.model, s.tenant, s.currency,
       sum(s.hits)::bigint AS hits,
       sum(s.input_tokens)::bigint AS input_tokens,
       sum(s.output_tokens)::bigint AS output_tokens,
       sum(s.input_tokens + s.output_tokens)::bigint AS tokens,
       sum(s.characters)::bigint AS characters,
       sum(s.compute_ms)::double precision / 1000 AS compute_seconds,
       sum(s.cost) AS cost
  FROM cache_savings_counts s
  JOIN cache_types t ON t.id = s.type_id
 GROUP BY s.day, t.name, s.model, s.tenant, s.currency;
COMMENT ON VIEW cache_savings IS
  'What hits of entries with a recorded cost saved, per day (UTC), type, model, tenant and currency: hits, tokens, characters, compute seconds and cost (at the price when counted).';

-- Who may call the functions of this file (pgcache_functions; core/30_security.sql grants by it).
INSERT INTO pgcache_functions (function_name, role_group) VALUES
  ('cache_cost', 'reader'),
  ('cache_record_savings', 'reader'),
  ('cache_savings_stats', 'reader'),
  ('cache_configure_price', 'admin'),
  ('_check_cost', 'internal'),
  ('_add_savings', 'internal'),
  ('_save_hit', 'internal'),
  ('_keep_savings', 'internal'),
  ('_type_savings', 'internal')
ON CONFLICT (function_name) DO UPDATE SET role_group = excluded.role_group;

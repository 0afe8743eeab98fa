-- The functions of a distributed install (after distribute.sql, same search_path). Every call runs on the
-- coordinator; Citus routes each statement in it: key = <value> to the one shard that holds the key, statements
-- without row locks across all shards; it refuses the rest. What changes here, only in a distributed install:
-- 1. Plans. A generic plan leaves the key a parameter, which Citus cannot always route (an upsert, a join with
--    the registry): functions that force generic plans get plan_cache_mode = auto, so PostgreSQL falls back to
--    a custom plan wherever Citus prices the generic one out (_citus_adapt).
-- 2. Row locks. SELECT ... FOR UPDATE may touch one shard only: keys locked together are locked shard by shard
--    (_touch); bulk deletes by prefix, pattern or tag delete without locking first (Citus detects a deadlock
--    between two of them and cancels one); expiry and eviction run on each shard (_citus_on_shards).
-- 3. Table locks. The locks that order writes against bumps and drops are taken on the coordinator only.
-- 4. Expressions Citus refuses (now() in RETURNING, to_jsonb() in UPDATE): variants of the functions of one
--    node, made from their installed text.
-- 5. Types created later. Their table becomes a distributed partition by itself; their writer and lookup
--    functions are adapted, and their hit and miss sequences exist on every node (the registry's copies name
--    them), through the event triggers at the end.
-- Hit and miss counters stay on the coordinator, where every call runs: cache_stats() reads them unchanged.
-- Re-run this file after every upgrade of the install (pgcache distribute does).

-- Runs p_sql (the shard's table as %1$s) on every shard of a type's table, each shard in its own transaction
-- on its worker, where row locks and LIMIT work as on one node. Returns the sum of the counts the shards return.
CREATE OR REPLACE FUNCTION _citus_on_shards(t cache_types, p_sql text) RETURNS bigint
LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
DECLARE
  total bigint := 0;
  r record;
BEGIN
  FOR r IN SELECT * FROM run_command_on_shards(format('%I.%I', current_schema(), t.table_name), p_sql) LOOP
    IF NOT r.success THEN
      RAISE EXCEPTION 'pgcache: shard % of type "%": %', r.shardid, t.name, r.result USING ERRCODE = 'PC021';
    END IF;
    total := total + r.result::bigint;
  END LOOP;
  RETURN total;
END $$;

-- The number of shards a type's table has (each budget is split evenly over them).
CREATE OR REPLACE FUNCTION _citus_shard_count(t cache_types) RETURNS integer
LANGUAGE sql STABLE SET search_path FROM CURRENT AS $$
  SELECT count(*)::integer FROM pg_dist_shard WHERE logicalrelid = format('%I.%I', current_schema(), t.table_name)::regclass
$$;

-- The key-space version each row of a type is current at, as SQL over a shard's row (for the shard statements,
-- which cannot read the registry): the tenant's version for a tenant-scoped type, else the type's.
CREATE OR REPLACE FUNCTION _citus_current_version_sql(t cache_types) RETURNS text
LANGUAGE sql STABLE SET search_path FROM CURRENT AS $$
  SELECT CASE WHEN t.tenant_scoped
              THEN format('coalesce((%L::jsonb ->> scope)::integer, %s)',
                          coalesce((SELECT jsonb_object_agg(tv.tenant, tv.version) FROM cache_tenant_versions tv
                                     WHERE tv.type_id = t.id), '{}'), t.version)
              ELSE t.version::text END
$$;

-- Expiry per shard: each shard deletes up to its share of the batch, skipping locked rows, as one node does.
CREATE OR REPLACE FUNCTION _cleanup_expired(p_type text, p_batch integer, p_grace interval) RETURNS bigint
LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
DECLARE
  t cache_types;
  deleted bigint := 0;
BEGIN
  IF p_batch IS NULL OR p_batch <= 0 THEN
    RAISE EXCEPTION 'pgcache: argument "batch" must be positive' USING ERRCODE = 'PC010';
  END IF;
  IF p_type IS NOT NULL THEN
    PERFORM _type(p_type);
  END IF;
  p_grace := greatest(coalesce(p_grace, interval '0'), interval '0');
  FOR t IN SELECT * FROM cache_types WHERE p_type IS NULL OR name = p_type ORDER BY id LOOP
    EXIT WHEN deleted >= p_batch;
    deleted := deleted + _citus_on_shards(t, format($s$
      WITH gone AS (
        DELETE FROM %%1$s WHERE ctid = ANY (ARRAY(
          SELECT ctid FROM %%1$s
           WHERE (version = %1$s AND expires_at <= now() - %2$L::interval) OR version < %1$s
           LIMIT %3$s FOR UPDATE SKIP LOCKED))
        RETURNING 1)
      SELECT count(*) FROM gone $s$,
      _citus_current_version_sql(t), p_grace, ceil((p_batch - deleted)::numeric / _citus_shard_count(t))));
  END LOOP;
  RETURN deleted;
END $$;

-- A type's entries and bytes, and how far its shards exceed their shares of the budgets (the sum over the
-- shards of what each holds beyond budget / shard count): what cache_evict below removes, so that
-- cache_maintenance() stops when every shard is within its share.
CREATE OR REPLACE FUNCTION _over_budget(p_type_id smallint, p_max_entries bigint, p_max_bytes bigint,
                                        OUT entry_count bigint, OUT byte_count bigint,
                                        OUT excess_entries bigint, OUT excess_bytes bigint)
LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
DECLARE
  t cache_types;
  shards integer;
BEGIN
  SELECT * INTO t FROM cache_types WHERE id = p_type_id;
  shards := _citus_shard_count(t);
  SELECT coalesce(sum(split_part(r.result, ',', 1)::bigint), 0), coalesce(sum(split_part(r.result, ',', 2)::bigint), 0),
         coalesce(sum(greatest(split_part(r.result, ',', 1)::bigint - ceil(p_max_entries::numeric / shards), 0)), 0),
         coalesce(sum(greatest(split_part(r.result, ',', 2)::bigint - ceil(p_max_bytes::numeric / shards), 0)), 0)
    INTO entry_count, byte_count, excess_entries, excess_bytes
    FROM run_command_on_shards(format('%I.%I', current_schema(), t.table_name),
                               'SELECT count(*) || '','' || coalesce(sum(byte_size), 0) FROM %s') r;
END $$;

-- Eviction per shard: each shard keeps at most its share (budget / shard count) of entries and bytes, expired
-- and invalidated rows first, then the policy's order, skipping rows writers hold. Approximate as a whole,
-- as Redis Cluster's per-node maxmemory is: keys hash evenly, so the shares fill evenly.
CREATE OR REPLACE FUNCTION cache_evict(p_type text, p_max_entries bigint DEFAULT NULL, p_max_bytes bigint DEFAULT NULL,
                                       p_policy text DEFAULT NULL) RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path FROM CURRENT AS $$
DECLARE
  t cache_types := _type(p_type);
  policy text;
  entry_budget bigint;
  byte_budget bigint;
  shards integer;
  deleted bigint;
BEGIN
  SELECT * INTO policy, entry_budget, byte_budget FROM _eviction_args(t, p_max_entries, p_max_bytes, p_policy);
  IF entry_budget IS NULL AND byte_budget IS NULL THEN
    RETURN 0;
  END IF;
  shards := _citus_shard_count(t);
  deleted := _citus_on_shards(t, format($s$
    WITH totals AS (SELECT count(*) AS n, coalesce(sum(byte_size), 0) AS bytes FROM %%1$s),
    ranked AS (
      SELECT ctid AS row_id, row_number() OVER w AS position, sum(byte_size) OVER w - byte_size AS bytes_before
        FROM %%1$s
      WINDOW w AS (ORDER BY (expires_at <= now() OR version < %1$s) DESC, %2$s created_at, key)),
    doomed AS MATERIALIZED (
      SELECT s.ctid FROM %%1$s s
       WHERE s.ctid IN (SELECT r.row_id FROM ranked r, totals
                         WHERE r.position <= totals.n - %3$s OR r.bytes_before < totals.bytes - %4$s)
       FOR UPDATE OF s SKIP LOCKED),
    gone AS (DELETE FROM %%1$s e USING doomed d WHERE e.ctid = d.ctid RETURNING 1)
    SELECT count(*) FROM gone $s$,
    _citus_current_version_sql(t),
    CASE policy WHEN 'lru' THEN 'last_accessed_at,' WHEN 'lfu' THEN 'hit_count,' WHEN 'ttl' THEN 'expires_at,' ELSE '' END,
    coalesce(ceil(entry_budget::numeric / shards)::text, 'totals.n'),
    coalesce(ceil(byte_budget::numeric / shards)::text, 'totals.bytes')));
  IF deleted > 0 THEN
    PERFORM _notify(t, '{"all": true}');
  END IF;
  RETURN deleted;
END $$;

-- Touches keys shard by shard: a row lock may cover one shard only.
CREATE OR REPLACE FUNCTION _touch(t cache_types, p_keys text[]) RETURNS void
LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
DECLARE
  shard_keys text[];
BEGIN
  FOR shard_keys IN
    SELECT array_agg(k) FROM unnest(p_keys) AS k
     GROUP BY get_shard_id_for_distribution_column(format('%I.entries', current_schema()), k)
  LOOP
    UPDATE entries e
       SET last_accessed_at = now(), hit_count = e.hit_count + 1
      FROM (SELECT s.key FROM entries s
             WHERE s.type_id = t.id AND s.key = ANY (shard_keys) AND s.last_accessed_at < now() - t.touch_interval
             FOR NO KEY UPDATE SKIP LOCKED) stale
     WHERE e.type_id = t.id AND e.key = stale.key AND e.key = ANY (shard_keys);
  END LOOP;
END $$;

-- The expiry of an entry written now: as core/01_checks.sql says, but a call rather than inlined SQL. Citus
-- computes every stable expression of a routed statement on the coordinator before it sends the statement,
-- the branch of a CASE that does not apply included: inlined, now() + 1000000 years (cache_ttl('never'))
-- would overflow.
CREATE OR REPLACE FUNCTION _expiry(p_ttl interval) RETURNS timestamptz
LANGUAGE plpgsql STABLE PARALLEL SAFE AS $$
BEGIN
  IF p_ttl = _ttl_never() THEN
    RETURN 'infinity';
  END IF;
  RETURN now() + p_ttl;
END $$;

-- Citus refuses to write a reference table (the registry) after a statement of the same transaction ran on
-- many shards over parallel connections: switching a type's tenant scope checks the type's shards first.
-- Likewise creating a function (propagated to every node) after an index was built on every shard.
ALTER FUNCTION cache_configure_tenant_scoped(text, boolean) SET citus.multi_shard_modify_mode = 'sequential';
DO $$
BEGIN
  IF to_regprocedure('cache_semantic_index(text,text)') IS NOT NULL THEN  -- with pgvector only
    ALTER FUNCTION cache_semantic_index(text, text) SET citus.multi_shard_modify_mode = 'sequential';
  END IF;
END $$;

-- Monitoring views over the shards. The coordinator's own copy of a type's table is empty: cache_sizes asks
-- Citus for the sizes of every shard (row estimates, vacuum and analyze times stay on the workers, NULL here);
-- cache_top_keys takes each type's top 100 across the shards (Citus cannot plan the lateral join of one node).
CREATE OR REPLACE VIEW cache_sizes AS
SELECT t.cache_type,
       t.type_table COLLATE "C" AS table_name,
       NULL::bigint AS rows_estimate,
       citus_relation_size(t.leaf)::bigint AS table_bytes,
       (citus_table_size(t.leaf) - citus_relation_size(t.leaf))::bigint AS toast_bytes,
       (citus_total_relation_size(t.leaf) - citus_table_size(t.leaf))::bigint AS index_bytes,
       citus_total_relation_size(t.leaf)::bigint AS total_bytes,
       NULL::bigint AS live_rows,
       NULL::bigint AS dead_rows,
       NULL::timestamptz AS last_vacuum,
       NULL::timestamptz AS last_analyze,
       NULL::bigint AS autovacuum_count
  FROM _type_tables() t;

CREATE OR REPLACE FUNCTION _citus_top_keys()
RETURNS TABLE (cache_type text, rank bigint, key text, hit_score bigint, last_accessed_at timestamptz,
               created_at timestamptz, expires_at timestamptz, byte_size integer)
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path FROM CURRENT AS $$
DECLARE
  t cache_types;
BEGIN
  FOR t IN SELECT * FROM cache_types ORDER BY name LOOP
    RETURN QUERY
      SELECT t.name, row_number() OVER (ORDER BY top.hit_count DESC, top.last_accessed_at DESC, top.key),
             top.key::text, top.hit_count, top.last_accessed_at, top.created_at, top.expires_at, top.byte_size
        FROM (SELECT e.key, e.hit_count, e.last_accessed_at, e.created_at, e.expires_at, e.byte_size
                FROM entries e
                LEFT JOIN cache_tenant_versions tv ON t.tenant_scoped AND tv.type_id = t.id AND tv.tenant = e.scope
               WHERE e.type_id = t.id AND e.expires_at > now() AND e.version = coalesce(tv.version, t.version)
               ORDER BY e.hit_count DESC, e.last_accessed_at DESC, e.key
               LIMIT 100) top;
  END LOOP;
END $$;

CREATE OR REPLACE VIEW cache_top_keys AS
SELECT k.cache_type, k.rank, k.key COLLATE "C" AS key, k.hit_score, k.last_accessed_at, k.created_at, k.expires_at,
       k.byte_size
  FROM _citus_top_keys() k;

-- Shards take the place of hash partitions.
CREATE OR REPLACE FUNCTION cache_hash_partition_type(p_type text, p_partitions integer, p_keep_entries boolean DEFAULT true)
RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path FROM CURRENT AS $$
BEGIN
  RAISE EXCEPTION 'pgcache: this install is distributed by Citus, which splits every type by key into shards already'
    USING ERRCODE = 'PC021', HINT = 'Choose the shard count when distributing (pgcache distribute --shards).';
END $$;

-- Functions of one node that Citus refuses as they stand, rewritten by the smallest change that it accepts:
-- bulk deletes by prefix, pattern and tag without the row locks they take first (one DELETE across the shards
-- for a prefix or pattern; the tag search without its per-tag branch, a join Citus cannot plan); a tenant's
-- stored key or pattern computed on the coordinator before a statement that Citus sends to every shard (the
-- workers have no pgcache.tenant); savings of the hits of many keys recorded row by row on the coordinator
-- (a function over the rows of entries would run on the workers, and it writes tables of the coordinator); now() read once into a variable where Citus allows no stable
-- function (RETURNING); an increment's jsonb built by a cast rather than to_jsonb(), which is only stable; no
-- read view for a tenant-scoped type: its filter reads the session's pgcache.tenant, which the workers, where
-- Citus runs the filter, do not have (the client then reads such types through the functions, which resolve
-- the tenant on the coordinator); type writers without their short path, an upsert that reads the registry
-- in its own SELECT, which Citus can only run by pulling the row to the coordinator first (three times slower
-- than the full path).
-- Derived from the installed definitions, so they cannot drift from them: a change there that removes the
-- text replaced here stops this file (PC021) until it is brought in line. A marker line keeps a second run
-- from patching again (an install or upgrade re-creates the function of one node, and with it the text).
DO $$
DECLARE
  marker constant text := '-- The variant of a distributed install (sql/citus/functions.sql).';
  fn_name text;
  patch record;
  definition text;
BEGIN
  CREATE TEMPORARY TABLE citus_patches (fn text, old text, new text, o serial) ON COMMIT DROP;
  INSERT INTO citus_patches (fn, old, new) VALUES
    ('cache_invalidate_prefix(text,text)', E'deleted bigint;\nBEGIN', E'deleted bigint;\n  stored_like text;\nBEGIN'),
    ('cache_invalidate_prefix(text,text)', $old$WITH doomed AS MATERIALIZED (
    SELECT key FROM entries WHERE type_id = t.id AND key LIKE _like_prefix(_stored_key(t, p_prefix))$old$,
     $new$stored_like := _like_prefix(_stored_key(t, p_prefix));
  DELETE FROM entries WHERE type_id = t.id AND key LIKE stored_like$new$),
    ('cache_invalidate_prefix(text,text)', $old$
     ORDER BY key FOR UPDATE)
  DELETE FROM entries e USING doomed d WHERE e.type_id = t.id AND e.key = d.key;$old$, ';'),
    ('cache_invalidate_pattern(text,text)', E'deleted bigint;\nBEGIN', E'deleted bigint;\n  stored_like text;\nBEGIN'),
    ('cache_invalidate_pattern(text,text)', $old$WITH doomed AS MATERIALIZED (
    SELECT key FROM entries WHERE type_id = t.id AND key LIKE left(_like_prefix(_stored_key(t, '')), -1) || p_pattern$old$,
     $new$stored_like := left(_like_prefix(_stored_key(t, '')), -1) || p_pattern;
  DELETE FROM entries WHERE type_id = t.id AND key LIKE stored_like$new$),
    ('cache_invalidate_pattern(text,text)', $old$
     ORDER BY key FOR UPDATE)
  DELETE FROM entries e USING doomed d WHERE e.type_id = t.id AND e.key = d.key;$old$, ';'),
    ('cache_get_bytea_slice(text,text,integer,integer)', '  -- An offset at or past the end reads an empty chunk;',
     E'  p_key := _stored_key(t, p_key);\n  -- An offset at or past the end reads an empty chunk;'),
    ('cache_get_bytea_slice(text,text,integer,integer)', 'e.key = _stored_key(t, p_key) AND', 'e.key = p_key AND'),
    ('cache_get_bytea_slice(text,text,integer,integer)', 'c.key = _stored_key(t, p_key) AND', 'c.key = p_key AND'),
    ('cache_get_bytea_slice(text,text,integer,integer)', E'  t cache_types := _type(p_type);\nBEGIN', E'  t cache_types := _type(p_type);\n  hit record;\nBEGIN'),
    ('cache_get_bytea_slice(text,text,integer,integer)', $t$PERFORM _save_hit(t, c.meta -> 'pgcache_cost', c.scope) FROM entries c  -- core/22_savings.sql$t$, $t$FOR hit IN SELECT c.meta -> 'pgcache_cost' AS cost, c.scope FROM entries c$t$),
    ('cache_get_bytea_slice(text,text,integer,integer)', $t$AND c.meta ? 'pgcache_cost';$t$, $t$AND c.meta ? 'pgcache_cost' LOOP
        PERFORM _save_hit(t, hit.cost, hit.scope);  -- here: it writes tables of the coordinator
      END LOOP;$t$),
    ('cache_get_many(text,text[])', E'  e entries;\nBEGIN', E'  e entries;\n  hit record;\nBEGIN'),
    ('cache_get_many(text,text[])', $t$PERFORM _save_hit(t, c.meta -> 'pgcache_cost', c.scope) FROM entries c  -- core/22_savings.sql$t$, $t$FOR hit IN SELECT c.meta -> 'pgcache_cost' AS cost, c.scope FROM entries c$t$),
    ('cache_get_many(text,text[])', $t$AND c.meta ? 'pgcache_cost';$t$, $t$AND c.meta ? 'pgcache_cost' LOOP
        PERFORM _save_hit(t, hit.cost, hit.scope);  -- here: it writes tables of the coordinator
      END LOOP;$t$),
    ('_invalidate_tags(text[],smallint,text,boolean)',
     'PERFORM 1 FROM entries WHERE type_id = t.id AND key = ANY (found_keys.keys) ORDER BY key FOR UPDATE;', ''),
    ('_invalidate_tags(text[],smallint,text,boolean)', 'WHERE cardinality(p_tags) <= 64 AND e.tags && p_tags', 'WHERE e.tags && p_tags'),
    ('_invalidate_tags(text[],smallint,text,boolean)', $old$
            UNION ALL
            -- Many tags (a bulk statement on a watched table): one index probe per tag. A GIN scan of one
            -- array of thousands of keys costs time quadratic in their number.
            SELECT e.type_id, e.key, e.scope FROM unnest(p_tags) AS u(tag)
             CROSS JOIN LATERAL (SELECT e.type_id, e.key, e.scope FROM entries e
                                  WHERE e.tags @> ARRAY[u.tag] AND (p_type_id IS NULL OR e.type_id = p_type_id)) e
             WHERE cardinality(p_tags) > 64) c$old$, ') c'),
    ('cache_delete(text,text)', 'was_live boolean;', 'was_live boolean; stamp timestamptz := now();'),
    ('cache_delete(text,text)', 'expires_at > now() INTO was_live', 'expires_at > stamp INTO was_live'),
    ('cache_delete_many(text,text[])', 'gone text[];', 'gone text[]; stamp timestamptz := now();'),
    ('cache_delete_many(text,text[])', 'expires_at > now() AS was_live', 'expires_at > stamp AS was_live'),
    ('cache_incr(text,text,bigint,interval)', 'to_jsonb(_incremented(value_json, value_text, p_delta))',
     '_incremented(value_json, value_text, p_delta)::text::jsonb'),
    ('_create_type_writer(cache_types)', $old$  IF t.value_kind <> 'vector' THEN
    -- The seconds-only TTL test$old$, $new$  IF false THEN
    -- The seconds-only TTL test$new$),
    ('_create_read_view(cache_types)', $old$BEGIN
  -- One shape per type$old$, $new$BEGIN
  IF t.tenant_scoped THEN
    PERFORM _drop_read_view(t);
    RETURN;
  END IF;
  -- One shape per type$new$);
  FOR fn_name IN SELECT p.fn FROM citus_patches p GROUP BY p.fn ORDER BY min(p.o) LOOP
    definition := pg_get_functiondef(format('%I.%s', current_schema(), fn_name)::regprocedure);
    CONTINUE WHEN position(marker IN definition) > 0;  -- patched by an earlier run
    definition := replace(definition, E'AS $function$\n', E'AS $function$\n' || marker || E'\n');
    FOR patch IN SELECT * FROM citus_patches p WHERE p.fn = fn_name ORDER BY p.o LOOP
      IF position(patch.old IN definition) = 0 THEN
        RAISE EXCEPTION 'pgcache: % no longer holds the text this Citus variant replaces: %', fn_name, left(btrim(patch.old), 60)
          USING ERRCODE = 'PC021', HINT = 'Update sql/citus/functions.sql to the new definition.';
      END IF;
      definition := replace(definition, patch.old, patch.new);
    END LOOP;
    EXECUTE definition;
  END LOOP;
END $$;

-- The views and writers of the types that exist, as the variants make them (a call per row: a function over
-- the rows of the registry would run on a worker).
DO $$
DECLARE
  t cache_types;
BEGIN
  FOR t IN SELECT * FROM cache_types LOOP
    PERFORM _create_read_view(t);
    PERFORM _create_type_writer(t);
  END LOOP;
END $$;

-- Helpers run only by the install's own functions (the owner's; core/30_security.sql keeps it so on upgrades).
REVOKE ALL ON FUNCTION _citus_on_shards(cache_types, text), _citus_shard_count(cache_types),
  _citus_current_version_sql(cache_types), _over_budget(smallint, bigint, bigint) FROM PUBLIC;
-- _citus_top_keys is the admin's: the view cache_top_keys, granted to the admin role, runs it as the caller.
REVOKE ALL ON FUNCTION _citus_top_keys() FROM PUBLIC;
DO $$
DECLARE
  admin text := (SELECT admin_role FROM pgcache_install);
BEGIN
  IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = admin) THEN
    EXECUTE format('GRANT EXECUTE ON FUNCTION _citus_top_keys() TO %I', admin);
  END IF;
END $$;
INSERT INTO pgcache_functions (function_name, role_group) VALUES
  ('_citus_top_keys', 'admin'), ('_citus_on_shards', 'internal'), ('_citus_shard_count', 'internal'), ('_citus_current_version_sql', 'internal'),
  ('_citus_follow_ddl', 'internal'), ('_citus_adapt', 'internal')
ON CONFLICT (function_name) DO UPDATE SET role_group = excluded.role_group;

-- Plans and locks of a function of the install. 1. above: plan_cache_mode = auto where one node forces generic
-- plans. The table locks that order writes against version bumps and drops (_lock_type, the type writers,
-- core/01_checks.sql) are taken on the coordinator only, where every call runs: Citus would otherwise send
-- each LOCK to every worker, a round trip to all of them per write, and fail every write while a worker is down.
CREATE OR REPLACE FUNCTION _citus_adapt(f regprocedure) RETURNS void
LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
DECLARE
  config text[];
  locker boolean;
BEGIN
  SELECT p.proconfig, p.oid = to_regprocedure('_lock_type(text,text)')
                      OR p.proname IN (SELECT t.table_name || '_set' FROM cache_types t)
    INTO config, locker
    FROM pg_proc p WHERE p.oid = f;
  IF 'plan_cache_mode=force_generic_plan' = ANY (config) THEN
    EXECUTE format('ALTER FUNCTION %s SET plan_cache_mode = auto', f);
  END IF;
  IF locker AND NOT ('citus.enable_ddl_propagation=off' = ANY (coalesce(config, '{}'))) THEN
    EXECUTE format('ALTER FUNCTION %s SET citus.enable_ddl_propagation = off', f);
  END IF;
END $$;
REVOKE ALL ON FUNCTION _citus_adapt(regprocedure) FROM PUBLIC;

DO $$
BEGIN
  PERFORM _citus_adapt(p.oid::regprocedure) FROM pg_proc p WHERE p.pronamespace = current_schema()::regnamespace;
END $$;

-- Follows DDL in the install's schema: a function created later (a type's writer or lookup) is adapted as
-- above; a sequence created or dropped (a type's hit and miss counters) is created or
-- dropped on the workers too. The schema is written into the body: the function runs as whoever ran the DDL.
DO $$
BEGIN
  EXECUTE format($f$
CREATE OR REPLACE FUNCTION _citus_follow_ddl() RETURNS event_trigger
LANGUAGE plpgsql SET search_path FROM CURRENT AS $b$
DECLARE
  c record;
BEGIN
  IF tg_event = 'sql_drop' THEN
    FOR c IN SELECT * FROM pg_event_trigger_dropped_objects() d
              WHERE d.object_type = 'sequence' AND d.schema_name = %1$L LOOP
      PERFORM run_command_on_workers(format('DROP SEQUENCE IF EXISTS %%s', c.object_identity));
    END LOOP;
    RETURN;
  END IF;
  FOR c IN SELECT * FROM pg_event_trigger_ddl_commands() d WHERE d.schema_name = %1$L LOOP
    IF c.command_tag = 'CREATE FUNCTION' THEN
      PERFORM %2$I._citus_adapt(c.objid::regprocedure);
    ELSIF c.command_tag = 'CREATE SEQUENCE' THEN
      PERFORM run_command_on_workers(format('CREATE UNLOGGED SEQUENCE IF NOT EXISTS %%s', c.object_identity));
    END IF;
  END LOOP;
END $b$ $f$, current_schema(), current_schema());
END $$;
REVOKE ALL ON FUNCTION _citus_follow_ddl() FROM PUBLIC;

DO $$
DECLARE
  trigger_name text := 'pgcache_citus_' || left(md5(current_schema()), 16);
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_event_trigger WHERE evtname = trigger_name) THEN
    EXECUTE format('CREATE EVENT TRIGGER %I ON ddl_command_end WHEN TAG IN (%L, %L) EXECUTE FUNCTION %I._citus_follow_ddl()',
      trigger_name, 'CREATE FUNCTION', 'CREATE SEQUENCE', current_schema());
  END IF;
  IF NOT EXISTS (SELECT 1 FROM pg_event_trigger WHERE evtname = trigger_name || '_drop') THEN
    EXECUTE format('CREATE EVENT TRIGGER %I ON sql_drop WHEN TAG IN (%L) EXECUTE FUNCTION %I._citus_follow_ddl()',
      trigger_name || '_drop', 'DROP SEQUENCE', current_schema());
  END IF;
END $$;

-- Every function on every node: Citus runs a function that a statement uses on the worker that holds the
-- rows (a delete by prefix computes its pattern there). Functions created later follow by themselves. A
-- function that uses a table of the coordinator alone (maintenance history, leases, ...) stays there.
DO $$
DECLARE
  f regprocedure;
BEGIN
  FOR f IN SELECT p.oid::regprocedure FROM pg_proc p
            WHERE p.pronamespace = current_schema()::regnamespace
              AND NOT EXISTS (SELECT 1 FROM pg_dist_object o WHERE o.classid = 'pg_proc'::regclass AND o.objid = p.oid)
              -- Nor one that names a table or view of the coordinator alone (as a row type, say): the workers
              -- have no such type, and their error would end the transaction.
              AND NOT EXISTS (
                SELECT 1 FROM pg_class c
                 WHERE c.relnamespace = p.pronamespace AND c.relkind IN ('r', 'p', 'v', 'm')
                   AND NOT EXISTS (SELECT 1 FROM pg_dist_partition d WHERE d.logicalrelid = c.oid)
                   AND (p.prosrc ~ ('\m' || c.relname || '\M')
                        OR c.reltype = ANY (p.proargtypes::oid[] || p.prorettype || coalesce(p.proallargtypes, '{}')))) LOOP
    BEGIN
      PERFORM create_distributed_function(f);
    EXCEPTION WHEN feature_not_supported OR invalid_object_definition THEN
      NULL;
    END;
  END LOOP;
END $$;

-- Sequences of the types that exist already.
DO $$
BEGIN
  PERFORM run_command_on_workers(format('CREATE UNLOGGED SEQUENCE IF NOT EXISTS %I.%I', current_schema(), s.relname))
     FROM pg_class s
    WHERE s.relnamespace = current_schema()::regnamespace AND s.relkind = 'S' AND s.relname ~ '^cache_.*_(hits|misses)$';
END $$;

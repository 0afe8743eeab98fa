-- cache_maintenance(): the one routine that keeps every cache type clean and within budget. pg_cron runs it
-- (core/19_cron.sql), or the TypeScript timer (startMaintenance) where pg_cron is missing. Each run:
--   1. per type, deletes expired and invalidated rows in batches (cache_cleanup_expired),
--   2. evicts down to the type's entry and byte budgets under its policy, in steps of at most one batch
--      (cache_evict),
--   3. records what it did per type in cache_maintenance_history, and every stats.snapshot_interval a
--      snapshot of hits, misses, entries and bytes in cache_stats_snapshots (hit rate over time),
--   4. deletes expired leases (cache_leases) in batches,
--   5. deletes rate limiter rows whose window ended (rate_limits), in batches, reported as '(rate_limits)',
--   6. trims its own history, old snapshots, and pg_cron's run log of this install's jobs when it can see it.
-- It never waits long on the application: lock waits give up after maintenance.lock_timeout, rows other
-- sessions hold are skipped, and no new batch starts once maintenance.time_budget has passed, so the row locks
-- it holds until commit are held for about that long at most.

INSERT INTO cache_settings (name, value, description) VALUES
  ('maintenance.batch_size', '5000',
   'Rows one maintenance statement deletes at most (one expiry batch, one eviction step)'),
  ('maintenance.expired_grace', '1 minute',
   'Maintenance deletes rows expired longer ago than this, so a key set again soon after expiry is overwritten in place'),
  ('maintenance.time_budget', '5 seconds',
   'A maintenance run starts no new batch after this long; what is left waits for the next run'),
  ('maintenance.lock_timeout', '200ms',
   'How long maintenance waits for a table lock before it leaves the type for the next run'),
  ('maintenance.statement_timeout', '60s',
   'Hard limit on one maintenance call, set by the TypeScript runner (statement_timeout)'),
  ('maintenance.history_rows', '10000', 'Rows kept in cache_maintenance_history'),
  ('maintenance.cron_runs_kept', '100', 'Rows kept per pgcache job in pg_cron''s cron.job_run_details'),
  ('stats.snapshot_interval', '1 minute', 'Maintenance takes a cache_stats_snapshots row per type at most this often'),
  ('stats.snapshot_retention', '7 days', 'Snapshots older than this are deleted')
ON CONFLICT (name) DO NOTHING;

CREATE TABLE IF NOT EXISTS cache_maintenance_history (
  id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  run_started_at timestamptz NOT NULL,
  cache_type     text NOT NULL,
  expired        bigint NOT NULL,
  evicted        bigint NOT NULL,
  entries        bigint,
  bytes          bigint,
  duration_ms    double precision NOT NULL,
  complete       boolean NOT NULL,
  error          text
);
CREATE INDEX IF NOT EXISTS cache_maintenance_history_type ON cache_maintenance_history (cache_type, id);
COMMENT ON TABLE cache_maintenance_history IS
  'pgcache maintenance runs, one row per cache type and run; bounded to maintenance.history_rows rows.';
COMMENT ON COLUMN cache_maintenance_history.run_started_at IS 'When the run began; rows of one run share it.';
COMMENT ON COLUMN cache_maintenance_history.expired IS 'Expired or invalidated rows deleted by the expiry batches.';
COMMENT ON COLUMN cache_maintenance_history.evicted IS 'Rows evicted to bring the type within its budgets.';
COMMENT ON COLUMN cache_maintenance_history.entries IS 'Rows of the type after the run (NULL: not counted this run).';
COMMENT ON COLUMN cache_maintenance_history.bytes IS 'Sum of byte_size after the run (NULL: not counted this run).';
COMMENT ON COLUMN cache_maintenance_history.complete IS
  'false when the time budget, a lock timeout or rows locked by others left work for the next run.';
COMMENT ON COLUMN cache_maintenance_history.error IS 'Why the type was left for the next run (lock timeout), else NULL.';

CREATE TABLE IF NOT EXISTS cache_stats_snapshots (
  taken_at   timestamptz NOT NULL,
  type_id    smallint NOT NULL,
  cache_type text NOT NULL,
  hits       bigint NOT NULL,
  misses     bigint NOT NULL,
  entries    bigint,
  bytes      bigint,
  PRIMARY KEY (type_id, taken_at)
);
CREATE INDEX IF NOT EXISTS cache_stats_snapshots_taken_at ON cache_stats_snapshots (taken_at);
COMMENT ON TABLE cache_stats_snapshots IS
  'pgcache hit/miss totals, entries and bytes per type, taken by maintenance every stats.snapshot_interval; see cache_hit_rate_history.';

-- Expiry clean-up and budget eviction, the steps of a run. Both work in bounded batches and skip rows
-- other sessions hold locked.

-- Deletes up to p_batch expired or invalidated (older-version) entries of one type, or of all types when
-- p_type is NULL. Returns the number deleted; call again while it returns p_batch.
-- No index covers expires_at (it would make every overwrite a non-HOT update): each type's table is swept in
-- ranges of 1024 pages by ctid (a TID range scan reads just those pages), from the start of the table, until
-- the batch is full or the table ends. A hash-partitioned type's leaves are swept together, the same range
-- in each. Rows other sessions hold locked are skipped; readers never wait for a DELETE.
-- cache_maintenance() passes a grace (maintenance.expired_grace): a row expired less than that long ago stays,
-- so a key set again soon after it expired is overwritten in place (a HOT update on the same page) rather than
-- deleted and inserted anew elsewhere with a new index entry. Invalidated rows go at once.
CREATE OR REPLACE FUNCTION _cleanup_expired(p_type text, p_batch integer, p_grace interval) RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
  t cache_types;
  deleted bigint := 0;
  n bigint;
  pages bigint;
  first_page bigint;
  step constant bigint := 1024;
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
    SELECT coalesce(max(pg_relation_size(tt.leaf)), 0) / current_setting('block_size')::bigint INTO pages
      FROM _type_tables() tt
     WHERE tt.type_id = t.id;
    first_page := 0;
    WHILE first_page < pages AND deleted < p_batch LOOP
      -- Materialized, so the LIMIT picks one set of rows (a correlated IN could re-run it per row).
      -- Entries of a tenant-scoped type are current at their tenant's version (scope holds the tenant).
      WITH doomed AS MATERIALIZED (
        SELECT s.key FROM entries s
          LEFT JOIN cache_tenant_versions tv ON t.tenant_scoped AND tv.type_id = t.id AND tv.tenant = s.scope
         WHERE s.type_id = t.id
           AND s.ctid >= format('(%s,0)', first_page)::tid AND s.ctid < format('(%s,0)', first_page + step)::tid
           AND ((s.version = coalesce(tv.version, t.version) AND s.expires_at <= now() - p_grace)
                OR s.version < coalesce(tv.version, t.version))
         LIMIT p_batch - deleted
         FOR UPDATE OF s SKIP LOCKED)
      DELETE FROM entries e USING doomed d WHERE e.type_id = t.id AND e.key = d.key;
      GET DIAGNOSTICS n = ROW_COUNT;
      deleted := deleted + n;
      first_page := first_page + step;
    END LOOP;
  END LOOP;
  RETURN deleted;
END $$;

CREATE OR REPLACE FUNCTION cache_cleanup_expired(p_type text DEFAULT NULL, p_batch integer DEFAULT 10000) RETURNS bigint
LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
BEGIN
  RETURN _cleanup_expired(p_type, p_batch, interval '0');
END $$;
COMMENT ON FUNCTION cache_cleanup_expired(text, integer) IS
  'Deletes up to batch expired or invalidated entries (one type, or all when type is NULL), skipping locked rows. Returns the count.';

-- A type's entries and bytes now, and how far they exceed the budgets given (0 when within; a NULL budget
-- never is exceeded). What cache_evict and cache_maintenance() compare with the budgets.
CREATE OR REPLACE FUNCTION _over_budget(p_type_id smallint, p_max_entries bigint, p_max_bytes bigint,
                                        OUT entry_count bigint, OUT byte_count bigint,
                                        OUT excess_entries bigint, OUT excess_bytes bigint)
LANGUAGE sql AS $$
  SELECT u.n, u.bytes, greatest(u.n - coalesce(p_max_entries, u.n), 0), greatest(u.bytes - coalesce(p_max_bytes, u.bytes), 0)
    FROM (SELECT count(*) AS n, coalesce(sum(byte_size), 0) AS bytes FROM entries WHERE type_id = p_type_id) u
$$;
COMMENT ON FUNCTION _over_budget(smallint, bigint, bigint) IS
  'A type''s entries and bytes, and by how much they exceed the budgets given (NULL: no budget).';

-- The policy and budgets an eviction of type t works to: each argument, or else the type's own; PC010 for
-- an unknown policy or a negative budget.
CREATE OR REPLACE FUNCTION _eviction_args(t cache_types, p_max_entries bigint, p_max_bytes bigint, p_policy text,
                                          OUT policy text, OUT entry_budget bigint, OUT byte_budget bigint)
LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
BEGIN
  policy := coalesce(p_policy, t.eviction_policy);
  entry_budget := coalesce(p_max_entries, t.max_entries);
  byte_budget := coalesce(p_max_bytes, t.max_bytes);
  IF policy IS NULL OR policy NOT IN ('lru', 'lfu', 'fifo', 'ttl') THEN
    RAISE EXCEPTION 'pgcache: argument "policy" must be lru, lfu, fifo or ttl, got %', coalesce(p_policy, 'NULL')
      USING ERRCODE = 'PC010';
  END IF;
  IF entry_budget < 0 OR byte_budget < 0 THEN
    RAISE EXCEPTION 'pgcache: budgets must not be negative' USING ERRCODE = 'PC010';
  END IF;
END $$;
COMMENT ON FUNCTION _eviction_args(cache_types, bigint, bigint, text) IS
  'pgcache internal: the policy and budgets of an eviction (arguments, else the type''s), checked (PC010).';

-- Evicts entries of a type until it holds at most p_max_entries entries and p_max_bytes bytes (each NULL:
-- the type's budget). Expired and invalidated entries go first, then the policy's order:
--   lru  least recently touched first   lfu  lowest hit score first
--   fifo oldest write first             ttl  soonest expiry first
CREATE OR REPLACE FUNCTION cache_evict(p_type text, p_max_entries bigint DEFAULT NULL, p_max_bytes bigint DEFAULT NULL,
                                       p_policy text DEFAULT NULL) RETURNS bigint
LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
DECLARE
  t cache_types := _type(p_type);
  policy text;
  entry_budget bigint;
  byte_budget bigint;
  entry_count bigint;
  byte_count bigint;
  excess_entries bigint;
  excess_bytes bigint;
  deleted bigint;
BEGIN
  SELECT * INTO policy, entry_budget, byte_budget FROM _eviction_args(t, p_max_entries, p_max_bytes, p_policy);
  IF entry_budget IS NULL AND byte_budget IS NULL THEN
    RETURN 0;
  END IF;

  SELECT * INTO entry_count, byte_count, excess_entries, excess_bytes FROM _over_budget(t.id, entry_budget, byte_budget);
  IF excess_entries = 0 AND excess_bytes = 0 THEN
    RETURN 0;
  END IF;

  WITH ranked AS (
    SELECT key,
           row_number() OVER w AS position,
           sum(byte_size) OVER w - byte_size AS bytes_before
      FROM entries
     WHERE type_id = t.id
    WINDOW w AS (ORDER BY (expires_at <= now()
                           OR version < coalesce((SELECT tv.version FROM cache_tenant_versions tv
                                                   WHERE t.tenant_scoped AND tv.type_id = t.id AND tv.tenant = scope),
                                                 t.version)) DESC,
                          CASE WHEN policy = 'lru' THEN last_accessed_at END,
                          CASE WHEN policy = 'lfu' THEN hit_count END,
                          CASE WHEN policy = 'ttl' THEN expires_at END,
                          created_at, key)
  ),
  -- Rows that writers hold are skipped, not waited for: eviction never blocks or deadlocks a writer.
  doomed AS MATERIALIZED (
    SELECT e.key FROM entries e JOIN ranked r ON r.key = e.key
     WHERE e.type_id = t.id AND (r.position <= excess_entries OR r.bytes_before < excess_bytes)
     FOR UPDATE OF e SKIP LOCKED
  )
  DELETE FROM entries e USING doomed d WHERE e.type_id = t.id AND e.key = d.key;
  GET DIAGNOSTICS deleted = ROW_COUNT;
  IF deleted > 0 THEN
    PERFORM _notify(t, '{"all": true}');  -- near-caches drop the type rather than hear of each key
  END IF;
  RETURN deleted;
END $$;
COMMENT ON FUNCTION cache_evict(text, bigint, bigint, text) IS
  'Evicts entries until the type fits max_entries and max_bytes (NULL: its budgets), expired first, then by policy (lru, lfu, fifo, ttl). Returns the count.';

CREATE OR REPLACE FUNCTION cache_evict_lru(p_type text, p_max_entries bigint DEFAULT NULL, p_max_bytes bigint DEFAULT NULL)
RETURNS bigint
LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
BEGIN
  RETURN cache_evict(p_type, p_max_entries, p_max_bytes, 'lru');
END $$;
COMMENT ON FUNCTION cache_evict_lru(text, bigint, bigint) IS
  'Evicts least recently used entries until the type fits max_entries and max_bytes (NULL: its budgets). Returns the count.';

-- One clean-up of a run, a batch at a time until a batch comes back short (nothing left) or the run's
-- deadline has passed: 'expired' (one type's expired and invalidated rows, _cleanup_expired), 'leases'
-- (core/14_leases.sql) or 'rate_limits' (core/13_rate_limit.sql). complete is false when time ran out first.
CREATE OR REPLACE FUNCTION _cleanup_batches(p_what text, p_type text, p_batch integer, p_grace interval,
                                            p_deadline timestamptz, OUT deleted bigint, OUT complete boolean)
LANGUAGE plpgsql AS $$
DECLARE
  n bigint;
BEGIN
  deleted := 0;
  complete := true;
  LOOP
    n := CASE p_what WHEN 'expired' THEN _cleanup_expired(p_type, p_batch, p_grace)
                     WHEN 'leases' THEN _cleanup_leases(p_batch)
                     WHEN 'rate_limits' THEN _cleanup_rate_limits(p_batch) END;
    IF n IS NULL THEN
      RAISE EXCEPTION 'pgcache: unknown clean-up "%"', p_what USING ERRCODE = 'PC010';
    END IF;
    deleted := deleted + n;
    EXIT WHEN n < p_batch;
    IF clock_timestamp() >= p_deadline THEN
      complete := false;
      EXIT;
    END IF;
  END LOOP;
END $$;
COMMENT ON FUNCTION _cleanup_batches(text, text, integer, interval, timestamptz) IS
  'Runs one clean-up (expired, leases, rate_limits) in batches until done or past the deadline; the rows deleted and whether it finished.';

-- One row of cache_stats_snapshots for a type: its hit and miss counters now, and its size where the run
-- measured it (NULL when it ran out of time before the type). A type dropped while the run went on is skipped.
CREATE OR REPLACE FUNCTION _snapshot_stats(t cache_types, p_taken_at timestamptz, p_entries bigint, p_bytes bigint)
RETURNS void
LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
BEGIN
  INSERT INTO cache_stats_snapshots (taken_at, type_id, cache_type, hits, misses, entries, bytes)
  VALUES (p_taken_at, t.id, t.name, coalesce(pg_sequence_last_value(t.hits_sequence), 0),
          coalesce(pg_sequence_last_value(t.misses_sequence), 0), p_entries, p_bytes);
EXCEPTION WHEN OTHERS THEN
  IF NOT _type_dropped(t) THEN
    RAISE;
  END IF;  -- dropped while we ran
END $$;
COMMENT ON FUNCTION _snapshot_stats(cache_types, timestamptz, bigint, bigint) IS
  'pgcache internal: records a type''s counters (and size, when measured) in cache_stats_snapshots for cache_maintenance.';

CREATE OR REPLACE FUNCTION cache_maintenance() RETURNS SETOF cache_maintenance_history
LANGUAGE plpgsql
SET search_path FROM CURRENT
-- The SET clause makes the set_config below local to this call: the caller's lock_timeout is back on return.
SET lock_timeout = '200ms'
AS $$
DECLARE
  run_start timestamptz := clock_timestamp();
  deadline timestamptz;
  batch integer;
  grace interval;
  snapshot_due boolean;
  t cache_types;
  type_start timestamptz;
  n bigint;
  expired bigint;
  evicted bigint;
  entry_count bigint;
  byte_count bigint;
  over_entries bigint;
  over_bytes bigint;
  complete boolean;
  err text;
  done_types integer := 0;
  h cache_maintenance_history;
BEGIN
  -- One run at a time per install: a second caller (pg_cron and a timer at once) returns at once. The lock is
  -- on a table only the owner may lock (an advisory lock could be held by any role to stop maintenance).
  BEGIN
    LOCK TABLE cache_maintenance_history IN SHARE ROW EXCLUSIVE MODE NOWAIT;
  EXCEPTION WHEN lock_not_available THEN
    RAISE NOTICE 'pgcache: another maintenance run of schema % is in progress; this one did nothing', current_schema();
    RETURN;
  END;
  PERFORM set_config('lock_timeout', _setting('maintenance.lock_timeout'), true);
  batch := _setting('maintenance.batch_size')::integer;
  grace := _setting('maintenance.expired_grace')::interval;
  IF batch IS NULL OR batch <= 0 THEN
    RAISE EXCEPTION 'pgcache: setting "maintenance.batch_size" must be a positive integer' USING ERRCODE = 'PC010';
  END IF;
  deadline := run_start + _setting('maintenance.time_budget')::interval;
  snapshot_due := NOT EXISTS (
    SELECT 1 FROM cache_stats_snapshots
     WHERE taken_at > run_start - 0.9 * _setting('stats.snapshot_interval')::interval);

  -- Round robin: the type visited longest ago (or never) goes first, so when the time budget cuts runs short,
  -- one type with a large backlog cannot starve the others.
  FOR t IN
    SELECT c.* FROM cache_types c
      LEFT JOIN LATERAL (
        SELECT max(h2.id) AS id FROM cache_maintenance_history h2 WHERE h2.cache_type = c.name) last ON true
     ORDER BY last.id NULLS FIRST, c.id
  LOOP
    type_start := clock_timestamp();
    expired := 0;
    evicted := 0;
    entry_count := NULL;
    byte_count := NULL;
    complete := true;
    err := NULL;

    IF done_types > 0 AND type_start >= deadline THEN
      -- Out of time: no history row, so this type is early in line next run; the snapshot still counts its hits.
      IF snapshot_due THEN
        PERFORM _snapshot_stats(t, run_start, NULL, NULL);
      END IF;
      CONTINUE;
    END IF;
    done_types := done_types + 1;

    BEGIN
      SELECT * INTO expired, complete FROM _cleanup_batches('expired', t.name, batch, grace, deadline);

      IF t.max_entries IS NOT NULL OR t.max_bytes IS NOT NULL OR snapshot_due THEN
        LOOP
          SELECT * INTO entry_count, byte_count, over_entries, over_bytes FROM _over_budget(t.id, t.max_entries, t.max_bytes);
          EXIT WHEN over_entries = 0 AND over_bytes = 0;
          IF clock_timestamp() >= deadline THEN
            complete := false;
            EXIT;
          END IF;
          -- One step evicts about one batch: intermediate budgets, so each DELETE stays bounded and a run
          -- cut short by the time budget still made progress. cache_evict applies the policy's order.
          n := cache_evict(t.name,
                 CASE WHEN t.max_entries IS NOT NULL THEN greatest(t.max_entries, entry_count - batch) END,
                 CASE WHEN t.max_bytes IS NOT NULL
                      THEN greatest(t.max_bytes, byte_count - ceil(byte_count::numeric * batch / entry_count)::bigint) END,
                 t.eviction_policy);
          evicted := evicted + n;
          IF n = 0 THEN
            -- Every candidate is locked by a writer right now.
            complete := false;
            EXIT;
          END IF;
        END LOOP;
      END IF;
    EXCEPTION
      WHEN lock_not_available THEN
        -- Another session holds a conflicting table lock (DDL, VACUUM FULL, TRUNCATE): this type's work is
        -- rolled back and left for the next run rather than queueing the application behind us.
        expired := 0;
        evicted := 0;
        entry_count := NULL;
        byte_count := NULL;
        complete := false;
        err := 'lock_timeout: ' || SQLERRM;
      WHEN SQLSTATE 'PC001' THEN
        CONTINUE;  -- the type was dropped while we ran
      WHEN OTHERS THEN
        -- Only this type's work is rolled back (the block is a subtransaction); the run goes on with the next.
        IF _type_dropped(t) THEN
          CONTINUE;  -- the type was dropped while we ran (its table or sequences vanished under us)
        END IF;
        expired := 0;
        evicted := 0;
        entry_count := NULL;
        byte_count := NULL;
        complete := false;
        err := SQLSTATE || ': ' || SQLERRM;
    END;
    -- A type dropped since the block: its sequences are gone (and it needs no history row).
    IF _type_dropped(t) THEN
      CONTINUE;
    END IF;

    INSERT INTO cache_maintenance_history (run_started_at, cache_type, expired, evicted, entries, bytes, duration_ms,
                                           complete, error)
    VALUES (run_start, t.name, expired, evicted, entry_count, byte_count,
            extract(epoch FROM clock_timestamp() - type_start) * 1000, complete, err)
    RETURNING * INTO h;
    RETURN NEXT h;

    IF snapshot_due THEN
      PERFORM _snapshot_stats(t, run_start, entry_count, byte_count);
    END IF;
  END LOOP;

  -- Expired leases (core/14_leases.sql), a batch at a time while the time budget lasts.
  BEGIN
    PERFORM _cleanup_batches('leases', NULL, batch, NULL, deadline);
  EXCEPTION WHEN lock_not_available THEN
    NULL;  -- left for the next run
  END;

  -- Rate limiters (core/13_rate_limit.sql): rows whose window ended, in batches while time is left. Reported
  -- as a row named '(rate_limits)' (no cache type can have that name) when it deleted something or left work.
  type_start := clock_timestamp();
  expired := 0;
  complete := true;
  err := NULL;
  BEGIN
    SELECT * INTO expired, complete FROM _cleanup_batches('rate_limits', NULL, batch, NULL, deadline);
  EXCEPTION WHEN OTHERS THEN
    expired := 0;
    complete := false;
    err := SQLSTATE || ': ' || SQLERRM;
  END;
  IF expired > 0 OR NOT complete THEN
    INSERT INTO cache_maintenance_history (run_started_at, cache_type, expired, evicted, entries, bytes, duration_ms,
                                           complete, error)
    VALUES (run_start, '(rate_limits)', expired, 0, NULL, NULL,
            extract(epoch FROM clock_timestamp() - type_start) * 1000, complete, err)
    RETURNING * INTO h;
    RETURN NEXT h;
  END IF;

  DELETE FROM cache_maintenance_history
   WHERE id <= (SELECT max(id) FROM cache_maintenance_history) - _setting('maintenance.history_rows')::bigint;
  DELETE FROM cache_stats_snapshots WHERE taken_at < run_start - _setting('stats.snapshot_retention')::interval;
  PERFORM _cron_trim();
  BEGIN
    PERFORM _keep_savings();  -- core/22_savings.sql
  EXCEPTION WHEN lock_not_available THEN
    NULL;  -- readers held the rows past lock_timeout: the next run moves them
  END;
END $$;
COMMENT ON FUNCTION cache_maintenance() IS
  'Per type: deletes expired rows in batches, evicts down to the budgets under the type''s policy, records the run in cache_maintenance_history and hit-rate snapshots, trims old history. Bounded by maintenance.* settings.';

-- Who may call the functions of this file (pgcache_functions; core/30_security.sql grants by it).
INSERT INTO pgcache_functions (function_name, role_group) VALUES
  ('_cleanup_expired', 'internal'),
  ('cache_cleanup_expired', 'admin'),
  ('_over_budget', 'internal'),
  ('_eviction_args', 'internal'),
  ('cache_evict', 'admin'),
  ('cache_evict_lru', 'admin'),
  ('_cleanup_batches', 'internal'),
  ('_snapshot_stats', 'internal'),
  ('cache_maintenance', 'admin')
ON CONFLICT (function_name) DO UPDATE SET role_group = excluded.role_group;

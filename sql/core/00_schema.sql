-- pgcache schema: settings, the registry of cache types, and the entries table.
-- Runs with search_path set to the install schema; every object below lands there.

-- Named settings (TTL classes and defaults). Read by functions, changed by operators with UPDATE.
CREATE TABLE IF NOT EXISTS cache_settings (
  name  text PRIMARY KEY CHECK (name ~ '^[a-z][a-z0-9_.]{0,62}$'),
  value text NOT NULL,
  description text NOT NULL DEFAULT ''
);
COMMENT ON TABLE cache_settings IS 'pgcache settings: TTL classes (ttl.short, ttl.medium, ttl.long) and limits. Change with UPDATE.';

INSERT INTO cache_settings (name, value, description) VALUES
  ('ttl.short',  '300 seconds', 'TTL class short: frequently changing data'),
  ('ttl.medium', '1 hour',      'TTL class medium: moderately stable data'),
  ('ttl.long',   '24 hours',    'TTL class long: rarely changing data')
ON CONFLICT (name) DO NOTHING;

-- The registry of cache types. Every dynamic statement in pgcache takes its identifiers from here.
-- Who may call each function of the install: every file classifies the functions it defines, and
-- core/30_security.sql grants by these rows. The per-type writers (cache_<type>_set) and semantic lookups
-- (_semantic_lookup_*) are created at run time and classified there.
CREATE TABLE IF NOT EXISTS pgcache_functions (
  function_name text PRIMARY KEY,
  role_group    text NOT NULL CHECK (role_group IN ('reader', 'writer', 'admin', 'invoker', 'internal'))
);
COMMENT ON TABLE pgcache_functions IS
  'The group whose role may call each pgcache function: reader, writer, admin, invoker (admin, runs as the caller) or internal (owner only).';

CREATE TABLE IF NOT EXISTS cache_types (
  id               smallint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  name             text NOT NULL UNIQUE CHECK (name ~ '^[a-z][a-z0-9_]{0,47}$'),
  value_kind       text NOT NULL CHECK (value_kind IN ('jsonb', 'text', 'bytea', 'vector')),
  default_ttl      interval NOT NULL CHECK (default_ttl > interval '0'),
  max_entries      bigint CHECK (max_entries > 0),
  max_bytes        bigint CHECK (max_bytes > 0),
  max_value_bytes  integer NOT NULL DEFAULT 1048576 CHECK (max_value_bytes > 0),
  eviction_policy  text NOT NULL DEFAULT 'lru' CHECK (eviction_policy IN ('lru', 'lfu', 'fifo', 'ttl')),
  -- A hit refreshes last_accessed_at/hit_count at most once per touch_interval; NULL never writes on read.
  touch_interval   interval DEFAULT interval '10 minutes' CHECK (touch_interval > interval '0'),
  unlogged         boolean NOT NULL DEFAULT false,
  -- Current key-space version; cache_bump_version() increments it and so hides every older entry at once.
  version          integer NOT NULL DEFAULT 1,
  -- Allowed entry attributes (stored in entries.meta) and their JSON types: {"tokens_used": "number"}.
  attributes       jsonb NOT NULL DEFAULT '{}'::jsonb CHECK (jsonb_typeof(attributes) = 'object'),
  table_name       text GENERATED ALWAYS AS ('cache_' || name) STORED,
  hits_sequence    regclass,
  misses_sequence  regclass,
  description      text NOT NULL DEFAULT '',
  created_at       timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE cache_types IS 'pgcache registry of cache types: value kind, default TTL, budgets, eviction policy, storage. Managed by cache_create_type/cache_drop_type.';

-- Embedding models and their vector widths; the first vector stored for a model registers its width.
CREATE TABLE IF NOT EXISTS cache_models (
  model      text PRIMARY KEY CHECK (model <> ''),
  dimensions integer NOT NULL CHECK (dimensions BETWEEN 1 AND 16000),
  created_at timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE cache_models IS 'pgcache embedding models and their vector widths; vectors of another width are rejected (PC006).';

-- All entries, one list partition per cache type ("the type's table", cache_<name>).
-- Static SQL in the functions hits exactly one partition through run-time pruning, so plans stay cached.
-- key uses COLLATE "C" so the primary key also serves LIKE 'prefix%' range scans.
-- No index covers last_accessed_at or hit_count: read-side touches stay HOT updates.
CREATE TABLE IF NOT EXISTS entries (
  type_id          smallint NOT NULL,
  key              text COLLATE "C" NOT NULL,
  version          integer NOT NULL,
  value_json       jsonb,
  value_text       text,
  value_bytes      bytea,
  value_vector     real[],
  -- The vector an entry is found by in a semantic lookup (e.g. the prompt embedding of an LLM response).
  embedding        real[],
  model            text,
  meta             jsonb,
  byte_size        integer NOT NULL,
  hit_count        bigint NOT NULL DEFAULT 0,
  created_at       timestamptz NOT NULL DEFAULT now(),
  expires_at       timestamptz NOT NULL,
  last_accessed_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (type_id, key)
) PARTITION BY LIST (type_id);
COMMENT ON TABLE entries IS 'pgcache entries of every type; one partition per type named cache_<type>. Read and write through the cache_* functions.';
COMMENT ON COLUMN entries.byte_size IS 'Bytes the entry accounts for in byte budgets: key + value + attributes.';
COMMENT ON COLUMN entries.hit_count IS 'Read frequency score: +1 per touch, at most one touch per touch_interval. Exact hit totals are in cache_stats().';
COMMENT ON COLUMN entries.last_accessed_at IS 'Last touch by a read (at most one per touch_interval) or the last write.';

-- Added in 0.3 (AI workloads). ADD COLUMN IF NOT EXISTS keeps this file the current state and an upgrade.
-- scope: the namespace or tenant an entry belongs to; semantic lookups only match entries of the caller's scope.
-- stale_at: end of freshness for stale-while-revalidate (NULL: fresh until expires_at).
ALTER TABLE entries ADD COLUMN IF NOT EXISTS scope text;
ALTER TABLE entries ADD COLUMN IF NOT EXISTS stale_at timestamptz;
-- Audio and other bytea values are usually compressed already: store them uncompressed, which also lets
-- cache_get_bytea_slice() read a slice without detoasting the whole value. Only when not so yet: Citus refuses
-- the statement on a distributed install, which a re-run of this file must pass.
DO $$
BEGIN
  IF (SELECT a.attstorage FROM pg_attribute a WHERE a.attrelid = 'entries'::regclass AND a.attname = 'value_bytes') <> 'e' THEN
    ALTER TABLE entries ALTER COLUMN value_bytes SET STORAGE EXTERNAL;
  END IF;
END $$;
COMMENT ON COLUMN entries.scope IS 'Namespace or tenant of the entry; semantic lookups match only their own scope (NULL is the global scope).';
COMMENT ON COLUMN entries.stale_at IS 'After this the entry is stale but still served while one caller refreshes it (stale-while-revalidate).';
COMMENT ON COLUMN entries.embedding IS 'The vector a semantic lookup finds the entry by (e.g. the prompt embedding of an LLM response), as real[].';

-- Added in 0.4 (near-cache). notify: send change notifications (channel pgcache_changes) on writes and
-- invalidations, so clients with an in-process near-cache (L1) drop what changed. Off by default: a NOTIFY
-- costs every write a little (and serialises commits briefly on the notification queue).
ALTER TABLE cache_types ADD COLUMN IF NOT EXISTS notify boolean NOT NULL DEFAULT false;
COMMENT ON COLUMN cache_types.notify IS 'Send pgcache_changes notifications on writes and invalidations (for client near-caches).';

-- Added in 0.5 (security). tenant_scoped: every key is scoped to the session's pgcache.tenant setting.
ALTER TABLE cache_types ADD COLUMN IF NOT EXISTS tenant_scoped boolean NOT NULL DEFAULT false;
COMMENT ON COLUMN cache_types.tenant_scoped IS 'Keys are scoped to SET pgcache.tenant: a tenant reads, writes and invalidates only its own entries.';

-- Added in 0.6 (hardening). Per-tenant key-space versions of tenant-scoped types (see _tenant_version).
CREATE TABLE IF NOT EXISTS cache_tenant_versions (
  type_id smallint NOT NULL REFERENCES cache_types (id) ON DELETE CASCADE,
  tenant  text NOT NULL,
  version integer NOT NULL,
  PRIMARY KEY (type_id, tenant)
);
COMMENT ON TABLE cache_tenant_versions IS
  'pgcache key-space version of each tenant of a tenant-scoped type that bumped its version (others use cache_types.version).';

-- Added in 0.2 (read path). Hits and misses counted by clients, which read through the per-type views
-- (cache_<type>_live) and report their counts about once a second with cache_record_reads().
CREATE TABLE IF NOT EXISTS cache_read_counts (
  type_id smallint PRIMARY KEY REFERENCES cache_types (id) ON DELETE CASCADE,
  hits    bigint NOT NULL DEFAULT 0,
  misses  bigint NOT NULL DEFAULT 0
);
COMMENT ON TABLE cache_read_counts IS
  'pgcache hits and misses reported by clients (cache_record_reads); cache_stats() adds them to the counts of the SQL functions.';

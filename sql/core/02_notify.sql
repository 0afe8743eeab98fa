-- Change notifications for client near-caches (L1).
-- LISTEN needs no privilege: any role that can connect to the database hears every notification. So a
-- payload names nothing itself: it carries keyed tags, 32 hex digits of
--   sha256(secret || sha256(secret || message))      message = UTF-8 type name [ || 0x00 || UTF-8 key ]
-- under a random per-install secret kept in cache_settings (notify.secret), which only the owner and the
-- reader group may SELECT. A near-cache reads the secret, tags the keys it holds, and matches tags; a role
-- without read access learns only that something changed. The payload is JSON:
--   {"t": type tag, "k": key tag}   one key changed or was deleted
--   {"t": type tag}                 the whole type (prefix or pattern invalidation, version bump, eviction, drop)
-- The channel is per install (notify.channel: pgcache_changes_<schema>, or a hash of a long schema name).
-- NOTIFY is transactional: listeners hear of a change only after it commits, and never of one rolled back.
-- Built-ins are called schema-qualified, and by exact signature, so nothing on the search_path can stand in.

INSERT INTO cache_settings (name, value, description) VALUES
  ('notify.channel',
   CASE WHEN pg_catalog.octet_length(current_schema()) <= 47 THEN 'pgcache_changes_' || current_schema()
        ELSE 'pgcache_changes_' || pg_catalog.md5(current_schema()) END,
   'LISTEN channel of this install''s change notifications (near-caches read it)'),
  ('notify.secret',
   pg_catalog.replace(pg_catalog.gen_random_uuid()::text || pg_catalog.gen_random_uuid()::text, '-', ''),
   'Key of the tags in change notifications (hex); readable by the reader group, never sent')
ON CONFLICT (name) DO NOTHING;

-- The keyed tag of a type (p_key NULL) or of one of its keys.
CREATE OR REPLACE FUNCTION _notify_tag(p_secret bytea, p_type text, p_key text) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
  SELECT pg_catalog.left(pg_catalog.encode(pg_catalog.sha256(p_secret || pg_catalog.sha256(p_secret
           || pg_catalog.convert_to(p_type, 'UTF8'::name)
           || CASE WHEN p_key IS NULL THEN ''::bytea ELSE '\x00'::bytea || pg_catalog.convert_to(p_key, 'UTF8'::name) END)),
         'hex'::text), 32)
$$;

CREATE OR REPLACE FUNCTION _notify(t cache_types, p_change jsonb) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
  channel text;
  secret bytea;
  key text;
BEGIN
  IF t.notify THEN
    SELECT value INTO channel FROM cache_settings WHERE name = 'notify.channel';
    SELECT pg_catalog.decode(value, 'hex'::text) INTO secret FROM cache_settings WHERE name = 'notify.secret';
    key := p_change ->> 'k'::text;
    PERFORM pg_catalog.pg_notify(channel, '{"t":"' || _notify_tag(secret, t.name, NULL) || '"'
      || CASE WHEN key IS NULL THEN '' ELSE ',"k":"' || _notify_tag(secret, t.name, key) || '"' END || '}');
  END IF;
END $$;

-- Turns notifications of a type on or off; returns the new setting.
CREATE OR REPLACE FUNCTION cache_configure_notify(p_type text, p_notify boolean) RETURNS boolean
LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
DECLARE
  t cache_types := _type(p_type);
BEGIN
  IF p_notify IS NULL THEN
    RAISE EXCEPTION 'pgcache: argument "notify" must not be NULL' USING ERRCODE = 'PC010';
  END IF;
  UPDATE cache_types SET notify = p_notify WHERE id = t.id;
  RETURN p_notify;
END $$;
COMMENT ON FUNCTION cache_configure_notify(text, boolean) IS
  'Turns change notifications (channel notify.channel, keyed tags only) of a type on or off (needed by client near-caches); returns the setting.';

-- Deprecated alias of cache_configure_notify, kept for one release (CHANGELOG.md).
CREATE OR REPLACE FUNCTION cache_set_notify(p_type text, p_notify boolean) RETURNS boolean
LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
BEGIN
  RETURN cache_configure_notify(p_type, p_notify);
END $$;
COMMENT ON FUNCTION cache_set_notify(text, boolean) IS 'Deprecated: use cache_configure_notify (same arguments).';

-- Who may call the functions of this file (pgcache_functions; core/30_security.sql grants by it).
INSERT INTO pgcache_functions (function_name, role_group) VALUES
  ('_notify_tag', 'internal'),
  ('_notify', 'internal'),
  ('cache_configure_notify', 'admin'),
  ('cache_set_notify', 'admin')
ON CONFLICT (function_name) DO UPDATE SET role_group = excluded.role_group;

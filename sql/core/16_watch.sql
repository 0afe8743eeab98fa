-- Invalidation by source rows. cache_watch_table() puts statement-level triggers on an application table:
-- each INSERT, UPDATE and DELETE statement computes the tags of the rows it touched from a template over the
-- rows' columns ('doc:{id}') and removes the entries carrying them, in the same transaction, with one
-- statement however many rows it touched (transition tables). Inside that transaction the entries are misses
-- already; a ROLLBACK brings them back; after COMMIT they are gone for every reader and near-cache.
--
-- A watch is its triggers: nothing else records it, so a dropped table leaves nothing behind and a renamed
-- table or column keeps working (columns are held by number). The triggers' arguments are data, never SQL:
--   1. the cache type it is limited to ('' for every type)
--   2. the template, hex-encoded UTF-8, with each placeholder {column} replaced by {<attnum>}
--   3. the attnums whose change matters on UPDATE, as an int2[] literal ('{}': any change)
-- The trigger function validates them against the catalog on every run and builds its SQL only with
-- format('%I') from catalog names and format('%L') from template text. Template columns must be of built-in
-- types: their text form is then computed by built-in code, never by a function a table owner wrote (the
-- trigger runs with the install owner's rights).

-- Whether a column type's text form and equality are built-in code: a type of pg_catalog, an array or
-- domain of one, or an enum (whose output is built-in). Any other type's I/O may be a table owner's function.
CREATE OR REPLACE FUNCTION _watch_builtin_type(p_type oid) RETURNS boolean
LANGUAGE sql STABLE AS $$
  SELECT ty.typtype = 'e'
      OR coalesce(b.typnamespace, ty.typnamespace) = 'pg_catalog'::regnamespace
         AND (coalesce(b.typelem, ty.typelem) = 0
              OR (SELECT el.typnamespace = 'pg_catalog'::regnamespace OR el.typtype = 'e'
                    FROM pg_type el WHERE el.oid = coalesce(b.typelem, ty.typelem)))
    FROM pg_type ty LEFT JOIN pg_type b ON ty.typtype = 'd' AND b.oid = ty.typbasetype
   WHERE ty.oid = p_type
$$;

-- (alias.c1)::text, (alias.c2)::text, ... for the columns named.
CREATE OR REPLACE FUNCTION _watch_columns_sql(p_alias text, p_columns name[]) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
  SELECT string_agg(format('(%I.%I)::text', p_alias, c), ', ' ORDER BY o) FROM unnest(p_columns) WITH ORDINALITY AS u(c, o)
$$;

-- The SQL text of a template over the row alias p_alias: 'doc:' || (p_alias.id)::text, or NULL when the
-- template is malformed or names a column that is gone or not of a built-in type.
CREATE OR REPLACE FUNCTION _watch_tag_sql(p_table oid, p_template text, p_alias text) RETURNS text
LANGUAGE plpgsql STABLE AS $$
DECLARE
  token text[];
  parts text[] := '{}';
  consumed integer := 0;
  col name;
BEGIN
  FOR token IN SELECT regexp_matches(p_template, '\{([0-9]{1,5})\}|([^{}]+)', 'g') LOOP
    IF token[1] IS NOT NULL THEN
      SELECT a.attname INTO col FROM pg_attribute a
       WHERE a.attrelid = p_table AND a.attnum = token[1]::int2 AND a.attnum > 0 AND NOT a.attisdropped
         AND _watch_builtin_type(a.atttypid);
      IF col IS NULL THEN
        RETURN NULL;
      END IF;
      parts := parts || format('(%I.%I)::text', p_alias, col);
      consumed := consumed + length(token[1]) + 2;
    ELSE
      parts := parts || format('%L', token[2]);
      consumed := consumed + length(token[2]);
    END IF;
  END LOOP;
  IF consumed <> length(p_template) OR cardinality(parts) = 0 THEN
    RETURN NULL;  -- stray braces
  END IF;
  RETURN array_to_string(parts, ' || ');
END $$;

-- The LIKE pattern of every tag a template can produce (placeholders match anything): for TRUNCATE.
CREATE OR REPLACE FUNCTION _watch_tag_pattern(p_template text) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
  SELECT string_agg(CASE WHEN m[1] IS NOT NULL THEN '%'
                         ELSE replace(replace(replace(m[2], '\', '\\'), '%', '\%'), '_', '\_') END, '' ORDER BY o)
    FROM regexp_matches(p_template, '\{([0-9]{1,5})\}|([^{}]+)', 'g') WITH ORDINALITY AS x(m, o)
$$;

-- The trigger of every watch (arguments above). Statement-level, AFTER, with the statement's rows in the
-- transition tables pgcache_old and pgcache_new. Invalidates the tags in every tenant: the source row
-- changed, so whatever any tenant computed from it is stale.
-- The text form of dates, times, intervals, floats, money and bytea follows session settings: the trigger fixes them
-- (UTC, ISO), so the tags of a row are the same whichever session changes it, and no session can keep an
-- entry alive by changing the row under other settings.
CREATE OR REPLACE FUNCTION cache_watch_trigger() RETURNS trigger
LANGUAGE plpgsql SET search_path FROM CURRENT SET jit = off
SET TimeZone = 'UTC' SET DateStyle = 'ISO, MDY' SET IntervalStyle = 'postgres' SET extra_float_digits = 1
SET bytea_output = 'hex' SET lc_monetary = 'C' AS $$
DECLARE
  watch_type smallint;
  template text;
  watched int2[];
  tag_old text;
  tag_new text;
  key_names name[];
  changed_names name[];
  tags text[];
  pattern text;
  t cache_types;
  n bigint;
BEGIN
  IF TG_LEVEL <> 'STATEMENT' OR TG_WHEN <> 'AFTER' OR TG_NARGS <> 3 THEN
    RAISE EXCEPTION 'pgcache: cache_watch_trigger runs only as the AFTER ... FOR EACH STATEMENT trigger cache_watch_table creates'
      USING ERRCODE = 'PC019';
  END IF;
  IF TG_ARGV[0] <> '' THEN
    SELECT id INTO watch_type FROM cache_types WHERE name = TG_ARGV[0];
    IF NOT FOUND THEN
      RETURN NULL;  -- the type was dropped: nothing of it to invalidate
    END IF;
  END IF;
  -- The statement's rows must come from this trigger's own transition tables. A trigger attached by hand
  -- without them (or on a view) would find relations of those names on the path, in the caller's pg_temp,
  -- whose columns' text form the caller may define, and run it with the install owner's rights.
  IF TG_OP <> 'TRUNCATE' AND NOT EXISTS (
       SELECT 1 FROM pg_trigger tg
        WHERE tg.tgrelid = TG_RELID AND tg.tgname = TG_NAME
          AND (TG_OP = 'INSERT' OR tg.tgoldtable = 'pgcache_old')
          AND (TG_OP = 'DELETE' OR tg.tgnewtable = 'pgcache_new')) THEN
    RAISE EXCEPTION 'pgcache: trigger % on % lacks the transition tables cache_watch_table gives it; recreate it with cache_watch_table',
      TG_NAME, TG_RELID::regclass USING ERRCODE = 'PC019';
  END IF;
  BEGIN
    template := convert_from(decode(TG_ARGV[1], 'hex'), 'UTF8');
    watched := TG_ARGV[2]::int2[];
  EXCEPTION WHEN OTHERS THEN
    RAISE EXCEPTION 'pgcache: trigger % on % has malformed arguments; recreate it with cache_watch_table', TG_NAME, TG_RELID::regclass
      USING ERRCODE = 'PC019';
  END;

  IF TG_OP = 'TRUNCATE' THEN
    tag_old := NULL;
  ELSE
    tag_old := _watch_tag_sql(TG_RELID, template, 'o');
    tag_new := _watch_tag_sql(TG_RELID, template, 'n');
  END IF;
  IF tag_old IS NULL THEN
    -- TRUNCATE, or a template column dropped since: the tags cannot be computed row by row, so every entry
    -- with a tag of the template's shape goes (a scan of the tagged entries).
    pattern := _watch_tag_pattern(template);
    IF TG_OP <> 'TRUNCATE' THEN
      RAISE WARNING 'pgcache: watch % on % uses a column that was dropped or changed type; invalidating every tag like %',
        TG_NAME, TG_RELID::regclass, quote_literal(pattern)
        USING HINT = 'Recreate it: cache_unwatch_table, then cache_watch_table.';
    END IF;
    FOR t IN
      WITH deleted AS (
        DELETE FROM entries e
         WHERE e.tags IS NOT NULL AND (watch_type IS NULL OR e.type_id = watch_type)
           AND EXISTS (SELECT 1 FROM unnest(e.tags) x WHERE x LIKE pattern)
        RETURNING e.type_id)
      SELECT ct.* FROM cache_types ct WHERE ct.id IN (SELECT d.type_id FROM deleted d)
    LOOP
      PERFORM _notify(t, '{"all": true}');
    END LOOP;
    RETURN NULL;
  END IF;

  IF TG_OP = 'INSERT' THEN
    EXECUTE format('SELECT array_agg(DISTINCT x) FROM (SELECT %s AS x FROM pgcache_new n) s WHERE x IS NOT NULL', tag_new)
      INTO tags;
  ELSIF TG_OP = 'DELETE' THEN
    EXECUTE format('SELECT array_agg(DISTINCT x) FROM (SELECT %s AS x FROM pgcache_old o) s WHERE x IS NOT NULL', tag_old)
      INTO tags;
  ELSE
    -- UPDATE of chosen columns: pair old and new rows by primary key (as text), keep the pairs whose watched
    -- or template columns differ, and rows without a partner (the key itself changed). Without a primary key
    -- now, or without chosen columns, every updated row counts.
    IF cardinality(watched) > 0 THEN
      SELECT array_agg(a.attname ORDER BY k.ord) INTO key_names
        FROM pg_index i CROSS JOIN LATERAL unnest(i.indkey) WITH ORDINALITY AS k(attnum, ord)
        JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum
        JOIN pg_type ty ON ty.oid = a.atttypid
       WHERE i.indrelid = TG_RELID AND i.indisprimary
      HAVING bool_and(_watch_builtin_type(ty.oid));
      SELECT array_agg(a.attname ORDER BY a.attnum) INTO changed_names
        FROM pg_attribute a
       WHERE a.attrelid = TG_RELID AND a.attnum > 0 AND NOT a.attisdropped
         AND (a.attnum = ANY (watched) OR strpos(template, '{' || a.attnum || '}') > 0)
      HAVING bool_and(_watch_builtin_type(a.atttypid));
    END IF;
    IF key_names IS NOT NULL AND changed_names IS NOT NULL THEN
      EXECUTE format(
        'SELECT array_agg(DISTINCT x) FROM (
           SELECT unnest(ARRAY[o.tag, n.tag]) AS x
             FROM (SELECT %s AS tag, ROW(%s)::text AS k, ROW(%s)::text AS w FROM pgcache_old o) o
             FULL JOIN (SELECT %s AS tag, ROW(%s)::text AS k, ROW(%s)::text AS w FROM pgcache_new n) n ON o.k = n.k
            WHERE o.w IS DISTINCT FROM n.w) s
          WHERE x IS NOT NULL',
        tag_old, _watch_columns_sql('o', key_names), _watch_columns_sql('o', changed_names),
        tag_new, _watch_columns_sql('n', key_names), _watch_columns_sql('n', changed_names))
        INTO tags;
    ELSE
      EXECUTE format(
        'SELECT array_agg(DISTINCT x) FROM (SELECT %s AS x FROM pgcache_old o UNION ALL SELECT %s FROM pgcache_new n) s
          WHERE x IS NOT NULL', tag_old, tag_new)
        INTO tags;
    END IF;
  END IF;
  -- Tags longer than any entry may carry cannot match one.
  tags := ARRAY(SELECT x FROM unnest(tags) x WHERE octet_length(x) <= 256);
  n := _invalidate_tags(tags, watch_type, NULL, true);
  RETURN NULL;
END $$;
COMMENT ON FUNCTION cache_watch_trigger() IS
  'Trigger function of the watches cache_watch_table creates: invalidates the tags of the rows a statement touched.';

-- Watches an application table: every INSERT, UPDATE (of p_columns, or of any column when NULL), DELETE and
-- TRUNCATE invalidates the entries tagged from the affected rows by the template p_tag ('doc:{id}', columns in
-- braces), of type p_type or of every type. Only the table's owner may watch it. Runs as the caller (SECURITY
-- INVOKER): the triggers are created with the caller's rights on its own table. Watching again with the same
-- template and type replaces the watch. Returns the watch's name.
CREATE OR REPLACE FUNCTION cache_watch_table(p_table regclass, p_tag text, p_columns text[] DEFAULT NULL,
                                             p_type text DEFAULT NULL) RETURNS text
LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
DECLARE
  rel record;
  token text[];
  normalized text := '';
  consumed integer := 0;
  attnum int2;
  col_type oid;
  watched int2[] := '{}';
  col text;
  name text;
  template_hex text;
  trigger_function text := format('%I.cache_watch_trigger', current_schema());
BEGIN
  IF p_table IS NULL THEN
    RAISE EXCEPTION 'pgcache: argument "table" must name a table, got NULL' USING ERRCODE = 'PC019';
  END IF;
  SELECT c.oid, c.relkind, c.relowner, c.relnamespace INTO rel FROM pg_class c WHERE c.oid = p_table;
  IF NOT FOUND OR rel.relkind NOT IN ('r', 'p') THEN
    RAISE EXCEPTION 'pgcache: argument "table" must be a table, got %', p_table USING ERRCODE = 'PC019';
  END IF;
  IF rel.relnamespace = current_schema()::regnamespace OR rel.relnamespace = 'pg_catalog'::regnamespace THEN
    RAISE EXCEPTION 'pgcache: argument "table" % belongs to pgcache or the system; watch an application table', p_table
      USING ERRCODE = 'PC019';
  END IF;
  IF NOT pg_has_role(current_user, rel.relowner, 'USAGE') THEN
    RAISE EXCEPTION 'pgcache: argument "table": only the owner of % may watch it (% is not)', p_table, current_user
      USING ERRCODE = 'PC019';
  END IF;
  IF p_tag IS NULL OR p_tag = '' OR octet_length(p_tag) > 200 THEN
    RAISE EXCEPTION 'pgcache: argument "tag" must be a template of 1 to 200 bytes such as ''doc:{id}''' USING ERRCODE = 'PC019';
  END IF;
  IF p_type IS NOT NULL AND NOT EXISTS (SELECT 1 FROM cache_types WHERE cache_types.name = p_type) THEN
    RAISE EXCEPTION 'pgcache: cache type "%" does not exist', p_type USING ERRCODE = 'PC001';
  END IF;

  -- The template: literal text and {column} placeholders, each column of the table and of a built-in type.
  FOR token IN SELECT regexp_matches(p_tag, '\{([^{}]*)\}|([^{}]+)', 'g') LOOP
    IF token[2] IS NOT NULL THEN
      normalized := normalized || token[2];
      consumed := consumed + length(token[2]);
      CONTINUE;
    END IF;
    SELECT a.attnum, a.atttypid INTO attnum, col_type FROM pg_attribute a
     WHERE a.attrelid = p_table AND a.attname = token[1] AND a.attnum > 0 AND NOT a.attisdropped;
    IF NOT FOUND THEN
      RAISE EXCEPTION 'pgcache: argument "tag": table % has no column %', p_table, quote_ident(token[1])
        USING ERRCODE = 'PC019';
    END IF;
    -- As _watch_builtin_type (which runs as the install owner and is not the caller's to execute).
    IF NOT EXISTS (SELECT 1 FROM pg_type ty LEFT JOIN pg_type b ON ty.typtype = 'd' AND b.oid = ty.typbasetype
                    LEFT JOIN pg_type el ON el.oid = coalesce(b.typelem, ty.typelem)
                   WHERE ty.oid = col_type
                     AND (ty.typtype = 'e'
                          OR (coalesce(b.typnamespace, ty.typnamespace) = 'pg_catalog'::regnamespace
                              AND (el.oid IS NULL OR el.typnamespace = 'pg_catalog'::regnamespace OR el.typtype = 'e')))) THEN
      RAISE EXCEPTION 'pgcache: argument "tag": column % is of type %; template columns must be of built-in or enum types (their text form is the tag)',
        quote_ident(token[1]), col_type::regtype USING ERRCODE = 'PC019';
    END IF;
    normalized := normalized || '{' || attnum || '}';
    consumed := consumed + length(token[1]) + 2;
  END LOOP;
  IF consumed <> length(p_tag) THEN
    RAISE EXCEPTION 'pgcache: argument "tag" % has a brace outside a {column} placeholder', quote_literal(p_tag)
      USING ERRCODE = 'PC019';
  END IF;

  IF p_columns IS NOT NULL THEN
    IF cardinality(p_columns) = 0 OR array_position(p_columns, NULL) IS NOT NULL THEN
      RAISE EXCEPTION 'pgcache: argument "columns" must name at least one column, without NULLs (or be NULL: any column)'
        USING ERRCODE = 'PC019';
    END IF;
    FOREACH col IN ARRAY p_columns LOOP
      SELECT a.attnum INTO attnum FROM pg_attribute a
       WHERE a.attrelid = p_table AND a.attname = col AND a.attnum > 0 AND NOT a.attisdropped;
      IF NOT FOUND THEN
        RAISE EXCEPTION 'pgcache: argument "columns": table % has no column %', p_table, quote_ident(col)
          USING ERRCODE = 'PC019';
      END IF;
      watched := watched || attnum;
    END LOOP;
    -- Old and new rows of an UPDATE are paired by primary key: without one, a column list cannot be honoured.
    IF NOT EXISTS (SELECT 1 FROM pg_index i WHERE i.indrelid = p_table AND i.indisprimary) THEN
      RAISE EXCEPTION 'pgcache: argument "columns" needs a primary key on table % (to pair old and new rows); omit it to watch every column',
        p_table USING ERRCODE = 'PC019';
    END IF;
  END IF;

  template_hex := encode(convert_to(normalized, 'UTF8'), 'hex');
  -- The triggers' base name: one per install, type and template.
  name := 'pgcache_watch_' || left(md5(current_schema() || ':' || coalesce(p_type, '') || ':' || template_hex), 16);
  PERFORM cache_unwatch_table(p_table, p_tag, p_type);
  EXECUTE format('CREATE TRIGGER %I AFTER INSERT ON %s REFERENCING NEW TABLE AS pgcache_new FOR EACH STATEMENT EXECUTE FUNCTION %s(%L, %L, %L)',
    name || '_ins', p_table, trigger_function, coalesce(p_type, ''), template_hex, watched::text);
  EXECUTE format('CREATE TRIGGER %I AFTER UPDATE ON %s REFERENCING OLD TABLE AS pgcache_old NEW TABLE AS pgcache_new FOR EACH STATEMENT EXECUTE FUNCTION %s(%L, %L, %L)',
    name || '_upd', p_table, trigger_function, coalesce(p_type, ''), template_hex, watched::text);
  EXECUTE format('CREATE TRIGGER %I AFTER DELETE ON %s REFERENCING OLD TABLE AS pgcache_old FOR EACH STATEMENT EXECUTE FUNCTION %s(%L, %L, %L)',
    name || '_del', p_table, trigger_function, coalesce(p_type, ''), template_hex, watched::text);
  EXECUTE format('CREATE TRIGGER %I AFTER TRUNCATE ON %s FOR EACH STATEMENT EXECUTE FUNCTION %s(%L, %L, %L)',
    name || '_trn', p_table, trigger_function, coalesce(p_type, ''), template_hex, watched::text);
  RETURN name;
END $$;
COMMENT ON FUNCTION cache_watch_table(regclass, text, text[], text) IS
  'Watches a table (its owner only): INSERT, UPDATE (of columns, if given), DELETE and TRUNCATE invalidate the entries tagged by the template (''doc:{id}'') from the affected rows, in the same transaction. Returns the watch''s name. PC019 if refused.';

-- Removes the watch of a template (and type) from a table, or every watch of the table when p_tag is NULL.
-- Returns how many watches it removed. Only the table's owner may.
CREATE OR REPLACE FUNCTION cache_unwatch_table(p_table regclass, p_tag text DEFAULT NULL, p_type text DEFAULT NULL)
RETURNS integer
LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
DECLARE
  owner oid;
  trg record;
  base text;
  removed integer := 0;
BEGIN
  IF p_table IS NULL THEN
    RAISE EXCEPTION 'pgcache: argument "table" must name a table, got NULL' USING ERRCODE = 'PC019';
  END IF;
  SELECT c.relowner INTO owner FROM pg_class c WHERE c.oid = p_table;
  IF NOT pg_has_role(current_user, owner, 'USAGE') THEN
    RAISE EXCEPTION 'pgcache: argument "table": only the owner of % may unwatch it (% is not)', p_table, current_user
      USING ERRCODE = 'PC019';
  END IF;
  FOR trg IN
    SELECT tg.tgname, w.template_hex, w.type_name
      FROM pg_trigger tg
     CROSS JOIN LATERAL (SELECT a[1] AS type_name, a[2] AS template_hex
                           FROM string_to_array(encode(tg.tgargs, 'escape'), '\000') a) w
     WHERE tg.tgrelid = p_table
       AND tg.tgfoid = format('%I.cache_watch_trigger()', current_schema())::regprocedure
     ORDER BY tg.tgname
  LOOP
    IF p_tag IS NOT NULL THEN
      -- The template as the watch stores it: placeholders by column number.
      SELECT string_agg(CASE WHEN m[1] IS NOT NULL THEN '{' || coalesce(a.attnum::text, '?') || '}' ELSE m[2] END, '' ORDER BY o)
        INTO base
        FROM regexp_matches(p_tag, '\{([^{}]*)\}|([^{}]+)', 'g') WITH ORDINALITY AS x(m, o)
        LEFT JOIN pg_attribute a ON a.attrelid = p_table AND a.attname = m[1] AND NOT a.attisdropped;
      CONTINUE WHEN trg.template_hex IS DISTINCT FROM encode(convert_to(coalesce(base, ''), 'UTF8'), 'hex')
                 OR trg.type_name IS DISTINCT FROM coalesce(p_type, '');
    END IF;
    EXECUTE format('DROP TRIGGER %I ON %s', trg.tgname, p_table);
    IF trg.tgname LIKE '%\_ins' THEN
      removed := removed + 1;
    END IF;
  END LOOP;
  RETURN removed;
END $$;
COMMENT ON FUNCTION cache_unwatch_table(regclass, text, text) IS
  'Removes the watch of a tag template (and type) from a table, or all its watches when tag is NULL (the table''s owner only). Returns how many.';

-- Whether a watch trigger's arguments (tgargs split at NUL) are as cache_watch_table writes them. An admin may
-- attach the trigger by hand with anything; cache_watches leaves such triggers out instead of failing for all.
CREATE OR REPLACE FUNCTION _watch_args_valid(p_args text[]) RETURNS boolean
LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
  PERFORM p_args[3]::int2[];
  PERFORM m[1]::int2 FROM regexp_matches(convert_from(decode(p_args[2], 'hex'), 'UTF8'), '\{([0-9]{1,5})\}', 'g') AS m;
  RETURN true;
EXCEPTION WHEN data_exception THEN
  RETURN false;
END $$;

-- Every watch of this install: its table (by current name), template (with current column names), the
-- columns whose UPDATE matters (NULL: any) and the type it is limited to (NULL: every type).
CREATE OR REPLACE VIEW cache_watches AS
SELECT tg.tgrelid::regclass AS table_name,
       left(tg.tgname, -4) AS watch_name,
       (SELECT string_agg(CASE WHEN m[1] IS NOT NULL THEN '{' || coalesce(a.attname::text, '?dropped?') || '}' ELSE m[2] END, ''
                          ORDER BY o)
          FROM regexp_matches(convert_from(decode(w.args[2], 'hex'), 'UTF8'), '\{([0-9]{1,5})\}|([^{}]+)', 'g')
               WITH ORDINALITY AS x(m, o)
          LEFT JOIN pg_attribute a ON a.attrelid = tg.tgrelid AND a.attnum = m[1]::int2 AND NOT a.attisdropped) AS tag,
       (SELECT array_agg(a.attname::text ORDER BY a.attnum) FROM pg_attribute a
         WHERE a.attrelid = tg.tgrelid AND a.attnum = ANY (w.args[3]::int2[]) AND NOT a.attisdropped) AS columns,
       nullif(w.args[1], '') AS cache_type
  FROM pg_trigger tg
 CROSS JOIN LATERAL (SELECT string_to_array(encode(tg.tgargs, 'escape'), '\000') AS args) w
 WHERE tg.tgfoid = 'cache_watch_trigger()'::regprocedure
   AND tg.tgname LIKE 'pgcache\_watch\_%\_ins'
   AND _watch_args_valid(w.args);
COMMENT ON VIEW cache_watches IS
  'Watched tables (cache_watch_table): table, watch name, tag template, columns whose UPDATE matters (NULL: any), cache type (NULL: every type).';

-- Who may call the functions of this file (pgcache_functions; core/30_security.sql grants by it).
INSERT INTO pgcache_functions (function_name, role_group) VALUES
  ('_watch_builtin_type', 'internal'),
  ('_watch_columns_sql', 'internal'),
  ('_watch_tag_sql', 'internal'),
  ('_watch_tag_pattern', 'internal'),
  ('_watch_args_valid', 'admin'),  -- of the view cache_watches, which runs it as the caller
  ('cache_watch_trigger', 'admin'),  -- attached by cache_watch_table, which runs as the caller (who so needs it)
  ('cache_watch_table', 'invoker'),
  ('cache_unwatch_table', 'invoker')
ON CONFLICT (function_name) DO UPDATE SET role_group = excluded.role_group;

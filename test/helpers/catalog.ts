// A textual picture of everything an install of pgcache puts in the catalog of one schema, with the schema's
// name replaced by SCHEMA, so two installs (fresh, upgraded, as an extension) can be compared line by line.
import type pg from 'pg';

const QUERIES: Record<string, string> = {
  relation: `
    SELECT c.relname || ' kind=' || c.relkind::text || ' persistence=' || c.relpersistence::text
           || ' options=' || coalesce(array_to_string(c.reloptions, ','), '')
           || ' toast=' || coalesce((SELECT array_to_string(t.reloptions, ',') FROM pg_class t WHERE t.oid = c.reltoastrelid), '')
           || ' partkey=' || coalesce(pg_get_partkeydef(c.oid), '')
           || ' bound=' || coalesce(pg_get_expr(c.relpartbound, c.oid), '')
           || ' rls=' || c.relrowsecurity || ' acl=' || coalesce(c.relacl::text, '')
           || ' owner=' || pg_get_userbyid(c.relowner)
           || ' comment=' || coalesce(obj_description(c.oid, 'pg_class'), '')
      FROM pg_class c WHERE c.relnamespace = $1::regnamespace AND c.relkind NOT IN ('i', 'I')`,
  column: `
    SELECT c.relname || '.' || a.attname
           || ' #' || row_number() OVER (PARTITION BY c.oid ORDER BY a.attnum)
           || ' ' || format_type(a.atttypid, a.atttypmod)
           || ' notnull=' || a.attnotnull || ' default=' || coalesce(pg_get_expr(d.adbin, d.adrelid), '')
           || ' identity=' || a.attidentity::text || ' generated=' || a.attgenerated::text || ' storage=' || a.attstorage::text
           || ' collation=' || coalesce((SELECT collname FROM pg_collation WHERE oid = a.attcollation), '')
           || ' acl=' || coalesce(a.attacl::text, '')
           || ' comment=' || coalesce(col_description(c.oid, a.attnum), '')
      FROM pg_class c JOIN pg_attribute a ON a.attrelid = c.oid
      LEFT JOIN pg_attrdef d ON d.adrelid = c.oid AND d.adnum = a.attnum
     WHERE c.relnamespace = $1::regnamespace AND c.relkind IN ('r', 'p', 'v', 'm', 'f', 'u')
       AND a.attnum > 0 AND NOT a.attisdropped`,
  index: `
    SELECT pg_get_indexdef(i.indexrelid) || ' comment=' || coalesce(obj_description(i.indexrelid, 'pg_class'), '')
      FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid WHERE c.relnamespace = $1::regnamespace`,
  constraint: `
    SELECT coalesce(r.relname, t.typname) || ' ' || k.conname || ' ' || pg_get_constraintdef(k.oid)
      FROM pg_constraint k LEFT JOIN pg_class r ON r.oid = k.conrelid LEFT JOIN pg_type t ON t.oid = k.contypid
     WHERE k.connamespace = $1::regnamespace`,
  function: `
    SELECT pg_get_functiondef(p.oid) || ' acl=' || coalesce(p.proacl::text, '')
           || ' owner=' || pg_get_userbyid(p.proowner)
           || ' comment=' || coalesce(obj_description(p.oid, 'pg_proc'), '')
      FROM pg_proc p WHERE p.pronamespace = $1::regnamespace AND p.prokind IN ('f', 'p', 'w')`,
  aggregate: `
    SELECT p.oid::regprocedure::text FROM pg_proc p WHERE p.pronamespace = $1::regnamespace AND p.prokind = 'a'`,
  view: `
    SELECT c.relname || ' ' || pg_get_viewdef(c.oid) FROM pg_class c
     WHERE c.relnamespace = $1::regnamespace AND c.relkind IN ('v', 'm')`,
  trigger: `
    SELECT pg_get_triggerdef(g.oid) || ' enabled=' || g.tgenabled::text
      FROM pg_trigger g JOIN pg_class c ON c.oid = g.tgrelid
     WHERE c.relnamespace = $1::regnamespace AND NOT g.tgisinternal`,
  policy: `
    SELECT c.relname || ' ' || p.polname || ' ' || p.polcmd::text || ' ' || p.polpermissive
           || ' roles=' || (SELECT string_agg(CASE WHEN r = 0 THEN 'public' ELSE pg_get_userbyid(r) END, ',' ORDER BY 1) FROM unnest(p.polroles) r)
           || ' using=' || coalesce(pg_get_expr(p.polqual, p.polrelid), '')
           || ' check=' || coalesce(pg_get_expr(p.polwithcheck, p.polrelid), '')
      FROM pg_policy p JOIN pg_class c ON c.oid = p.polrelid WHERE c.relnamespace = $1::regnamespace`,
  sequence: `
    SELECT s.seqrelid::regclass::text || ' ' || format_type(s.seqtypid, NULL) || ' start=' || s.seqstart
           || ' inc=' || s.seqincrement || ' min=' || s.seqmin || ' max=' || s.seqmax || ' cycle=' || s.seqcycle
      FROM pg_sequence s JOIN pg_class c ON c.oid = s.seqrelid WHERE c.relnamespace = $1::regnamespace`,
  type: `
    SELECT t.typname || ' ' || t.typtype::text || ' comment=' || coalesce(obj_description(t.oid, 'pg_type'), '')
           || coalesce(' labels=' || (SELECT string_agg(e.enumlabel, ',' ORDER BY e.enumsortorder) FROM pg_enum e WHERE e.enumtypid = t.oid), '')
      FROM pg_type t WHERE t.typnamespace = $1::regnamespace AND t.typtype IN ('d', 'e', 'c', 'r', 'm')
       AND NOT EXISTS (SELECT 1 FROM pg_class c WHERE c.oid = t.typrelid AND c.relkind <> 'c')`,
  schema: `
    SELECT n.nspname || ' acl=' || coalesce(n.nspacl::text, '') || ' owner=' || pg_get_userbyid(n.nspowner)
           || ' comment=' || coalesce(obj_description(n.oid, 'pg_namespace'), '')
      FROM pg_namespace n WHERE n.oid = $1::regnamespace`,
  role: `
    SELECT r.rolname || ' login=' || r.rolcanlogin || ' member_of='
           || coalesce((SELECT string_agg(g.rolname, ',' ORDER BY g.rolname) FROM pg_auth_members m
                          JOIN pg_roles g ON g.oid = m.roleid WHERE m.member = r.oid), '')
      FROM pg_roles r
     WHERE r.rolname LIKE $1 || '\\_%'
        OR r.rolname IN (INSTALL_ROLES)
        OR shobj_description(r.oid, 'pg_authid') LIKE 'pgcache _% role of ' || current_database() || '.' || $1`,
  default_acl: `
    SELECT d.defaclobjtype::text || ' ' || d.defaclacl::text FROM pg_default_acl d WHERE d.defaclnamespace = $1::regnamespace`,
  // A secret is random per install: its presence and length count, not its value.
  setting: `
    SELECT format('%s=%s (%s)', name,
                  CASE WHEN name LIKE '%secret%' AND value <> '' THEN '<secret of ' || octet_length(value) || ' bytes>' ELSE value END,
                  description)
      FROM SCHEMA.cache_settings`,
  cache_type: `
    SELECT to_jsonb(t) - 'created_at' - 'hits_sequence' - 'misses_sequence'
           || jsonb_build_object('hits', t.hits_sequence::text, 'misses', t.misses_sequence::text)
      FROM SCHEMA.cache_types t`,
};

/**
 * Sorted lines describing the schema's catalog, each prefixed with its kind. The install's roles (named in
 * pgcache_install) and any role left with the schema's name or marked for it are listed; the install's role
 * prefix reads DATABASE_SCHEMA (when it is the default <database>_<schema>) or PREFIX, so installs in two
 * databases compare equal.
 */
export async function catalog(client: pg.Pool | pg.ClientBase, schema: string, skip: RegExp[] = []): Promise<string[]> {
  const lines: string[] = [];
  const present = await client.query(
    'SELECT to_regclass($1) IS NOT NULL AS ok, to_regclass($2) IS NOT NULL AS marked, current_database() AS db',
    [`"${schema}".cache_types`, `"${schema}".pgcache_install`],
  );
  const { ok, marked, db } = present.rows[0];
  let prefix: string | null = null;
  if (marked) {
    const install = await client.query(`SELECT role_prefix FROM "${schema}".pgcache_install`);
    prefix = install.rows[0]?.role_prefix ?? null;
  }
  const defaultPrefix = `${String(db)
    .toLowerCase()
    .replace(/[^a-z0-9_]/g, '_')}_${schema}`;
  const installRoles = marked
    ? `SELECT unnest(ARRAY[reader_role, writer_role, admin_role]) FROM "${schema}".pgcache_install`
    : 'SELECT NULL::text WHERE false';
  for (const [kind, sql] of Object.entries(QUERIES)) {
    if ((kind === 'setting' || kind === 'cache_type') && !ok) continue;
    const text = sql.replaceAll('SCHEMA.', `"${schema}".`).replace('INSTALL_ROLES', installRoles);
    const { rows } = await client.query(text, text.includes('$1') ? [schema] : []);
    for (const row of rows) {
      let line = String(Object.values(row)[0]);
      if (prefix) line = line.replaceAll(prefix, prefix === defaultPrefix ? 'DATABASE_SCHEMA' : 'PREFIX');
      lines.push(`${kind}: ${line.replaceAll(schema, 'SCHEMA')}`);
    }
  }
  return lines.filter((line) => !skip.some((re) => re.test(line))).sort();
}

/** The lines only one side has, for a readable failure. */
export function catalogDiff(a: string[], b: string[]): { onlyA: string[]; onlyB: string[] } {
  const setA = new Set(a);
  const setB = new Set(b);
  return { onlyA: a.filter((l) => !setB.has(l)), onlyB: b.filter((l) => !setA.has(l)) };
}

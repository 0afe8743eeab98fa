// pgcache as a PostgreSQL extension, generated from the same SQL the migrations and psql apply:
//   pgcache--<v>.sql         a fresh install of version v (its files, from sql/releases/<v>/ or sql/)
//   pgcache--<a>--<b>.sql    ALTER EXTENSION UPDATE: the upgrade step's DDL, then every file of b
//   pgcache.control
// and the same scripts wrapped for pg_tle (pgtle.install_extension / install_update_path).
// An extension script cannot use psql (\ir, \if, \gset), nor CREATE EXTENSION vector from inside it, so the
// psql prelude is replaced by its extension form below and the vector/ files run only where vector exists.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  currentVersion,
  installFiles,
  readVersionFile,
  releasedVersions,
  sqlDir,
  upgradeSteps,
} from '../../migrations/lib/install-files.js';

export const EXTENSION = 'pgcache';
export const DESCRIPTION =
  'Postgres-native cache: typed cache functions, TTLs, eviction, semantic lookup with pgvector';

/** The psql-only part of a prelude: an extension script cannot create another extension. */
const CREATE_VECTOR =
  /\n {2}IF NOT EXISTS \(SELECT 1 FROM pg_extension WHERE extname = 'vector'\)\n[\s\S]*?CREATE EXTENSION vector[\s\S]*?\n {2}END IF;\n/;

/**
 * A version's prelude.sql (the same refusals, install record, role names, pgvector library load and pinned
 * search_path as a psql install of it) in the extension's schema, without CREATE EXTENSION vector (create
 * vector before pgcache to get it).
 */
function prelude(version: string): string {
  let sql = readVersionFile(version, 'prelude.sql');
  if (!CREATE_VECTOR.test(sql))
    throw new Error(`prelude.sql of ${version}: no CREATE EXTENSION vector block to leave out`);
  // CREATE EXTENSION made the schema (an extension may not CREATE ... IF NOT EXISTS an object it does not own),
  // and the extension itself is in it: not a foreign object.
  sql = sql
    .replace("  EXECUTE format('CREATE SCHEMA IF NOT EXISTS %I', target);\n", '')
    .replace(
      'FROM pg_extension WHERE extnamespace = ns)',
      "FROM pg_extension WHERE extnamespace = ns AND extname <> 'pgcache')",
    );
  return `-- The extension's schema is the install schema; every function captures the search_path prelude.sql sets.
SELECT pg_catalog.set_config('pgcache.schema', pg_catalog.current_schema(), true);
-- prelude.sql of ${version}, without CREATE EXTENSION vector.
${sql.replace(CREATE_VECTOR, '\n')}
`;
}

/** Before the files run: the registry rows there are already (none on a fresh install). */
const ROWS_BEFORE = `-- Registry rows present before this script, so the rows it seeds can be told from the rows a user adds.
DO $pgcache_rows$
DECLARE
  rows_before text := '{}';
BEGIN
  IF pg_catalog.to_regclass('cache_types') IS NOT NULL THEN
    EXECUTE $q$SELECT pg_catalog.jsonb_build_object(
      'cache_settings', (SELECT coalesce(pg_catalog.jsonb_agg(name), '[]') FROM cache_settings),
      'cache_types', (SELECT coalesce(pg_catalog.jsonb_agg(name), '[]') FROM cache_types))::text$q$ INTO rows_before;
  END IF;
  PERFORM pg_catalog.set_config('pgcache.rows_before', rows_before, true);
END $pgcache_rows$;
`;

/**
 * After the files: pg_dump keeps the registry rows a user added (the rows the scripts seeded come back with
 * CREATE EXTENSION) and the registry's identity sequence. Seeded rows are the ones a script added, kept across
 * updates in the filter itself.
 */
const CONFIG_DUMP = `-- pg_dump keeps the registry rows that no pgcache script seeded.
DO $pgcache_rows$
DECLARE
  before jsonb := pg_catalog.current_setting('pgcache.rows_before')::jsonb;
  tbl text;
  old_filter text;
  seeded text[];
BEGIN
  FOREACH tbl IN ARRAY ARRAY['cache_settings', 'cache_types'] LOOP
    SELECT c.cond INTO old_filter
      FROM pg_catalog.pg_extension x, unnest(x.extconfig, x.extcondition) AS c(rel, cond)
     WHERE x.extname = 'pgcache' AND c.rel = tbl::regclass;
    EXECUTE pg_catalog.format(
      'SELECT coalesce(array_agg(name ORDER BY name), ''{}'') FROM %I WHERE NOT ($1 @> to_jsonb(name)) OR name = ANY ($2)', tbl)
      INTO seeded
      USING coalesce(before -> tbl, '[]'), coalesce(substring(old_filter from $re$'({[^']*})'$re$), '{}')::text[];
    PERFORM pg_catalog.pg_extension_config_dump(tbl::regclass, pg_catalog.format('WHERE name <> ALL (%L::text[])', seeded));
  END LOOP;
  PERFORM pg_catalog.pg_extension_config_dump('cache_models'::regclass, '');
  PERFORM pg_catalog.pg_extension_config_dump(pg_catalog.pg_get_serial_sequence('cache_types', 'id')::regclass, '');
END $pgcache_rows$;
`;

const VECTOR_TAG = '$pgcache_vector_file$';

/** A vector/ file, run only where the vector extension exists at CREATE (or UPDATE) time. */
function vectorConditional(file: string, sql: string): string {
  if (sql.includes(VECTOR_TAG)) throw new Error(`${file} contains ${VECTOR_TAG}`);
  return `DO $pgcache_vector$
BEGIN
  IF EXISTS (SELECT 1 FROM pg_catalog.pg_extension WHERE extname = 'vector') THEN
    EXECUTE ${VECTOR_TAG}${sql}${VECTOR_TAG};
  END IF;
END $pgcache_vector$;
`;
}

function header(what: string): string {
  return `-- pgcache extension script: ${what}.\n-- Generated by scripts/extension.ts from sql/; do not edit (docs/versions.md).\n`;
}

function body(version: string): string {
  return installFiles(version)
    .filter((f) => f !== 'prelude.sql')
    .map((file) => {
      const sql = readVersionFile(version, file);
      return `\n-- ${file}\n${file.startsWith('vector/') ? vectorConditional(file, sql) : sql}`;
    })
    .join('');
}

/** The script that installs `version` fresh (CREATE EXTENSION pgcache VERSION '<version>'). */
export function installScript(version: string): string {
  return `${header(`install ${version}`)}\n${prelude(version)}${ROWS_BEFORE}${body(version)}\n${CONFIG_DUMP}`;
}

/** The script that updates an extension of the version before `to` to `to`. */
export function updateScript(from: string, to: string): string {
  const step = upgradeSteps().find((s) => s.from === from && s.to === to);
  if (!step) throw new Error(`no upgrade step ${from} -> ${to}`);
  const ddl = readFileSync(join(sqlDir, step.file), 'utf8');
  return `${header(`update ${from} to ${to}`)}\n${prelude(to)}${ROWS_BEFORE}\n-- ${step.file}\n${ddl}${body(to)}\n${CONFIG_DUMP}`;
}

export function controlFile(): string {
  return `# pgcache extension. Generated by scripts/extension.ts; do not edit.
comment = '${DESCRIPTION}'
default_version = '${currentVersion()}'
schema = pgcache
relocatable = false
`;
}

/** Versions that have an install script: every release and the current version. */
export function versions(): string[] {
  const all = [...releasedVersions(), currentVersion()];
  return all.filter((v, i) => all.indexOf(v) === i);
}

/** Every file of the extension, by file name. */
export function extensionFiles(): Map<string, string> {
  const files = new Map<string, string>([[`${EXTENSION}.control`, controlFile()]]);
  for (const v of versions()) files.set(`${EXTENSION}--${v}.sql`, installScript(v));
  for (const s of upgradeSteps()) files.set(`${EXTENSION}--${s.from}--${s.to}.sql`, updateScript(s.from, s.to));
  return files;
}

/** A dollar-quote tag that the text does not contain. */
function dollarTag(text: string): string {
  for (let i = 0; ; i++) {
    const tag = `$pgcache_tle${i || ''}$`;
    if (!text.includes(tag)) return tag;
  }
}

/**
 * SQL that registers pgcache with pg_tle, run as a member of pgtle_admin. Fresh (no `from`): the install
 * script of `version`. With `from` (pgcache is registered with pg_tle at that version): the update paths from
 * it to `version`, which becomes the default, so each database can ALTER EXTENSION pgcache UPDATE.
 */
export function pgTleSql(options: { version?: string; from?: string } = {}): string {
  const version = options.version ?? currentVersion();
  const vs = versions();
  if (!vs.includes(version)) throw new Error(`unknown version ${version}`);
  const quote = (text: string) => {
    const tag = dollarTag(text);
    return `${tag}${text}${tag}`;
  };
  const lines = [`-- Registers pgcache ${version} with pg_tle. Generated by scripts/extension.ts.`];
  if (options.from === undefined) {
    lines.push(
      '-- Then in each database: CREATE SCHEMA pgcache; CREATE EXTENSION pgcache SCHEMA pgcache;',
      '-- (CREATE EXTENSION vector first to get the vector functions.)',
      'BEGIN;',
      `SELECT pgtle.install_extension('${EXTENSION}', '${version}', '${DESCRIPTION}', ${quote(installScript(version))}, ARRAY[]::text[]);`,
    );
  } else {
    const steps = upgradeSteps().filter(
      (s) => vs.indexOf(s.from) >= vs.indexOf(options.from as string) && vs.indexOf(s.to) <= vs.indexOf(version),
    );
    if (steps[0]?.from !== options.from) throw new Error(`no update path ${options.from} -> ${version}`);
    lines.push('-- Then in each database: ALTER EXTENSION pgcache UPDATE;', 'BEGIN;');
    for (const s of steps) {
      lines.push(
        `SELECT pgtle.install_update_path('${EXTENSION}', '${s.from}', '${s.to}', ${quote(updateScript(s.from, s.to))});`,
      );
    }
    lines.push(`SELECT pgtle.set_default_version('${EXTENSION}', '${version}');`);
  }
  lines.push('COMMIT;', '');
  return lines.join('\n');
}

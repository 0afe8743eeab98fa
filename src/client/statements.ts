// The SQL the client sends: one call of a pgcache function per statement, named so each connection
// prepares it once (the named-prepared-statement path is measurably faster than re-parsing).
import pg from 'pg';
import type { ValueKind } from './types.js';

const GETTERS: Record<ValueKind, string> = {
  jsonb: 'cache_get',
  text: 'cache_get_text',
  bytea: 'cache_get_bytea',
  vector: 'cache_get_real_array',
};
const CASTS: Record<ValueKind, string> = { jsonb: 'jsonb', text: 'text', bytea: 'bytea', vector: 'real[]' };

/** An interval from TTL parameters: seconds at $p, or the TTL class at $p+1 (both NULL: NULL, the type's default). */
const TTL_PARAM = (S: string, p: number) =>
  `coalesce($${p}::float8 * interval '1 second', CASE WHEN $${p + 1}::text IS NOT NULL THEN ${S}.cache_ttl($${p + 1}::text) END)`;

export type Statements = ReturnType<typeof buildStatements>;
export type Statement = { name: string; text: string };

/** What a tenant name may be (the SQL's _tenant() check): anything else is PC013 there. */
export const TENANT_NAME = /^[A-Za-z0-9_.:@-]{1,128}$/;

/**
 * The query to send for a statement. With a tenant, the statement runs after a set_config of pgcache.tenant
 * that lasts only for its own transaction, in the same round trip (the tenant is the last parameter): the
 * one way the client binds a tenant, used by every accessor and add-on module.
 */
export function bindTenant(statement: Statement, values: unknown[], tenant: string | undefined): pg.QueryConfig {
  if (tenant === undefined) return { ...statement, values };
  return {
    name: `${statement.name}:tenant`,
    text: `WITH tenant AS MATERIALIZED (SELECT set_config('pgcache.tenant', $${values.length + 1}, true))
           SELECT q.* FROM tenant, LATERAL (${statement.text}) q`,
    values: [...values, tenant],
  };
}

/** Every statement text for one install schema. `n` names a statement uniquely per schema. */
export function buildStatements(schema: string) {
  const S = pg.escapeIdentifier(schema);
  const n = (name: string) => `pgcache:${schema}:${name}`;
  const perKind = <T>(build: (kind: ValueKind) => T) =>
    Object.fromEntries((['jsonb', 'text', 'bytea', 'vector'] as const).map((k) => [k, build(k)])) as Record<
      ValueKind,
      T
    >;

  return {
    // `v IS NULL` tells a miss from a stored JSON null.
    get: perKind((k) => ({
      name: n(`get:${k}`),
      text: `SELECT v, v IS NULL AS miss FROM ${S}.${GETTERS[k]}($1, $2) AS v`,
    })),
    readBytea: {
      name: n('get_bytea_slice'),
      text: `SELECT total, chunk FROM ${S}.cache_get_bytea_slice($1, $2, $3, $4)`,
    },
    getEntry: {
      name: n('get_entry'),
      text: `SELECT *, coalesce(stale_at <= now(), false) AS stale FROM ${S}.cache_get_entry($1, $2)`,
    },
    getMany: {
      name: n('get_many'),
      text: `SELECT key, value_json, value_text, value_bytes, value_vector FROM ${S}.cache_get_many($1, $2)`,
    },
    // TTL variants: `seconds` takes $4 in seconds (NULL for a non-finite number: the SQL rejects it, PC004);
    // `class` takes a TTL class name; `typeDefault` passes model and meta with the type's default TTL.
    set: {
      default: perKind((k) =>
        k === 'vector'
          ? { name: n('set:default:vector'), text: `SELECT ${S}.cache_set($1, $2, $3::real[], $4::text) AS expires_at` }
          : { name: n(`set:default:${k}`), text: `SELECT ${S}.cache_set($1, $2, $3::${CASTS[k]}) AS expires_at` },
      ),
      typeDefault: perKind((k) => ({
        name: n(`set:type_default:${k}`),
        text: `SELECT ${S}.cache_set($1, $2, $3::${CASTS[k]}, ${S}.cache_default_ttl($1), $4::text, $5::jsonb) AS expires_at`,
      })),
      seconds: perKind((k) => ({
        name: n(`set:seconds:${k}`),
        text: `SELECT ${S}.cache_set($1, $2, $3::${CASTS[k]}, $4::float8 * interval '1 second', $5::text, $6::jsonb) AS expires_at`,
      })),
      class: perKind((k) => ({
        name: n(`set:class:${k}`),
        text: `SELECT ${S}.cache_set($1, $2, $3::${CASTS[k]}, ${S}.cache_ttl($4), $5::text, $6::jsonb) AS expires_at`,
      })),
    },
    setMany: {
      default: perKind((k) => ({
        name: n(`set_many:default:${k}`),
        text: `SELECT ${S}.cache_set_many($1, $2, $3::${CASTS[k]}[]) AS n`,
      })),
      seconds: perKind((k) => ({
        name: n(`set_many:seconds:${k}`),
        text: `SELECT ${S}.cache_set_many($1, $2, $3::${CASTS[k]}[], $4::float8 * interval '1 second') AS n`,
      })),
      class: perKind((k) => ({
        name: n(`set_many:class:${k}`),
        text: `SELECT ${S}.cache_set_many($1, $2, $3::${CASTS[k]}[], ${S}.cache_ttl($4)) AS n`,
      })),
    },
    // Sets with tags (text[]): the same TTL variants, tags last. Separate statements, so untagged sets keep theirs.
    setTagged: {
      typeDefault: perKind((k) => ({
        name: n(`set_tagged:type_default:${k}`),
        text: `SELECT ${S}.cache_set($1, $2, $3::${CASTS[k]}, ${S}.cache_default_ttl($1), $4::text, $5::jsonb, $6::text[]) AS expires_at`,
      })),
      seconds: perKind((k) => ({
        name: n(`set_tagged:seconds:${k}`),
        text: `SELECT ${S}.cache_set($1, $2, $3::${CASTS[k]}, $4::float8 * interval '1 second', $5::text, $6::jsonb, $7::text[]) AS expires_at`,
      })),
      class: perKind((k) => ({
        name: n(`set_tagged:class:${k}`),
        text: `SELECT ${S}.cache_set($1, $2, $3::${CASTS[k]}, ${S}.cache_ttl($4), $5::text, $6::jsonb, $7::text[]) AS expires_at`,
      })),
    },
    setManyTagged: {
      default: perKind((k) => ({
        name: n(`set_many_tagged:default:${k}`),
        text: `SELECT ${S}.cache_set_many($1, $2, $3::${CASTS[k]}[], ${S}.cache_default_ttl($1), $4::text[]) AS n`,
      })),
      seconds: perKind((k) => ({
        name: n(`set_many_tagged:seconds:${k}`),
        text: `SELECT ${S}.cache_set_many($1, $2, $3::${CASTS[k]}[], $4::float8 * interval '1 second', $5::text[]) AS n`,
      })),
      class: perKind((k) => ({
        name: n(`set_many_tagged:class:${k}`),
        text: `SELECT ${S}.cache_set_many($1, $2, $3::${CASTS[k]}[], ${S}.cache_ttl($4), $5::text[]) AS n`,
      })),
    },
    watchTable: {
      name: n('watch_table'),
      text: `SELECT ${S}.cache_watch_table($1::regclass, $2, $3::text[], $4) AS name`,
    },
    unwatchTable: { name: n('unwatch_table'), text: `SELECT ${S}.cache_unwatch_table($1::regclass, $2, $3) AS n` },
    watches: {
      name: n('watches'),
      text: `SELECT table_name::text AS table_name, watch_name, tag, columns, cache_type FROM ${S}.cache_watches ORDER BY 1, 3`,
    },
    invalidateTags: {
      name: n('invalidate_tags'),
      text: `SELECT ${S}.cache_invalidate_tags($1::text[], $2::text) AS n`,
    },
    touch: {
      default: { name: n('touch:default'), text: `SELECT ${S}.cache_touch($1, $2) AS ok` },
      seconds: {
        name: n('touch:seconds'),
        text: `SELECT ${S}.cache_touch($1, $2, $3::float8 * interval '1 second') AS ok`,
      },
      class: { name: n('touch:class'), text: `SELECT ${S}.cache_touch($1, $2, ${S}.cache_ttl($3)) AS ok` },
    },
    setFresh: perKind((k) => ({
      name: n(`set_fresh:${k}`),
      text: `SELECT ${S}.cache_set_fresh($1, $2, $3::${CASTS[k]}, $4::float8 * interval '1 second', $5::float8 * interval '1 second') AS expires_at`,
    })),
    // Stampede protection: a session-level advisory lock per (type, key), held on one pooled connection.
    lock: { name: n('lock'), text: `SELECT ${S}.cache_lock($1, $2, $3::float8 * interval '1 millisecond') AS ok` },
    unlock: { name: n('unlock'), text: `SELECT ${S}.cache_unlock($1, $2) AS ok` },
    // Re-read under the compute lock: counts nothing (the caller's first read counted the miss).
    peek: {
      name: n('peek'),
      text: `SELECT value_json, value_text, value_bytes, value_vector FROM ${S}.cache_peek($1, $2)`,
    },
    // Atomic writes. The TTL is $4 seconds or the class $5 (both NULL: the type's default).
    incr: {
      name: n('incr'),
      text: `SELECT ${S}.cache_incr($1, $2, $3::bigint, ${TTL_PARAM(S, 4)}) AS n`,
    },
    add: perKind((k) => ({
      name: n(`add:${k}`),
      text: `SELECT ${S}.cache_add($1, $2, $3::${CASTS[k]}, ${TTL_PARAM(S, 4)}) AS ok`,
    })),
    patch: {
      name: n('patch'),
      text: `SELECT v, v IS NULL AS miss FROM ${S}.cache_patch($1, $2, $3::jsonb, $4::text[]) AS v`,
    },
    // Leased locks (core/14_leases.sql); tokens travel as decimal text.
    leaseAcquire: {
      name: n('lease_acquire'),
      text: `SELECT ${S}.cache_lease_acquire($1, $2::float8 * interval '1 second', $3)::text AS token`,
    },
    leaseExtend: {
      name: n('lease_extend'),
      text: `SELECT ${S}.cache_lease_extend($1, $2::bigint, $3::float8 * interval '1 second') AS ok`,
    },
    leaseRelease: { name: n('lease_release'), text: `SELECT ${S}.cache_lease_release($1, $2::bigint) AS ok` },
    delete: { name: n('delete'), text: `SELECT ${S}.cache_delete($1, $2) AS ok` },
    invalidatePrefix: { name: n('invalidate_prefix'), text: `SELECT ${S}.cache_invalidate_prefix($1, $2) AS n` },
    invalidatePattern: { name: n('invalidate_pattern'), text: `SELECT ${S}.cache_invalidate_pattern($1, $2) AS n` },
    bumpVersion: { name: n('bump_version'), text: `SELECT ${S}.cache_bump_version($1) AS v` },
    scan: {
      name: n('scan'),
      text: `SELECT *, coalesce(stale_at <= now(), false) AS stale FROM ${S}.cache_scan($1, $2, $3, $4)`,
    },
    // With what hits saved, per type (core/22_savings.sql).
    stats: {
      name: n('stats'),
      text: `SELECT s.*, v.saved_hits, v.saved_tokens, v.saved_characters, v.saved_compute_seconds, v.saved_cost
               FROM ${S}.cache_stats() s LEFT JOIN ${S}.cache_savings_stats() v USING (cache_type)`,
    },
    kinds: { name: n('kinds'), text: `SELECT id, name, value_kind, notify, tenant_scoped FROM ${S}.cache_types` },
    recordReads: {
      name: n('record_reads'),
      text: `SELECT ${S}.cache_record_reads($1, $2::bigint, $3::bigint, $4::text[])`,
    },
    // Savings per day, type, model, tenant and currency since day $1 (NULL: all); day as text, not a local Date.
    savings: {
      name: n('savings'),
      text: `SELECT day::text AS day, cache_type, model, tenant, currency, hits, input_tokens, output_tokens, tokens,
                    characters, compute_seconds, cost
               FROM ${S}.cache_savings WHERE $1::date IS NULL OR day >= $1::date
              ORDER BY day, cache_type, model NULLS FIRST, tenant NULLS FIRST, currency NULLS FIRST`,
    },
    semanticDistances: {
      name: n('semantic_distances'),
      text: `SELECT cache_type, model, bucket, distance_from, distance_to, hits, misses FROM ${S}.cache_semantic_distances
              ORDER BY cache_type, model, bucket`,
    },
    semanticQuality: {
      name: n('semantic_quality'),
      text: `SELECT * FROM ${S}.cache_semantic_quality ORDER BY cache_type, model`,
    },
    recordSavings: {
      name: n('record_savings'),
      text: `SELECT ${S}.cache_record_savings($1, $2::jsonb)`,
    },
    deleteMany: { name: n('delete_many'), text: `SELECT ${S}.cache_delete_many($1, $2::text[]) AS n` },
    // $3: seconds; Infinity (sent for defaultTtl 'never') is the no-expiry TTL.
    createType: {
      name: n('create_type'),
      text: `SELECT * FROM ${S}.cache_create_type($1, $2, CASE WHEN $3::float8 = 'Infinity' THEN ${S}.cache_ttl('never') ELSE $3::float8 * interval '1 second' END, $4, $5, $6, $7, $8, $9::jsonb, $10)`,
    },
    dropType: { name: n('drop_type'), text: `SELECT ${S}.cache_drop_type($1) AS ok` },
    cleanupExpired: { name: n('cleanup_expired'), text: `SELECT ${S}.cache_cleanup_expired($1, $2) AS n` },
    evict: { name: n('evict'), text: `SELECT ${S}.cache_evict($1, $2, $3, $4) AS n` },
    // maxBytes given as a PostgreSQL size ('64MB'), read by pg_size_bytes.
    evictSized: { name: n('evict_sized'), text: `SELECT ${S}.cache_evict($1, $2, pg_size_bytes($3::text), $4) AS n` },
    registerModel: { name: n('register_model'), text: `SELECT ${S}.cache_register_model($1, $2) AS dimensions` },
  };
}

const VALUE_COLUMNS: Record<ValueKind, string> = {
  jsonb: 'value_json',
  text: 'value_text',
  bytea: 'value_bytes',
  vector: 'value_vector',
};

/**
 * Reads of one type straight from its read view cache_<type>_live (core/03_read.sql): a named prepared
 * statement per connection, the plan of a bare primary-key probe. `type` and `id` must come from the registry
 * (the kinds statement); the name is quoted. Names use the type's id, which is never reused, so they stay short
 * (PostgreSQL keeps 63 bytes of a statement name) and one name always has one text. The tenant variants set
 * pgcache.tenant for their own transaction first: the view filters on it, and the LATERAL reference (with
 * OFFSET 0, so the subquery is not pulled up) makes the view's scan run after the set_config.
 */
export function viewStatements(schema: string, id: number, type: string, kind: ValueKind) {
  const view = `${pg.escapeIdentifier(schema)}.${pg.escapeIdentifier(`cache_${type}_live`)}`;
  const n = (name: string) => `pgcache:${schema}:${name}:${id}`;
  const column = VALUE_COLUMNS[kind];
  // Every column of the view, in its order: the plan then needs no Subquery Scan over the barrier. cost and
  // scope: what a hit saved, for the read counter (core/22_savings.sql).
  const columns = `key, ${column} AS v, touch_due, cost, scope`;
  const get = `SELECT ${columns} FROM ${view} WHERE key = $1`;
  const getMany = `SELECT ${columns} FROM ${view} WHERE key = ANY ($1::text[])`;
  const forTenant = (inner: string, p: number) =>
    `WITH tenant AS MATERIALIZED (SELECT set_config('pgcache.tenant', $${p}, true) AS t)
     SELECT q.* FROM tenant, LATERAL (${inner} AND tenant.t IS NOT NULL OFFSET 0) q`;
  return {
    get: { name: n('vg'), text: get },
    getTenant: { name: n('vgt'), text: forTenant(get, 2) },
    getMany: { name: n('vm'), text: getMany },
    getManyTenant: { name: n('vmt'), text: forTenant(getMany, 2) },
  };
}
export type ViewStatements = ReturnType<typeof viewStatements>;

/**
 * A set of one type through its own writer cache_<type>_set (core/04_write.sql), which locks the type with
 * static statements instead of cache_set's dynamic ones: $1 key, $2 value, $3 TTL in seconds (NULL: the
 * type's default), $4 model, $5 meta. `type` and `id` must come from the registry; names as viewStatements.
 */
export function writerStatements(schema: string, id: number, type: string, kind: ValueKind) {
  const writer = `${pg.escapeIdentifier(schema)}.${pg.escapeIdentifier(`cache_${type}_set`)}`;
  return {
    set: {
      name: `pgcache:${schema}:ws:${id}`,
      text: `SELECT ${writer}($1, $2::${CASTS[kind]}, $3::float8 * interval '1 second', $4::text, $5::jsonb) AS expires_at`,
    },
  };
}
export type WriterStatements = ReturnType<typeof writerStatements>;

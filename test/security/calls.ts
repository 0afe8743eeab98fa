// One call of every public pgcache function, with the group role it is granted to. The adversarial and the
// least-privilege tests share it; both check it against the catalog, so a new function without an entry here
// fails them until it is classified.
import type pg from 'pg';

export type Group = 'reader' | 'writer' | 'admin';

export interface Call {
  /** The function's identity as regprocedure prints it with the schema on the path: cache_get(text,text). */
  fn: string;
  group: Group;
  /** SQL run in schema pgcache (the text SCHEMA is replaced); may hold several statements. */
  sql: string;
  /** A SQLSTATE the call is expected to fail with where the test database lacks something (pg_cron here). */
  fails?: string;
}

/** In order: writes first, so the reads that follow hit (and touch) entries. */
export const CALLS: Call[] = [
  // writer
  {
    fn: 'cache_set(text,text,jsonb)',
    group: 'writer',
    sql: `SELECT SCHEMA.cache_set('default', 'k', '{"a": 1}'::jsonb)`,
  },
  {
    fn: 'cache_set(text,text,jsonb,interval,text,jsonb,text[])',
    group: 'writer',
    sql: `SELECT SCHEMA.cache_set('default', 'k2', '{"a": 1}'::jsonb, interval '1 hour', 'm', '{}'::jsonb)`,
  },
  // The writers of the seeded types (core/04_write.sql): cache_<type>_set, one per type.
  {
    fn: 'cache_default_set(text,jsonb,interval,text,jsonb)',
    group: 'writer',
    sql: `SELECT SCHEMA.cache_default_set('kw', '{"a": 1}'::jsonb)`,
  },
  {
    fn: 'cache_llm_responses_set(text,text,interval,text,jsonb)',
    group: 'writer',
    sql: `SELECT SCHEMA.cache_llm_responses_set('kw', 'hi', interval '1 hour', 'gpt', '{"tokens_used": 3}'::jsonb)`,
  },
  {
    fn: 'cache_audio_chunks_set(text,bytea,interval,text,jsonb)',
    group: 'writer',
    sql: `SELECT SCHEMA.cache_audio_chunks_set('kw', '\\x0102'::bytea)`,
  },
  {
    fn: 'cache_embeddings_set(text,real[],interval,text,jsonb)',
    group: 'writer',
    sql: `SELECT SCHEMA.cache_embeddings_set('kw', '{1,2}'::real[], NULL, 'm2')`,
  },
  {
    fn: 'cache_vector_search_set(text,jsonb,interval,text,jsonb)',
    group: 'writer',
    sql: `SELECT SCHEMA.cache_vector_search_set('kw', '{"doc": 1}'::jsonb)`,
  },
  {
    fn: 'cache_set(text,text,text)',
    group: 'writer',
    sql: `SELECT SCHEMA.cache_set('llm_responses', 'k', 'hello'::text)`,
  },
  {
    fn: 'cache_set(text,text,text,interval,text,jsonb,text[])',
    group: 'writer',
    sql: `SELECT SCHEMA.cache_set('llm_responses', 'k2', 'hi'::text, interval '1 hour', 'gpt', '{"tokens_used": 3}'::jsonb)`,
  },
  {
    fn: 'cache_set(text,text,bytea)',
    group: 'writer',
    sql: `SELECT SCHEMA.cache_set('audio_chunks', 'k', '\\x010203'::bytea)`,
  },
  {
    fn: 'cache_set(text,text,bytea,interval,text,jsonb,text[])',
    group: 'writer',
    sql: `SELECT SCHEMA.cache_set('audio_chunks', 'k2', '\\x01'::bytea, interval '1 hour', NULL::text, '{"format": "mp3"}'::jsonb)`,
  },
  {
    fn: 'cache_set(text,text,real[],text)',
    group: 'writer',
    sql: `SELECT SCHEMA.cache_set('embeddings', 'k', '{1,2}'::real[], 'm2')`,
  },
  {
    fn: 'cache_set(text,text,real[],interval,text,jsonb,text[])',
    group: 'writer',
    sql: `SELECT SCHEMA.cache_set('embeddings', 'k3', '{1,2}'::real[], interval '1 hour', 'm2', NULL::jsonb)`,
  },
  {
    fn: 'cache_set(text,text,vector,text)',
    group: 'writer',
    sql: `SELECT SCHEMA.cache_set('embeddings', 'kv', '[1,2]'::vector, 'm2')`,
  },
  {
    fn: 'cache_set(text,text,vector,interval,text,jsonb,text[])',
    group: 'writer',
    sql: `SELECT SCHEMA.cache_set('embeddings', 'kv2', '[1,2]'::vector, interval '1 hour', 'm2', NULL::jsonb)`,
  },
  {
    fn: 'cache_set_many(text,text[],jsonb[])',
    group: 'writer',
    sql: `SELECT SCHEMA.cache_set_many('default', ARRAY['a1', 'b1'], ARRAY['1', '2']::jsonb[])`,
  },
  {
    fn: 'cache_set_many(text,text[],jsonb[],interval,text[])',
    group: 'writer',
    sql: `SELECT SCHEMA.cache_set_many('default', ARRAY['a2', 'b2'], ARRAY['1', '2']::jsonb[], interval '1 hour')`,
  },
  {
    fn: 'cache_set_many(text,text[],text[])',
    group: 'writer',
    sql: `SELECT SCHEMA.cache_set_many('llm_responses', ARRAY['a'], ARRAY['x'])`,
  },
  {
    fn: 'cache_set_many(text,text[],text[],interval,text[])',
    group: 'writer',
    sql: `SELECT SCHEMA.cache_set_many('llm_responses', ARRAY['b'], ARRAY['x'], interval '1 hour')`,
  },
  {
    fn: 'cache_set_many(text,text[],bytea[])',
    group: 'writer',
    sql: `SELECT SCHEMA.cache_set_many('audio_chunks', ARRAY['a'], ARRAY['\\x01'::bytea])`,
  },
  {
    fn: 'cache_set_many(text,text[],bytea[],interval,text[])',
    group: 'writer',
    sql: `SELECT SCHEMA.cache_set_many('audio_chunks', ARRAY['b'], ARRAY['\\x01'::bytea], interval '1 hour')`,
  },
  {
    fn: 'cache_set_many(text,text[],real[],text)',
    group: 'writer',
    sql: `SELECT SCHEMA.cache_set_many('embeddings', ARRAY['a', 'b'], '{{1,2},{3,4}}'::real[], 'm2')`,
  },
  {
    fn: 'cache_set_many(text,text[],real[],text,interval,text[])',
    group: 'writer',
    sql: `SELECT SCHEMA.cache_set_many('embeddings', ARRAY['c'], '{{1,2}}'::real[], 'm2', interval '1 hour')`,
  },
  {
    fn: 'cache_set_with_embedding(text,text,text,real[],text,interval,text,jsonb,text[])',
    group: 'writer',
    sql: `SELECT SCHEMA.cache_set_with_embedding('llm_responses', 'e1', 'answer'::text, '{1,0,0}'::real[], 'sem', interval '1 hour')`,
  },
  {
    fn: 'cache_set_with_embedding(text,text,jsonb,real[],text,interval,text,jsonb,text[])',
    group: 'writer',
    sql: `SELECT SCHEMA.cache_set_with_embedding('vector_search', 'e2', '{"r": 1}'::jsonb, '{1,0,0}'::real[], 'sem', interval '1 hour')`,
  },
  {
    fn: 'cache_set_with_embedding(text,text,text,vector,text,interval,text,jsonb,text[])',
    group: 'writer',
    sql: `SELECT SCHEMA.cache_set_with_embedding('llm_responses', 'e3', 'answer'::text, '[0,1,0]'::vector, 'sem', interval '1 hour', 'scope1')`,
  },
  {
    fn: 'cache_set_fresh(text,text,jsonb,interval,interval,text[])',
    group: 'writer',
    sql: `SELECT SCHEMA.cache_set_fresh('default', 'f', '1'::jsonb, interval '1 minute', interval '1 hour')`,
  },
  {
    fn: 'cache_set_fresh(text,text,text,interval,interval,text[])',
    group: 'writer',
    sql: `SELECT SCHEMA.cache_set_fresh('llm_responses', 'f', 'x'::text, interval '1 minute', interval '1 hour')`,
  },
  {
    fn: 'cache_set_fresh(text,text,bytea,interval,interval,text[])',
    group: 'writer',
    sql: `SELECT SCHEMA.cache_set_fresh('audio_chunks', 'f', '\\x01'::bytea, interval '1 minute', interval '1 hour')`,
  },
  {
    fn: 'cache_touch(text,text,interval)',
    group: 'writer',
    sql: `SELECT SCHEMA.cache_touch('default', 'k', interval '2 hours')`,
  },
  { fn: 'cache_touch(text,text)', group: 'writer', sql: `SELECT SCHEMA.cache_touch('default', 'k')` },
  {
    fn: 'cache_lock(text,text,interval)',
    group: 'writer',
    sql: `SELECT SCHEMA.cache_lock('default', 'lk', interval '1 second')`,
  },
  { fn: 'cache_unlock(text,text)', group: 'writer', sql: `SELECT SCHEMA.cache_unlock('default', 'lk')` },
  // Consuming, refunding and resetting a limit change shared state (a reader could lock users out): writer.
  {
    fn: 'cache_rate_limit(text,text,integer,interval,integer)',
    group: 'writer',
    sql: `SELECT * FROM SCHEMA.cache_rate_limit('api', 'u', 10, interval '1 minute')`,
  },
  {
    fn: 'cache_rate_limit_refund(text,text,integer)',
    group: 'writer',
    sql: `SELECT SCHEMA.cache_rate_limit_refund('api', 'u')`,
  },
  { fn: 'cache_rate_limit_reset(text,text)', group: 'writer', sql: `SELECT SCHEMA.cache_rate_limit_reset('api', 'u')` },
  {
    fn: 'cache_incr(text,text,bigint,interval)',
    group: 'writer',
    sql: `SELECT SCHEMA.cache_incr('default', 'counter', 2, interval '1 hour')`,
  },
  {
    fn: 'cache_add(text,text,jsonb,interval)',
    group: 'writer',
    sql: `SELECT SCHEMA.cache_add('default', 'added', '1'::jsonb)`,
  },
  {
    fn: 'cache_add(text,text,text,interval)',
    group: 'writer',
    sql: `SELECT SCHEMA.cache_add('llm_responses', 'added', 'x'::text, interval '1 hour')`,
  },
  {
    fn: 'cache_add(text,text,bytea,interval)',
    group: 'writer',
    sql: `SELECT SCHEMA.cache_add('audio_chunks', 'added', '\\x01'::bytea)`,
  },
  {
    fn: 'cache_patch(text,text,jsonb,text[])',
    group: 'writer',
    sql: `SELECT SCHEMA.cache_patch('default', 'k', '{"b": 2}'::jsonb, ARRAY['c'])`,
  },
  {
    fn: 'cache_lease_acquire(text,interval,text)',
    group: 'writer',
    sql: `SELECT SCHEMA.cache_lease_acquire('job', interval '1 minute', 'matrix')`,
  },
  {
    fn: 'cache_lease_extend(text,bigint,interval)',
    group: 'writer',
    sql: `SELECT SCHEMA.cache_lease_extend('job', 1, interval '1 minute')`,
  },
  { fn: 'cache_lease_release(text,bigint)', group: 'writer', sql: `SELECT SCHEMA.cache_lease_release('job', 0)` },
  { fn: 'cache_lease_holder(text)', group: 'reader', sql: `SELECT * FROM SCHEMA.cache_lease_holder('job')` },
  // reader
  { fn: 'cache_ttl(text)', group: 'reader', sql: `SELECT SCHEMA.cache_ttl('short')` },
  {
    fn: 'cache_rate_limit_peek(text,text,integer,interval,integer)',
    group: 'reader',
    sql: `SELECT * FROM SCHEMA.cache_rate_limit_peek('api', 'u', 10, interval '1 minute')`,
  },
  { fn: 'cache_key(text[])', group: 'reader', sql: `SELECT SCHEMA.cache_key('a', 'b')` },
  { fn: 'cache_default_ttl(text)', group: 'reader', sql: `SELECT SCHEMA.cache_default_ttl('default')` },
  { fn: 'cache_get(text,text)', group: 'reader', sql: `SELECT SCHEMA.cache_get('default', 'k')` },
  { fn: 'cache_get_text(text,text)', group: 'reader', sql: `SELECT SCHEMA.cache_get_text('llm_responses', 'k')` },
  { fn: 'cache_get_bytea(text,text)', group: 'reader', sql: `SELECT SCHEMA.cache_get_bytea('audio_chunks', 'k')` },
  {
    fn: 'cache_get_real_array(text,text)',
    group: 'reader',
    sql: `SELECT SCHEMA.cache_get_real_array('embeddings', 'k')`,
  },
  { fn: 'cache_get_vector(text,text)', group: 'reader', sql: `SELECT SCHEMA.cache_get_vector('embeddings', 'kv')` },
  { fn: 'cache_get_entry(text,text)', group: 'reader', sql: `SELECT * FROM SCHEMA.cache_get_entry('default', 'k')` },
  {
    fn: 'cache_get_many(text,text[])',
    group: 'reader',
    sql: `SELECT * FROM SCHEMA.cache_get_many('default', ARRAY['k', 'a1', 'nope'])`,
  },
  { fn: 'cache_scan(text,text,text,integer)', group: 'reader', sql: `SELECT * FROM SCHEMA.cache_scan('default', 'a')` },
  {
    fn: 'cache_read_bytea(text,text,integer,integer)',
    group: 'reader',
    sql: `SELECT * FROM SCHEMA.cache_read_bytea('audio_chunks', 'k', 0, 2)`,
  },
  {
    fn: 'cache_get_bytea_slice(text,text,integer,integer)',
    group: 'reader',
    sql: `SELECT * FROM SCHEMA.cache_get_bytea_slice('audio_chunks', 'k', 0, 2)`,
  },
  { fn: 'cache_peek(text,text)', group: 'reader', sql: `SELECT * FROM SCHEMA.cache_peek('default', 'k')` },
  { fn: 'cache_stats()', group: 'reader', sql: `SELECT * FROM SCHEMA.cache_stats()` },
  { fn: 'cache_replica_status()', group: 'reader', sql: `SELECT * FROM SCHEMA.cache_replica_status()` },
  {
    fn: 'cache_vector_search_key(real[],jsonb,text)',
    group: 'reader',
    sql: `SELECT SCHEMA.cache_vector_search_key('{1,2}'::real[], '{"a": 1}'::jsonb, 'v1')`,
  },
  {
    fn: 'cache_semantic_get(text,vector,text,double precision,text,integer)',
    group: 'reader',
    sql: `SELECT * FROM SCHEMA.cache_semantic_get('llm_responses', '[1,0,0]'::vector, 'sem', 0.5)`,
  },
  {
    fn: 'cache_record_reads(text,bigint,bigint,text[])',
    group: 'reader',
    sql: `SELECT SCHEMA.cache_record_reads('default', 1, 1, ARRAY['k'])`,
  },
  {
    fn: 'cache_cost(text,bigint,bigint,bigint,text,bigint)',
    group: 'reader',
    sql: `SELECT SCHEMA.cache_cost('gpt', 1, 2)`,
  },
  { fn: 'cache_savings_stats()', group: 'reader', sql: `SELECT * FROM SCHEMA.cache_savings_stats()` },
  {
    fn: 'cache_record_savings(text,jsonb)',
    group: 'reader',
    sql: `SELECT SCHEMA.cache_record_savings('default', '[{"model": "gpt", "hits": 1, "input_tokens": 5}]')`,
  },
  {
    fn: 'cache_semantic_feedback(text,text,boolean,text)',
    group: 'reader',
    sql: `SELECT SCHEMA.cache_semantic_feedback('llm_responses', 'k', false)`,
  },
  // writer: removals, after the reads
  {
    fn: 'cache_invalidate_tags(text[],text)',
    group: 'writer',
    sql: `SELECT SCHEMA.cache_invalidate_tags(ARRAY['doc:none'], 'default')`,
  },
  { fn: 'cache_delete(text,text)', group: 'writer', sql: `SELECT SCHEMA.cache_delete('default', 'k2')` },
  {
    fn: 'cache_delete_many(text,text[])',
    group: 'writer',
    sql: `SELECT SCHEMA.cache_delete_many('default', ARRAY['k3', 'k4'])`,
  },
  {
    fn: 'cache_invalidate_prefix(text,text)',
    group: 'writer',
    sql: `SELECT SCHEMA.cache_invalidate_prefix('default', 'a')`,
  },
  {
    fn: 'cache_invalidate_pattern(text,text)',
    group: 'writer',
    sql: `SELECT SCHEMA.cache_invalidate_pattern('default', 'b%')`,
  },
  { fn: 'cache_bump_version(text)', group: 'writer', sql: `SELECT SCHEMA.cache_bump_version('vector_search')` },
  // admin
  {
    fn: 'cache_create_type(text,text,interval,bigint,bigint,text,boolean,integer,jsonb,text)',
    group: 'admin',
    sql: `SELECT SCHEMA.cache_create_type('adv_made', 'jsonb', interval '1 hour', 10)`,
  },
  { fn: 'cache_set_notify(text,boolean)', group: 'admin', sql: `SELECT SCHEMA.cache_set_notify('adv_made', true)` },
  {
    fn: 'cache_configure_notify(text,boolean)',
    group: 'admin',
    sql: `SELECT SCHEMA.cache_configure_notify('adv_made', true)`,
  },
  {
    fn: 'cache_configure_tenant_scoped(text,boolean)',
    group: 'admin',
    sql: `SELECT SCHEMA.cache_configure_tenant_scoped('adv_made', true)`,
  },
  {
    fn: 'cache_configure_price(text,numeric,numeric,numeric,text)',
    group: 'admin',
    sql: `SELECT SCHEMA.cache_configure_price('gpt', 2.5, 10)`,
  },
  {
    fn: 'cache_configure_semantic_max_distance(text,double precision,text)',
    group: 'admin',
    sql: `SELECT SCHEMA.cache_configure_semantic_max_distance('llm_responses', 0.1, 'scope1')`,
  },
  {
    fn: 'cache_set_tenant_scoped(text,boolean)',
    group: 'admin',
    sql: `SELECT SCHEMA.cache_set_tenant_scoped('adv_made', true);
          SET pgcache.tenant = 'acme';
          SELECT SCHEMA.cache_set('adv_made', 't', '1'::jsonb), SCHEMA.cache_get('adv_made', 't');
          SELECT SCHEMA.cache_invalidate_prefix('adv_made', 't');
          RESET pgcache.tenant`,
  },
  {
    fn: 'cache_hash_partition_type(text,integer,boolean)',
    group: 'admin',
    sql: `SELECT SCHEMA.cache_hash_partition_type('adv_made', 2)`,
  },
  { fn: 'cache_evict(text,bigint,bigint,text)', group: 'admin', sql: `SELECT SCHEMA.cache_evict('default', 1)` },
  {
    fn: 'cache_evict_lru(text,bigint,bigint)',
    group: 'admin',
    sql: `SELECT SCHEMA.cache_evict_lru('llm_responses', 1)`,
  },
  { fn: 'cache_cleanup_expired(text,integer)', group: 'admin', sql: `SELECT SCHEMA.cache_cleanup_expired()` },
  { fn: 'cache_maintenance()', group: 'admin', sql: `SELECT count(*) FROM SCHEMA.cache_maintenance()` },
  { fn: 'cache_maintenance_commands(text)', group: 'admin', sql: `SELECT * FROM SCHEMA.cache_maintenance_commands()` },
  { fn: 'cache_cron_status_query()', group: 'admin', sql: `SELECT SCHEMA.cache_cron_status_query()` },
  { fn: '_cron_jobs()', group: 'admin', sql: `SELECT * FROM SCHEMA.cache_cron_jobs` },
  { fn: '_type_tables()', group: 'admin', sql: `SELECT * FROM SCHEMA.cache_partitions` },
  { fn: '_watch_args_valid(text[])', group: 'admin', sql: `SELECT * FROM SCHEMA.cache_watches` },
  // The test databases are not pg_cron's: scheduling says where to do it (PC011).
  {
    fn: 'cache_schedule_maintenance(text)',
    group: 'admin',
    sql: `SELECT SCHEMA.cache_schedule_maintenance()`,
    fails: 'PC011',
  },
  {
    fn: 'cache_unschedule_maintenance()',
    group: 'admin',
    sql: `SELECT SCHEMA.cache_unschedule_maintenance()`,
    fails: 'PC011',
  },
  {
    fn: 'cache_semantic_index_sql(text,text,boolean)',
    group: 'admin',
    sql: `SELECT SCHEMA.cache_semantic_index_sql('llm_responses', 'sem')`,
  },
  {
    fn: 'cache_semantic_index(text,text)',
    group: 'admin',
    sql: `SELECT SCHEMA.cache_semantic_index('llm_responses', 'sem');
          SELECT * FROM SCHEMA.cache_semantic_get('llm_responses', '[0,1,0]'::vector, 'sem', 0.5, 'scope1')`,
  },
  {
    fn: 'cache_register_model(text,integer)',
    group: 'admin',
    sql: `SELECT SCHEMA.cache_register_model('adv_model', 3)`,
  },
  // Watches run as their caller (SECURITY INVOKER), who must own the table: an admin who does not is refused.
  {
    fn: 'cache_watch_table(regclass,text,text[],text)',
    group: 'admin',
    sql: `SELECT SCHEMA.cache_watch_table('SCHEMA.pgcache_install', 'x:{schema_name}')`,
    fails: 'PC019',
  },
  {
    fn: 'cache_unwatch_table(regclass,text,text)',
    group: 'admin',
    sql: `SELECT SCHEMA.cache_unwatch_table('SCHEMA.pgcache_install')`,
    fails: 'PC019',
  },
  // A trigger function: granted so cache_watch_table can attach it; called directly it refuses (0A000).
  { fn: 'cache_watch_trigger()', group: 'admin', sql: `SELECT SCHEMA.cache_watch_trigger()`, fails: '0A000' },
  { fn: 'cache_drop_type(text)', group: 'admin', sql: `SELECT SCHEMA.cache_drop_type('adv_made')` },
];

/**
 * The functions of an install granted to anyone but its owner (SECURITY DEFINER, or run as their caller and
 * granted to a role), as CALLS names them.
 */
export async function grantedFunctions(pool: pg.Pool, schema = 'pgcache'): Promise<string[]> {
  const { rows } = await pool.query(
    `SELECT regexp_replace(p.oid::regprocedure::text, '^' || $2 || '\\.', '') AS fn
       FROM pg_proc p
      WHERE p.pronamespace = $1::regnamespace
        AND (p.prosecdef OR EXISTS (SELECT 1 FROM aclexplode(p.proacl) a WHERE a.grantee <> p.proowner))
      ORDER BY 1`,
    [schema, schema.replace(/[^a-z0-9_]/g, '')],
  );
  return rows.map((r) => r.fn);
}

export const sqlFor = (call: Call, schema = 'pgcache') => call.sql.replaceAll('SCHEMA', schema);

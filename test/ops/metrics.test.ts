// The Prometheus exporter: its output parses as the text exposition format and carries the figures of
// cache_stats(), the monitoring views, the last maintenance runs and the pg_cron jobs.
import { createHash } from 'node:crypto';
import pg from 'pg';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CRON_DATABASE, clusterInfo } from '../../scripts/lib/cluster.js';
import { scheduleMaintenance, unscheduleMaintenance } from '../../src/maintenance.js';
import { createMetrics, startMetricsServer, topKeyLabel } from '../../src/metrics.js';
import { useDatabase } from '../helpers/db.js';

const db = useDatabase();
const q = (sql: string, params: unknown[] = []) => db.pool.query(sql, params);

interface Sample {
  labels: Record<string, string>;
  value: number;
}
interface Family {
  help: string;
  type: string;
  samples: Sample[];
}

/** A strict parser of the Prometheus text format (0.0.4): throws on any line it does not understand. */
function parseExposition(text: string): Map<string, Family> {
  const families = new Map<string, Family>();
  const name = '[a-zA-Z_:][a-zA-Z0-9_:]*';
  const help = new RegExp(`^# HELP (${name}) (.*)$`);
  const type = new RegExp(`^# TYPE (${name}) (counter|gauge|histogram|summary|untyped)$`);
  const sample = new RegExp(`^(${name})(?:\\{(.*)\\})? (\\S+)$`);
  const label = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"(,|$)/y;
  expect(text.endsWith('\n')).toBe(true);
  for (const line of text.split('\n')) {
    if (line === '') continue;
    let m = help.exec(line);
    if (m) {
      families.set(m[1] as string, { help: m[2] as string, type: '', samples: [] });
      continue;
    }
    m = type.exec(line);
    if (m) {
      const family = families.get(m[1] as string);
      if (!family || family.type) throw new Error(`TYPE without HELP or twice: ${line}`);
      family.type = m[2] as string;
      continue;
    }
    m = sample.exec(line);
    if (!m) throw new Error(`not a sample line: ${line}`);
    const family = families.get(m[1] as string);
    if (!family?.type) throw new Error(`sample before its TYPE: ${line}`);
    const labels: Record<string, string> = {};
    const body = m[2] ?? '';
    label.lastIndex = 0;
    while (label.lastIndex < body.length) {
      const l = label.exec(body);
      if (!l) throw new Error(`bad labels: ${line}`);
      labels[l[1] as string] = (l[2] as string).replace(/\\(.)/g, (_, c) => (c === 'n' ? '\n' : c));
    }
    const raw = m[3] as string;
    const value = raw === '+Inf' ? Infinity : raw === '-Inf' ? -Infinity : Number(raw);
    if (Number.isNaN(value) && raw !== 'NaN') throw new Error(`bad value: ${line}`);
    family.samples.push({ labels, value });
  }
  return families;
}

function value(families: Map<string, Family>, metric: string, labels: Record<string, string>): number | undefined {
  return families.get(metric)?.samples.find((s) => Object.entries(labels).every(([k, v]) => s.labels[k] === v))?.value;
}

beforeAll(async () => {
  await q(`SELECT pgcache.cache_set('default', 'k' || i, to_jsonb(i)) FROM generate_series(1, 12) i`);
  await q(`UPDATE pgcache.cache_default SET expires_at = now() - interval '1 hour' WHERE key IN ('k1', 'k2')`);
  await q(`UPDATE pgcache.cache_default SET hit_count = substr(key, 2)::int`);
  await q(`UPDATE pgcache.cache_types SET max_entries = 8 WHERE name = 'default'`);
  for (let i = 0; i < 5; i++) await q(`SELECT pgcache.cache_get('default', 'k12')`);
  for (let i = 0; i < 2; i++) await q(`SELECT pgcache.cache_get('default', 'nope')`);
  await q(`SELECT * FROM pgcache.cache_maintenance()`);
  await q(`UPDATE pgcache.cache_settings SET value = '0' WHERE name = 'stats.snapshot_interval'`);
  await q(`SELECT pgcache.cache_get('default', 'k12')`);
  await q(`SELECT pgcache.cache_get('default', 'nope')`);
  await q(`SELECT * FROM pgcache.cache_maintenance()`);
});

describe('createMetrics', () => {
  it('publishes the figures of cache_stats(), the views and the last maintenance run', async () => {
    const metrics = createMetrics({ pool: db.pool, topKeys: 3, topKeyLabel: 'raw' });
    const families = parseExposition(await metrics.metrics());
    const stats = (await q(`SELECT * FROM pgcache.cache_stats()`)).rows;
    expect(stats).toHaveLength(5);
    for (const row of stats) {
      const l = { cache_type: row.cache_type };
      expect(value(families, 'pgcache_entries', l)).toBe(Number(row.entries));
      expect(value(families, 'pgcache_valid_entries', l)).toBe(Number(row.valid_entries));
      expect(value(families, 'pgcache_bytes', l)).toBe(Number(row.bytes));
      expect(value(families, 'pgcache_hits_total', l)).toBe(Number(row.hits));
      expect(value(families, 'pgcache_misses_total', l)).toBe(Number(row.misses));
      expect(value(families, 'pgcache_hit_ratio', l)).toBe(row.hit_rate ?? undefined);
    }
    expect(families.get('pgcache_hits_total')?.type).toBe('counter');
    expect(families.get('pgcache_entries')?.type).toBe('gauge');
    const d = { cache_type: 'default' };
    expect(value(families, 'pgcache_hits_total', d)).toBe(6);
    expect(value(families, 'pgcache_misses_total', d)).toBe(3);
    expect(value(families, 'pgcache_entries', d)).toBe(8);
    expect(value(families, 'pgcache_max_entries', d)).toBe(8);
    expect(value(families, 'pgcache_max_entries', { cache_type: 'embeddings' })).toBeUndefined();
    expect(value(families, 'pgcache_hit_ratio_recent', d)).toBe(0.5);

    const sizes = (await q(`SELECT * FROM pgcache.cache_sizes WHERE cache_type = 'default'`)).rows[0];
    expect(value(families, 'pgcache_relation_bytes', { ...d, part: 'table' })).toBe(Number(sizes.table_bytes));
    expect(value(families, 'pgcache_relation_bytes', { ...d, part: 'toast' })).toBe(Number(sizes.toast_bytes));
    expect(value(families, 'pgcache_relation_bytes', { ...d, part: 'indexes' })).toBe(Number(sizes.index_bytes));

    const last = (
      await q(`SELECT * FROM pgcache.cache_maintenance_history WHERE cache_type = 'default' ORDER BY id DESC LIMIT 1`)
    ).rows[0];
    expect(value(families, 'pgcache_maintenance_last_run_timestamp_seconds', d)).toBe(
      last.run_started_at.getTime() / 1000,
    );
    expect(value(families, 'pgcache_maintenance_last_duration_seconds', d)).toBeCloseTo(last.duration_ms / 1000, 9);
    expect(value(families, 'pgcache_maintenance_last_complete', d)).toBe(1);
    const first = (
      await q(`SELECT * FROM pgcache.cache_maintenance_history WHERE cache_type = 'default' ORDER BY id LIMIT 1`)
    ).rows[0];
    expect([first.expired, first.evicted]).toEqual(['2', '2']);

    // Top keys by hit score among the survivors (eviction took k10 and k11: equal recency, then key order).
    expect(families.get('pgcache_top_key_hit_score')?.samples.filter((s) => s.labels.cache_type === 'default')).toEqual(
      [
        { labels: { cache_type: 'default', rank: '1', key: 'k12' }, value: 12 },
        { labels: { cache_type: 'default', rank: '2', key: 'k9' }, value: 9 },
        { labels: { cache_type: 'default', rank: '3', key: 'k8' }, value: 8 },
      ],
    );
    // No pg_cron jobs visible from this database: the family is declared but empty.
    expect(families.get('pgcache_cron_job_active')?.samples).toEqual([]);
  });

  it('publishes no keys by default; opted in, hashed (or truncated) labels unless raw is asked for', async () => {
    const off = parseExposition(await createMetrics({ pool: db.pool }).metrics());
    expect(off.has('pgcache_top_key_hit_score')).toBe(false);
    const samples = async (options: Parameters<typeof createMetrics>[0]) =>
      parseExposition(await createMetrics(options).metrics())
        .get('pgcache_top_key_hit_score')
        ?.samples.filter((s) => s.labels.cache_type === 'default')
        .map((s) => s.labels.key);
    const hashed = await samples({ pool: db.pool, topKeys: 1 });
    expect(hashed).toEqual([createHash('sha256').update('k12').digest('hex').slice(0, 16)]);
    expect(topKeyLabel('user:4711:email', 'truncated')).toBe('user:471…');
    expect(topKeyLabel('k12', 'truncated')).toBe('k12');
    expect(await samples({ pool: db.pool, topKeys: 1, topKeyLabel: 'truncated' })).toEqual(['k12']);
  });

  it('publishes what hits saved per type and model, money with its currency, and semantic quality', async () => {
    await q(`SELECT pgcache.cache_configure_price('m-gpt', 2, 8, p_currency => 'EUR')`);
    await q(
      `SELECT pgcache.cache_set('llm_responses', 'saved', 'answer'::text, interval '1 hour', NULL, pgcache.cache_cost('m-gpt', 500, 250, p_compute_ms => 1500))`,
    );
    for (let i = 0; i < 4; i++) await q(`SELECT pgcache.cache_get_text('llm_responses', 'saved')`);
    await q(
      `SELECT pgcache.cache_set_with_embedding('llm_responses', 'e', 'v'::text, '{1,0,0}'::real[], 'm-emb', interval '1 hour')`,
    );
    await q(`SELECT * FROM pgcache.cache_semantic_get('llm_responses', '[1,0,0]'::vector, 'm-emb', 0.1)`);
    const families = parseExposition(await createMetrics({ pool: db.pool }).metrics());
    const l = { cache_type: 'llm_responses', model: 'm-gpt' };
    expect(families.get('pgcache_saved_tokens_total')?.type).toBe('counter');
    expect(value(families, 'pgcache_saved_hits_total', l)).toBe(4);
    expect(value(families, 'pgcache_saved_tokens_total', l)).toBe(4 * 750);
    expect(value(families, 'pgcache_saved_compute_seconds_total', l)).toBe(4 * 1.5);
    expect(value(families, 'pgcache_saved_cost_total', { ...l, currency: 'EUR' })).toBe(4 * 3); // (500 x 2 + 250 x 8) / 1000
    expect(value(families, 'pgcache_semantic_hits_total', { cache_type: 'llm_responses', model: 'm-emb' })).toBe(1);
    expect(value(families, 'pgcache_semantic_wrong_hits_total', { cache_type: 'llm_responses', model: 'm-emb' })).toBe(
      0,
    );
  });

  it('reads the figures again at each scrape', async () => {
    const registry = new Registry();
    const metrics = createMetrics({ pool: db.pool, registry, prefix: 'app_cache_', topKeys: 0 });
    const before = value(parseExposition(await registry.metrics()), 'app_cache_hits_total', { cache_type: 'default' });
    await q(`SELECT pgcache.cache_get('default', 'k12')`);
    const after = parseExposition(await metrics.metrics());
    expect(value(after, 'app_cache_hits_total', { cache_type: 'default' })).toBe((before as number) + 1);
    expect(after.has('app_cache_top_key_hit_score')).toBe(false);
  });

  it('publishes the pg_cron jobs of this install from the cron database', async () => {
    const cronUrl = clusterInfo().url(CRON_DATABASE);
    const cronPool = new pg.Pool({ connectionString: cronUrl, max: 2 });
    try {
      const jobs = await scheduleMaintenance({ databaseUrl: db.url, cronDatabaseUrl: cronUrl, schedule: '0 0 1 1 *' });
      await cronPool.query(
        `INSERT INTO cron.job_run_details (jobid, runid, job_pid, database, username, command, status, return_message, start_time, end_time)
         VALUES ($1, nextval('cron.runid_seq'), 0, 'x', current_user, 'x', 'succeeded', 'SELECT 1', '2026-01-02T03:04:05Z', now())`,
        [jobs[0]?.jobId],
      );
      const families = parseExposition(await createMetrics({ pool: db.pool, cronPool }).metrics());
      for (const job of jobs) {
        expect(value(families, 'pgcache_cron_job_active', { job: job.jobName })).toBe(1);
        expect(value(families, 'pgcache_cron_job_recorded_failures', { job: job.jobName })).toBe(0);
      }
      const maintenance = { job: jobs[0]?.jobName as string };
      expect(value(families, 'pgcache_cron_job_last_run_timestamp_seconds', maintenance)).toBe(
        Date.parse('2026-01-02T03:04:05Z') / 1000,
      );
      expect(value(families, 'pgcache_cron_job_last_run_success', maintenance)).toBe(1);
    } finally {
      await unscheduleMaintenance({ databaseUrl: db.url, cronDatabaseUrl: cronUrl });
      await cronPool.end();
    }
  });
});

describe('startMetricsServer', () => {
  let server: Awaited<ReturnType<typeof startMetricsServer>>;
  beforeAll(async () => {
    server = await startMetricsServer({ pool: db.pool, port: 0 });
  });
  afterAll(() => server.close());

  it('serves GET /metrics in the text format, and 404 elsewhere', async () => {
    const res = await fetch(server.url);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    const families = parseExposition(await res.text());
    const { entries } = (await q(`SELECT entries FROM pgcache.cache_stats() WHERE cache_type = 'default'`)).rows[0];
    expect(value(families, 'pgcache_entries', { cache_type: 'default' })).toBe(Number(entries));
    expect((await fetch(server.url.replace('/metrics', '/other'))).status).toBe(404);
  });
});

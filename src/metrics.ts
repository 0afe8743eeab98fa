// Prometheus exporter: publishes cache_stats(), the monitoring views (cache_sizes, cache_top_keys,
// cache_hit_rate_history, cache_cron_jobs, cache_savings, cache_semantic_quality) and the last maintenance
// run per type through prom-client.
// Every figure is read from the SQL at scrape time; one scrape runs one set of queries however many metrics
// ask for it. Over 300 lines because each metric is declared beside the view row it publishes, in one scrape.
import { createHash } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import pg from 'pg';
import { Counter, Gauge, Registry } from 'prom-client';
import { quotedSchemaName } from './client/schema.js';
import type { CacheStatsRow } from './client/stats.js';
import type { CronRow, RateRow, RunRow, SavingsTotalRow, SemanticQualityRow, SizeRow, TopKeyRow } from './view-rows.js';

export interface MetricsOptions {
  /** A pool on the database pgcache lives in (pgcache never ends it). */
  pool: pg.Pool;
  /** Schema pgcache lives in. Default `pgcache`. */
  schema?: string | undefined;
  /** A pool on pg_cron's database, when that is another database: the jobs' state is read there. */
  cronPool?: pg.Pool | undefined;
  /** Register into this registry. Default: a new one. */
  registry?: Registry | undefined;
  /** Metric name prefix. Default `pgcache_`. */
  prefix?: string | undefined;
  /**
   * Publish the top N keys per type by hit score (keep N small: one series per key). Default 0 (off): keys are
   * often personal data, and anyone who can scrape would read them.
   */
  topKeys?: number | undefined;
  /**
   * What the `key` label of the top keys holds. `hash` (default): the first 16 hex digits of sha256(key), enough
   * to tell keys apart and to check a suspected key, never the key; `truncated`: the first 8 characters and
   * `…`; `raw`: the key itself.
   */
  topKeyLabel?: 'hash' | 'truncated' | 'raw' | undefined;
}

/** The `key` label of a top key under `mode`. */
export function topKeyLabel(key: string, mode: NonNullable<MetricsOptions['topKeyLabel']> = 'hash'): string {
  if (mode === 'raw') return key;
  if (mode === 'truncated') {
    const chars = [...key];
    return chars.length <= 8 ? key : `${chars.slice(0, 8).join('')}…`;
  }
  return createHash('sha256').update(key, 'utf8').digest('hex').slice(0, 16);
}

/** What one scrape reads. */
export interface Figures {
  stats: CacheStatsRow[];
  sizes: SizeRow[];
  lastRuns: RunRow[];
  recentRates: RateRow[];
  topKeys: TopKeyRow[];
  cronJobs: CronRow[];
  /** Savings per type, model and currency, over every day and tenant (cache_savings). */
  savings: SavingsTotalRow[];
  /** Semantic lookups per type and model (cache_semantic_quality; empty without pgvector). */
  semantic: SemanticQualityRow[];
}

export interface PgcacheMetrics {
  registry: Registry;
  /** The exposition text (what an HTTP /metrics answers). */
  metrics(): Promise<string>;
  /** The raw figures behind the metrics. */
  read(): Promise<Figures>;
}

export function createMetrics(options: MetricsOptions): PgcacheMetrics {
  const schema = quotedSchemaName(options.schema);
  const registry = options.registry ?? new Registry();
  const prefix = options.prefix ?? 'pgcache_';
  const topKeys = options.topKeys ?? 0;
  const labelMode = options.topKeyLabel ?? 'hash';
  if (!['hash', 'truncated', 'raw'].includes(labelMode)) {
    throw new TypeError(`pgcache: topKeyLabel must be hash, truncated or raw, got ${JSON.stringify(labelMode)}`);
  }

  async function read(): Promise<Figures> {
    const q = async <R extends pg.QueryResultRow>(sql: string, params: unknown[] = []) =>
      (await options.pool.query<R>(sql, params)).rows;
    const [stats, sizes, lastRuns, recentRates, top, cronJobs, savings, semantic] = await Promise.all([
      q<CacheStatsRow>(`SELECT * FROM ${schema}.cache_stats()`),
      q<SizeRow>(`SELECT * FROM ${schema}.cache_sizes`),
      q<RunRow>(
        `SELECT DISTINCT ON (cache_type) * FROM ${schema}.cache_maintenance_history ORDER BY cache_type, id DESC`,
      ),
      q<RateRow>(
        `SELECT DISTINCT ON (cache_type) * FROM ${schema}.cache_hit_rate_history ORDER BY cache_type, period_end DESC`,
      ),
      topKeys > 0
        ? q<TopKeyRow>(`SELECT * FROM ${schema}.cache_top_keys WHERE rank <= $1`, [topKeys])
        : Promise.resolve([]),
      readCronJobs(),
      q<SavingsTotalRow>(
        `SELECT cache_type, model, currency, sum(hits) AS hits, sum(tokens) AS tokens, sum(characters) AS characters,
                sum(compute_seconds) AS compute_seconds, sum(cost) AS cost
           FROM ${schema}.cache_savings GROUP BY cache_type, model, currency`,
      ),
      // The semantic views exist where pgvector does (vector/02_semantic_stats.sql).
      q<SemanticQualityRow>(`SELECT * FROM ${schema}.cache_semantic_quality`).catch((error: { code?: string }) =>
        error.code === '42P01' ? [] : Promise.reject(error),
      ),
    ]);
    return { stats, sizes, lastRuns, recentRates, topKeys: top, cronJobs, savings, semantic };
  }

  async function readCronJobs(): Promise<CronRow[]> {
    if (options.cronPool) {
      const { rows } = await options.pool.query<{ sql: string }>(`SELECT ${schema}.cache_cron_status_query() AS sql`);
      return (await options.cronPool.query<CronRow>(rows[0]?.sql as string)).rows;
    }
    return (await options.pool.query<CronRow>(`SELECT * FROM ${schema}.cache_cron_jobs`)).rows;
  }

  // prom-client collects every metric of a scrape at once: they share one read, dropped after the scrape.
  let current: Promise<Figures> | null = null;
  const figures = (): Promise<Figures> => {
    if (!current) {
      current = read();
      const clear = () => setImmediate(() => (current = null));
      current.then(clear, clear);
    }
    return current;
  };

  type Labels = Record<string, string>;
  const gauge = (
    name: string,
    help: string,
    labelNames: string[],
    fill: (f: Figures, set: (l: Labels, v: number) => void) => void,
  ) =>
    new Gauge({
      name: prefix + name,
      help,
      labelNames,
      registers: [registry],
      async collect() {
        const f = await figures();
        this.reset();
        fill(f, (labels, value) => {
          if (Number.isFinite(value)) this.set(labels, value);
        });
      },
    });
  // Totals that only grow (sequences, savings, semantic counts): counters, set to the database's value at each
  // scrape.
  const counterOf = (
    name: string,
    help: string,
    labelNames: string[],
    fill: (f: Figures, inc: (l: Labels, v: number) => void) => void,
  ) =>
    new Counter({
      name: prefix + name,
      help,
      labelNames,
      registers: [registry],
      async collect() {
        const f = await figures();
        this.reset();
        fill(f, (labels, value) => this.inc(labels, value));
      },
    });
  const counter = (name: string, help: string, pick: (row: CacheStatsRow) => string) =>
    counterOf(name, help, ['cache_type'], (f, inc) => {
      for (const row of f.stats) inc({ cache_type: row.cache_type }, Number(pick(row)));
    });
  const perStat = (name: string, help: string, pick: (row: CacheStatsRow) => string | number | null) =>
    gauge(name, help, ['cache_type'], (f, set) => {
      for (const row of f.stats) {
        const v = pick(row);
        if (v !== null) set({ cache_type: row.cache_type }, Number(v));
      }
    });
  const seconds = (d: Date | null) => (d ? d.getTime() / 1000 : Number.NaN);
  // What hits of entries with a recorded cost saved, per type and model (tenants summed: one series per tenant
  // would grow without bound; cache_savings has them).
  const saved = (name: string, help: string, labelNames: string[], fill: (row: SavingsTotalRow) => [Labels, number]) =>
    counterOf(name, help, labelNames, (f, inc) => {
      for (const row of f.savings) {
        const [labels, value] = fill(row);
        if (Number.isFinite(value) && value > 0) inc(labels, value);
      }
    });
  const typeModel = (r: SavingsTotalRow) => ({ cache_type: r.cache_type, model: r.model ?? '' });
  saved(
    'saved_hits_total',
    'Hits of entries with a recorded cost (cache_savings.hits).',
    ['cache_type', 'model'],
    (r) => [typeModel(r), Number(r.hits)],
  );
  saved(
    'saved_tokens_total',
    'Input and output tokens hits saved (cache_savings.tokens).',
    ['cache_type', 'model'],
    (r) => [typeModel(r), Number(r.tokens)],
  );
  saved(
    'saved_characters_total',
    'Characters (TTS) hits saved (cache_savings.characters).',
    ['cache_type', 'model'],
    (r) => [typeModel(r), Number(r.characters)],
  );
  saved(
    'saved_compute_seconds_total',
    'Compute time hits saved (cache_savings.compute_seconds).',
    ['cache_type', 'model'],
    (r) => [typeModel(r), Number(r.compute_seconds)],
  );
  saved(
    'saved_cost_total',
    "Money hits saved, at the model's price (cache_prices) when each was counted (cache_savings.cost).",
    ['cache_type', 'model', 'currency'],
    (r) => [{ ...typeModel(r), currency: r.currency ?? '' }, r.currency === null ? Number.NaN : Number(r.cost)],
  );
  const semantic = (name: string, help: string, pick: (row: SemanticQualityRow) => string) =>
    counterOf(name, help, ['cache_type', 'model'], (f, inc) => {
      for (const row of f.semantic) inc({ cache_type: row.cache_type, model: row.model }, Number(pick(row)));
    });
  semantic('semantic_hits_total', 'Semantic lookups that found an entry within the threshold.', (r) => r.hits);
  semantic('semantic_misses_total', 'Semantic lookups that found none within the threshold.', (r) => r.misses);
  semantic(
    'semantic_wrong_hits_total',
    'Semantic hits callers reported wrong (cache_semantic_feedback).',
    (r) => r.wrong_hits,
  );
  semantic(
    'semantic_verifier_rejections_total',
    'Semantic candidates a client-side verifier rejected.',
    (r) => r.verifier_rejections,
  );

  perStat('entries', 'Rows of the cache type, live or not yet cleaned up (cache_stats().entries).', (r) => r.entries);
  perStat(
    'valid_entries',
    'Live rows: current version, not expired (cache_stats().valid_entries).',
    (r) => r.valid_entries,
  );
  perStat('bytes', 'Sum of byte_size, the figure byte budgets hold (cache_stats().bytes).', (r) => r.bytes);
  counter('hits_total', 'Cache hits since the type was created (cache_stats().hits).', (r) => r.hits);
  counter('misses_total', 'Cache misses since the type was created (cache_stats().misses).', (r) => r.misses);
  perStat(
    'hit_ratio',
    'Hits / (hits + misses) since the type was created (cache_stats().hit_rate).',
    (r) => r.hit_rate,
  );
  perStat('max_entries', 'Entry budget of the type (absent: none).', (r) => r.max_entries);
  perStat('max_bytes', 'Byte budget of the type (absent: none).', (r) => r.max_bytes);

  gauge(
    'relation_bytes',
    'Bytes on disk of the type: table, toast or indexes (cache_sizes).',
    ['cache_type', 'part'],
    (f, set) => {
      for (const r of f.sizes) {
        set({ cache_type: r.cache_type, part: 'table' }, Number(r.table_bytes));
        set({ cache_type: r.cache_type, part: 'toast' }, Number(r.toast_bytes));
        set({ cache_type: r.cache_type, part: 'indexes' }, Number(r.index_bytes));
      }
    },
  );
  gauge('dead_rows', 'Dead rows autovacuum has yet to remove (cache_sizes.dead_rows).', ['cache_type'], (f, set) => {
    for (const r of f.sizes) if (r.dead_rows !== null) set({ cache_type: r.cache_type }, Number(r.dead_rows));
  });
  gauge(
    'hit_ratio_recent',
    'Hit rate in the latest snapshot interval (cache_hit_rate_history).',
    ['cache_type'],
    (f, set) => {
      for (const r of f.recentRates) if (r.hit_rate !== null) set({ cache_type: r.cache_type }, r.hit_rate);
    },
  );

  const perRun = (name: string, help: string, pick: (row: RunRow) => number) =>
    gauge(name, help, ['cache_type'], (f, set) => {
      for (const r of f.lastRuns) set({ cache_type: r.cache_type }, pick(r));
    });
  perRun('maintenance_last_run_timestamp_seconds', 'Start of the latest maintenance run of the type.', (r) =>
    seconds(r.run_started_at),
  );
  perRun(
    'maintenance_last_duration_seconds',
    'Time the latest maintenance run spent on the type.',
    (r) => r.duration_ms / 1000,
  );
  perRun('maintenance_last_expired', 'Expired rows the latest maintenance run deleted.', (r) => Number(r.expired));
  perRun('maintenance_last_evicted', 'Rows the latest maintenance run evicted to meet the budgets.', (r) =>
    Number(r.evicted),
  );
  perRun('maintenance_last_complete', '1 if the latest run finished the type, 0 if it left work for the next.', (r) =>
    r.complete ? 1 : 0,
  );

  if (topKeys > 0) {
    gauge(
      'top_key_hit_score',
      `Hit score of the top ${topKeys} keys per type (cache_top_keys); key label: ${labelMode}.`,
      ['cache_type', 'rank', 'key'],
      (f, set) => {
        for (const r of f.topKeys)
          set(
            { cache_type: r.cache_type, rank: String(r.rank), key: topKeyLabel(r.key, labelMode) },
            Number(r.hit_score),
          );
      },
    );
  }

  const perJob = (name: string, help: string, pick: (row: CronRow) => number) =>
    gauge(name, help, ['job'], (f, set) => {
      for (const r of f.cronJobs) set({ job: r.job_name }, pick(r));
    });
  perJob('cron_job_active', '1 if the pg_cron job is active.', (r) => (r.active ? 1 : 0));
  perJob('cron_job_last_run_timestamp_seconds', "Start of the pg_cron job's latest recorded run.", (r) =>
    seconds(r.last_start),
  );
  perJob('cron_job_last_run_success', '1 if the latest recorded run succeeded, 0 if it failed.', (r) =>
    r.last_status === 'succeeded' ? 1 : r.last_status === 'failed' ? 0 : Number.NaN,
  );
  perJob('cron_job_recorded_failures', 'Failed runs among those pg_cron still keeps for the job.', (r) =>
    Number(r.recorded_failures),
  );

  return { registry, metrics: () => registry.metrics(), read: figures };
}

export interface MetricsServerOptions extends MetricsOptions {
  /** Default 9464. */
  port?: number | undefined;
  /** Default 127.0.0.1. */
  host?: string | undefined;
}

/** Serves GET /metrics on host:port. */
export async function startMetricsServer(
  options: MetricsServerOptions,
): Promise<{ url: string; metrics: PgcacheMetrics; close(): Promise<void> }> {
  const metrics = createMetrics(options);
  const server: Server = createServer((req, res) => {
    if (req.method !== 'GET' || (req.url ?? '').split('?')[0] !== '/metrics') {
      res.writeHead(404).end();
      return;
    }
    metrics.metrics().then(
      (text) => res.writeHead(200, { 'Content-Type': metrics.registry.contentType }).end(text),
      (error: unknown) =>
        res.writeHead(500, { 'Content-Type': 'text/plain' }).end(`pgcache metrics: ${String(error)}\n`),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 9464, options.host ?? '127.0.0.1', () => resolve());
  });
  const { address, port } = server.address() as AddressInfo;
  return {
    url: `http://${address}:${port}/metrics`,
    metrics,
    close: () => new Promise((resolve, reject) => server.close((error) => (error ? reject(error) : resolve()))),
  };
}

// `npm start` / `pgcache demo`: pgcache on PGlite, with no PostgreSQL server to install. Opens (or creates)
// a PGlite database, serves it over the wire protocol, installs pgcache through the same migrations as any
// server, runs the LLM-app workload with maintenance on a TS timer, and prints cache_stats().
import { isAbsolute, relative, resolve } from 'node:path';
import pg from 'pg';
import { createCache } from '../client/cache.js';
import { migrate } from '../install/migrate.js';
import { formatBytes, formatCount, formatDuration } from '../text/format.js';
import { formatMoney, renderSavings } from '../text/savings-table.js';
import { renderStats } from '../text/stats-table.js';
import { EMBEDDING_DIMENSIONS, LLM_MODEL, TTS_MODEL } from './fakes.js';
import { type EmbeddedMaintenance, type MaintenanceRun, startEmbeddedMaintenance } from './maintenance.js';
import { hasDatabase, startEmbedded } from './server.js';
import { DOCUMENTS, runWorkload, SESSION_TTL_SECONDS } from './workload.js';

export const DEFAULT_DATA_DIR = '.pgcache/pglite';

export interface DemoOptions {
  /** Where the PGlite database is kept between runs (default .pgcache/pglite); ignored with inMemory. */
  dataDir?: string;
  inMemory?: boolean;
  /** Delete the data directory first. */
  fresh?: boolean;
  /** Keep serving after the demo (for psql and the CLI) until interrupted. */
  serve?: boolean;
  port?: number;
  maintenanceIntervalMs?: number;
  schema?: string;
  /** Where to print (default console.log). */
  log?: (line: string) => void;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const sum = (runs: MaintenanceRun[], field: 'expired' | 'evicted' | 'ms') => runs.reduce((n, r) => n + r[field], 0);

function describeRun(run: MaintenanceRun): string {
  return `expired ${formatCount(run.expired)}, evicted ${formatCount(run.evicted)} in ${formatDuration(run.ms)}`;
}

export async function runDemo(options: DemoOptions = {}): Promise<void> {
  const log = options.log ?? ((line: string) => console.log(line));
  const schema = options.schema ?? 'pgcache';
  const s = pg.escapeIdentifier(schema);
  const intervalMs = options.maintenanceIntervalMs ?? 1000;
  const dataDir = options.inMemory ? undefined : (options.dataDir ?? DEFAULT_DATA_DIR);
  // Inside the working directory as a relative path (.pgcache/pglite), elsewhere as an absolute one.
  const inside = dataDir ? relative(process.cwd(), resolve(dataDir)) : '';
  const shown = dataDir
    ? inside && !inside.startsWith('..') && !isAbsolute(inside)
      ? inside
      : resolve(dataDir)
    : 'memory';
  const started = performance.now();

  if (!dataDir || options.fresh || !hasDatabase(dataDir)) {
    // initdb runs inside WebAssembly and holds the event loop, so a message rather than a spinner.
    log(
      `Creating a new PGlite database ${dataDir ? `in ${shown}` : 'in memory'} ` +
        `(initdb in WebAssembly takes about 6-12 s${dataDir ? '; later runs reuse it and start in about 2 s' : ''})...`,
    );
  } else {
    log(`Opening the PGlite database in ${shown} (kept from an earlier run; --fresh starts over)...`);
  }
  const embedded = await startEmbedded({
    dataDir,
    fresh: options.fresh,
    port: options.port,
    // Our pool of one and the maintenance runner's connection; serving, room for psql and the CLI too.
    // (All of them share PGlite's single session.)
    maxConnections: options.serve ? 6 : 2,
  });
  let maintenance: EmbeddedMaintenance | undefined;
  try {
    const { pool } = embedded;
    const version = (
      await pool.query(
        `SELECT current_setting('server_version') AS pg, (SELECT default_version FROM pg_available_extensions WHERE name = 'vector') AS vector`,
      )
    ).rows[0];
    log(
      `PGlite ${embedded.created ? 'created' : 'opened'} in ${formatDuration(embedded.openMs)}: PostgreSQL ${version.pg}` +
        `${version.vector ? ` with pgvector ${version.vector}` : ''}, in this process; no server to install.`,
    );
    log(`Serving it over the Postgres wire protocol (pglite-socket) at ${embedded.url}`);

    // The same node-pg-migrate migrations as on any server, over a normal pg client.
    const client = await pool.connect();
    let ran: string[];
    try {
      ran = await migrate({ client, schema });
    } finally {
      // node-pg-migrate leaves `SET search_path TO <schema>` on the client it is given; on PGlite that is
      // the one session everything shares, so put it back.
      await client.query('RESET search_path');
      client.release();
    }
    log(
      ran.length > 0
        ? `Installed pgcache in schema "${schema}" through its migrations (${ran.join(', ')}).`
        : `pgcache is already installed in schema "${schema}" (migrations up to date).`,
    );
    // The demo's sessions expire within seconds and it waits for maintenance to delete them: no grace period.
    await pool.query(
      `UPDATE "${schema.replaceAll('"', '""')}".cache_settings SET value = '0' WHERE name = 'maintenance.expired_grace'`,
    );
    // Example prices of the fake models (per 1,000 tokens and characters), so hits are counted in money too.
    await pool.query(
      `SELECT ${s}.cache_configure_price($1, 0.0025, 0.01), ${s}.cache_configure_price($2, p_characters_per_1k => 0.015)`,
      [LLM_MODEL, TTS_MODEL],
    );

    maintenance = startEmbeddedMaintenance(embedded.url, {
      schema,
      intervalMs,
      onError: (error) => console.error(`maintenance failed: ${(error as Error).message}`),
    });
    log(
      `Maintenance: PGlite has no pg_cron, so this process runs ${s}.cache_maintenance() ` +
        `on a TypeScript timer (startMaintenance) every ${formatDuration(intervalMs)}: expiry in batches, then eviction to budgets.`,
    );

    log('');
    log(
      `Demo workload: an LLM app answering questions over ${DOCUMENTS.length} documents, with a fake embedder ` +
        `(${EMBEDDING_DIMENSIONS} dimensions), a fake LLM and a fake TTS voice, all deterministic.`,
    );
    const workloadStart = new Date();
    // What hits saved comes from the database (cache_savings_stats(), cache_savings): read before and after the workload.
    const stats = await createCache({ pool, schema });
    const savedBefore = await stats.stats();
    const r = await runWorkload(pool, schema);
    const savedAfter = await stats.stats();
    const saved = (type: string) => {
      const [before, after] = [savedBefore, savedAfter].map((all) => all.find((t) => t.cacheType === type));
      const cost = Object.entries(after?.savedCost ?? {}).map(
        ([currency, amount]) => `${formatMoney(amount - (before?.savedCost[currency] ?? 0), currency)}`,
      );
      return {
        tokens: (after?.savedTokens ?? 0) - (before?.savedTokens ?? 0),
        characters: (after?.savedCharacters ?? 0) - (before?.savedCharacters ?? 0),
        cost: cost.join(', ') || '-',
      };
    };
    const line = (label: string, text: string) => log(`  ${label.padEnd(14)}${text}`);
    line(
      'embeddings',
      `${r.embeddings.lookups} lookups: ${r.embeddings.computed} embedded, ${r.embeddings.cached} from the cache`,
    );
    line(
      'vector search',
      `${r.searches.lookups} searches (top 3 by cosine distance): ${r.searches.computed} run, ${r.searches.cached} from the cache`,
    );
    line(
      'LLM responses',
      `${r.answers.lookups} questions: ${r.answers.computed} LLM calls (${formatCount(r.answers.tokensSpent)} tokens), ` +
        `${r.answers.cached} answered from the cache (${formatCount(saved('llm_responses').tokens)} tokens, ` +
        `${saved('llm_responses').cost} saved)`,
    );
    line(
      'audio chunks',
      `${r.speech.lookups} answers spoken: ${r.speech.computed} synthesized (${formatBytes(r.speech.bytesSynthesized)}), ` +
        `${r.speech.cached} from the cache (${formatCount(saved('audio_chunks').characters)} characters, ` +
        `${saved('audio_chunks').cost} saved)`,
    );
    line(
      'sessions',
      `${r.sessions} entries in "default" with a ${SESSION_TTL_SECONDS} s TTL, left for maintenance to expire`,
    );

    // Wait until the sessions have expired, then for the timer's runs until they are gone (the first run after
    // the wait may have begun its transaction a moment too early to see them as expired).
    await sleep(Math.max(0, r.sessionsExpireAt - Date.now()) + 50);
    const runs: MaintenanceRun[] = [];
    do runs.push(await maintenance.nextRun());
    while (runs.length < 5 && (await stats.stats()).find((t) => t.cacheType === 'default')?.entries);
    const last = runs.at(-1) as MaintenanceRun;
    // On a slow machine the timer may expire some sessions while the workload still runs: count every run since
    // the workload began, from the maintenance history.
    const { rows: history } = await pool.query(
      `SELECT coalesce(sum(expired), 0)::int AS expired, coalesce(sum(evicted), 0)::int AS evicted
         FROM ${s}.cache_maintenance_history WHERE run_started_at >= $1`,
      [workloadStart],
    );
    line(
      'maintenance',
      `the timer ran cache_maintenance() at ${last.at.toISOString().slice(11, 19)} UTC: ` +
        describeRun({ ...last, expired: history[0].expired, evicted: history[0].evicted, ms: sum(runs, 'ms') }),
    );

    log('');
    log(`SELECT * FROM ${s}.cache_stats();`);
    log(renderStats(await stats.stats()));
    log('');
    log(`SELECT * FROM ${s}.cache_savings;  -- what hits saved, at the prices in ${s}.cache_prices`);
    log(renderSavings(await stats.savings()));
    await stats.close();
    log('');
    if (options.serve) {
      log(`Serving until Ctrl-C. Try:  psql ${embedded.url}`);
      log(`                       or:  npm run cli -- stats --database-url ${embedded.url}`);
      log('(PGlite serves every connection from one session: keep transactions short.)');
      // Listeners stay for the rest of the process: a repeated signal (tsx relays Ctrl-C again when the
      // child is slow to acknowledge it) must not cut the clean shutdown short.
      await new Promise<void>((resolve) => {
        process.on('SIGINT', () => resolve());
        process.on('SIGTERM', () => resolve());
      });
      log('Stopping.');
    } else {
      log(
        `Done in ${formatDuration(performance.now() - started)}.` +
          (dataDir ? ` The cache is kept in ${shown}: run again and the answers come from it.` : ''),
      );
      log('Keep it running for psql and the CLI with: npm start -- --serve');
    }
  } finally {
    await maintenance?.stop();
    await embedded.stop();
  }
}

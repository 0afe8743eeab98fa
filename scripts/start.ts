// `npm start`: the main job. Until the embedded (PGlite) default lands, it runs on the private PostgreSQL
// cluster: starts it, installs pgcache, runs a short LLM-app workload and prints the stats table.
import pg from 'pg';
import { migrate } from '../src/install/migrate.js';
import { ClusterError, CRON_DATABASE, clusterInfo, startCluster } from './lib/cluster.js';
import { ensureDatabase } from './lib/databases.js';

const info = clusterInfo();
try {
  await startCluster(info);
} catch (error) {
  if (error instanceof ClusterError) {
    console.error(error.message);
    process.exit(1);
  }
  throw error;
}
await ensureDatabase(info, CRON_DATABASE);
const url = info.url(CRON_DATABASE);
await migrate({ databaseUrl: url });
console.log(`pgcache is installed in schema pgcache at ${url}`);

const pool = new pg.Pool({ connectionString: url, max: 4 });
// A fake LLM app: 200 questions drawn from 40 distinct prompts, so most answers come from the cache.
let llmCalls = 0;
for (let i = 0; i < 200; i++) {
  const prompt = `question ${(i * 7919) % 40}`;
  const { rows } = await pool.query("SELECT pgcache.cache_key('demo-model', $1) AS key", [prompt]);
  const key = rows[0].key as string;
  const hit = await pool.query("SELECT pgcache.cache_get_text('llm_responses', $1) AS answer", [key]);
  if (hit.rows[0].answer === null) {
    llmCalls++;
    await pool.query("SELECT pgcache.cache_set('llm_responses', $1, $2::text, interval '1 hour', 'demo-model', $3)", [
      key,
      `answer to ${prompt}`,
      JSON.stringify({ tokens_used: prompt.length }),
    ]);
  }
}
console.log(`200 questions, ${llmCalls} LLM calls, ${200 - llmCalls} answered from the cache\n`);
const stats = await pool.query(
  'SELECT cache_type, value_kind, entries, bytes, hits, misses, round(hit_rate::numeric, 3) AS hit_rate FROM pgcache.cache_stats()',
);
console.table(stats.rows);
await pool.end();
console.log(`\npsql ${url}   # try: SELECT * FROM pgcache.cache_stats();`);

// Caching an LLM app with pgcache, offline: a deterministic fake embedder and fake LLM stand in for the
// real APIs. Run: DATABASE_URL=postgres://... npx tsx examples/llm-app.ts  (pgcache installed, pgvector on)
import { createHash } from 'node:crypto';
import pg from 'pg';
import { createCache, EmbeddingCache, SemanticLlmCache, VectorSearchCache } from '../src/index.js';

const MODEL = 'fake-embed-64';

/** Same text, same unit vector; texts that differ only in case and punctuation embed identically. */
function fakeEmbed(text: string): number[] {
  const words = text
    .toLowerCase()
    .replace(/[^a-z ]/g, '')
    .split(/\s+/)
    .filter(Boolean);
  const v = new Array(64).fill(0);
  for (const w of words) v[(createHash('sha256').update(w).digest()[0] ?? 0) % 64] += 1;
  const norm = Math.hypot(...v) || 1;
  return v.map((x) => x / norm);
}

let llmCalls = 0;
let embedderCalls = 0;
const fakeLlm = async (prompt: string) => {
  llmCalls++;
  return `Answer to: ${prompt}`;
};
const embedder = async (texts: string[]) => {
  embedderCalls++;
  return texts.map(fakeEmbed);
};

export async function runLlmApp(databaseUrl: string) {
  const pool = new pg.Pool({ connectionString: databaseUrl });
  const cache = await createCache({ pool });
  const embeddings = new EmbeddingCache(cache);
  const answers = new SemanticLlmCache(cache, MODEL);
  const searches = new VectorSearchCache<{ id: number; text: string }[]>(cache); // tagged doc:<id> per result

  // The knowledge base: the application's own table. Watching it ties cached answers to its rows: an UPDATE
  // of a document removes, in the same transaction, every entry tagged with it (run as the table's owner).
  await pool.query(`CREATE TABLE IF NOT EXISTS documents (id int PRIMARY KEY, body text NOT NULL)`);
  await pool.query(`INSERT INTO documents VALUES (1, 'HOT updates ...'), (7, 'VACUUM ...') ON CONFLICT DO NOTHING`);
  await cache.watchTable('documents', 'doc:{id}');

  const questions = ['What is HOT?', 'what is hot', 'What is HOT?', 'How does VACUUM work?', 'What is HOT?!'];
  // 1. Embed every question in one batch: only new texts reach the embedder.
  const vectors = await embeddings.embed(questions, MODEL, embedder);

  for (const [i, question] of questions.entries()) {
    const vector = vectors[i] as number[];
    // 2. Exact prompt first, then the nearest cached prompt within cosine distance 0.05, scoped to a tenant.
    const hit = await answers.lookup(question, vector, { scope: 'tenant-1', maxCosineDistance: 0.05 });
    if (hit) continue;
    // 3. Retrieval results cached per query vector, filters and knowledge-base version.
    const found = await searches.getOrSearch(
      vector,
      { lang: 'en' },
      'kb-v1',
      async () => (await pool.query('SELECT id, body AS text FROM documents ORDER BY id')).rows,
    );
    // The answer remembers the documents it was grounded on (tags doc:1, doc:7).
    await answers.store(question, vector, await fakeLlm(question), {
      scope: 'tenant-1',
      ttl: 3600,
      sources: found.map((doc) => doc.id),
    });
  }
  await answers.ensureIndex();
  const stats = await cache.stats();
  const llmCallsForQuestions = llmCalls;

  // 4. A document changes: the stale answer and search result go in the same transaction as the UPDATE.
  await cache.transaction(async (_tx, client) => {
    await client.query(`UPDATE documents SET body = 'HOT updates, revised' WHERE id = 1`);
  });
  const stale = await answers.lookup('What is HOT?', fakeEmbed('What is HOT?'), { scope: 'tenant-1' });
  if (!stale) await answers.store('What is HOT?', fakeEmbed('What is HOT?'), await fakeLlm('What is HOT?'));
  await cache.unwatchTable('documents');
  await pool.end();
  return {
    llmCalls: llmCallsForQuestions,
    llmCallsAfterUpdate: llmCalls - llmCallsForQuestions,
    staleAnswerServed: stale !== undefined,
    embedderCalls,
    questions: questions.length,
    stats,
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const result = await runLlmApp(process.env.DATABASE_URL as string);
  console.log(`${result.questions} questions, ${result.llmCalls} LLM calls, ${result.embedderCalls} embedder call(s)`);
  console.log(
    `after a document update: stale answer served: ${result.staleAnswerServed}, ${result.llmCallsAfterUpdate} LLM call`,
  );
  console.table(result.stats.map(({ cacheType, entries, hits, misses }) => ({ cacheType, entries, hits, misses })));
}

// The demo's workload: a small retrieval-augmented LLM app whose every expensive step goes through pgcache.
// 60 questions (20 distinct) over a 12-document knowledge base: each question is embedded, searched, answered
// and every tenth answer spoken; each step is get-or-compute against its cache type. It also stores a few
// short-lived session entries for the maintenance timer to expire.
import type pg from 'pg';
import { createCache } from '../client/cache.js';
import { cacheKey } from '../client/key.js';
import {
  cosineDistance,
  EMBEDDING_MODEL,
  fakeEmbedding,
  fakeLlm,
  fakeSpeech,
  LLM_MODEL,
  TTS_MODEL,
  TTS_VOICE,
} from './fakes.js';

export const DOCUMENTS = [
  'Heap-only tuples. An update that changes no indexed column can stay on the same page and skip every index.',
  'Fillfactor. Leaving free space on each page lets updates stay heap-only and avoids page splits.',
  'Autovacuum. It removes dead rows left by updates and deletes, so tables and indexes stop growing.',
  'Unlogged tables. They skip the write-ahead log: faster writes, but they are emptied after a crash.',
  'List partitioning. One partition per cache type keeps each type in its own table with its own statistics.',
  'Sequences. nextval never blocks and is not rolled back, which makes it a cheap counter for hits and misses.',
  'pg_cron. It runs SQL on a schedule inside the database, such as expiring cache entries every minute.',
  'pgvector. It stores embeddings and finds nearest neighbours by cosine distance with HNSW indexes.',
  'Eviction policies. LRU drops the least recently used entries, LFU the least frequently used, FIFO the oldest.',
  'Time to live. Each cache entry expires after its TTL; expired entries are removed by maintenance in batches.',
  'Semantic caching. A new prompt close enough to a cached prompt by embedding distance reuses its answer.',
  'Text to speech. Synthesized audio is expensive to produce, so spoken answers are cached as bytes.',
];

const QUESTIONS = [
  'How do heap-only tuples make updates cheaper?',
  'What does fillfactor change on a page?',
  'Why do tables grow without autovacuum?',
  'When are unlogged tables emptied?',
  'Why partition a cache by type?',
  'Why count cache hits with sequences?',
  'How can expired entries be removed every minute?',
  'How are nearest neighbours found for embeddings?',
  'What is the difference between LRU and LFU eviction?',
  'What happens when a cache entry TTL runs out?',
  'How does semantic caching reuse an answer?',
  'Why cache synthesized speech audio?',
  'Which eviction policy drops the oldest entries?',
  'Do sequences roll back on abort?',
  'How does HNSW search by cosine distance?',
  'What removes dead rows after deletes?',
  'Can a scheduled job expire cache entries?',
  'What is skipped by an unlogged table write?',
  'How does free space on a page help updates?',
  'What makes a prompt close enough to reuse an answer?',
];

export const QUESTIONS_ASKED = 60;
export const SESSION_TTL_SECONDS = 1;
const SESSIONS = 10;

export interface StepCounts {
  lookups: number;
  computed: number;
  cached: number;
}

export interface WorkloadReport {
  embeddings: StepCounts;
  searches: StepCounts;
  answers: StepCounts & { tokensSpent: number };
  speech: StepCounts & { bytesSynthesized: number };
  sessions: number;
  /** When the last session entry expires (JS clock). */
  sessionsExpireAt: number;
}

const counts = (): StepCounts => ({ lookups: 0, computed: 0, cached: 0 });

export async function runWorkload(pool: pg.Pool, schemaName = 'pgcache'): Promise<WorkloadReport> {
  // Through the client, as an application would: its statements, checks and error classes.
  const cache = await createCache({ pool, schema: schemaName });
  const embeddings = cache.type('embeddings');
  const searches = cache.type('vector_search');
  const answers = cache.type('llm_responses');
  const audio = cache.type('audio_chunks');
  const report: WorkloadReport = {
    embeddings: counts(),
    searches: counts(),
    answers: { ...counts(), tokensSpent: 0 },
    speech: { ...counts(), bytesSynthesized: 0 },
    sessions: 0,
    sessionsExpireAt: 0,
  };

  async function embed(text: string): Promise<number[]> {
    report.embeddings.lookups++;
    const key = cacheKey(EMBEDDING_MODEL, text);
    const cached = await embeddings.get(key);
    if (cached !== undefined) {
      report.embeddings.cached++;
      return cached;
    }
    report.embeddings.computed++;
    const v = fakeEmbedding(text);
    await embeddings.set(key, v, { model: EMBEDDING_MODEL });
    return v;
  }

  const docVectors: number[][] = [];
  for (const doc of DOCUMENTS) docVectors.push(await embed(doc));

  interface Hit {
    doc: number;
    distance: number;
  }
  async function search(question: string, v: number[]): Promise<Hit[]> {
    report.searches.lookups++;
    const key = cacheKey('kb-v1', 'top3', question);
    const cached = (await searches.get(key)) as Hit[] | undefined;
    if (cached !== undefined) {
      report.searches.cached++;
      return cached;
    }
    report.searches.computed++;
    const hits = docVectors
      .map((d, doc) => ({ doc, distance: Number(cosineDistance(v, d).toFixed(4)) }))
      .sort((a, b) => a.distance - b.distance)
      .slice(0, 3);
    await searches.set(key, hits);
    return hits;
  }

  async function answer(question: string, hits: Hit[]): Promise<string> {
    report.answers.lookups++;
    const context = hits.map((h) => DOCUMENTS[h.doc] ?? '');
    const key = cacheKey(LLM_MODEL, question, hits.map((h) => h.doc).join(','));
    const cached = await answers.getEntry(key);
    if (cached !== undefined) {
      report.answers.cached++;
      return cached.value;
    }
    report.answers.computed++;
    const completion = fakeLlm(question, context);
    report.answers.tokensSpent += completion.tokensUsed;
    // Tagged with the documents the answer drew on: cache.invalidateTags(['doc:3']) drops it. Its cost makes
    // every later hit count in cache_savings.
    await answers.set(key, completion.text, {
      ttl: 'medium',
      model: LLM_MODEL,
      meta: { tokens_used: completion.tokensUsed },
      tags: hits.map((h) => `doc:${h.doc}`),
      cost: { model: LLM_MODEL, inputTokens: completion.inputTokens, outputTokens: completion.outputTokens },
    });
    return completion.text;
  }

  async function speak(text: string): Promise<void> {
    report.speech.lookups++;
    const key = cacheKey(TTS_VOICE, text);
    if ((await audio.get(key)) !== undefined) {
      report.speech.cached++;
      return;
    }
    report.speech.computed++;
    const speech = fakeSpeech(text);
    report.speech.bytesSynthesized += speech.audio.length;
    await audio.set(key, speech.audio, {
      ttl: 'long',
      meta: { format: speech.format, duration_ms: speech.durationMs },
      cost: { model: TTS_MODEL, voice: TTS_VOICE, characters: text.length },
    });
  }

  for (let i = 0; i < QUESTIONS_ASKED; i++) {
    const question = QUESTIONS[(i * 7) % QUESTIONS.length] ?? '';
    const v = await embed(question);
    const hits = await search(question, v);
    const text = await answer(question, hits);
    if (i % 10 === 0) await speak(text);
  }

  // Short-lived entries (per-user sessions) that expire during the demo, for the maintenance timer to delete.
  for (let user = 1; user <= SESSIONS; user++) {
    await cache
      .type('default')
      .set(
        `session:user-${user}`,
        { user, questions: Math.ceil(QUESTIONS_ASKED / SESSIONS) },
        { ttl: SESSION_TTL_SECONDS },
      );
    report.sessions++;
  }
  report.sessionsExpireAt = Date.now() + SESSION_TTL_SECONDS * 1000;
  await cache.close(); // the pool is the caller's: close() leaves it open
  return report;
}

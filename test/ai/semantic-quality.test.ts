// Semantic quality: a workload of near repeats, paraphrase-like noise and unrelated queries; the histogram of
// nearest distances per type and model shows them apart, operators' distance limits hold against looser
// requests, and callers' feedback and a verifier's rejections are counted.
import { beforeAll, describe, expect, it } from 'vitest';
import { type Cache, createCache, SemanticLlmCache, type SemanticStats } from '../../src/index.js';
import { sqlState, useDatabase } from '../helpers/db.js';
import { fakeEmbed, nudge } from '../helpers/fake-models.js';

const db = useDatabase();
let cache: Cache;
let llm: SemanticLlmCache;
const TYPE = 'sq_llm';
const MODEL = 'sq-64';
const QUESTIONS = Array.from({ length: 12 }, (_, i) => `question number ${i}`);
const vectors = new Map(QUESTIONS.map((q) => [q, fakeEmbed(q, 64)]));
const vectorOf = (q: string) => vectors.get(q) as number[];

function cosine(a: number[], b: number[]): number {
  let dot = 0;
  for (let i = 0; i < a.length; i++) dot += (a[i] as number) * (b[i] as number);
  return 1 - dot; // unit vectors
}

const statsOf = async (): Promise<SemanticStats> =>
  (await cache.semanticStats()).find((s) => s.cacheType === TYPE && s.model === MODEL) as SemanticStats;

beforeAll(async () => {
  await db.pool.query(`SELECT pgcache.cache_create_type($1, 'text')`, [TYPE]);
  cache = await createCache({ pool: db.pool });
  llm = new SemanticLlmCache(cache, MODEL, TYPE);
  for (const q of QUESTIONS) {
    await llm.store(q, vectorOf(q), `answer to ${q}`, { scope: 'acme', cost: { model: 'sq-gpt', outputTokens: 50 } });
    await llm.store(q, vectorOf(q), `globex answer to ${q}`, { scope: 'globex' });
  }
  await llm.ensureIndex();
});

describe('the distance histogram', () => {
  it('separates near repeats and paraphrases (hits) from unrelated queries (misses)', async () => {
    const near: number[] = [];
    const paraphrases: number[] = [];
    for (const [i, q] of QUESTIONS.entries()) {
      const v = vectorOf(q);
      for (const [epsilon, seen] of [
        [0.05, near],
        [0.3, paraphrases],
      ] as const) {
        const probe = nudge(v, epsilon, i + 1);
        seen.push(cosine(probe, v));
        const hit = await llm.lookup(`${q}?`, probe, { scope: 'acme', maxCosineDistance: 0.1 });
        expect(hit?.response, `${q} at ${epsilon}`).toBe(`answer to ${q}`);
      }
      const unrelated = fakeEmbed(`something else entirely ${i}`, 64);
      expect(await llm.lookup(`unrelated ${i}`, unrelated, { scope: 'acme', maxCosineDistance: 0.1 })).toBeUndefined();
    }
    // A lookup in a scope with no entries finds no candidate at all.
    expect(await llm.lookup('nobody', vectorOf(QUESTIONS[0] as string), { scope: 'initech' })).toBeUndefined();

    const stats = await statsOf();
    expect(stats).toMatchObject({ lookups: 37, hits: 24, misses: 13 });
    const bucketOf = (d: number) => Math.floor(d * 100);
    const hitBuckets = stats.distances.filter((b) => b.hits > 0).map((b) => b.bucket);
    const missBuckets = stats.distances.filter((b) => b.misses > 0 && b.bucket >= 0).map((b) => b.bucket);
    // Near repeats land in the first bucket, paraphrases a little further, unrelated queries far beyond.
    expect(Math.max(...hitBuckets)).toBe(Math.max(...[...near, ...paraphrases].map(bucketOf)));
    expect(Math.max(...near.map(bucketOf))).toBeLessThan(Math.min(...paraphrases.map(bucketOf)) + 1);
    expect(Math.min(...missBuckets)).toBeGreaterThan(30);
    expect(stats.distances.find((b) => b.bucket === -1)).toMatchObject({ hits: 0, misses: 1, distanceFrom: null });
    // Semantic hits of entries with a recorded cost count as savings, for their scope.
    const { rows } = await db.pool.query(
      `SELECT tenant, hits::int, output_tokens::int FROM pgcache.cache_savings WHERE cache_type = $1`,
      [TYPE],
    );
    expect(rows).toEqual([{ tenant: 'acme', hits: 24, output_tokens: 24 * 50 }]);
  });
});

describe('distance limits', () => {
  it('a type limit holds against a request asking for a looser one; a tighter request still applies', async () => {
    const q = QUESTIONS[1] as string;
    const v = vectorOf(q);
    const paraphrase = nudge(v, 0.3, 99);
    const near = nudge(v, 0.05, 99);
    expect(cosine(paraphrase, v)).toBeGreaterThan(0.03);
    expect(cosine(near, v)).toBeLessThan(0.01);
    await db.pool.query(`SELECT pgcache.cache_configure_semantic_max_distance($1, 0.02)`, [TYPE]);
    expect(await llm.lookup(`${q}, reworded`, paraphrase, { scope: 'acme', maxCosineDistance: 1.5 })).toBeUndefined();
    expect((await llm.lookup(`${q}, reworded`, near, { scope: 'acme', maxCosineDistance: 1.5 }))?.exact).toBe(false);
    expect(await llm.lookup(`${q}, reworded`, near, { scope: 'acme', maxCosineDistance: 0 })).toBeUndefined();
    // Straight through SQL too: the limit is the database's, not the client's.
    const { rows } = await db.pool.query(
      `SELECT count(*)::int AS n FROM pgcache.cache_semantic_get($1, $2::vector, $3, 2, 'acme')`,
      [TYPE, `[${paraphrase.join(',')}]`, MODEL],
    );
    expect(rows[0].n).toBe(0);
    expect((await statsOf()).typeMaxDistance).toBe(0.02);
  });

  it('a tenant limit tightens that tenant only; NULL removes a limit; bad limits are PC010', async () => {
    const q = QUESTIONS[2] as string;
    const near = nudge(vectorOf(q), 0.05, 7);
    const asked = `${q}, reworded`;
    await db.pool.query(`SELECT pgcache.cache_configure_semantic_max_distance($1, 0, 'acme')`, [TYPE]);
    expect(await llm.lookup(asked, near, { scope: 'acme' })).toBeUndefined();
    expect((await llm.lookup(asked, vectorOf(q), { scope: 'acme' }))?.response).toBe(`answer to ${q}`); // exact still hits
    expect((await llm.lookup(asked, near, { scope: 'globex' }))?.response).toBe(`globex answer to ${q}`);
    const removed = await db.pool.query(
      `SELECT pgcache.cache_configure_semantic_max_distance($1, NULL, 'acme') AS a, pgcache.cache_configure_semantic_max_distance($1, NULL) AS b`,
      [TYPE],
    );
    expect(removed.rows[0]).toEqual({ a: true, b: true });
    expect((await llm.lookup(asked, near, { scope: 'acme' }))?.response).toBe(`answer to ${q}`);
    for (const bad of ['-0.1', '2.5', "'NaN'"]) {
      expect(
        await sqlState(db.pool.query(`SELECT pgcache.cache_configure_semantic_max_distance($1, ${bad})`, [TYPE])),
      ).toBe('PC010');
    }
    expect(await sqlState(db.pool.query(`SELECT pgcache.cache_configure_semantic_max_distance('sq_none', 0.1)`))).toBe(
      'PC001',
    );
  });
});

describe('feedback', () => {
  it('counts wrong and right hits per type and model, and a verifier rejection turns a hit into a miss', async () => {
    const before = await statsOf();
    const q = QUESTIONS[3] as string;
    const hit = await llm.lookup('is it not the answer?', nudge(vectorOf(q), 0.05, 3), { scope: 'acme' });
    expect(hit).toBeDefined();
    expect(await llm.feedback(hit?.key as string, false)).toBe(true);
    expect(await llm.feedback(hit?.key as string, true)).toBe(true);
    expect(await llm.feedback('no such key', false)).toBe(false);
    // A lexical check that a negation did not flip the meaning.
    const negationKept = (candidate: { key: string }, prompt: string) => /\bnot\b/.test(prompt) === false;
    const seen: string[] = [];
    const rejected = await llm.lookup('is it not the answer?', nudge(vectorOf(q), 0.05, 4), {
      scope: 'acme',
      verify: (candidate, prompt) => {
        seen.push(candidate.response);
        return negationKept(candidate, prompt);
      },
    });
    expect(rejected).toBeUndefined();
    expect(seen).toEqual([`answer to ${q}`]);
    const accepted = await llm.lookup('is it the answer?', nudge(vectorOf(q), 0.05, 5), {
      scope: 'acme',
      verify: negationKept,
    });
    expect(accepted?.response).toBe(`answer to ${q}`);
    const after = await statsOf();
    expect(after.wrongHits - before.wrongHits).toBe(1);
    expect(after.correctHits - before.correctHits).toBe(1);
    expect(after.verifierRejections - before.verifierRejections).toBe(1);
    expect(
      await sqlState(db.pool.query(`SELECT pgcache.cache_semantic_feedback($1, 'k', true, 'verifier')`, [TYPE])),
    ).toBe('PC010');
    await expect(llm.feedback(hit?.key as string, 'yes' as never)).rejects.toMatchObject({ code: 'PC010' });
  });
});

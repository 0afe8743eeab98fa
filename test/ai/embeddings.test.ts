// Embedding batches: one lookup round trip, one embedder call with only the misses, results aligned.
import { beforeAll, expect, it } from 'vitest';
import { type Cache, createCache, EmbeddingCache, VectorWidthMismatchError } from '../../src/index.js';
import { useDatabase } from '../helpers/db.js';
import { fakeEmbed } from '../helpers/fake-models.js';

const db = useDatabase();
let cache: Cache;
beforeAll(async () => {
  cache = await createCache({ pool: db.pool });
});

it('1000 texts, half cached: exactly one embedder call with the 500 misses, in order, deduplicated', async () => {
  const embeddings = new EmbeddingCache(cache);
  const texts = Array.from({ length: 1000 }, (_, i) => `text ${i}`);
  await embeddings.embed(
    texts.filter((_, i) => i % 2 === 0),
    'fake-64',
    (batch) => batch.map((t) => fakeEmbed(t, 64)),
  );

  const calls: string[][] = [];
  const withDuplicates = [...texts, 'text 1', 'text 3'];
  const vectors = await embeddings.embed(withDuplicates, 'fake-64', (batch) => {
    calls.push(batch);
    return batch.map((t) => fakeEmbed(t, 64));
  });
  expect(calls).toHaveLength(1);
  expect(calls[0]).toEqual(texts.filter((_, i) => i % 2 === 1));
  expect(vectors).toHaveLength(withDuplicates.length);
  withDuplicates.forEach((text, i) => {
    const expected = fakeEmbed(text, 64);
    (vectors[i] as number[]).forEach((x, j) => expect(x).toBeCloseTo(expected[j] as number, 5));
  });

  const again: string[][] = [];
  await embeddings.embed(texts, 'fake-64', (batch) => {
    again.push(batch);
    return [];
  });
  expect(again).toEqual([]);
});

it('keys by model and content: another model misses; widths are checked per model', async () => {
  const embeddings = new EmbeddingCache(cache);
  await embeddings.embed(['same text'], 'model-a', (b) => b.map((t) => fakeEmbed(t, 8)));
  const calls: string[][] = [];
  await embeddings.embed(['same text'], 'model-b', (b) => {
    calls.push(b);
    return b.map((t) => fakeEmbed(t, 16));
  });
  expect(calls).toEqual([['same text']]);
  await expect(embeddings.embed(['new text'], 'model-a', (b) => b.map((t) => fakeEmbed(t, 9)))).rejects.toBeInstanceOf(
    VectorWidthMismatchError,
  );
  await expect(
    embeddings.embed(['x1', 'x2'], 'model-c', () => [fakeEmbed('x1', 4), fakeEmbed('x2', 5)]),
  ).rejects.toBeInstanceOf(VectorWidthMismatchError);
  const stored = await db.pool.query(`SELECT count(*)::int AS n FROM pgcache.cache_embeddings WHERE model = 'model-c'`);
  expect(stored.rows[0].n).toBe(0);
});

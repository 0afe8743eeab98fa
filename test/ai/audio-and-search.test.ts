// Audio chunks (multi-megabyte bytea, streamed in slices, size limit) and vector-search result caching.
import { randomBytes } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { type Cache, createCache, ValueTooLargeError, VectorSearchCache } from '../../src/index.js';
import { useDatabase } from '../helpers/db.js';
import { fakeEmbed } from '../helpers/fake-models.js';

const db = useDatabase();
let cache: Cache;
beforeAll(async () => {
  cache = await createCache({ pool: db.pool });
});

describe('audio chunks', () => {
  it('stores 8 MB of audio with format and duration and reads it back whole and streamed', async () => {
    const audio = cache.type('audio_chunks');
    const bytes = randomBytes(8 * 1024 * 1024);
    await audio.set('tts:long', bytes, { ttl: 'long', meta: { format: 'opus', duration_ms: 512_000 } });
    expect(Buffer.compare((await audio.get('tts:long')) as Buffer, bytes)).toBe(0);
    const chunks: Buffer[] = [];
    for await (const chunk of audio.stream('tts:long', { chunkBytes: 3 * 1024 * 1024 })) chunks.push(chunk);
    expect(chunks.map((c) => c.length)).toEqual([3 * 1024 * 1024, 3 * 1024 * 1024, 2 * 1024 * 1024]);
    expect(Buffer.compare(Buffer.concat(chunks), bytes)).toBe(0);
    const entry = await audio.getEntry('tts:long');
    expect(entry?.meta).toEqual({ format: 'opus', duration_ms: 512_000 });
    const missing: Buffer[] = [];
    for await (const chunk of audio.stream('tts:none')) missing.push(chunk);
    expect(missing).toEqual([]);
  }, 60_000);

  it('rejects audio over the type limit with PC007 and keeps the other entries', async () => {
    const audio = cache.type('audio_chunks');
    await db.pool.query(`UPDATE pgcache.cache_types SET max_value_bytes = 1024 * 1024 WHERE name = 'audio_chunks'`);
    await expect(audio.set('tts:huge', randomBytes(1024 * 1024 + 1))).rejects.toBeInstanceOf(ValueTooLargeError);
    expect(await audio.get('tts:huge')).toBeUndefined();
    expect(((await audio.get('tts:long')) as Buffer).length).toBe(8 * 1024 * 1024);
  });
});

describe('vector-search results', () => {
  it('caches results by query vector, filters and knowledge-base version; a new version misses in O(1)', async () => {
    const search = new VectorSearchCache<{ ids: number[] }>(cache);
    const query = fakeEmbed('refund policy', 16);
    let searches = 0;
    const run = () => {
      searches++;
      return { ids: [searches, 7] };
    };
    const first = await search.getOrSearch(query, { lang: 'en', top: 5 }, 'kb-1', run);
    expect(await search.getOrSearch(query, { top: 5, lang: 'en' }, 'kb-1', run)).toEqual(first);
    expect(searches).toBe(1);
    await search.getOrSearch(query, { lang: 'de', top: 5 }, 'kb-1', run);
    expect(searches).toBe(2);
    await search.getOrSearch(query, { lang: 'en', top: 5 }, 'kb-2', run);
    expect(searches).toBe(3);
    await search.invalidateAll();
    await search.getOrSearch(query, { lang: 'en', top: 5 }, 'kb-2', run);
    expect(searches).toBe(4);
    const { rows } = await db.pool.query(
      `SELECT pgcache.cache_get('vector_search', pgcache.cache_vector_search_key($1::real[], $2::jsonb, 'kb-2')) AS v`,
      [query, JSON.stringify({ top: 5, lang: 'en' })],
    );
    expect(rows[0].v).toEqual({ ids: [4, 7] });
  });
});

// The AI helpers on a tenant view (forTenant) act for that tenant only, through the client's tenant binding:
// no PC013 on tenant-scoped types, and nothing one tenant stores is found by another.
import { beforeAll, describe, expect, it } from 'vitest';
import {
  type Cache,
  createCache,
  EmbeddingCache,
  InvalidArgumentError,
  SemanticLlmCache,
  TenantRequiredError,
  VectorSearchCache,
  VectorWidthMismatchError,
} from '../../src/index.js';
import { useDatabase } from '../helpers/db.js';
import { fakeEmbed } from '../helpers/fake-models.js';

const db = useDatabase();
let cache: Cache;
let perTenantVersions = false;

beforeAll(async () => {
  for (const [name, kind] of [
    ['t_embeddings', 'vector'],
    ['t_llm', 'text'],
    ['t_search', 'jsonb'],
  ]) {
    await db.pool.query(`SELECT pgcache.cache_create_type($1, $2)`, [name, kind]);
    await db.pool.query(`SELECT pgcache.cache_configure_tenant_scoped($1, true)`, [name]);
  }
  // A tenant may not register a model's width: the operator does, up front.
  await db.pool.query(`SELECT pgcache.cache_register_model('fake-16', 16)`);
  cache = await createCache({ pool: db.pool });
  // Model widths are global, not a tenant's to set: an operator registers the model first.
  expect(await cache.registerModel('fake-16', 16)).toBe(16);
  // Whether this install's cache_bump_version keeps a version per tenant (else it bumps the whole type).
  const { rows } = await db.pool.query(
    `SELECT pg_get_functiondef('pgcache.cache_bump_version(text)'::regprocedure) ~ 'tenant' AS yes`,
  );
  perTenantVersions = rows[0].yes;
});

describe('AI helpers on tenant views', () => {
  it('EmbeddingCache: each tenant embeds and finds its own vectors', async () => {
    const acme = new EmbeddingCache(cache.forTenant('acme'), 't_embeddings');
    const globex = new EmbeddingCache(cache.forTenant('globex'), 't_embeddings');
    const calls: string[][] = [];
    const embedder = (texts: string[]) => {
      calls.push(texts);
      return texts.map((t) => fakeEmbed(t, 16));
    };
    await acme.embed(['a', 'b'], 'fake-16', embedder);
    await acme.embed(['a', 'b'], 'fake-16', embedder);
    expect(calls).toEqual([['a', 'b']]); // the second call found both, for acme
    await globex.embed(['a'], 'fake-16', embedder);
    expect(calls).toEqual([['a', 'b'], ['a']]); // globex does not see acme's vectors
    // Without a tenant the type refuses before the embedder runs.
    const bare = new EmbeddingCache(cache, 't_embeddings');
    await expect(bare.embed(['z'], 'fake-16', embedder)).rejects.toBeInstanceOf(TenantRequiredError);
    expect(calls).toHaveLength(2);
  });

  it('SemanticLlmCache: stores, exact and semantic lookups stay inside the tenant', async () => {
    const acme = new SemanticLlmCache(cache.forTenant('acme'), 'fake-16', 't_llm');
    const globex = new SemanticLlmCache(cache.forTenant('globex'), 'fake-16', 't_llm');
    const q = fakeEmbed('what is pgcache', 16);
    await acme.store('what is pgcache', q, 'a cache in Postgres');
    expect((await acme.lookup('what is pgcache'))?.response).toBe('a cache in Postgres');
    expect((await acme.lookup('what IS pgcache?', q))?.response).toBe('a cache in Postgres');
    expect(await globex.lookup('what is pgcache')).toBeUndefined();
    expect(await globex.lookup('what IS pgcache?', q)).toBeUndefined();
    await expect(new SemanticLlmCache(cache, 'fake-16', 't_llm').lookup('x', q)).rejects.toBeInstanceOf(
      TenantRequiredError,
    );
  });

  it('VectorSearchCache: results and invalidateAll per tenant', async () => {
    const acme = new VectorSearchCache<string[]>(cache.forTenant('acme'), 't_search');
    const globex = new VectorSearchCache<string[]>(cache.forTenant('globex'), 't_search');
    const query = fakeEmbed('docs about caching', 16);
    let searches = 0;
    const search = (who: string) => () => {
      searches++;
      return [who];
    };
    expect(await acme.getOrSearch(query, { lang: 'en' }, 'kb1', search('acme'))).toEqual(['acme']);
    expect(await acme.getOrSearch(query, { lang: 'en' }, 'kb1', search('acme'))).toEqual(['acme']);
    expect(await globex.getOrSearch(query, { lang: 'en' }, 'kb1', search('globex'))).toEqual(['globex']);
    expect(searches).toBe(2);

    await acme.invalidateAll();
    expect(await acme.getOrSearch(query, { lang: 'en' }, 'kb1', search('acme'))).toEqual(['acme']);
    expect(searches).toBe(3);
    if (perTenantVersions) {
      // globex's results survive acme's invalidation.
      expect(await globex.getOrSearch(query, { lang: 'en' }, 'kb1', search('globex'))).toEqual(['globex']);
      expect(searches).toBe(3);
    }
  });

  it('registerModel registers a width once; another width or a bad argument is refused', async () => {
    expect(await cache.registerModel('fake-16', 16)).toBe(16);
    await expect(cache.registerModel('fake-16', 8)).rejects.toBeInstanceOf(VectorWidthMismatchError);
    await expect(cache.registerModel('fake-x', 0)).rejects.toBeInstanceOf(InvalidArgumentError);
    await expect(cache.registerModel('fake-x', 1.5)).rejects.toBeInstanceOf(InvalidArgumentError);
    await expect(cache.registerModel(7 as unknown as string, 4)).rejects.toBeInstanceOf(InvalidArgumentError);
    // An unregistered model's width cannot be set from a tenant's session (PC010).
    const acme = new EmbeddingCache(cache.forTenant('acme'), 't_embeddings');
    await expect(acme.embed(['u'], 'fake-unregistered', (t) => t.map((x) => fakeEmbed(x, 4)))).rejects.toBeInstanceOf(
      InvalidArgumentError,
    );
    const { rows } = await db.pool.query(`SELECT dimensions FROM pgcache.cache_models WHERE model = 'fake-16'`);
    expect(rows).toEqual([{ dimensions: 16 }]);
  });

  it('a tenant name the database would refuse is refused at forTenant', () => {
    expect(() => cache.forTenant('bad tenant!')).toThrow(TenantRequiredError);
    expect(() => cache.forTenant(42 as unknown as string)).toThrow(TenantRequiredError);
  });
});

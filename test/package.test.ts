// The package as an application gets it: `npm pack` (which builds dist/ in prepack), installed into a fresh app
// that has only pg (plus keyv 6, prom-client and TypeScript for the checks below). Every export imports, the
// bin runs, a strict TypeScript file (no skipLibCheck) that uses the typed API type-checks beside the app's own
// Zapatos schema, and the Keyv store works with keyv 6 against the database.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { repoRoot } from '../scripts/lib/cluster.js';
import { useDatabase } from './helpers/db.js';

const db = useDatabase();
const work = mkdtempSync(join(tmpdir(), 'pgcache-pack-'));
const app = join(work, 'app');
afterAll(() => rmSync(work, { recursive: true, force: true }));

function npm(args: string[], cwd: string): string {
  return execFileSync('npm', [...args, '--no-audit', '--no-fund', '--prefer-offline', '--loglevel=error'], {
    cwd,
    encoding: 'utf8',
    env: { ...process.env, npm_config_update_notifier: 'false' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

function node(file: string, env: Record<string, string> = {}): string {
  return execFileSync(process.execPath, [file], { cwd: app, encoding: 'utf8', env: { ...process.env, ...env } });
}

beforeAll(() => {
  npm(['pack', '--pack-destination', work], repoRoot);
  const tarball = readdirSync(work).find((f) => f.endsWith('.tgz')) as string;
  mkdirSync(app);
  writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'app', private: true, type: 'module' }));
  npm(['install', join(work, tarball), 'pg@^8'], app);
}, 240_000);

describe('the packed package in a fresh app', () => {
  it('ships dist/ and no Zapatos, PGlite or pgvector among its runtime dependencies', () => {
    for (const heavy of [
      'zapatos',
      'typescript',
      'pgvector',
      '@electric-sql/pglite',
      '@electric-sql/pglite-socket',
      '@electric-sql/pglite-pgvector',
      'prom-client',
    ]) {
      expect(existsSync(join(app, 'node_modules', heavy)), heavy).toBe(false);
    }
    expect(readdirSync(join(app, 'node_modules/pgcache/dist'))).toContain('index.js');
    // The shipped declarations name no Zapatos module (an app's own Zapatos must not collide with them).
    const grep = spawnSync(
      'grep',
      ['-rlE', "from 'zapatos|module 'zapatos|reference .*zapatos", join(app, 'node_modules/pgcache/dist')],
      { encoding: 'utf8' },
    );
    expect(grep.stdout).toBe('');
    // What an app installs with pgcache and pg, for the record.
    const du = spawnSync('du', ['-sk', join(app, 'node_modules')], { encoding: 'utf8' }).stdout.split('\t')[0];
    const packages =
      spawnSync('npm', ['ls', '--all', '--parseable'], { cwd: app, encoding: 'utf8' }).stdout.trim().split('\n')
        .length - 1;
    console.log(`pgcache + pg in a fresh app: ${packages} packages, ${Math.round(Number(du) / 1024)} MB`);
    expect(Number(du)).toBeLessThan(40 * 1024);
  });

  it('imports pgcache and pgcache/maintenance with only pg installed; the others name what they need', () => {
    writeFileSync(
      join(app, 'imports.mjs'),
      `const out = {};
for (const name of ['pgcache', 'pgcache/keyv', 'pgcache/maintenance', 'pgcache/metrics', 'pgcache/express-rate-limit']) {
  try { out[name] = Object.keys(await import(name)).length; } catch (e) { out[name] = e.message; }
}
console.log(JSON.stringify(out));`,
    );
    const out = JSON.parse(node('imports.mjs'));
    expect(out.pgcache).toBeGreaterThan(10);
    expect(out['pgcache/maintenance']).toBeGreaterThan(0);
    // keyv's types only are imported at runtime, so the store loads without keyv.
    expect(out['pgcache/keyv']).toBe(1);
    // Likewise the express-rate-limit store, which names none of its types.
    expect(out['pgcache/express-rate-limit']).toBe(1);
    expect(out['pgcache/metrics']).toMatch(/prom-client/);
  });

  it('npx pgcache --help runs the built CLI; the demo says which PGlite packages to install', () => {
    const help = execFileSync('npx', ['--no-install', 'pgcache', '--help'], { cwd: app, encoding: 'utf8' });
    expect(help).toMatch(/Usage: pgcache/);
    expect(help).toMatch(/migrate/);
    let message = '';
    try {
      execFileSync('npx', ['--no-install', 'pgcache', 'demo', '--in-memory'], {
        cwd: app,
        encoding: 'utf8',
        stdio: 'pipe',
      });
    } catch (error) {
      message = String((error as { stderr?: string }).stderr);
    }
    expect(message).toMatch(/npm install @electric-sql\/pglite@0\.5\.14 @electric-sql\/pglite-pgvector/);
  });

  describe('with keyv 6, prom-client and TypeScript added', () => {
    beforeAll(() => {
      npm(['install', 'keyv@^6', 'prom-client@^15', 'typescript@~5.9', '@types/node@^20', '@types/pg@^8'], app);
    }, 240_000);

    it('every export imports', () => {
      const out = JSON.parse(node('imports.mjs'));
      for (const name of [
        'pgcache',
        'pgcache/keyv',
        'pgcache/maintenance',
        'pgcache/metrics',
        'pgcache/express-rate-limit',
      ]) {
        expect(typeof out[name], `${name}: ${out[name]}`).toBe('number');
      }
    });

    // The flags are those `tsc --init` writes (exactOptionalPropertyTypes among them), without skipLibCheck: options
    // read from the environment (string | undefined) are accepted where the option is optional.
    it('a strict TypeScript file type-checks against the shipped declarations beside its own Zapatos schema', () => {
      mkdirSync(join(app, 'src/zapatos'), { recursive: true });
      // What an application's own Zapatos run writes: the same ambient module names pgcache used to ship.
      writeFileSync(
        join(app, 'src/zapatos/schema.d.ts'),
        `declare module 'zapatos/schema' {
  export type Schema = 'public';
  export namespace public_ {
    export namespace users {
      export type Table = 'users';
      export interface Selectable { id: number; email: string }
    }
  }
  export type Table = public_.users.Table;
  export type Selectable = public_.users.Selectable;
}
`,
      );
      writeFileSync(
        join(app, 'src/app.ts'),
        `import pg from 'pg';
import Keyv from 'keyv';
import type * as s from 'zapatos/schema';
import {
  createCache, cacheKey, migrate, PgcacheError, NotInstalledError, InvalidTtlError,
  type CacheTypeRow, type EntryRow, type ModelRow, type EntriesRow, type CacheSizesRow, type Int8String,
  type RateLimitResult,
} from 'pgcache';
import { KeyvPgcache } from 'pgcache/keyv';
import { startMaintenance, type MaintenanceReport } from 'pgcache/maintenance';
import { createMetrics } from 'pgcache/metrics';
import { PgcacheRateLimitStore } from 'pgcache/express-rate-limit';

const user: s.Selectable = { id: 1, email: 'ada@example.com' };
const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL });
const cache = await createCache({ pool });
const fromEnv = await createCache({ connectionString: process.env.DATABASE_URL, schema: process.env.PGCACHE_SCHEMA });
const ttlFromEnv: number | undefined = process.env.TTL ? Number(process.env.TTL) : undefined;
await fromEnv.type('default').set('k', { a: 1 }, { ttl: ttlFromEnv, tags: undefined });
await migrate({ databaseUrl: process.env.DATABASE_URL, rolePrefix: process.env.ROLE_PREFIX });
interface Answer { text: string }
const answers = cache.type<Answer>('vector_search');
await answers.set(cacheKey('q', String(user.id)), { text: 'hi' }, { ttl: 60 });
const hit: Answer | undefined = await answers.get('q');
const entry = await answers.getEntry('q');
const expires: Date | null | undefined = entry?.expires_at;
const types: CacheTypeRow[] = [];
const name: string | undefined = types[0]?.name;
function sizes(row: EntryRow, entry2: EntriesRow, model: ModelRow, size: CacheSizesRow): Int8String | null {
  return row.key === entry2.key && model.model !== '' ? size.table_bytes : null;
}
const runs: MaintenanceReport[] = [];
const expired: Int8String | undefined = runs[0]?.expired;
const ran: string[] = await migrate({ databaseUrl: 'postgres://localhost/app' });
const keyv = new Keyv({ store: new KeyvPgcache({ pool }) });
const runner = startMaintenance({ databaseUrl: process.env.DATABASE_URL, intervalMs: 60_000 });
const metrics = createMetrics({ pool });
const limited: RateLimitResult = await cache.rateLimit('api', 'user:1', { limit: 10, window: 60, cost: 2 });
const retryAfterMs: number = limited.retryAfterMs;
const limiterStore = new PgcacheRateLimitStore({ cache: cache.forTenant('acme'), bucket: 'login' });
function isOurs(error: unknown): string | undefined {
  if (error instanceof InvalidTtlError || error instanceof NotInstalledError) return error.code;
  return error instanceof PgcacheError ? error.message : undefined;
}
// @ts-expect-error: a text type holds strings
await cache.type('llm_responses').set('k', 42);
console.log(hit, expires, name, sizes, expired, ran, keyv, runner, metrics, isOurs, retryAfterMs, limiterStore);
`,
      );
      writeFileSync(
        join(app, 'tsconfig.json'),
        JSON.stringify({
          compilerOptions: {
            target: 'ES2022',
            module: 'NodeNext',
            moduleResolution: 'NodeNext',
            strict: true,
            exactOptionalPropertyTypes: true,
            noUncheckedIndexedAccess: true,
            verbatimModuleSyntax: true,
            noEmit: true,
            types: ['node'],
          },
          include: ['src'],
        }),
      );
      try {
        execFileSync(join(app, 'node_modules/.bin/tsc'), ['-p', 'tsconfig.json'], { cwd: app, encoding: 'utf8' });
      } catch (error) {
        throw new Error(`tsc failed:\n${(error as { stdout?: string }).stdout}`);
      }
    }, 60_000);

    it('the Keyv store works with keyv 6: set, get, delete and TTL against the database', () => {
      writeFileSync(
        join(app, 'keyv6.mjs'),
        `import Keyv from 'keyv';
import { KeyvPgcache } from 'pgcache/keyv';
const store = new KeyvPgcache({ connectionString: process.env.DATABASE_URL });
const keyv = new Keyv({ store, namespace: 'pack' });
const out = {};
await keyv.set('a', { n: 1 });
out.get = await keyv.get('a');
out.deleted = await keyv.delete('a');
out.afterDelete = await keyv.get('a');
await keyv.set('t', 'short', 300);
out.beforeTtl = await keyv.get('t');
await new Promise((r) => setTimeout(r, 600));
out.afterTtl = await keyv.get('t');
// The store itself (not only keyv's own expiry check) no longer returns it.
out.storeAfterTtl = await store.get('pack:t');
await store.disconnect();
console.log(JSON.stringify(out));`,
      );
      const out = JSON.parse(node('keyv6.mjs', { DATABASE_URL: db.url }));
      expect(out).toEqual({ get: { n: 1 }, deleted: true, beforeTtl: 'short' });
    }, 60_000);
  });
});

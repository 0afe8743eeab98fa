// Managed-PostgreSQL installs: a database owner without superuser (no CREATEDB, no pg_read_all_settings) on a
// server where pg_cron is loaded. A superuser creates pgvector before the install, or after it; migrate, a
// re-run (upgrade), semantic lookup, maintenance, doctor and schedule work or say clearly what they cannot do.
// Also: concurrent migrators wait for each other, and createCache on a database without pgcache says so.
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { CRON_DATABASE, clusterInfo } from '../scripts/lib/cluster.js';
import { dropDatabase } from '../scripts/lib/databases.js';
import { runDoctor } from '../src/cli/commands/doctor.js';
import { createCache, FeatureUnavailableError, migrate, NotInstalledError, SemanticLlmCache } from '../src/index.js';
import { scheduleMaintenance } from '../src/maintenance.js';
import { fakeEmbed } from './helpers/fake-models.js';
import { cli } from './helpers/process.js';

vi.setConfig({ testTimeout: 180_000 });

const info = clusterInfo();
const tag = randomBytes(4).toString('hex');
const role = `managed_owner_${tag}`;
const databases: string[] = [];

async function asSuperuser<T>(database: string | undefined, fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: info.url(database) });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/** A fresh database owned by the role; its URL as that role. */
async function ownedDatabase(suffix: string, withVector: boolean): Promise<string> {
  const name = `managed_${tag}_${suffix}`;
  databases.push(name);
  await asSuperuser(undefined, async (admin) => {
    const exists = await admin.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [role]);
    if (exists.rowCount === 0) await admin.query(`CREATE ROLE ${role} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE`);
    await admin.query(`CREATE DATABASE ${name} OWNER ${role} TEMPLATE template0`);
  });
  if (withVector) await asSuperuser(name, (c) => c.query('CREATE EXTENSION vector'));
  return `postgres://${role}@${info.host}:${info.port}/${name}`;
}

afterAll(async () => {
  for (const name of databases) await dropDatabase(info, name);
  await asSuperuser(undefined, (c) => c.query(`DROP ROLE IF EXISTS ${role}`));
});

async function semanticRoundTrip(url: string): Promise<string | undefined> {
  const pool = new pg.Pool({ connectionString: url, max: 2 });
  try {
    const cache = await createCache({ pool });
    const llm = new SemanticLlmCache(cache, 'fake-16');
    const q = fakeEmbed('What is the capital of France?', 16);
    await llm.store('What is the capital of France?', q, 'Paris');
    await llm.ensureIndex();
    return (await llm.lookup('capital of France?', q))?.response;
  } finally {
    await pool.end();
  }
}

describe('pgvector created by a superuser before the install', () => {
  let url: string;

  it('installs as the owner (functions with SET hnsw.* included), upgrades on a re-run, and semantic lookup works', async () => {
    url = await ownedDatabase('before', true);
    const first = await migrate({ databaseUrl: url, count: 1 });
    expect([...first]).toEqual(['0001_install']);
    const rest = await migrate({ databaseUrl: url });
    expect(rest.length).toBeGreaterThan(0);
    expect(rest.skipped).toEqual([]);
    const again = await migrate({ databaseUrl: url });
    expect([...again]).toEqual([]);
    expect(again.added).toEqual([]);
    expect(await semanticRoundTrip(url)).toBe('Paris');
  });

  it('maintenance runs as the owner though cron.database_name is unreadable to it', async () => {
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      await expect(client.query(`SELECT current_setting('cron.database_name', true)`)).rejects.toMatchObject({
        code: '42501',
      });
      await client.query('SELECT pgcache.cache_maintenance()');
    } finally {
      await client.end();
    }
  });

  it('doctor degrades to findings, with and without --no-cron', async () => {
    const base = { databaseUrl: url, schema: 'pgcache', bloatRatio: '0.2', bloatMinDead: '1000' };
    const withCron = await runDoctor({ ...base, cron: true });
    const preload = withCron.find((c) => c.name === 'pg_cron preload');
    expect(preload).toMatchObject({ status: 'warn' });
    expect(preload?.summary).toMatch(/may not read cron\.database_name/);
    expect(preload?.fix).toMatch(/GRANT pg_read_all_settings/);
    expect(withCron.find((c) => c.name === 'pgcache')?.status).toBe('ok');
    expect(withCron.find((c) => c.name === 'pgvector')?.status).toBe('ok');
    const noCron = await runDoctor({ ...base, cron: false });
    expect(noCron.find((c) => c.name === 'pg_cron')?.status).toBe('skip');
    expect(noCron.filter((c) => c.status === 'fail')).toEqual([]);
  });

  it('schedule says why it cannot schedule, and what to do instead', async () => {
    const error = await scheduleMaintenance({ databaseUrl: url }).catch((e) => e);
    expect(error).toBeInstanceOf(FeatureUnavailableError);
    expect(error.code).toBe('PC011');
    expect(error.message).toMatch(/pg_read_all_settings/);
    expect(error.message).toMatch(/startMaintenance/);
    const run = await cli(['schedule', '--database-url', url]);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/may not read cron\.database_name/);
    expect(run.stderr).not.toMatch(/\n\s+at /);
  });
});

describe('an owner scheduling from another database than pg_cron', () => {
  // Its own role: the grants below would change what the other tests' owner may see.
  const scheduler = `managed_scheduler_${tag}`;
  const usage = `GRANT USAGE ON SCHEMA cron TO ${scheduler}`;
  const execute = `GRANT EXECUTE ON FUNCTION cron.schedule_in_database(text, text, text, text, text, boolean) TO ${scheduler}`;
  const name = `managed_${tag}_scheduler`;
  afterAll(async () => {
    await asSuperuser(CRON_DATABASE, async (c) => {
      await c.query('SELECT cron.unschedule(jobid) FROM cron.job WHERE username = $1', [scheduler]);
      const exists = await c.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [scheduler]);
      if (exists.rowCount) await c.query(`DROP OWNED BY ${scheduler}`);
    });
    await dropDatabase(info, name);
    await asSuperuser(undefined, (c) => c.query(`DROP ROLE IF EXISTS ${scheduler}`));
  });

  it('schedule names the grant on cron.schedule_in_database it lacks, then schedules once granted', async () => {
    await asSuperuser(undefined, async (admin) => {
      await admin.query(`CREATE ROLE ${scheduler} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE`);
      await admin.query(`GRANT pg_read_all_settings TO ${scheduler}`);
      await admin.query(`CREATE DATABASE ${name} OWNER ${scheduler} TEMPLATE template0`);
    });
    await asSuperuser(CRON_DATABASE, (c) => c.query(usage));
    const url = `postgres://${scheduler}@${info.host}:${info.port}/${name}`;
    expect((await cli(['migrate', '--database-url', url])).code).toBe(0);

    const denied = await cli(['schedule', '--database-url', url]);
    expect(denied.code).toBe(1);
    expect(denied.stderr).toMatch(/permission denied for function schedule_in_database/);
    expect(denied.stderr).toMatch(
      /GRANT EXECUTE ON FUNCTION cron\.schedule_in_database\(text, text, text, text, text, boolean\)/,
    );
    expect(denied.stderr).not.toMatch(/\n\s+at /);

    await asSuperuser(CRON_DATABASE, (c) => c.query(execute));
    const scheduled = await cli(['schedule', '--database-url', url]);
    expect(scheduled.stderr).toBe('');
    expect(scheduled.code).toBe(0);
    expect(scheduled.stdout).toMatch(
      new RegExp(`Scheduled pgcache_maintenance:${name}\\.pgcache .* in database "${name}"`),
    );
  });
});

describe('pgvector created by a superuser after the install', () => {
  it('migrate reports the vector part skipped, then installs it once pgvector exists', async () => {
    const url = await ownedDatabase('after', false);
    const first = await cli(['migrate', '--database-url', url]);
    expect(first.code).toBe(0);
    expect(first.stdout).toMatch(/Applied \d+ migration/);
    expect(first.stdout).toMatch(
      /Skipped the vector part: pgvector [\d.]+ is available on the server but not created in this database/,
    );
    expect(first.stdout).toMatch(/CREATE EXTENSION vector/);
    // The owner has no CREATEROLE: the install skips its roles, and migrate says so instead of naming roles
    // that do not exist.
    expect(first.stdout).not.toMatch(/Roles to grant/);
    expect(first.stdout).toMatch(
      new RegExp(`Roles not created: ${role} may not create roles \\(it needs CREATEROLE\\)`),
    );
    await expect(semanticRoundTrip(url)).rejects.toMatchObject({ code: 'PC011' });
    const skipped = await migrate({ databaseUrl: url });
    expect([...skipped]).toEqual([]);
    expect(skipped.skipped).toMatchObject([{ part: 'vector' }]);

    const name = url.slice(url.lastIndexOf('/') + 1);
    await asSuperuser(name, (c) => c.query('CREATE EXTENSION vector'));
    const second = await cli(['migrate', '--database-url', url]);
    expect(second.code).toBe(0);
    expect(second.stdout).toMatch(/Installed the vector part/);
    expect(second.stdout).not.toMatch(/up to date|Skipped/);
    const third = await migrate({ databaseUrl: url });
    expect([...third]).toEqual([]);
    expect(third.added).toEqual([]);
    expect(third.skipped).toEqual([]);
    expect(await semanticRoundTrip(url)).toBe('Paris');
  });
});

describe('concurrent migrators and a missing install', () => {
  it('8 concurrent migrators on a fresh database all succeed; one installs, the others find it done', async () => {
    const url = await ownedDatabase('concurrent', true);
    const results = await Promise.all(Array.from({ length: 8 }, () => migrate({ databaseUrl: url })));
    const installing = results.filter((r) => r.length > 0);
    expect(installing).toHaveLength(1);
    expect(results.filter((r) => r.length === 0)).toHaveLength(7);
    const pool = new pg.Pool({ connectionString: url, max: 1 });
    try {
      const cache = await createCache({ pool });
      expect((await cache.stats()).length).toBeGreaterThan(0);
    } finally {
      await pool.end();
    }
  });

  it("installs into two schemas at once, and while the application's own node-pg-migrate run holds its lock", async () => {
    const url = await ownedDatabase('two_schemas', true);
    const app = new pg.Client({ connectionString: url });
    await app.connect();
    try {
      // node-pg-migrate's default lock, as an application's own migration run holds it.
      await app.query('SELECT pg_advisory_lock(7241865325823964)');
      const results = await Promise.all([
        migrate({ databaseUrl: url, schema: 'cache_a' }),
        migrate({ databaseUrl: url, schema: 'cache_b' }),
      ]);
      expect(results.map((r) => r.length > 0)).toEqual([true, true]);
    } finally {
      await app.end();
    }
  });

  it('createCache on a database without pgcache raises NotInstalledError (PC014) naming pgcache migrate', async () => {
    const url = await ownedDatabase('empty', false);
    const pool = new pg.Pool({ connectionString: url, max: 1 });
    try {
      const error = await createCache({ pool }).catch((e) => e);
      expect(error).toBeInstanceOf(NotInstalledError);
      expect(error.code).toBe('PC014');
      expect(error.message).toMatch(/pgcache migrate/);
    } finally {
      await pool.end();
    }
  });
});

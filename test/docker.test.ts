// docker/ cannot be built here (no Docker), so it is kept consistent with the SQL by test:
//  - the init script really runs: against a throwaway PostgreSQL 15 cluster set up as the official image's
//    entrypoint sets up its init server (a fresh initdb, the database created, a server on a Unix socket only),
//    and it must end with pg_cron preloaded and scheduled and the very objects the migrations install;
//  - every file the Dockerfile, the compose file and the init script name exists, and the image copies all
//    of sql/, whose install.sql lists the files the migrations apply.
import { spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clusterInfo, repoRoot } from '../scripts/lib/cluster.js';
import { asPostgres, chownToPostgres, PG_BIN, runsAsRoot, stopImmediately } from '../scripts/lib/postgres.js';
import { buildProgram } from '../src/cli/program.js';
import { migrate } from '../src/install/migrate.js';
import { useDatabase } from './helpers/db.js';

const docker = (file: string) => readFileSync(join(repoRoot, 'docker', file), 'utf8');
const dockerfile = docker('Dockerfile');
const compose = docker('compose.yaml');
const initScript = docker('initdb/10-pgcache.sh');

/** The migrations' files, in order of migration: what node-pg-migrate applies. */
async function migrationFiles(): Promise<string[]> {
  const files: string[] = [];
  for (const name of readdirSync(join(repoRoot, 'migrations'))
    .filter((f) => /^\d{4}_.*\.js$/.test(f))
    .sort()) {
    const migration = await import(`../migrations/${name}`);
    files.push(...(migration.files as string[]));
  }
  return files;
}

/** Every function signature and relation of schema pgcache, except node-pg-migrate's table. */
async function shapeOf(pool: pg.Pool): Promise<string[]> {
  const { rows } = await pool.query(
    `SELECT 'f ' || p.proname || '(' || pg_get_function_identity_arguments(p.oid) || ') ' || coalesce(array_to_string(p.proconfig, ','), '') AS item
       FROM pg_proc p WHERE p.pronamespace = 'pgcache'::regnamespace
     UNION ALL
     SELECT 'r ' || c.relname || ' ' || c.relkind::text FROM pg_class c
      WHERE c.relnamespace = 'pgcache'::regnamespace AND c.relname NOT LIKE 'pgcache_migrations%'
     ORDER BY 1`,
  );
  return rows.map((r) => r.item as string);
}

describe('docker/Dockerfile', () => {
  it('is PostgreSQL 17 with pg_cron and pgvector from the image’s own apt repository', () => {
    expect(dockerfile).toMatch(/^FROM postgres:17(-\w+)?$/m);
    expect(dockerfile).toMatch(/apt-get install -y --no-install-recommends postgresql-17-cron postgresql-17-pgvector/);
  });

  it('copies all of sql/ to PGCACHE_SQL_DIR, and the init script into docker-entrypoint-initdb.d', () => {
    const copies = [...dockerfile.matchAll(/^COPY (\S+) (\S+)$/gm)].map((m) => ({
      from: m[1] as string,
      to: m[2] as string,
    }));
    for (const { from } of copies) expect(existsSync(join(repoRoot, from)), from).toBe(true);
    const sqlDir = /PGCACHE_SQL_DIR=(\S+)/.exec(dockerfile)?.[1];
    expect(copies).toContainEqual({ from: 'sql/', to: `${sqlDir}/` });
    expect(copies).toContainEqual({
      from: 'docker/initdb/10-pgcache.sh',
      to: '/docker-entrypoint-initdb.d/10-pgcache.sh',
    });
    // The build context is the repository root: nothing the image needs may be ignored.
    const ignored = readFileSync(join(repoRoot, '.dockerignore'), 'utf8')
      .split('\n')
      .filter((l) => l && !l.startsWith('#'));
    for (const needed of ['sql', 'docker', 'package.json', 'package-lock.json', 'src', 'migrations']) {
      expect(ignored).not.toContain(needed);
    }
  });

  it('installs through sql/install.sql, whose files are exactly the files the migrations apply', async () => {
    expect(initScript).toMatch(/-f "\$sql_dir\/install\.sql"/);
    const { currentVersion, installFiles, releasedVersions } = await import('../migrations/lib/install-files.js');
    const listed = (installFiles() as string[]).filter((f) => f !== 'prelude.sql');
    for (const file of installFiles() as string[]) expect(existsSync(join(repoRoot, 'sql', file)), file).toBe(true);
    // A released version's migrations apply its frozen files, whose names a later version may have changed.
    const versions: string[] = [...releasedVersions(), currentVersion()];
    const everyVersion = new Set(versions.flatMap((v) => installFiles(v) as string[]));
    everyVersion.delete('prelude.sql');
    const applied = [...new Set(await migrationFiles())].sort();
    expect(applied).toEqual([...everyVersion].sort());
    expect(applied).toEqual(expect.arrayContaining(listed));
  });
});

describe('docker/compose.yaml', () => {
  it('builds from files that exist, with the repository root as context', () => {
    const builds = [...compose.matchAll(/context: (\S+)\n\s+dockerfile: (\S+)/g)];
    expect(builds.map((m) => m[2])).toEqual(['docker/Dockerfile', 'docker/demo.Dockerfile']);
    for (const [, context, file] of builds) {
      expect(context).toBe('..');
      expect(existsSync(join(repoRoot, 'docker', context as string, file as string))).toBe(true);
    }
  });

  it('points the demo at the db service, with the database and password the db service sets', () => {
    const url = new URL(/DATABASE_URL: (\S+)/.exec(compose)?.[1] ?? '');
    expect(url.hostname).toBe('db');
    expect(url.pathname).toBe(`/${/POSTGRES_DB: (\S+)/.exec(compose)?.[1]}`);
    expect(url.password).toBe(/POSTGRES_PASSWORD: (\S+)/.exec(compose)?.[1]);
    expect(compose).toMatch(/pg_isready -h 127\.0\.0\.1 -U postgres -d pgcache/);
  });

  it('runs pgcache commands that exist, on files that exist', () => {
    const commands = [...compose.matchAll(/npm run --silent cli -- (\w+)/g)].map((m) => m[1]);
    expect(commands).toEqual(['doctor', 'warm', 'stats']);
    const known = buildProgram().commands.map((c) => c.name());
    for (const command of commands) expect(known).toContain(command);
    for (const [, file] of compose.matchAll(/ (docker\/\S+\.jsonl)/g)) {
      expect(existsSync(join(repoRoot, file as string)), file).toBe(true);
    }
    expect(JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')).scripts.cli).toBeTruthy();
  });
});

// The entrypoint's init server, reproduced: initdb, a server listening on a private Unix socket only
// (listen_addresses = ''), the POSTGRES_DB database created; then the script runs as the postgres user.
describe('docker/initdb/10-pgcache.sh, run as the entrypoint runs it', () => {
  const base = join(dirname(clusterInfo().dataDir), 'docker-init');
  const dataDir = join(base, 'data');
  const socketDir = join(base, 'run');
  const port = 5432; // socket only, in a private directory: no TCP port is taken
  const env = {
    PATH: `${PG_BIN}:${process.env.PATH}`,
    PGDATA: dataDir,
    PGHOST: socketDir,
    PGPORT: String(port),
    POSTGRES_USER: 'postgres',
    POSTGRES_DB: 'pgcache',
    PGCACHE_SCHEMA: 'pgcache',
    PGCACHE_SQL_DIR: join(repoRoot, 'sql'),
    PGCACHE_MAINTENANCE_SCHEDULE: '*/5 * * * *',
  };
  /**
   * Runs a program as the postgres user. Output goes to a file, not a pipe: a server the program starts
   * (pg_ctl restart without -l) inherits its stdout, and a pipe would then stay open for as long as it runs.
   */
  const run = (command: string, args: string[]): string => {
    const [cmd, argv] = runsAsRoot
      ? asPostgres('env', [...Object.entries(env).map(([k, v]) => `${k}=${v}`), command, ...args])
      : [command, args];
    const outFile = join(base, 'run.out');
    const out = openSync(outFile, 'w');
    try {
      const result = spawnSync(cmd, argv, { cwd: '/', env: { ...process.env, ...env }, stdio: ['ignore', out, out] });
      const output = readFileSync(outFile, 'utf8');
      if (result.status !== 0) throw new Error(`${command} failed (${result.status}): ${output}`);
      return output;
    } finally {
      closeSync(out);
    }
  };
  const reference = useDatabase('bare');
  let initDb: pg.Pool;
  let scriptOutput = '';

  beforeAll(async () => {
    stopImmediately(dataDir);
    rmSync(base, { recursive: true, force: true });
    mkdirSync(socketDir, { recursive: true });
    chownToPostgres(base);
    chownToPostgres(socketDir);
    run(`${PG_BIN}/initdb`, ['-D', dataDir, '-U', 'postgres', '--auth=trust', '--no-instructions', '-E', 'UTF8']);
    run(`${PG_BIN}/pg_ctl`, [
      'start',
      '-w',
      '-D',
      dataDir,
      '-l',
      join(base, 'postgres.log'),
      '-o',
      `-c listen_addresses='' -p ${port} -c unix_socket_directories=${socketDir} -c fsync=off`,
    ]);
    run(`${PG_BIN}/psql`, ['-X', '-q', '-d', 'postgres', '-c', 'CREATE DATABASE pgcache']);
    scriptOutput = run('bash', [join(repoRoot, 'docker/initdb/10-pgcache.sh')]);
    initDb = new pg.Pool({ host: socketDir, port, user: 'postgres', database: 'pgcache', max: 2 });
  }, 120_000);

  afterAll(async () => {
    await initDb?.end();
    stopImmediately(dataDir);
    rmSync(base, { recursive: true, force: true });
  });

  it('preloads pg_cron for the pgcache database and schedules maintenance there', async () => {
    expect(scriptOutput).toMatch(/installed in schema "pgcache" of database "pgcache"/);
    const { rows } = await initDb.query(
      `SELECT current_setting('shared_preload_libraries') AS preload, current_setting('cron.database_name') AS cron_db,
              current_setting('listen_addresses') AS listen,
              (SELECT array_agg(extname::text ORDER BY extname) FROM pg_extension) AS extensions`,
    );
    expect(rows[0]).toEqual({
      preload: 'pg_cron',
      cron_db: 'pgcache',
      listen: '', // still the init server's options after the restart
      extensions: ['pg_cron', 'plpgsql', 'vector'],
    });
    const jobs = await initDb.query(`SELECT jobname, schedule, command FROM cron.job`);
    expect(jobs.rows).toEqual([
      {
        jobname: 'pgcache_maintenance:pgcache.pgcache',
        schedule: '*/5 * * * *',
        command: 'SELECT pg_catalog.count(*) FROM pgcache.cache_maintenance()',
      },
    ]);
  });

  it('installs the same functions, tables and views as the migrations', async () => {
    await migrate({ databaseUrl: reference.url, schema: 'pgcache' });
    const installed = await shapeOf(initDb);
    expect(installed).toContain('f cache_peek(p_type text, p_key text) search_path=pgcache, pg_temp');
    expect(installed).toEqual(await shapeOf(reference.pool));
  });

  it('can be adopted by the migrations later (pgcache migrate), keeping its entries', async () => {
    await initDb.query(`SELECT pgcache.cache_set('default', 'kept', '"yes"'::jsonb)`);
    const before = await shapeOf(initDb);
    const client = new pg.Client({ host: socketDir, port, user: 'postgres', database: 'pgcache' });
    await client.connect();
    try {
      const applied = await migrate({ client });
      expect(applied.length).toBeGreaterThan(0);
      expect(await migrate({ client })).toEqual([]);
    } finally {
      await client.end();
    }
    expect(await shapeOf(initDb)).toEqual(before);
    expect((await initDb.query(`SELECT pgcache.cache_get('default', 'kept') AS v`)).rows[0].v).toBe('yes');
  });

  it('leaves a working cache', async () => {
    await initDb.query(`SELECT pgcache.cache_set('default', 'k', '{"from": "docker"}'::jsonb)`);
    const { rows } = await initDb.query(`SELECT pgcache.cache_get('default', 'k') AS v`);
    expect(rows[0].v).toEqual({ from: 'docker' });
  });
});

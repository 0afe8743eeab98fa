// The private PostgreSQL 15 cluster that tests, type generation and benchmarks run against.
// It lives in a git-ignored data directory, on its own port and socket directory, and never touches the
// machine's own server on 5432.
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  asPostgres,
  ClusterError,
  chownToPostgres,
  freePort,
  isRunning,
  PG_BIN,
  pgRun,
  portInUse,
  stopImmediately,
} from './postgres.js';

export { ClusterError };

export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const CRON_DATABASE = 'pgcache';

export interface ClusterInfo {
  port: number;
  host: string;
  dataDir: string;
  /** Connection string to the given database on the private cluster. */
  url(database?: string): string;
}

export function clusterInfo(): ClusterInfo {
  return clusterInfoAt(
    Number(process.env.PGCACHE_TEST_PORT ?? 54329),
    process.env.PGCACHE_CLUSTER_DIR ?? join(repoRoot, '.pgcache'),
  );
}

/**
 * A cluster on an explicit port and directory (clusterInfo() reads both from the environment), for a
 * throwaway second cluster that a test may crash and restart without disturbing the shared one.
 */
export function clusterInfoAt(port: number, clusterDir: string): ClusterInfo {
  const base = resolve(clusterDir);
  const host = '127.0.0.1';
  return {
    port,
    host,
    dataDir: join(base, 'data'),
    url: (database = 'postgres') => `postgres://postgres@${host}:${port}/${database}`,
  };
}

function checkInstalled(): void {
  for (const file of [
    join(PG_BIN, 'initdb'),
    '/usr/lib/postgresql/15/lib/pg_cron.so',
    '/usr/share/postgresql/15/extension/vector.control',
  ]) {
    if (!existsSync(file)) {
      throw new ClusterError(
        `pgcache: ${file} is missing; run \`npm run provision\` (as root) to install PostgreSQL 15, pg_cron and pgvector`,
      );
    }
  }
}

function initDataDir(info: ClusterInfo): void {
  const base = dirname(info.dataDir);
  mkdirSync(base, { recursive: true });
  chownToPostgres(base);
  pgRun('initdb', [
    '-D',
    info.dataDir,
    '-U',
    'postgres',
    '--auth=trust',
    '--encoding=UTF8',
    '--locale=C.UTF-8',
    '--no-instructions',
  ]);
  const socketDir = join(base, 'run');
  mkdirSync(socketDir, { recursive: true });
  chownToPostgres(socketDir);
  const conf = [
    '# pgcache private test cluster',
    `port = ${info.port}`,
    `listen_addresses = '${info.host}'`,
    `unix_socket_directories = '${socketDir}'`,
    "shared_preload_libraries = 'pg_cron'",
    `cron.database_name = '${CRON_DATABASE}'`,
    // Jobs run in background workers, so pg_cron needs no password or host route to connect back.
    'cron.use_background_workers = on',
    'max_worker_processes = 32',
    'max_connections = 200',
    "log_min_messages = 'warning'",
    'logging_collector = off',
    '',
  ].join('\n');
  writeFileSync(join(info.dataDir, 'postgresql.auto.conf'), conf);
  chownToPostgres(join(info.dataDir, 'postgresql.auto.conf'));
}

/**
 * Starts the private cluster unless it already runs. Returns whether this call started it, so the caller
 * that started it is the one that stops it.
 */
export async function startCluster(info = clusterInfo()): Promise<{ started: boolean }> {
  checkInstalled();
  if (isRunning(info.dataDir)) return { started: false };

  if (existsSync(info.dataDir)) {
    const versionFile = join(info.dataDir, 'PG_VERSION');
    const version = existsSync(versionFile) ? readFileSync(versionFile, 'utf8').trim() : 'none';
    if (version !== '15') {
      throw new ClusterError(
        `pgcache: stale data directory ${info.dataDir} (PG_VERSION ${version}); remove it with: rm -rf ${dirname(info.dataDir)}`,
      );
    }
  } else {
    initDataDir(info);
  }

  if (await portInUse(info.port, info.host)) {
    throw new ClusterError(
      `pgcache: port ${info.port} is in use by another server; set PGCACHE_TEST_PORT to a free port`,
    );
  }
  const logFile = join(dirname(info.dataDir), 'postgres.log');
  pgRun('pg_ctl', ['start', '-w', '-t', '60', '-D', info.dataDir, '-l', logFile, '-o', `-p ${info.port}`]);
  return { started: true };
}

export function stopCluster(info = clusterInfo()): void {
  if (!isRunning(info.dataDir)) return;
  pgRun('pg_ctl', ['stop', '-w', '-m', 'fast', '-D', info.dataDir], { allowFail: true });
}

/**
 * Restarts a running cluster without blocking the event loop, so clients keep running through it.
 * `immediate` is a crash (no shutdown checkpoint; startup replays the WAL and empties UNLOGGED tables),
 * `fast` a clean restart. Never use it on the shared test cluster: other test files are connected to it.
 */
export function restartCluster(info: ClusterInfo, mode: 'immediate' | 'fast'): Promise<void> {
  const args = [
    'restart',
    '-w',
    '-t',
    '120',
    '-m',
    mode,
    '-D',
    info.dataDir,
    '-l',
    join(dirname(info.dataDir), 'postgres.log'),
  ];
  const [cmd, argv] = asPostgres(join(PG_BIN, 'pg_ctl'), args);
  return new Promise((resolvePromise, reject) => {
    execFile(cmd, argv, { cwd: '/' }, (error, _stdout, stderr) => {
      if (error) reject(new ClusterError(`pgcache: pg_ctl restart failed: ${String(stderr).trim().split('\n').pop()}`));
      else resolvePromise();
    });
  });
}

/** Stops a cluster at once, as a crash would (no shutdown checkpoint); startCluster brings it back. */
export function killCluster(info: ClusterInfo): void {
  if (isRunning(info.dataDir))
    pgRun('pg_ctl', ['stop', '-w', '-m', 'immediate', '-D', info.dataDir], { allowFail: true });
}

/** Stops a throwaway cluster at once and deletes its directory (data, sockets, log). */
export function destroyCluster(info: ClusterInfo): void {
  stopImmediately(info.dataDir);
  rmSync(dirname(info.dataDir), { recursive: true, force: true });
}

export interface ThrowawayCluster {
  dataDir: string;
  url(database?: string): string;
  /** Restarts the server (to apply settings that need it, such as shared_preload_libraries). */
  restart(): void;
  stop(): void;
}

/**
 * A second PostgreSQL 15 cluster as a fresh install leaves it, in a temporary directory on a free port:
 * pg_cron and pgvector are installed on the machine, but nothing is in shared_preload_libraries.
 */
export async function startPlainCluster(): Promise<ThrowawayCluster> {
  const dir = mkdtempSync(join(tmpdir(), 'pgcache-plain-'));
  chownToPostgres(dir);
  const data = join(dir, 'data');
  const port = await freePort();
  pgRun('initdb', ['-D', data, '-U', 'postgres', '--auth=trust', '--encoding=UTF8', '--locale=C.UTF-8', '-N']);
  const start = (action: 'start' | 'restart') =>
    pgRun('pg_ctl', [
      action,
      '-w',
      '-D',
      data,
      '-l',
      join(dir, 'log'),
      '-o',
      `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off`,
    ]);
  start('start');
  return {
    dataDir: data,
    url: (database = 'postgres') => `postgres://postgres@127.0.0.1:${port}/${database}`,
    restart: () => start('restart'),
    stop() {
      try {
        pgRun('pg_ctl', ['stop', '-w', '-m', 'immediate', '-D', data]);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}

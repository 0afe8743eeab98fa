// A streaming hot standby of the private cluster, for the read-replica tests and benchmarks.
// It is made with pg_basebackup -R (which writes primary_conninfo and standby.signal), lives next to the
// primary's data directory (<cluster dir>/standby), and runs on its own port: PGCACHE_STANDBY_PORT, or else the
// first free port from the primary's port + 1000 (clusters of parallel test runs take the ports right after
// the primary's, so + 1 collides). The primary needs nothing special: initdb's trust pg_hba allows local replication
// connections, and the defaults (wal_level = replica, max_wal_senders = 10, hot_standby = on) suffice.
import { rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { type ClusterInfo, clusterInfo } from './cluster.js';
import { withClient } from './databases.js';
import { ClusterError, pgRun, portInUse, stopImmediately } from './postgres.js';

export interface StandbyInfo {
  port: number;
  host: string;
  dataDir: string;
  logFile: string;
  primary: ClusterInfo;
  /** Connection string to the given database on the standby. */
  url(database?: string): string;
}

export interface StandbyOptions {
  primary?: ClusterInfo;
  /** Default: PGCACHE_STANDBY_PORT, else the first free port from the primary's port + 1000. */
  port?: number;
  /** Default: <cluster dir>/standby, beside the primary's data directory. */
  dataDir?: string;
  /** How long to wait for the standby to accept connections and catch up. Default 60 s. */
  timeoutMs?: number;
  /**
   * fsync on the standby. Default false: it is thrown away after the run, and with fsync off it starts in a
   * second or two instead of first syncing every file of the copied data directory.
   */
  durable?: boolean;
}

/** The standby's place. `port` is where it is searched for when not given: see freeStandbyPort(). */
export function standbyInfo(options: StandbyOptions = {}): StandbyInfo {
  const primary = options.primary ?? clusterInfo();
  const port = options.port ?? Number(process.env.PGCACHE_STANDBY_PORT ?? primary.port + 1000);
  const dataDir = options.dataDir ?? join(dirname(primary.dataDir), 'standby');
  const host = primary.host;
  return {
    port,
    host,
    dataDir,
    logFile: `${dataDir}.log`,
    primary,
    url: (database = 'postgres') => `postgres://postgres@${host}:${port}/${database}`,
  };
}

/** The first port from `from` on (up to 50 tried) that nothing listens on. */
export async function freeStandbyPort(from: number, host: string): Promise<number> {
  for (let port = from; port < from + 50 && port <= 65535; port++) {
    if (!(await portInUse(port, host))) return port;
  }
  throw new ClusterError(`pgcache: no free port for the standby in ${from}..${from + 49}; set PGCACHE_STANDBY_PORT`);
}

/** Stops the standby (if it runs) and removes its data directory and log. */
export function removeStandby(standby: StandbyInfo = standbyInfo()): void {
  stopImmediately(standby.dataDir);
  rmSync(standby.dataDir, { recursive: true, force: true });
  rmSync(standby.logFile, { force: true });
}

/**
 * Makes a fresh standby of the running primary with pg_basebackup -R, starts it, and waits until it has
 * replayed everything the primary had written when the backup began. A standby left by an earlier run is
 * removed first. The caller removes it with removeStandby().
 */
export async function startStandby(options: StandbyOptions = {}): Promise<StandbyInfo> {
  let standby = standbyInfo(options);
  const timeoutMs = options.timeoutMs ?? 60_000;
  removeStandby(standby);
  const fixed = options.port !== undefined || process.env.PGCACHE_STANDBY_PORT !== undefined;
  if (!fixed) standby = standbyInfo({ ...options, port: await freeStandbyPort(standby.port, standby.host) });
  if (await portInUse(standby.port, standby.host)) {
    throw new ClusterError(
      `pgcache: standby port ${standby.port} is in use by another server; set PGCACHE_STANDBY_PORT to a free port`,
    );
  }
  // -X stream copies the WAL written during the backup; -R writes standby.signal and primary_conninfo.
  // --checkpoint=fast starts at once instead of waiting for the next scheduled checkpoint.
  pgRun('pg_basebackup', [
    '-D',
    standby.dataDir,
    '-h',
    standby.primary.host,
    '-p',
    String(standby.primary.port),
    '-U',
    'postgres',
    '-R',
    '-X',
    'stream',
    '--checkpoint=fast',
    '--no-sync',
  ]);
  // The copied postgresql.auto.conf names the primary's port; the command line wins over it. pg_cron is
  // preloaded there too: on a standby its scheduler waits until promotion and runs nothing.
  pgRun('pg_ctl', [
    'start',
    '-w',
    '-t',
    String(Math.ceil(timeoutMs / 1000)),
    '-D',
    standby.dataDir,
    '-l',
    standby.logFile,
    '-o',
    `-p ${standby.port} -c hot_standby=on${options.durable ? '' : ' -c fsync=off'}`,
  ]);
  await waitForReplay(standby, { timeoutMs });
  return standby;
}

/** The primary's current WAL position. */
export async function primaryLsn(primary: ClusterInfo, database = 'postgres'): Promise<string> {
  return withClient(primary.url(database), async (c) => {
    const { rows } = await c.query('SELECT pg_current_wal_lsn()::text AS lsn');
    return rows[0].lsn as string;
  });
}

/**
 * Waits until the standby has replayed the primary's WAL up to `lsn` (default: the primary's position now),
 * i.e. until everything committed on the primary before this call is visible on the standby.
 */
export async function waitForReplay(
  standby: StandbyInfo,
  options: { lsn?: string; timeoutMs?: number; database?: string } = {},
): Promise<void> {
  const target = options.lsn ?? (await primaryLsn(standby.primary));
  const deadline = Date.now() + (options.timeoutMs ?? 60_000);
  let last = 'not connected';
  for (;;) {
    try {
      const caughtUp = await withClient(standby.url(options.database ?? 'postgres'), async (c) => {
        const { rows } = await c.query(
          'SELECT pg_is_in_recovery() AS recovering, pg_last_wal_replay_lsn()::text AS replayed, pg_last_wal_replay_lsn() >= $1::pg_lsn AS done',
          [target],
        );
        const row = rows[0];
        if (!row.recovering) throw new ClusterError('pgcache: the standby is not in recovery (was it promoted?)');
        last = `replayed ${row.replayed}, waiting for ${target}`;
        return row.done === true;
      });
      if (caughtUp) return;
    } catch (error) {
      if (error instanceof ClusterError) throw error;
      last = String((error as Error).message ?? error);
    }
    if (Date.now() > deadline) {
      throw new ClusterError(`pgcache: the standby on port ${standby.port} did not catch up: ${last}`);
    }
    await sleep(50);
  }
}

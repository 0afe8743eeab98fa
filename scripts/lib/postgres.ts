// Running PostgreSQL 15's own programs (initdb, pg_ctl, pg_basebackup) for the clusters the scripts and tests
// start, and finding ports for them. As root, the programs run as the `postgres` OS user: initdb and postgres
// refuse root, and the data directories are that user's.
import { spawnSync } from 'node:child_process';
import { chownSync, existsSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';

export const PG_BIN = '/usr/lib/postgresql/15/bin';
export const runsAsRoot = process.getuid?.() === 0;

export class ClusterError extends Error {}

/** The command line that runs `program` (a path) with `args`, as the postgres user when we are root. */
export function asPostgres(program: string, args: string[]): [string, string[]] {
  return runsAsRoot ? ['runuser', ['-u', 'postgres', '--', program, ...args]] : [program, args];
}

/** Runs a PostgreSQL binary; a failure throws ClusterError with the end of its output unless `allowFail`. */
export function pgRun(
  binary: string,
  args: string[],
  opts: { allowFail?: boolean } = {},
): { status: number; out: string } {
  const [cmd, argv] = asPostgres(join(PG_BIN, binary), args);
  const result = spawnSync(cmd, argv, { encoding: 'utf8', cwd: '/' });
  if (result.status !== 0 && !opts.allowFail) {
    const message = (result.stderr || result.stdout || String(result.error ?? '')).trim();
    throw new ClusterError(`pgcache: ${binary} failed: ${message.split('\n').slice(-3).join(' | ')}`);
  }
  return { status: result.status ?? 1, out: result.stdout };
}

/** Hands `path` to the postgres user when we are root (initdb and the server write there). */
export function chownToPostgres(path: string): void {
  if (!runsAsRoot) return;
  const id = (flag: string) => Number(spawnSync('id', [flag, 'postgres'], { encoding: 'utf8' }).stdout.trim());
  chownSync(path, id('-u'), id('-g'));
}

/** Whether a server runs on the data directory. */
export function isRunning(dataDir: string): boolean {
  if (!existsSync(join(dataDir, 'postmaster.pid'))) return false;
  return pgRun('pg_ctl', ['status', '-D', dataDir], { allowFail: true }).status === 0;
}

/** Stops the server on the data directory at once, if one runs. */
export function stopImmediately(dataDir: string): void {
  if (isRunning(dataDir)) pgRun('pg_ctl', ['stop', '-w', '-m', 'immediate', '-D', dataDir], { allowFail: true });
}

/** Whether something accepts connections on host:port. */
export function portInUse(port: number, host: string): Promise<boolean> {
  return new Promise((resolvePort) => {
    const socket = net.connect({ port, host });
    socket.once('connect', () => {
      socket.destroy();
      resolvePort(true);
    });
    socket.once('error', () => resolvePort(false));
  });
}

/** A port the system says is free on 127.0.0.1 now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

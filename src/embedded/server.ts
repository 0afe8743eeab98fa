// PGlite (PostgreSQL compiled to WebAssembly, in this process) served over the Postgres wire protocol by
// pglite-socket, so `pg` and node-pg-migrate connect to it as to any server.
//
// What PGlite changes (all socket connections share ONE backend session, queries run one at a time):
//   - one pg.Pool of at most maxConnections; a larger pool gets ECONNRESET;
//   - session settings and temp tables leak between connections, and an open transaction on one connection
//     holds the others until it ends: never await another connection inside a transaction;
//   - advisory locks lock nothing (every connection is the same session): migrations and the maintenance
//     runner are kept to one at a time inside this process instead (one migrate, one timer);
//   - LISTEN/NOTIFY reaches only the sending connection: cross-connection notifications (L1 coherence) are off;
//   - there is no pg_cron: maintenance runs from the TS timer (./maintenance.ts).
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import type { PGlite } from '@electric-sql/pglite';
import type { PGLiteSocketServer } from '@electric-sql/pglite-socket';
import pg from 'pg';

export interface EmbeddedOptions {
  /** Where the database lives between runs; undefined keeps it in memory only. */
  dataDir?: string;
  /** Delete dataDir first (once this process holds its lock), to start from an empty database. */
  fresh?: boolean;
  host?: string;
  /** 0 (default): any free port. */
  port?: number;
  /** Socket connections the server accepts. The pool below always uses one. */
  maxConnections?: number;
}

export interface EmbeddedPostgres {
  db: PGlite;
  server: PGLiteSocketServer;
  /** postgres://postgres@host:port/postgres */
  url: string;
  /** The process's one pool (max 1: PGlite has a single session). */
  pool: pg.Pool;
  /** True when the data directory was created by this start (initdb ran). */
  created: boolean;
  /** Milliseconds PGlite took to open (or create) the database. */
  openMs: number;
  stop(): Promise<void>;
}

export class EmbeddedError extends Error {}

/** The PGlite packages the embedded mode needs: optional peer dependencies, not installed with pgcache. */
export const EMBEDDED_PACKAGES = [
  '@electric-sql/pglite@0.5.14',
  '@electric-sql/pglite-pgvector@^0.0.15',
  '@electric-sql/pglite-socket@^0.2.17',
];

/** Loads PGlite, or says which packages to install when they are missing. */
async function loadPglite() {
  try {
    const [{ PGlite }, { vector }, { PGLiteSocketServer }] = await Promise.all([
      import('@electric-sql/pglite'),
      import('@electric-sql/pglite-pgvector'),
      import('@electric-sql/pglite-socket'),
    ]);
    return { PGlite, vector, PGLiteSocketServer };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ERR_MODULE_NOT_FOUND') throw error;
    throw new EmbeddedError(
      `the embedded mode (PGlite) needs packages that pgcache does not install by default: ${(error as Error).message}\n` +
        `Install them beside pgcache: npm install ${EMBEDDED_PACKAGES.join(' ')}`,
    );
  }
}

/** A directory holds a PGlite database when initdb wrote its PG_VERSION. */
export function hasDatabase(dataDir: string): boolean {
  return existsSync(join(dataDir, 'PG_VERSION'));
}

/**
 * One process per data directory: two PGlite instances writing the same files would corrupt them.
 * The lock is a file beside the directory holding our pid; a lock whose process is gone is taken over.
 */
function lockDataDir(dataDir: string): () => void {
  const lock = `${resolve(dataDir)}.lock`;
  mkdirSync(dirname(lock), { recursive: true });
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(lock, 'wx');
      writeFileSync(fd, String(process.pid));
      closeSync(fd);
      return () => rmSync(lock, { force: true });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const pid = Number(readFileSync(lock, 'utf8').trim());
      let alive = false;
      try {
        process.kill(pid, 0);
        alive = true;
      } catch (e) {
        alive = (e as NodeJS.ErrnoException).code === 'EPERM';
      }
      if (alive && Number.isInteger(pid) && pid > 0) {
        throw new EmbeddedError(
          `the PGlite database in ${dataDir} is in use by process ${pid}; stop it, or use another --data-dir (or --in-memory)`,
        );
      }
      rmSync(lock, { force: true });
    }
  }
  throw new EmbeddedError(`cannot lock ${dataDir}`);
}

export async function startEmbedded(options: EmbeddedOptions = {}): Promise<EmbeddedPostgres> {
  const dataDir = options.dataDir;
  const { PGlite, vector, PGLiteSocketServer } = await loadPglite();
  const unlock = dataDir ? lockDataDir(dataDir) : () => {};
  if (dataDir && options.fresh) rmSync(dataDir, { recursive: true, force: true });
  const created = dataDir ? !hasDatabase(dataDir) : true;
  if (dataDir) mkdirSync(dataDir, { recursive: true });
  const started = performance.now();
  let db: PGlite;
  try {
    db = await PGlite.create(dataDir ?? 'memory://', { extensions: { vector } });
  } catch (error) {
    unlock();
    throw new EmbeddedError(
      `PGlite could not open ${dataDir ?? 'an in-memory database'}: ${(error as Error).message}` +
        (dataDir && !created
          ? `\nIf it was made by another PGlite version, start over with --fresh (deletes ${dataDir}).`
          : ''),
    );
  }
  const openMs = performance.now() - started;
  const host = options.host ?? '127.0.0.1';
  const maxConnections = options.maxConnections ?? 1;
  const server = new PGLiteSocketServer({ db, host, port: options.port ?? 0, maxConnections });
  try {
    await server.start();
  } catch (error) {
    await db.close();
    unlock();
    throw new EmbeddedError(`cannot listen on ${host}:${options.port ?? 0}: ${(error as Error).message}`);
  }
  const url = `postgres://postgres@${server.getServerConn()}/postgres`;
  const pool = new pg.Pool({ connectionString: url, max: 1, application_name: 'pgcache-embedded' });
  // pg requires an 'error' listener on a pool (without one, an idle connection's error ends the process);
  // the pool drops that connection and the next query opens another.
  pool.on('error', (error) => console.warn(`pgcache: embedded connection lost: ${error.message}`));
  let stopped = false;
  return {
    db,
    server,
    url,
    pool,
    created,
    openMs,
    async stop() {
      if (stopped) return;
      stopped = true;
      await pool.end();
      await server.stop();
      await db.close();
      unlock();
    },
  };
}

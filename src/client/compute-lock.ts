// getOrCompute's cross-process locks: a session advisory lock held on one pooled connection (cache_lock), or
// a leased lock that holds no connection (cache_lease_*). Both let one process compute a missing key while
// the others wait for its stored value.
import { createHash } from 'node:crypto';
import type pg from 'pg';
import { translateError } from './errors.js';
import { acquireLease, type Lease } from './lease.js';
import type { Statement, Statements } from './statements.js';

type Row = Record<string, unknown>;

/** A pool, or one connection taken from it (the compute lock's, which also re-reads and stores). */
export type Queryable = Pick<pg.Pool, 'query'> | pg.PoolClient;

/** What the locks need of the accessor that takes them: its pool, statements, type and tenant binding. */
export interface LockScope {
  readonly pool: pg.Pool;
  readonly sql: Statements;
  /** The cache type's name. */
  readonly type: string;
  /** The query to send, for the accessor's tenant if it has one (see bindTenant). */
  bind(statement: Statement, values: unknown[]): pg.QueryConfig;
  /** Runs one statement on the pool and returns its rows (pgcache errors translated). */
  run(statement: Statement, values: unknown[]): Promise<Row[]>;
}

/** A compute lease lasts this long (seconds) and is extended every third of it while compute() runs. */
const COMPUTE_LEASE_TTL = 30;

/** The name of the compute lease of a key: bounded whatever the key's length. */
function computeLeaseName(type: string, key: string): string {
  return `pgcache:compute:${type}:${createHash('sha256').update(key).digest('hex')}`;
}

/** Computes and stores, telling store how long the computation took (ms: recorded as the entry's cost). */
export async function computeAndStore<V>(
  compute: () => Promise<V> | V,
  store: (value: V, computeMs: number) => Promise<void>,
): Promise<V> {
  const started = performance.now();
  const value = await compute();
  await store(value, performance.now() - started);
  return value;
}

/**
 * Runs `work` holding the cross-process compute lock of `key` (or without it once `waitMs` ran out). `work`
 * gets the lock's connection and must do its own queries on it: it holds one pooled connection already.
 * (`compute` itself runs while the connection is held: a compute that queries the same pool needs a spare
 * connection in it, or lockWaitMs 0.)
 */
export async function withComputeLock<T>(
  scope: LockScope,
  key: string,
  waitMs: number,
  work: (client: pg.PoolClient) => Promise<T>,
): Promise<T> {
  const client = await scope.pool.connect();
  let locked = false;
  let broken: Error | undefined;
  // The lock's connection may die while we compute (backend terminated, network): note it, don't crash.
  const onError = (error: Error) => {
    broken = error;
  };
  client.on('error', onError);
  try {
    locked = (await client.query(scope.bind(scope.sql.lock, [scope.type, key, waitMs]))).rows[0]?.ok === true;
    return await work(client);
  } catch (error) {
    throw translateError(error);
  } finally {
    if (locked && !broken) {
      await client.query(scope.bind(scope.sql.unlock, [scope.type, key])).catch((error: Error) => {
        broken = error; // a connection that cannot unlock is discarded, which frees the lock with its session
      });
    }
    client.off('error', onError);
    client.release(broken);
  }
}

/**
 * getOrCompute under a leased lock (ComputeOptions.lock 'lease'): the first caller takes the key's lease
 * and computes, extending the lease while compute() runs; the others poll, and take the value as soon as
 * it is stored (`peek`). A caller still waiting after `waitMs` computes itself, as with the advisory lock.
 * No connection is held meanwhile.
 */
export async function computeUnderLease<V>(
  scope: LockScope,
  key: string,
  waitMs: number,
  compute: () => Promise<V> | V,
  store: (value: V, computeMs: number) => Promise<void>,
  peek: () => Promise<{ value: V } | undefined>,
): Promise<V> {
  const name = computeLeaseName(scope.type, key);
  let stored: { value: V } | undefined;
  const lease: Lease | undefined = await acquireLease(
    scope.run,
    scope.sql,
    name,
    { ttl: COMPUTE_LEASE_TTL, waitMs, owner: `compute:${process.pid}` },
    async () => {
      stored = await peek();
      return stored !== undefined;
    },
  );
  if (stored) return stored.value;
  if (!lease) return computeAndStore(compute, store);
  const keepAlive = setInterval(() => void lease.extend().catch(() => undefined), (COMPUTE_LEASE_TTL * 1000) / 3);
  keepAlive.unref();
  try {
    const found = await peek();
    return found ? found.value : await computeAndStore(compute, store);
  } finally {
    clearInterval(keepAlive);
    await lease.release().catch(() => undefined); // an unreleased lease frees itself at its expiry
  }
}

/** Runs `work` under the key's compute lease if it is free (one try, no waiting); nothing if it is not. */
export async function underFreeLease(scope: LockScope, key: string, work: () => Promise<void>): Promise<void> {
  const lease = await acquireLease(scope.run, scope.sql, computeLeaseName(scope.type, key), {
    ttl: COMPUTE_LEASE_TTL,
    waitMs: 0,
    owner: `compute:${process.pid}`,
  });
  if (!lease) return;
  try {
    await work();
  } finally {
    await lease.release().catch(() => undefined);
  }
}

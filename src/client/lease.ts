// Leased locks (sql/core/14_leases.sql) from TypeScript: acquire with a TTL, then extend or release with the
// fencing token. Every call is one statement, so a lease holds no connection: it works through any pool,
// PgBouncer in transaction mode and PGlite. Waiting is polling with backoff on the client.
import { hostname } from 'node:os';
import { InvalidArgumentError, InvalidTtlError } from './errors.js';
import type { Statement } from './statements.js';
import { checkString, describe } from './validate.js';

export interface LockOptions {
  /** Seconds the lease lasts unless extended: above 0, at most 86400 (one day). Default 30. */
  ttl?: number | undefined;
  /** Seconds to wait while another holder has it (polling, with backoff). Default 0: one try. */
  wait?: number | undefined;
  /** Who holds it, as cache_lease_holder shows (at most 200 bytes). Default `<host>:<pid>`. */
  owner?: string | undefined;
}

/** Runs one statement (for the cache's tenant, if any) and returns its rows. */
export type Runner = (statement: Statement, values: unknown[]) => Promise<Record<string, unknown>[]>;

export interface LeaseStatements {
  leaseAcquire: Statement;
  leaseExtend: Statement;
  leaseRelease: Statement;
}

const MAX_TTL_SECONDS = 86400;
const DEFAULT_OWNER = `${hostname()}:${process.pid}`;

/** A held lease. `token` is its fencing token: larger than every token handed out before it. */
export class Lease {
  private lastTtl: number;

  constructor(
    private readonly run: Runner,
    private readonly sql: LeaseStatements,
    readonly name: string,
    readonly token: bigint,
    readonly owner: string,
    ttl: number,
  ) {
    this.lastTtl = ttl;
  }

  /** Extends the lease to now + ttl seconds (default: its last TTL). False when it was lost (expired, taken over). */
  async extend(ttl: number = this.lastTtl): Promise<boolean> {
    checkLeaseTtl(ttl);
    const [row] = await this.run(this.sql.leaseExtend, [this.name, this.token.toString(), ttl]);
    if (row?.ok === true) this.lastTtl = ttl;
    return row?.ok === true;
  }

  /** Releases the lease. False when it had expired already (or another holder has it now). */
  async release(): Promise<boolean> {
    const [row] = await this.run(this.sql.leaseRelease, [this.name, this.token.toString()]);
    return row?.ok === true;
  }
}

export function checkLeaseName(name: unknown): asserts name is string {
  checkString(name, 'name');
  if (name === '' || Buffer.byteLength(name) > 1024) {
    throw new InvalidArgumentError(
      'PC010',
      'pgcache: argument "name" must be a non-empty string of at most 1024 bytes',
    );
  }
}

export function checkLeaseTtl(ttl: unknown): asserts ttl is number {
  if (typeof ttl !== 'number' || !Number.isFinite(ttl) || ttl <= 0 || ttl > MAX_TTL_SECONDS) {
    throw new InvalidTtlError(
      'PC004',
      `pgcache: argument "ttl" must be seconds above 0 and at most ${MAX_TTL_SECONDS}, got ${typeof ttl === 'number' ? ttl : describe(ttl)}`,
    );
  }
}

/** Validated lock options, before any round trip. */
export function lockSettings(options: LockOptions): { ttl: number; waitMs: number; owner: string } {
  if (typeof options !== 'object' || options === null) {
    throw new InvalidArgumentError('PC010', `pgcache: argument "options" must be an object, got ${describe(options)}`);
  }
  const { ttl = 30, wait = 0, owner = DEFAULT_OWNER } = options;
  checkLeaseTtl(ttl);
  if (typeof wait !== 'number' || Number.isNaN(wait) || wait < 0 || wait > MAX_TTL_SECONDS) {
    throw new InvalidArgumentError(
      'PC010',
      `pgcache: argument "wait" must be seconds from 0 to ${MAX_TTL_SECONDS}, got ${typeof wait === 'number' ? wait : describe(wait)}`,
    );
  }
  checkString(owner, 'owner');
  if (owner === '' || Buffer.byteLength(owner) > 200) {
    throw new InvalidArgumentError(
      'PC010',
      'pgcache: argument "owner" must be a non-empty string of at most 200 bytes',
    );
  }
  return { ttl, waitMs: wait * 1000, owner };
}

/** One try: the lease, or undefined while another holder has it. */
export async function tryAcquire(
  run: Runner,
  sql: LeaseStatements,
  name: string,
  ttl: number,
  owner: string,
): Promise<Lease | undefined> {
  const [row] = await run(sql.leaseAcquire, [name, ttl, owner]);
  const token = row?.token;
  return typeof token === 'string' ? new Lease(run, sql, name, BigInt(token), owner, ttl) : undefined;
}

/**
 * Takes the lease, trying again with backoff (10 ms doubling to 250 ms, jittered) until `waitMs` ran out.
 * `giveUp`, when given, runs between tries: true stops waiting (e.g. what the holder was computing is stored).
 */
export async function acquireLease(
  run: Runner,
  sql: LeaseStatements,
  name: string,
  settings: { ttl: number; waitMs: number; owner: string },
  giveUp?: () => Promise<boolean>,
): Promise<Lease | undefined> {
  const deadline = Date.now() + settings.waitMs;
  let delay = 10;
  for (;;) {
    const lease = await tryAcquire(run, sql, name, settings.ttl, settings.owner);
    if (lease) return lease;
    const left = deadline - Date.now();
    if (left <= 0) return undefined;
    if (giveUp && (await giveUp())) return undefined;
    await new Promise((resolve) => setTimeout(resolve, Math.min(left, delay * (0.5 + Math.random()))));
    delay = Math.min(delay * 2, 250);
  }
}

// An opt-in in-process near-cache (L1) in front of PostgreSQL, kept coherent by the pgcache_changes
// notifications the SQL sends (for types with notify on) after each committed write or invalidation.
// Without its LISTEN connection it cannot know what changed, so it turns itself off (every read goes to the
// database) until it has reconnected and dropped everything it held.
// On PGlite, NOTIFY reaches only the connection that sent it: do not use a near-cache there.
import { EventEmitter } from 'node:events';
import pg from 'pg';

export interface NearCacheOptions {
  /** Entries kept in process memory (least recently used go first). Default 10000. */
  maxEntries?: number;
  /** Connection for LISTEN; default: the pool's own connection settings. */
  listenConnectionString?: string;
  /** Delay before reconnecting a lost listener, ms. Default 1000. */
  reconnectDelayMs?: number;
}

interface Slot {
  value: unknown;
  expiresAt: number;
}

interface Change {
  s: string;
  t: string;
  k?: string;
  p?: string;
  all?: boolean;
}

export const CHANGES_CHANNEL = 'pgcache_changes';

export class NearCache extends EventEmitter {
  private readonly slots = new Map<string, Slot>(); // Map keeps insertion order: first = least recent
  private readonly maxEntries: number;
  private listener: pg.Client | undefined;
  private closed = false;
  /** Bumped by every change heard: a read that started before a change must not fill its stale value in. */
  private generation = 0;
  /** Whether the listener is connected and everything held is known to be current. */
  enabled = false;
  readonly stats = { hits: 0, misses: 0, invalidations: 0, resyncs: 0 };

  constructor(
    private readonly schema: string,
    private readonly connection: pg.ClientConfig,
    private readonly options: NearCacheOptions = {},
  ) {
    super();
    this.maxEntries = options.maxEntries ?? 10_000;
  }

  async start(): Promise<void> {
    const client = new pg.Client(this.connection);
    client.on('notification', (message) => this.onNotification(message.payload));
    client.on('error', () => this.lose(client));
    client.on('end', () => this.lose(client));
    await client.connect();
    await client.query(`LISTEN ${CHANGES_CHANNEL}`);
    this.listener = client;
    // Anything held from before the connection was (re)made may have missed a change.
    this.slots.clear();
    this.generation++;
    this.enabled = true;
    this.stats.resyncs++;
    this.emit('enabled');
  }

  private lose(client: pg.Client): void {
    if (this.listener !== client) return;
    this.listener = undefined;
    this.enabled = false;
    this.slots.clear();
    this.generation++;
    this.emit('disabled');
    if (!this.closed) {
      setTimeout(() => {
        if (!this.closed) this.start().catch(() => this.lose(client));
      }, this.options.reconnectDelayMs ?? 1000).unref();
    }
  }

  private static slotKey(type: string, key: string): string {
    return `${type}\u0000${key}`;
  }

  /** The held value, or undefined; `found` tells a held JSON null from a miss. */
  lookup(type: string, key: string): { found: boolean; value?: unknown } {
    if (!this.enabled) return { found: false };
    const id = NearCache.slotKey(type, key);
    const slot = this.slots.get(id);
    if (!slot || slot.expiresAt <= Date.now()) {
      if (slot) this.slots.delete(id);
      this.stats.misses++;
      return { found: false };
    }
    this.slots.delete(id); // move to the most recent end
    this.slots.set(id, slot);
    this.stats.hits++;
    return { found: true, value: slot.value };
  }

  /** The generation to pass to fill(): take it before reading from the database. */
  ticket(): number {
    return this.generation;
  }

  /** Holds a value read from the database, unless a change was heard since `ticket` was taken. */
  fill(type: string, key: string, value: unknown, expiresAt: Date, ticket: number): void {
    if (!this.enabled || ticket !== this.generation) return;
    this.slots.set(NearCache.slotKey(type, key), { value, expiresAt: expiresAt.getTime() });
    if (this.slots.size > this.maxEntries) {
      const oldest = this.slots.keys().next().value;
      if (oldest !== undefined) this.slots.delete(oldest);
    }
  }

  /** Drops a key now (our own writes do not wait for their notification). */
  drop(type: string, key: string): void {
    this.slots.delete(NearCache.slotKey(type, key));
    this.generation++;
  }

  dropType(type: string, prefix = ''): void {
    const start = `${type}\u0000${prefix}`;
    for (const id of this.slots.keys()) if (id.startsWith(start)) this.slots.delete(id);
    this.generation++;
  }

  private onNotification(payload: string | undefined): void {
    let change: Change;
    try {
      change = JSON.parse(payload ?? '');
    } catch {
      return;
    }
    if (change.s !== this.schema) return;
    this.stats.invalidations++;
    if (change.k !== undefined) this.drop(change.t, change.k);
    else this.dropType(change.t, change.p ?? '');
    this.emit('change', change);
  }

  get size(): number {
    return this.slots.size;
  }

  async close(): Promise<void> {
    this.closed = true;
    this.enabled = false;
    const listener = this.listener;
    this.listener = undefined;
    await listener?.end();
  }
}

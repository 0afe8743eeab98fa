// An opt-in in-process near-cache (L1) in front of PostgreSQL, kept coherent by the change notifications the
// SQL sends (for types with notify on) after each committed write or invalidation (sql/core/02_notify.sql).
// Notifications carry keyed tags, not keys: the listener reads the install's secret (cache_settings
// notify.secret, readable by the reader group only) and tags what it holds the same way, so roles without read
// access who LISTEN learn nothing of the keys.
// Without its LISTEN connection it cannot know what changed, so it turns itself off (every read goes to the
// database, nothing held is served) and reconnects by itself with a bounded exponential backoff with jitter;
// once it listens again it drops everything it held and refills from the database.
// On PGlite, NOTIFY reaches only the connection that sent it: do not use a near-cache there.
import { createHash } from 'node:crypto';
import { EventEmitter } from 'node:events';
import pg from 'pg';
import { FeatureUnavailableError } from './errors.js';

export interface NearCacheOptions {
  /** Entries kept in process memory (least recently used go first). Default 10000. */
  maxEntries?: number | undefined;
  /** Connection for LISTEN; default: the pool's own connection settings. */
  listenConnectionString?: string | undefined;
  /** First delay before reconnecting a lost listener, ms; doubled after each failed attempt. Default 500. */
  reconnectDelayMs?: number | undefined;
  /** Longest delay between reconnect attempts, ms. Default 30000. */
  maxReconnectDelayMs?: number | undefined;
}

interface Slot {
  value: unknown;
  expiresAt: number;
  /** The key's tag, as notifications name it. */
  tag: string;
}

/** A notification: the type's tag, and the key's tag when one key changed (else the whole type). */
export interface Change {
  t: string;
  k?: string | undefined;
}

/** 32 hex digits of sha256(secret || sha256(secret || type [|| 0x00 || key])), as _notify_tag() in SQL. */
export function notifyTag(secret: Buffer, type: string, key?: string): string {
  const inner = createHash('sha256').update(secret).update(type, 'utf8');
  if (key !== undefined) inner.update(Buffer.of(0)).update(key, 'utf8');
  return createHash('sha256').update(secret).update(inner.digest()).digest('hex').slice(0, 32);
}

export class NearCache extends EventEmitter {
  private readonly slots = new Map<string, Slot>(); // Map keeps insertion order: first = least recent
  private readonly byTag = new Map<string, string>(); // key tag -> slot id
  private readonly typeTags = new Map<string, string>(); // type -> type tag
  private readonly typesByTag = new Map<string, string>(); // type tag -> type
  private readonly maxEntries: number;
  private listener: pg.Client | undefined;
  private secret: Buffer | undefined;
  private channel: string | undefined;
  private closed = false;
  private attempts = 0;
  private timer: NodeJS.Timeout | undefined;
  /** Bumped by every change heard: a read that started before a change must not fill its stale value in. */
  private generation = 0;
  /** Whether the listener is connected and everything held is known to be current. */
  enabled = false;
  readonly stats = { hits: 0, misses: 0, invalidations: 0, resyncs: 0, reconnectFailures: 0 };

  constructor(
    private readonly schema: string,
    private readonly connection: pg.ClientConfig,
    private readonly options: NearCacheOptions = {},
  ) {
    super();
    this.maxEntries = options.maxEntries ?? 10_000;
  }

  /** Connects the listener (createCache waits for it; later reconnects happen by themselves). */
  async start(): Promise<void> {
    const client = new pg.Client(this.connection);
    client.on('notification', (message) => {
      if (this.listener === client) this.onNotification(message.payload);
    });
    client.on('error', () => this.lose(client));
    client.on('end', () => this.lose(client));
    let channel: string;
    let secret: Buffer;
    try {
      await client.connect();
      const { rows } = await client.query<{ name: string; value: string }>(
        `SELECT name, value FROM ${pg.escapeIdentifier(this.schema)}.cache_settings
          WHERE name IN ('notify.channel', 'notify.secret')`,
      );
      const setting = (name: string) => rows.find((row) => row.name === name)?.value;
      const channelSetting = setting('notify.channel');
      const secretSetting = setting('notify.secret');
      if (!channelSetting || !secretSetting) {
        throw new FeatureUnavailableError(
          'PC011',
          'pgcache: the near-cache needs cache_settings notify.channel and notify.secret (upgrade the install)',
        );
      }
      channel = channelSetting;
      secret = Buffer.from(secretSetting, 'hex');
      await client.query(`LISTEN ${pg.escapeIdentifier(channel)}`);
    } catch (error) {
      client.removeAllListeners('end');
      client.removeAllListeners('error');
      client.on('error', () => undefined);
      await client.end().catch(() => undefined);
      throw error;
    }
    if (this.closed) {
      await client.end().catch(() => undefined);
      return;
    }
    this.listener = client;
    if (this.secret === undefined || !secret.equals(this.secret)) {
      this.typeTags.clear();
      this.typesByTag.clear();
    }
    this.secret = secret;
    this.channel = channel;
    // Anything held from before the connection was (re)made may have missed a change.
    this.flush();
    this.attempts = 0;
    this.enabled = true;
    this.stats.resyncs++;
    this.emit('enabled');
  }

  /** The listener's backend process id (for operators and tests), while it is connected. */
  get listenerPid(): number | undefined {
    return (this.listener as { processID?: number } | undefined)?.processID;
  }

  /** The LISTEN channel of this install, once connected. */
  get listenChannel(): string | undefined {
    return this.channel;
  }

  private flush(): void {
    this.slots.clear();
    this.byTag.clear();
    this.generation++;
  }

  private lose(client: pg.Client): void {
    if (this.listener !== client) return;
    this.listener = undefined;
    this.enabled = false;
    this.flush();
    this.emit('disabled');
    this.scheduleReconnect();
  }

  /** The next attempt after a random delay in [d/2, d], d = min(max, first * 2^failures). */
  private scheduleReconnect(): void {
    if (this.closed || this.timer) return;
    const first = this.options.reconnectDelayMs ?? 500;
    const max = this.options.maxReconnectDelayMs ?? 30_000;
    const ceiling = Math.min(max, first * 2 ** Math.min(this.attempts, 30));
    const delay = ceiling / 2 + (Math.random() * ceiling) / 2;
    this.attempts++;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      if (this.closed) return;
      this.start().catch((error) => {
        this.stats.reconnectFailures++;
        this.emit('reconnectError', error);
        this.scheduleReconnect();
      });
    }, delay);
    this.timer.unref();
  }

  private static slotKey(type: string, key: string): string {
    return `${type}\u0000${key}`;
  }

  private typeTag(type: string, secret: Buffer): string {
    let tag = this.typeTags.get(type);
    if (tag === undefined) {
      tag = notifyTag(secret, type);
      this.typeTags.set(type, tag);
      this.typesByTag.set(tag, type);
    }
    return tag;
  }

  private remove(id: string): void {
    const slot = this.slots.get(id);
    if (!slot) return;
    this.slots.delete(id);
    this.byTag.delete(slot.tag);
  }

  /** The held value, or undefined; `found` tells a held JSON null from a miss. */
  lookup(type: string, key: string): { found: boolean; value?: unknown } {
    if (!this.enabled) return { found: false };
    const id = NearCache.slotKey(type, key);
    const slot = this.slots.get(id);
    if (!slot || slot.expiresAt <= Date.now()) {
      if (slot) this.remove(id);
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
    const secret = this.secret;
    if (!this.enabled || ticket !== this.generation || !secret) return;
    this.typeTag(type, secret);
    const id = NearCache.slotKey(type, key);
    this.remove(id);
    const tag = notifyTag(secret, type, key);
    this.slots.set(id, { value, expiresAt: expiresAt.getTime(), tag });
    this.byTag.set(tag, id);
    if (this.slots.size > this.maxEntries) {
      const oldest = this.slots.keys().next().value;
      if (oldest !== undefined) this.remove(oldest);
    }
  }

  /** Drops a key now (our own writes do not wait for their notification). */
  drop(type: string, key: string): void {
    this.remove(NearCache.slotKey(type, key));
    this.generation++;
  }

  /** Drops the keys of `type` that start with `prefix` (default: every key of the type). */
  dropPrefix(type: string, prefix = ''): void {
    const start = `${type}\u0000${prefix}`;
    for (const id of [...this.slots.keys()]) if (id.startsWith(start)) this.remove(id);
    this.generation++;
  }

  /** @deprecated Use `dropPrefix(type, prefix)`, which does the same; removed after 0.2.0. */
  dropType(type: string, prefix = ''): void {
    this.dropPrefix(type, prefix);
  }

  private onNotification(payload: string | undefined): void {
    let change: Change;
    try {
      change = JSON.parse(payload ?? '');
    } catch {
      return;
    }
    if (typeof change?.t !== 'string') return;
    this.stats.invalidations++;
    if (typeof change.k === 'string') {
      const id = this.byTag.get(change.k);
      if (id !== undefined) this.remove(id);
      this.generation++;
    } else {
      const type = this.typesByTag.get(change.t);
      if (type !== undefined) this.dropPrefix(type);
      else this.generation++;
    }
    this.emit('change', change);
  }

  get size(): number {
    return this.slots.size;
  }

  async close(): Promise<void> {
    this.closed = true;
    this.enabled = false;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    const listener = this.listener;
    this.listener = undefined;
    this.flush();
    await listener?.end();
  }
}

// Hits and misses of the reads a client makes through the read views (which write nothing), counted in
// memory and reported with cache_record_reads() about once a second, at stats() and at close(). Keys whose
// read came back touch_due go with the same call, which touches them as cache_get would (LRU/LFU scores).
// Hits of entries with a recorded cost are summed per (model, tenant) and reported alongside with
// cache_record_savings() (core/22_savings.sql), for a tenant-scoped type under the tenant that read them.
// A process that ends without close() loses at most its last second of counts.
import type pg from 'pg';
import { bindTenant, type Statement } from './statements.js';

type Pending = { hits: number; misses: number; touch: Set<string> };

/** The cost attribute of an entry as the read view returns it (snake_case, as stored). */
export type StoredCost = Partial<
  Record<'input_tokens' | 'output_tokens' | 'characters' | 'compute_ms', number> & Record<'model' | 'voice', string>
>;

/** What hits of one (model, tenant) saved, as cache_record_savings takes it. */
type Saving = {
  model: string | null;
  tenant: string | null;
  hits: number;
  input_tokens: number;
  output_tokens: number;
  characters: number;
  compute_ms: number;
};

const SUMMED = ['hits', 'input_tokens', 'output_tokens', 'characters', 'compute_ms'] as const;

/** Savings pending per type and the tenant to report them as ('' for none), then per (model, tenant). */
type PendingSavings = Map<string, { type: string; tenant: string | undefined; items: Map<string, Saving> }>;

/** cache_record_reads() takes at most this many keys to touch per call (the SQL's batch limit). */
const MAX_TOUCH = 10000;

export class ReadCounter {
  private pending = new Map<string, Pending>();
  private savings: PendingSavings = new Map();
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> = Promise.resolve();

  constructor(
    private readonly pool: Pick<pg.Pool, 'query'>,
    private readonly statement: Statement,
    private readonly savingsStatement: Statement,
    private readonly intervalMs = 1000,
  ) {}

  private of(type: string): Pending {
    let p = this.pending.get(type);
    if (!p) {
      p = { hits: 0, misses: 0, touch: new Set() };
      this.pending.set(type, p);
    }
    this.schedule();
    return p;
  }

  private schedule(): void {
    if (!this.timer) {
      this.timer = setTimeout(() => {
        this.timer = undefined;
        void this.flush().catch(() => undefined);
      }, this.intervalMs);
      this.timer.unref();
    }
  }

  /** One read: `found` hits and `missed` misses; `touch` the stored keys that were due a touch. */
  count(type: string, found: number, missed: number, touch?: Iterable<string>): void {
    const p = this.of(type);
    p.hits += found;
    p.misses += missed;
    if (touch) for (const key of touch) if (p.touch.size < MAX_TOUCH) p.touch.add(key);
  }

  /**
   * Hits of one entry with a recorded cost: `cost` its cost attribute, `scope` its scope (the tenant of a
   * tenant-scoped type), `tenant` the tenant the read was made for (undefined: none).
   */
  save(type: string, tenant: string | undefined, cost: StoredCost, scope: string | null, hits = 1): void {
    const model = typeof cost.model === 'string' ? cost.model : null;
    this.add(type, tenant, {
      model,
      tenant: scope,
      hits,
      input_tokens: hits * (cost.input_tokens ?? 0),
      output_tokens: hits * (cost.output_tokens ?? 0),
      characters: hits * (cost.characters ?? 0),
      compute_ms: hits * (cost.compute_ms ?? 0),
    });
  }

  private add(type: string, tenant: string | undefined, saving: Saving): void {
    const group = `${type}\u0000${tenant ?? ''}`;
    let bucket = this.savings.get(group);
    if (!bucket) {
      bucket = { type, tenant, items: new Map() };
      this.savings.set(group, bucket);
    }
    const item = JSON.stringify([saving.model, saving.tenant]);
    const held = bucket.items.get(item);
    if (!held) bucket.items.set(item, { ...saving });
    else for (const field of SUMMED) held[field] += saving[field];
    this.schedule();
  }

  /** Sends what was counted so far (one call per type). Counts a failed call could not send are kept. */
  flush(): Promise<void> {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    const batch = this.pending;
    const savings = this.savings;
    this.pending = new Map();
    this.savings = new Map();
    const run = this.flushing.then(async () => {
      const results = await Promise.allSettled([this.send(batch), this.sendSavings(savings)]);
      const failed = results.find((r) => r.status === 'rejected');
      if (failed) throw (failed as PromiseRejectedResult).reason;
    });
    this.flushing = run.catch(() => undefined);
    return run;
  }

  private async sendSavings(savings: PendingSavings): Promise<void> {
    let failure: unknown;
    for (const { type, tenant, items } of savings.values()) {
      const list = [...items.values()];
      try {
        await this.pool.query(bindTenant(this.savingsStatement, [type, JSON.stringify(list)], tenant));
      } catch (error) {
        const code = (error as { code?: string }).code;
        // As send(): a dropped type has nothing left to count; anything else is tried again later.
        if (code !== 'PC001') {
          for (const saving of list) this.add(type, tenant, saving);
          failure ??= error;
        }
      }
    }
    if (failure) throw failure;
  }

  private async send(batch: Map<string, Pending>): Promise<void> {
    let failure: unknown;
    for (const [type, p] of batch) {
      try {
        await this.pool.query({ ...this.statement, values: [type, p.hits, p.misses, [...p.touch]] });
      } catch (error) {
        const code = (error as { code?: string }).code;
        // A type dropped meanwhile has nothing left to count; anything else is tried again later.
        if (code !== 'PC001') {
          this.count(type, p.hits, p.misses, p.touch);
          failure ??= error;
        }
      }
    }
    if (failure) throw failure;
  }
}

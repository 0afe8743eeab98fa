// Hits and misses of the reads a client makes through the read views (which write nothing), counted in
// memory and reported with cache_record_reads() about once a second, at stats() and at close(). Keys whose
// read came back touch_due go with the same call, which touches them as cache_get would (LRU/LFU scores).
// A process that ends without close() loses at most its last second of counts.
import type pg from 'pg';
import type { Statement } from './statements.js';

type Pending = { hits: number; misses: number; touch: Set<string> };

/** cache_record_reads() takes at most this many keys to touch per call (the SQL's batch limit). */
const MAX_TOUCH = 10000;

export class ReadCounter {
  private pending = new Map<string, Pending>();
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> = Promise.resolve();

  constructor(
    private readonly pool: Pick<pg.Pool, 'query'>,
    private readonly statement: Statement,
    private readonly intervalMs = 1000,
  ) {}

  private of(type: string): Pending {
    let p = this.pending.get(type);
    if (!p) {
      p = { hits: 0, misses: 0, touch: new Set() };
      this.pending.set(type, p);
    }
    if (!this.timer) {
      this.timer = setTimeout(() => {
        this.timer = undefined;
        void this.flush().catch(() => undefined);
      }, this.intervalMs);
      this.timer.unref();
    }
    return p;
  }

  /** One read: `found` hits and `missed` misses; `touch` the stored keys that were due a touch. */
  count(type: string, found: number, missed: number, touch?: Iterable<string>): void {
    const p = this.of(type);
    p.hits += found;
    p.misses += missed;
    if (touch) for (const key of touch) if (p.touch.size < MAX_TOUCH) p.touch.add(key);
  }

  /** Sends what was counted so far (one call per type). Counts a failed call could not send are kept. */
  flush(): Promise<void> {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    const batch = this.pending;
    this.pending = new Map();
    const run = this.flushing.then(() => this.send(batch));
    this.flushing = run.catch(() => undefined);
    return run;
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

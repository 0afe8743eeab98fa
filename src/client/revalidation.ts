// Stale-while-revalidate: getOrCompute serves a stale entry at once and refreshes it in the background, by
// whichever caller gets the key's compute lock without waiting. The refreshes are kept so idle() can wait.
import { type LockScope, type Queryable, underFreeLease, withComputeLock } from './compute-lock.js';
import type { ComputeLock } from './types.js';

export class Revalidations {
  private readonly running = new Set<Promise<void>>();

  /**
   * Starts one background refresh of `key` unless another caller holds its compute lock. `refresh` gets the
   * lock's connection (advisory lock) or nothing (lease); its errors go to `onError`, never to a caller.
   */
  start(
    scope: LockScope,
    key: string,
    lockKind: ComputeLock,
    refresh: (via?: Queryable) => Promise<void>,
    onError: ((error: unknown) => void) | undefined,
  ): void {
    // Waited for nothing: without the lock another caller is refreshing already.
    const run = (
      lockKind === 'lease'
        ? underFreeLease(scope, key, refresh)
        : withComputeLock(scope, key, 0, async (client) => refresh(client))
    ).catch((error) => onError?.(error));
    this.running.add(run);
    void run.finally(() => this.running.delete(run));
  }

  /** Resolves when the refreshes started so far have finished. */
  async idle(): Promise<void> {
    await Promise.allSettled([...this.running]);
  }
}

// Timing: bounded op loops (by time and by count), warm-up, interleaved rounds and percentiles.
// Every measured loop stops at its deadline or after maxOps operations, whichever comes first.
import { performance } from 'node:perf_hooks';

/** One operation; `worker` is the index of the concurrent worker running it (0 .. concurrency-1). */
export type Op = (worker: number) => Promise<unknown>;

export interface Sample {
  concurrency: number;
  ops: number;
  seconds: number;
  /** Median of the per-round rates (robust to a noisy neighbour during one round). */
  opsPerSec: number;
  p50Ms: number;
  p99Ms: number;
  meanMs: number;
  maxMs: number;
  /** ops/s of each round, in order. */
  rounds: number[];
}

export interface LoopResult {
  count: number;
  elapsedMs: number;
  latencies: Float64Array;
}

/** The p-th percentile (0..100) of sorted values, nearest rank. */
export function percentile(sorted: ArrayLike<number>, p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1] as number;
}

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  if (sorted.length === 0) return Number.NaN;
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

/**
 * Runs `op` on `concurrency` workers until `durationMs` passed or `maxOps` ops started, recording each
 * op's latency (ms). `stop`, when given, ends the loop early once it returns true.
 */
export async function runLoop(
  op: Op,
  concurrency: number,
  durationMs: number,
  maxOps: number,
  stop?: () => boolean,
): Promise<LoopResult> {
  const latencies = new Float64Array(maxOps);
  let started = 0;
  let done = 0;
  const begin = performance.now();
  const deadline = begin + durationMs;
  await Promise.all(
    Array.from({ length: concurrency }, async (_, worker) => {
      while (started < maxOps && performance.now() < deadline && !stop?.()) {
        const slot = started++;
        const t0 = performance.now();
        await op(worker);
        latencies[slot] = performance.now() - t0;
        done++;
      }
    }),
  );
  const elapsedMs = performance.now() - begin;
  return { count: done, elapsedMs, latencies: latencies.subarray(0, started) };
}

/** Summary of latencies (ms) and rounds. */
export function summarize(concurrency: number, loops: LoopResult[]): Sample {
  const total = loops.reduce((n, l) => n + l.latencies.length, 0);
  const all = new Float64Array(total);
  let offset = 0;
  for (const l of loops) {
    all.set(l.latencies, offset);
    offset += l.latencies.length;
  }
  all.sort();
  const ops = loops.reduce((n, l) => n + l.count, 0);
  const seconds = loops.reduce((s, l) => s + l.elapsedMs, 0) / 1000;
  let sum = 0;
  for (const v of all) sum += v;
  return {
    concurrency,
    ops,
    seconds,
    opsPerSec: median(loops.map((l) => l.count / (l.elapsedMs / 1000))),
    p50Ms: percentile(all, 50),
    p99Ms: percentile(all, 99),
    meanMs: total ? sum / total : Number.NaN,
    maxMs: total ? (all[total - 1] as number) : Number.NaN,
    rounds: loops.map((l) => l.count / (l.elapsedMs / 1000)),
  };
}

export interface Timing {
  /** Rounds per case; the cases of one group run interleaved, round by round. */
  rounds: number;
  /** Length of one round of one case. */
  roundMs: number;
  /** Warm-up of each case before its first round (not recorded). */
  warmupMs: number;
  /** Upper bound on ops per round (bounds memory and time on a very fast op). */
  maxOpsPerRound: number;
}

export interface Case {
  id: string;
  concurrency: number;
  op: Op;
  /** Untimed clean-up after each of this case's rounds, so what it leaves behind (dead tuples, which autovacuum
   * would clean up during another case's round) is not charged to the next case. */
  after?: () => Promise<unknown>;
}

/**
 * Measures a group of cases that will be compared with each other: each case is warmed up, then the cases
 * run one after another, `rounds` times over, so a burst of load from elsewhere hits all of them alike.
 */
export async function measureGroup(
  cases: Case[],
  timing: Timing,
  onDone?: (c: Case, s: Sample) => void,
): Promise<Map<string, Sample>> {
  const loops = new Map<string, LoopResult[]>();
  for (const c of cases) {
    await runLoop(c.op, c.concurrency, timing.warmupMs, timing.maxOpsPerRound);
    await c.after?.();
    loops.set(c.id, []);
  }
  for (let round = 0; round < timing.rounds; round++) {
    for (const c of cases) {
      loops.get(c.id)?.push(await runLoop(c.op, c.concurrency, timing.roundMs, timing.maxOpsPerRound));
      await c.after?.();
    }
  }
  const out = new Map<string, Sample>();
  for (const c of cases) {
    const sample = summarize(c.concurrency, loops.get(c.id) ?? []);
    out.set(c.id, sample);
    onDone?.(c, sample);
  }
  return out;
}

/**
 * A background reader for "latency while something else runs": call `start()`, do the work, then
 * `stop()` returns the latencies recorded in between. Bounded by `maxMs` and `maxOps` in any case.
 */
export function backgroundLoop(op: Op, maxMs: number, maxOps: number): { stop(): Promise<LoopResult> } {
  let stopped = false;
  const running = runLoop(op, 1, maxMs, maxOps, () => stopped);
  return {
    async stop() {
      stopped = true;
      return running;
    },
  };
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

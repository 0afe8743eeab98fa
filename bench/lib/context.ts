// What every scenario gets: the connections, the loaded anchors, the timing, and a place to put results.
import type { Redis } from 'ioredis';
import type Keyv from 'keyv';
import type pg from 'pg';
import type { Cache } from '../../src/client/cache.js';
import type { BenchDatabase } from './database.js';
import type { Sample, Timing } from './harness.js';

export interface CaseResult {
  id: string;
  label: string;
  group: string;
  sample: Sample;
}

export interface BenchContext {
  db: BenchDatabase;
  /** 16 connections: the pgcache client and the bare and naive-cache statements share it. */
  pool: pg.Pool;
  cache: Cache;
  redis: Redis;
  keyvPostgres: Keyv;
  keyvPgcache: Keyv;
  timing: Timing;
  concurrencies: number[];
  flags: BenchFlags;
  results: BenchResults;
  log(line: string): void;
}

export interface BenchFlags {
  /** Short rounds: checks that everything runs, numbers are not meant to be compared. */
  quick: boolean;
  /** Vectors in the semantic lookup case (10,000 by default; --semantic: 100,000). */
  semanticVectors: number;
  /** Scenario names to run (all when empty). */
  only: string[];
  keepCluster: boolean;
}

export interface BenchResults {
  cases: CaseResult[];
  /** Scenario-specific figures (sizes, timings, skips), by scenario. */
  scenarios: Record<string, Record<string, unknown>>;
}

export function record(ctx: BenchContext, group: string, id: string, label: string, sample: Sample): void {
  ctx.results.cases.push({ id, label, group, sample });
  ctx.log(
    `  ${label.padEnd(46)} c=${String(sample.concurrency).padEnd(3)} ${Math.round(sample.opsPerSec)
      .toLocaleString('en-US')
      .padStart(8)} ops/s  p50 ${fmtMs(sample.p50Ms)}  p99 ${fmtMs(sample.p99Ms)}`,
  );
}

export function fmtMs(ms: number): string {
  if (!Number.isFinite(ms)) return '   -  ';
  return ms < 10 ? `${ms.toFixed(3)} ms` : `${ms.toFixed(1)} ms`;
}

export function findCase(results: BenchResults, id: string, concurrency: number): Sample | undefined {
  return results.cases.find((c) => c.id === id && c.sample.concurrency === concurrency)?.sample;
}

// One soak worker process (started by bench/soak.ts): `concurrency` loops doing mixed get/set/delete and
// batches on the shared `soak` type, plus writes to keys only this worker (and only one of its loops) writes in
// `soak_owned`, whose last acknowledged value it checks reads back. Reports counts every second and a summary
// when told to stop.
import pg from 'pg';
import { createCache } from '../src/client/cache.js';

export interface WorkerConfig {
  id: number;
  url: string;
  concurrency: number;
  keys: number;
  ownedKeys: number;
}

export type Op = 'get' | 'set' | 'delete' | 'getMany' | 'setMany' | 'ownedSet' | 'ownedDelete' | 'verify';

export interface Tick {
  type: 'tick';
  id: number;
  ops: Partial<Record<Op, number>>;
  errors: number;
}

export interface Done {
  type: 'done';
  id: number;
  ops: Partial<Record<Op, number>>;
  errors: Record<string, number>;
  /** Latency samples (ms) per operation, a reservoir of at most RESERVOIR each. */
  latencies: Partial<Record<Op, number[]>>;
  verified: number;
  lost: string[];
}

const RESERVOIR = 5000;
const config = JSON.parse(process.argv[2] as string) as WorkerConfig;
const pool = new pg.Pool({ connectionString: config.url, max: config.concurrency + 1 });
pool.on('error', (error) => note(error));
const cache = await createCache({ pool });
const shared = cache.type('soak');
const owned = cache.type('soak_owned');

let stopping = false;
const ops: Partial<Record<Op, number>> = {};
let tickOps: Partial<Record<Op, number>> = {};
const errors: Record<string, number> = {};
let tickErrors = 0;
const latencies: Partial<Record<Op, number[]>> = {};
const seen: Partial<Record<Op, number>> = {};
const lost: string[] = [];
let verified = 0;

function note(error: unknown): void {
  const e = error as { code?: string; message?: string };
  const kind = `${e.code ?? 'no code'}: ${String(e.message ?? error).slice(0, 120)}`;
  errors[kind] = (errors[kind] ?? 0) + 1;
  tickErrors++;
}

function record(op: Op, ms: number): void {
  ops[op] = (ops[op] ?? 0) + 1;
  tickOps[op] = (tickOps[op] ?? 0) + 1;
  // Reservoir sampling: every call has the same chance of being kept.
  const n = (seen[op] = (seen[op] ?? 0) + 1);
  const samples = (latencies[op] ??= []);
  const rounded = Math.round(ms * 100) / 100;
  if (samples.length < RESERVOIR) samples.push(rounded);
  else {
    const j = Math.floor(Math.random() * n);
    if (j < RESERVOIR) samples[j] = rounded;
  }
}

async function timed<T>(op: Op, call: () => Promise<T>): Promise<T | undefined> {
  const start = performance.now();
  try {
    const result = await call();
    record(op, performance.now() - start);
    return result;
  } catch (error) {
    note(error);
    return undefined;
  }
}

// Keys: a skewed pick (a fifth of the key space gets about half the traffic), like a real cache's hot set.
const sharedKey = () => {
  const hot = Math.random() < 0.5;
  const span = hot ? Math.ceil(config.keys / 5) : config.keys;
  return `k${Math.floor(Math.random() * span)}`;
};
const pad = () => 'x'.repeat(50 + Math.floor(Math.random() * 1500));

async function loop(j: number): Promise<void> {
  // This loop alone writes owned keys j, j + concurrency, ...: its view of their last value is the truth.
  const mine = Array.from(
    { length: Math.ceil(config.ownedKeys / config.concurrency) },
    (_, i) => j + i * config.concurrency,
  )
    .filter((i) => i < config.ownedKeys)
    .map((i) => `w${config.id}:${i}`);
  const last = new Map<string, number | null>(); // key -> sequence of its last acknowledged write (null: deleted)
  let seq = 0;
  while (!stopping) {
    const r = Math.random();
    if (r < 0.45) {
      await timed('get', () => shared.get(sharedKey()));
    } else if (r < 0.63) {
      await timed('set', () =>
        shared.set(sharedKey(), { w: config.id, n: seq++, pad: pad() }, { ttl: 5 + Math.random() * 55 }),
      );
    } else if (r < 0.68) {
      const batch = Array.from({ length: 10 }, () => [sharedKey(), { w: config.id, n: seq++ }] as [string, unknown]);
      await timed('setMany', () => shared.setMany(batch, { ttl: 30 }));
    } else if (r < 0.76) {
      await timed('getMany', () => shared.getMany(Array.from({ length: 10 }, sharedKey)));
    } else if (r < 0.82) {
      await timed('delete', () => shared.delete(sharedKey()));
    } else {
      const key = mine[Math.floor(Math.random() * mine.length)] as string;
      if (r < 0.95) {
        const n = seq++;
        const ok = await timed('ownedSet', () => owned.set(key, { key, n }));
        if (ok !== undefined) last.set(key, n);
      } else if (r < 0.98) {
        const ok = await timed('ownedDelete', () => owned.delete(key));
        if (ok !== undefined) last.set(key, null);
      } else {
        await verify(key, last);
      }
    }
  }
  // Final check: every owned key of this loop reads back its last acknowledged write.
  for (let i = 0; i < mine.length; i += 100) {
    const keys = mine.slice(i, i + 100);
    const values = await owned.getMany(keys).catch((error) => {
      note(error);
      return undefined;
    });
    if (!values) continue;
    keys.forEach((key, k) => check(key, last, values[k]));
  }
}

async function verify(key: string, last: Map<string, number | null>): Promise<void> {
  const start = performance.now();
  try {
    const value = await owned.get(key);
    record('verify', performance.now() - start);
    check(key, last, value);
  } catch (error) {
    note(error);
  }
}

function check(key: string, last: Map<string, number | null>, value: unknown): void {
  const expected = last.get(key);
  const got = (value as { key: string; n: number } | undefined) ?? undefined;
  const ok = expected === undefined || expected === null ? got === undefined : got?.key === key && got.n === expected;
  // A key never written may hold nothing; one written holds exactly its last acknowledged write.
  if (ok) verified++;
  else lost.push(`${key}: expected ${expected ?? 'absent'}, read ${JSON.stringify(got) ?? 'absent'}`);
}

const ticker = setInterval(() => {
  process.send?.({ type: 'tick', id: config.id, ops: tickOps, errors: tickErrors } satisfies Tick);
  tickOps = {};
  tickErrors = 0;
}, 1000);

process.on('message', (message: { type?: string }) => {
  if (message.type === 'stop') stopping = true;
});

await Promise.all(Array.from({ length: config.concurrency }, (_, j) => loop(j)));
clearInterval(ticker);
await send({ type: 'tick', id: config.id, ops: tickOps, errors: tickErrors } satisfies Tick);
// Wait until the summary is written to the channel: disconnecting earlier can drop a large message.
await send({ type: 'done', id: config.id, ops, errors, latencies, verified, lost } satisfies Done);
await pool.end();
process.disconnect?.();

function send(message: Tick | Done): Promise<void> {
  return new Promise((resolve) => {
    if (process.send) process.send(message, undefined, {}, () => resolve());
    else resolve();
  });
}

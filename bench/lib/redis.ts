// A private Redis for the benchmark: Debian's redis-server on its own port (never the machine's 6379), no
// persistence, data and pid file in a temporary directory. The bench starts it and shuts it down.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { sleep } from './harness.js';

export interface PrivateRedis {
  port: number;
  version: string;
  /** A new client connected to this server. */
  client(): Redis;
  stop(): Promise<void>;
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function ping(port: number): Promise<boolean> {
  const probe = new Redis({
    port,
    host: '127.0.0.1',
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  });
  probe.on('error', () => undefined);
  try {
    await probe.connect();
    return (await probe.ping()) === 'PONG';
  } catch {
    return false;
  } finally {
    probe.disconnect();
  }
}

async function waitGone(pid: number, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  while (pidAlive(pid) && Date.now() < deadline) await sleep(50);
}

export async function startRedis(port = Number(process.env.PGCACHE_BENCH_REDIS_PORT ?? 56379)): Promise<PrivateRedis> {
  if (port === 6379) throw new Error("pgcache bench: refusing to use port 6379 (the machine's Redis); pick another");
  const dir = join(tmpdir(), `pgcache-bench-redis-${port}`);
  mkdirSync(dir, { recursive: true });
  const pidFile = join(dir, 'redis.pid');
  const ownPid = () => (existsSync(pidFile) ? Number(readFileSync(pidFile, 'utf8').trim()) : 0);

  // A server left by an earlier run of the bench (its pid file is in our directory): shut it down.
  const stale = ownPid();
  if (stale && pidAlive(stale)) {
    process.kill(stale, 'SIGTERM');
    await waitGone(stale, 5000);
  }
  if (await ping(port)) {
    throw new Error(`pgcache bench: port ${port} is in use by another Redis; set PGCACHE_BENCH_REDIS_PORT`);
  }
  execFileSync(
    'redis-server',
    [
      '--port',
      String(port),
      '--bind',
      '127.0.0.1',
      '--save',
      '',
      '--appendonly',
      'no',
      '--daemonize',
      'yes',
      '--dir',
      dir,
      '--pidfile',
      pidFile,
      '--logfile',
      join(dir, 'redis.log'),
    ],
    { stdio: 'inherit' },
  );
  const deadline = Date.now() + 10_000;
  while (!(await ping(port))) {
    if (Date.now() > deadline) throw new Error(`pgcache bench: redis-server did not answer on port ${port}`);
    await sleep(50);
  }
  const admin = new Redis({ port, host: '127.0.0.1' });
  const info = await admin.info('server');
  admin.disconnect();
  const version = /redis_version:(\S+)/.exec(info)?.[1] ?? 'unknown';
  const pid = ownPid();
  return {
    port,
    version,
    client: () => new Redis({ port, host: '127.0.0.1' }),
    async stop() {
      if (pid && pidAlive(pid)) {
        process.kill(pid, 'SIGTERM'); // no persistence configured: SIGTERM exits without saving
        await waitGone(pid, 5000);
      }
    },
  };
}

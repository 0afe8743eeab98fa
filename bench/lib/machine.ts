// What the numbers were taken on: cores, memory, load, versions and the server settings that move them.
import { execFileSync } from 'node:child_process';
import os from 'node:os';
import type pg from 'pg';

export interface Machine {
  date: string;
  cpuModel: string;
  cores: number;
  memoryGiB: number;
  kernel: string;
  node: string;
  postgres: string;
  pgvector: string | null;
  redis: string;
  loadStart: number[];
  loadEnd?: number[];
  gitCommit: string;
  gitDirty: boolean;
  pgSettings: Record<string, string>;
  cluster: string;
}

const SETTINGS = [
  'shared_buffers',
  'synchronous_commit',
  'fsync',
  'wal_level',
  'autovacuum_naptime',
  'autovacuum_vacuum_cost_limit',
  'max_connections',
];

function git(args: string[]): string {
  try {
    return execFileSync('git', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return '';
  }
}

export async function describeMachine(pool: pg.Pool, redisVersion: string, cluster: string): Promise<Machine> {
  const { rows } = await pool.query(
    `SELECT name, setting, unit FROM pg_settings WHERE name = ANY ($1)
     UNION ALL SELECT 'server_version', current_setting('server_version'), NULL
     UNION ALL SELECT 'pgvector', extversion, NULL FROM pg_extension WHERE extname = 'vector'`,
    [SETTINGS],
  );
  const pgSettings: Record<string, string> = {};
  for (const r of rows) {
    pgSettings[r.name] =
      r.unit === '8kB' ? `${(Number(r.setting) * 8) / 1024} MB` : `${r.setting}${r.unit ? ` ${r.unit}` : ''}`;
  }
  const cpus = os.cpus();
  return {
    date: new Date().toISOString(),
    cpuModel: cpus[0]?.model.trim() ?? 'unknown',
    cores: cpus.length,
    memoryGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    kernel: `${os.type()} ${os.release()}`,
    node: process.version,
    postgres: pgSettings.server_version ?? 'unknown',
    pgvector: pgSettings.pgvector ?? null,
    redis: redisVersion,
    loadStart: os.loadavg().map((l) => Math.round(l * 100) / 100),
    gitCommit: git(['rev-parse', '--short', 'HEAD']),
    gitDirty: git(['status', '--porcelain', '--', 'src', 'sql', 'migrations']) !== '',
    pgSettings: Object.fromEntries(Object.entries(pgSettings).filter(([k]) => SETTINGS.includes(k))),
    cluster,
  };
}

export function finishMachine(m: Machine): void {
  m.loadEnd = os.loadavg().map((l) => Math.round(l * 100) / 100);
}

/** One line: "2 cores (model), 23.5 GiB, PostgreSQL 15.x, Redis 7.x, Node v20.x, load 1.2 → 1.4". */
export function machineLine(m: Machine): string {
  return (
    `${m.cores} cores (${m.cpuModel}), ${m.memoryGiB} GiB RAM, ${m.kernel}; PostgreSQL ${m.postgres}` +
    `${m.pgvector ? ` (pgvector ${m.pgvector})` : ''}, Redis ${m.redis}, Node ${m.node}; ` +
    `load average ${m.loadStart[0]} at start, ${m.loadEnd?.[0] ?? '?'} at end`
  );
}

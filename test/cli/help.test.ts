// `--help` of the program and of every command: exit 0, usage line, and the options each command documents.
import { describe, expect, it, vi } from 'vitest';
import { cli, runScript } from '../helpers/process.js';

// Each test starts the CLI as a child process (tsx compiles on start): seconds each on a busy machine.
vi.setConfig({ testTimeout: 180_000 });

const COMMANDS: Record<string, string[]> = {
  migrate: ['--database-url', '--schema', '--verbose', '--role-prefix', 'DATABASE_URL'],
  uninstall: ['--database-url', '--schema', '--yes'],
  stats: ['--database-url', '--schema', '--json', '--type'],
  cleanup: ['--database-url', '--type', '--batch', '--json', '--no-progress'],
  evict: ['--database-url', '--type', '--max-entries', '--max-bytes', '--policy', '--json'],
  warm: ['<file>', '--type', '--ttl', '--batch', '--single-transaction', '--json', 'base64'],
  schedule: ['--database-url', '--schema', '--cron', '* * * * *'],
  unschedule: ['--database-url', '--schema'],
  doctor: ['--database-url', '--no-cron', '--cron-database-url', '--bloat-ratio', '--bloat-min-dead', '--json'],
  demo: ['--data-dir', '--in-memory', '--fresh', '--serve', '--port', '--maintenance-interval'],
};

describe('pgcache --help', () => {
  it('lists every command', async () => {
    const { code, stdout } = await cli(['--help']);
    expect(code).toBe(0);
    expect(stdout).toContain('Usage: pgcache [options] [command]');
    for (const name of Object.keys(COMMANDS)) expect(stdout).toMatch(new RegExp(`^  ${name}\\b`, 'm'));
  });

  it.each(Object.entries(COMMANDS))('pgcache %s --help documents its options', async (name, options) => {
    const { code, stdout, stderr } = await cli([name, '--help']);
    expect(stderr).toBe('');
    expect(code).toBe(0);
    expect(stdout).toContain(`Usage: pgcache ${name} [options]`);
    for (const option of options) expect(stdout).toContain(option);
  });

  it('npm start passes --help through to the demo', async () => {
    const { code, stdout } = await runScript('scripts/start.ts', ['--help']);
    expect(code).toBe(0);
    expect(stdout).toContain('Usage: pgcache demo [options]');
  });

  it('an unknown command fails with usage help', async () => {
    const { code, stderr } = await cli(['frobnicate']);
    expect(code).toBe(1);
    expect(stderr).toContain("unknown command 'frobnicate'");
  });
});

// Child processes in tests: the CLI and other repo scripts run through tsx (as `npm run cli` does), and the
// output of any child collected as it arrives.
import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { repoRoot } from '../../scripts/lib/cluster.js';

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export const tsx = join(repoRoot, 'node_modules/.bin/tsx');

/** A child's stdout and stderr so far, appended to as they arrive. */
export function captureOutput(child: ChildProcess): { stdout: string; stderr: string } {
  const output = { stdout: '', stderr: '' };
  child.stdout?.on('data', (d) => {
    output.stdout += d;
  });
  child.stderr?.on('data', (d) => {
    output.stderr += d;
  });
  return output;
}

/** The child's exit code and all its output; never rejects on a non-zero exit. */
export function completion(child: ChildProcess): Promise<CliResult> {
  const output = captureOutput(child);
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, ...output }));
  });
}

/** Runs a command line (a script under the repo) and collects its output; never rejects on a non-zero exit. */
export function runScript(
  script: string,
  args: string[],
  options: { input?: string; env?: Record<string, string | undefined> } = {},
): Promise<CliResult> {
  const env: Record<string, string | undefined> = {
    ...process.env,
    DATABASE_URL: undefined,
    PGCACHE_SCHEMA: undefined,
  };
  Object.assign(env, options.env);
  for (const k of Object.keys(env)) if (env[k] === undefined) delete env[k];
  const child = spawn(tsx, [script, ...args], { cwd: repoRoot, env: env as NodeJS.ProcessEnv });
  const done = completion(child);
  child.stdin.end(options.input ?? '');
  return done;
}

/** `pgcache <args>` as `npx tsx src/cli/main.ts <args>`. */
export function cli(args: string[], options: { input?: string; env?: Record<string, string | undefined> } = {}) {
  return runScript('src/cli/main.ts', args, options);
}

// The pgcache command line: operator commands over the SQL functions, and the embedded demo.
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command, CommanderError } from 'commander';
import { cleanupCommand } from './commands/cleanup.js';
import { demoCommand } from './commands/demo.js';
import { distributeCommand } from './commands/distribute.js';
import { doctorCommand } from './commands/doctor.js';
import { evictCommand } from './commands/evict.js';
import { migrateCommand } from './commands/migrate.js';
import { savingsCommand } from './commands/savings.js';
import { scheduleCommand } from './commands/schedule.js';
import { semanticStatsCommand } from './commands/semantic-stats.js';
import { statsCommand } from './commands/stats.js';
import { uninstallCommand } from './commands/uninstall.js';
import { unscheduleCommand } from './commands/unschedule.js';
import { warmCommand } from './commands/warm.js';
import { CliError, describeError } from './errors.js';

function packageVersion(): string {
  // src/cli/program.ts and dist/cli/program.js are both two levels below the package root.
  const pkg = join(dirname(fileURLToPath(import.meta.url)), '../../package.json');
  return (JSON.parse(readFileSync(pkg, 'utf8')) as { version: string }).version;
}

export function buildProgram(): Command {
  const program = new Command('pgcache')
    .description(
      'pgcache: a Postgres-native cache. Operator commands call the SQL functions in the pgcache schema.\n' +
        'Connect with --database-url or DATABASE_URL; pick the schema with --schema (default pgcache).',
    )
    .version(packageVersion(), '-V, --version')
    .showHelpAfterError('(add --help for usage)')
    .addCommand(migrateCommand())
    .addCommand(uninstallCommand())
    .addCommand(distributeCommand())
    .addCommand(statsCommand())
    .addCommand(savingsCommand())
    .addCommand(semanticStatsCommand())
    .addCommand(cleanupCommand())
    .addCommand(evictCommand())
    .addCommand(warmCommand())
    .addCommand(scheduleCommand())
    .addCommand(unscheduleCommand())
    .addCommand(doctorCommand())
    .addCommand(demoCommand());
  return program;
}

/** Parses argv (user arguments only, without node and the script) and runs the command; returns the exit code. */
export async function run(args: string[]): Promise<number> {
  const program = buildProgram();
  // Help keeps the descriptions' own line breaks: wrap at the terminal's width, and at 110 when piped.
  const helpWidth = Math.max(process.stdout.columns ?? 0, 110);
  for (const command of [program, ...program.commands]) {
    command.exitOverride();
    command.configureHelp({ helpWidth });
  }
  try {
    await program.parseAsync(args, { from: 'user' });
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (error) {
    if (error instanceof CommanderError) return error.exitCode; // commander printed the message or the help
    const message = describeError(error);
    console.error(message.startsWith('pgcache:') ? message : `pgcache: ${message}`);
    return error instanceof CliError ? error.exitCode : 1;
  }
}

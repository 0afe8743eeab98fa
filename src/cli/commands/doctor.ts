// pgcache doctor: checks what a healthy install needs and says, for each failing check, what to change.
// Every check reads the server's own catalogs and settings; nothing is assumed from the client side. The checks
// are a table of small functions (doctor/*.ts) over facts read once from the server.
import { Command } from 'commander';
import pg from 'pg';
import { connectionOptions, requireUrl } from '../connection.js';
import { describeError } from '../errors.js';
import { bloatCheckOf } from './doctor/bloat-check.js';
import type { Check, DoctorCheck, DoctorOptions, Status } from './doctor/check.js';
import { cronCheck } from './doctor/cron-checks.js';
import { pgcacheCheck, pgvectorCheck, readFacts, serverCheck } from './doctor/install-checks.js';

export type { Check, DoctorOptions, Status } from './doctor/check.js';

/** The checks, in the order they print. */
const CHECKS: DoctorCheck[] = [serverCheck, pgcacheCheck, pgvectorCheck, cronCheck, bloatCheckOf];

export async function runDoctor(options: DoctorOptions): Promise<Check[]> {
  const url = requireUrl(options);
  const client = new pg.Client({ connectionString: url, application_name: 'pgcache-doctor' });
  try {
    await client.connect();
  } catch (error) {
    return [
      {
        name: 'connection',
        status: 'fail',
        summary: describeError(error),
        fix: 'check --database-url / DATABASE_URL, and that the server is running and reachable',
      },
    ];
  }
  try {
    const context = { client, options, url, facts: await readFacts(client, options) };
    const checks: Check[] = [];
    for (const check of CHECKS) checks.push(...[await check(context)].flat());
    return checks;
  } finally {
    await client.end();
  }
}

const LABEL: Record<Status, string> = { ok: 'ok  ', warn: 'WARN', fail: 'FAIL', skip: 'skip' };

export function renderChecks(checks: Check[]): string {
  const width = Math.max(...checks.map((c) => c.name.length));
  const lines: string[] = [];
  for (const c of checks) {
    lines.push(`${LABEL[c.status]}  ${c.name.padEnd(width)}  ${c.summary}`);
    if (c.fix && (c.status === 'fail' || c.status === 'warn')) {
      const indent = ' '.repeat(6 + width + 2);
      lines.push(...c.fix.split('\n').map((l, i) => `${indent}${i === 0 ? 'fix: ' : '     '}${l}`));
    }
  }
  const failures = checks.filter((c) => c.status === 'fail').length;
  const warnings = checks.filter((c) => c.status === 'warn').length;
  lines.push('');
  lines.push(
    failures === 0
      ? `No problems found${warnings > 0 ? ` (${warnings} warning${warnings === 1 ? '' : 's'})` : ''}.`
      : `${failures} problem${failures === 1 ? '' : 's'} found${warnings > 0 ? `, ${warnings} warning${warnings === 1 ? '' : 's'}` : ''}.`,
  );
  return lines.join('\n');
}

export function doctorCommand(): Command {
  return connectionOptions(
    new Command('doctor')
      .summary('check the server and the install, and say what to fix')
      .description(
        'Checks: the connection; pgcache installed in --schema and at the latest migration; pgvector;\n' +
          'pg_cron in shared_preload_libraries, its extension in cron.database_name and a scheduled\n' +
          'maintenance job that last ran without error; dead rows (bloat) in the cache tables. Prints what\n' +
          'to change for every failing check. Exits 1 when a check fails (warnings do not fail).',
      ),
  )
    .option('--no-cron', 'maintenance runs on an application timer: skip the pg_cron checks')
    .option('--cron-database-url <url>', "connection string of pg_cron's database, when it is not pgcache's")
    .option('--bloat-ratio <r>', 'dead share of a cache table that counts as bloat', '0.2')
    .option('--bloat-min-dead <n>', 'dead rows a cache table may have before it counts as bloated', '1000')
    .option('--json', 'print the checks as JSON')
    .action(async (options: DoctorOptions) => {
      const checks = await runDoctor(options);
      if (options.json) console.log(JSON.stringify(checks, null, 2));
      else console.log(renderChecks(checks));
      if (checks.some((c) => c.status === 'fail')) process.exitCode = 1;
    });
}

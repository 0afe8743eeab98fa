// pgcache schedule: pg_cron jobs that run cache_maintenance(), through scheduleMaintenance() of the package:
// cache_schedule_maintenance(schedule) where pgcache lives in pg_cron's database, else the jobs are created
// from that database with cron.schedule_in_database (cache_maintenance_commands() lists them).
import { Command } from 'commander';
import { scheduleMaintenance } from '../../maintenance.js';
import {
  type ConnectionOptions,
  connectionOptions,
  cronDatabaseOption,
  cronDatabaseUrl,
  requireInstalled,
  requireUrl,
  withClient,
} from '../connection.js';
import { CliError, describeError } from '../errors.js';

export function scheduleCommand(): Command {
  return cronDatabaseOption(
    connectionOptions(
      new Command('schedule')
        .summary('schedule cache_maintenance() as pg_cron jobs')
        .description(
          'Creates (or updates: the jobs are named, so this is idempotent) the pg_cron job that runs\n' +
            'cache_maintenance() on the schedule: expiry in batches, then eviction to budgets. pg_cron lives in one\n' +
            'database (cron.database_name); when pgcache is in another, the jobs are created from there with\n' +
            'cron.schedule_in_database, which needs a superuser or a grant. Without pg_cron, run maintenance from\n' +
            'your application on a timer (startMaintenance). `pgcache doctor` checks the set-up.',
        ),
    ),
  )
    .option('-c, --cron <schedule>', 'pg_cron schedule', '* * * * *')
    .action(async (options: ConnectionOptions & { cron: string; cronDatabaseUrl?: string }) => {
      const databaseUrl = requireUrl(options);
      const cronUrl = await withClient(options, async (client) => {
        await requireInstalled(client, options);
        return cronDatabaseUrl(client, databaseUrl, options.cronDatabaseUrl);
      });
      const jobs = await scheduleMaintenance({
        databaseUrl,
        cronDatabaseUrl: cronUrl,
        schema: options.schema,
        schedule: options.cron,
      }).catch((error: unknown) => {
        // pg_cron 1.4 grants nothing on its schema, and cron.schedule_in_database (how jobs for another database
        // are made) to superusers only: a database owner gets a bare "permission denied" for either.
        const denied = (error as { code?: string }).code === '42501' ? String((error as Error).message) : '';
        const grant = /schema cron/.test(denied)
          ? 'GRANT USAGE ON SCHEMA cron TO <this role>;'
          : /schedule_in_database/.test(denied)
            ? 'GRANT EXECUTE ON FUNCTION cron.schedule_in_database(text, text, text, text, text, boolean) TO <this role>;'
            : undefined;
        if (grant) {
          throw new CliError(
            `${describeError(error)}\nfix: as a superuser, in pg_cron's database: ${grant}   ` +
              "then run schedule again (or run maintenance from your application's timer: startMaintenance)",
          );
        }
        throw error;
      });
      for (const job of jobs) {
        const command = job.command.length > 100 ? `${job.command.slice(0, 97)}...` : job.command;
        console.log(
          `Scheduled ${job.jobName} (job ${job.jobId}, '${job.schedule}') in database "${job.database}": ${command}`,
        );
      }
    });
}

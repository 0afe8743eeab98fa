// pgcache unschedule: removes this install's pg_cron jobs through unscheduleMaintenance() of the package.
import { Command } from 'commander';
import { unscheduleMaintenance } from '../../maintenance.js';
import {
  type ConnectionOptions,
  connectionOptions,
  cronDatabaseOption,
  cronDatabaseUrl,
  requireInstalled,
  requireUrl,
  withClient,
} from '../connection.js';

export function unscheduleCommand(): Command {
  return cronDatabaseOption(
    connectionOptions(
      new Command('unschedule')
        .summary('remove the pg_cron maintenance jobs')
        .description(
          "Removes this install's pg_cron jobs (named pgcache_maintenance:<database>.<schema>); none is fine.\n" +
            "When pgcache is not in pg_cron's database, they are removed from there.",
        ),
    ),
  ).action(async (options: ConnectionOptions & { cronDatabaseUrl?: string }) => {
    const databaseUrl = requireUrl(options);
    const cronUrl = await withClient(options, async (client) => {
      await requireInstalled(client, options);
      return cronDatabaseUrl(client, databaseUrl, options.cronDatabaseUrl);
    });
    const removed = await unscheduleMaintenance({ databaseUrl, cronDatabaseUrl: cronUrl, schema: options.schema });
    console.log(`Removed ${removed} pg_cron job${removed === 1 ? '' : 's'} of schema "${options.schema}".`);
  });
}

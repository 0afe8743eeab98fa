// pgcache uninstall: removes a pgcache install with every entry, its pg_cron jobs and the roles made for it.
import { Command } from 'commander';
import pg from 'pg';
import { uninstall } from '../../install/migrate.js';
import { type ConnectionOptions, connectionOptions, cronDatabaseOption, requireUrl } from '../connection.js';
import { CliError } from '../errors.js';

export function uninstallCommand(): Command {
  return cronDatabaseOption(
    connectionOptions(
      new Command('uninstall')
        .summary('remove pgcache and every cached entry')
        .description(
          'Drops the pgcache schema (tables, functions, every cached entry and the migrations table) and the\n' +
            'roles created for this install. Its pg_cron maintenance jobs are unscheduled first; if that fails,\n' +
            'nothing is dropped. Refuses a schema that is not a pgcache install. Needs --yes.',
        ),
    ),
  )
    .option('-y, --yes', 'really drop the schema and all its entries')
    .action(async (options: ConnectionOptions & { yes?: boolean; cronDatabaseUrl?: string }) => {
      if (!options.yes) {
        throw new CliError(
          `uninstall drops schema "${options.schema}" with every cached entry; run again with --yes to do it`,
          2,
        );
      }
      // Without --cron-database-url, pg_cron's database is reached with --database-url's role and host.
      const { dropped, jobsRemoved } = await uninstall({
        databaseUrl: requireUrl(options),
        schema: options.schema,
        cronDatabaseUrl: options.cronDatabaseUrl,
      });
      if (!dropped) {
        console.log(`Nothing to do: there is no schema "${options.schema}".`);
        return;
      }
      if (jobsRemoved > 0) console.log(`Removed ${jobsRemoved} pg_cron job${jobsRemoved === 1 ? '' : 's'}.`);
      console.log(`Removed pgcache: dropped schema ${pg.escapeIdentifier(options.schema)} and every entry in it.`);
    });
}

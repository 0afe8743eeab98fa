// pgcache uninstall: removes the pgcache schema with every entry (after unscheduling its pg_cron job).
import { Command } from 'commander';
import pg from 'pg';
import { uninstall } from '../../install/migrate.js';
import { unscheduleMaintenance } from '../../maintenance.js';
import {
  type ConnectionOptions,
  connectionOptions,
  cronDatabaseOption,
  cronDatabaseUrl,
  quotedSchema,
  requireUrl,
  withClient,
} from '../connection.js';
import { CliError, describeError } from '../errors.js';

export function uninstallCommand(): Command {
  return cronDatabaseOption(
    connectionOptions(
      new Command('uninstall')
        .summary('remove pgcache and every cached entry')
        .description(
          'Drops the pgcache schema (tables, functions, every cached entry and the migrations table).\n' +
            'Its pg_cron maintenance jobs are unscheduled first, where there are any. Needs --yes.',
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
      const databaseUrl = requireUrl(options);
      const state = await withClient(options, async (client) => {
        const { rows } = await client.query(
          `SELECT to_regprocedure($1) IS NOT NULL AS has_jobs, to_regnamespace($2) IS NOT NULL AS installed`,
          [`${quotedSchema(options)}.cache_maintenance_commands(text)`, pg.escapeIdentifier(options.schema)],
        );
        const cronUrl = await cronDatabaseUrl(client, databaseUrl, options.cronDatabaseUrl);
        return { installed: rows[0].installed as boolean, hasJobs: rows[0].has_jobs as boolean, cronUrl };
      });
      if (!state.installed) {
        console.log(`Nothing to do: there is no schema "${options.schema}".`);
        return;
      }
      // A job left behind would fail every minute once its function is gone.
      if (state.hasJobs) {
        try {
          const removed = await unscheduleMaintenance({
            databaseUrl,
            cronDatabaseUrl: state.cronUrl,
            schema: options.schema,
          });
          if (removed > 0) console.log(`Removed ${removed} pg_cron job${removed === 1 ? '' : 's'}.`);
        } catch (error) {
          console.error(`warning: could not unschedule the maintenance jobs: ${describeError(error)}`);
        }
      }
      await uninstall({ databaseUrl, schema: options.schema });
      console.log(`Removed pgcache: dropped schema "${options.schema}" and every entry in it.`);
    });
}

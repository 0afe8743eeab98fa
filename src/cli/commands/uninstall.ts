// pgcache uninstall: removes the pgcache schema with every entry (after unscheduling its pg_cron job).
import { Command } from 'commander';
import pg from 'pg';
import { uninstall } from '../../install/migrate.js';
import { type ConnectionOptions, connectionOptions, quotedSchema, requireUrl, withClient } from '../connection.js';
import { CliError, describeError } from '../errors.js';

export function uninstallCommand(): Command {
  return connectionOptions(
    new Command('uninstall')
      .summary('remove pgcache and every cached entry')
      .description(
        'Drops the pgcache schema (tables, functions, every cached entry and the migrations table).\n' +
          'Its pg_cron maintenance job is unscheduled first, where there is one. Needs --yes.',
      ),
  )
    .option('-y, --yes', 'really drop the schema and all its entries')
    .action(async (options: ConnectionOptions & { yes?: boolean }) => {
      if (!options.yes) {
        throw new CliError(
          `uninstall drops schema "${options.schema}" with every cached entry; run again with --yes to do it`,
          2,
        );
      }
      await withClient(options, async (client) => {
        const { rows } = await client.query(
          `SELECT to_regprocedure($1) IS NOT NULL AS has_unschedule, to_regnamespace($2) IS NOT NULL AS installed`,
          [`${quotedSchema(options)}.cache_unschedule_maintenance()`, pg.escapeIdentifier(options.schema)],
        );
        if (!rows[0].installed) {
          console.log(`Nothing to do: there is no schema "${options.schema}".`);
          return;
        }
        // A job left behind would fail every minute once its function is gone.
        if (rows[0].has_unschedule) {
          try {
            await client.query(`SELECT ${quotedSchema(options)}.cache_unschedule_maintenance()`);
          } catch (error) {
            console.error(`warning: could not unschedule the maintenance job: ${describeError(error)}`);
          }
        }
        await uninstall({ client, schema: options.schema });
        console.log(`Removed pgcache: dropped schema "${options.schema}" and every entry in it.`);
      });
    });
}

// pgcache unschedule: removes the pg_cron maintenance job through cache_unschedule_maintenance().
import { Command } from 'commander';
import {
  type ConnectionOptions,
  connectionOptions,
  quotedSchema,
  requireFunction,
  requireInstalled,
  showResult,
  withClient,
  withNotices,
} from '../connection.js';

export function unscheduleCommand(): Command {
  return connectionOptions(
    new Command('unschedule')
      .summary('remove the pg_cron maintenance job')
      .description("Calls cache_unschedule_maintenance(): removes pgcache's pg_cron maintenance job, if there is one."),
  ).action(async (options: ConnectionOptions) => {
    await withClient(options, async (client) => {
      await requireInstalled(client, options);
      await requireFunction(client, options, 'cache_unschedule_maintenance()');
      const { rows } = await withNotices(client, () =>
        client.query(`SELECT ${quotedSchema(options)}.cache_unschedule_maintenance() AS result`),
      );
      const result = showResult(rows[0]?.result);
      console.log(`Unscheduled pgcache maintenance${result ? `: ${result}` : ''}.`);
    });
  });
}

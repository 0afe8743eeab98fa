// pgcache schedule: the pg_cron maintenance job, through cache_schedule_maintenance(schedule).
// Notices the function raises (no pg_cron, ...) are shown.
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

export function scheduleCommand(): Command {
  return connectionOptions(
    new Command('schedule')
      .summary('schedule cache_maintenance() as a pg_cron job')
      .description(
        'Calls cache_schedule_maintenance(schedule): a named pg_cron job runs cache_maintenance() (expiry\n' +
          'in batches, then eviction to budgets) on the schedule. Idempotent: scheduling again replaces the\n' +
          'schedule. Needs pg_cron in shared_preload_libraries and its extension in cron.database_name\n' +
          '(pgcache doctor checks both). Without pg_cron, run maintenance from your application on a timer.',
      ),
  )
    .option('-c, --cron <schedule>', 'cron schedule, or pg_cron\'s "N seconds"', '* * * * *')
    .action(async (options: ConnectionOptions & { cron: string }) => {
      await withClient(options, async (client) => {
        await requireInstalled(client, options);
        await requireFunction(client, options, 'cache_schedule_maintenance(text)');
        const { rows } = await withNotices(client, () =>
          client.query(`SELECT ${quotedSchema(options)}.cache_schedule_maintenance($1) AS result`, [options.cron]),
        );
        const result = showResult(rows[0]?.result);
        console.log(`Scheduled pgcache maintenance ('${options.cron}')${result ? `: ${result}` : ''}.`);
      });
    });
}

// pgcache savings: what hits of entries with a recorded cost saved (cache_savings), as a table or JSON.
import { Command } from 'commander';
import { renderSavings } from '../../text/savings-table.js';
import { type ConnectionOptions, connectionOptions, withCache } from '../connection.js';
import { CliError } from '../errors.js';

/** The first day (YYYY-MM-DD, UTC) of --since: a date, or a number of days back ("7d", "7 days"; 0: today). */
export function sinceDay(since: string, now = new Date()): string {
  if (/^\d{4}-\d{2}-\d{2}$/.test(since) && !Number.isNaN(Date.parse(since))) return since;
  const days = /^(\d{1,5})\s*(d|days?)$/.exec(since.trim());
  if (!days) throw new CliError(`--since takes a date (2026-01-31) or a number of days (7d), got "${since}"`, 2);
  const day = new Date(now.getTime() - Number(days[1]) * 86_400_000);
  return day.toISOString().slice(0, 10);
}

export function savingsCommand(): Command {
  return connectionOptions(
    new Command('savings')
      .summary('show what hits saved: tokens, characters, compute time and money (cache_savings)')
      .description(
        'Prints pgcache.cache_savings: per day (UTC), cache type, model and tenant, the hits of entries that\n' +
          'recorded what producing them cost, and the tokens, characters, compute seconds and money those hits\n' +
          'saved (money at the price in cache_prices when each hit was counted), then totals per currency.\n' +
          '--since takes a date (2026-01-31) or days back (7d); --json prints the rows as a JSON array.',
      ),
  )
    .option('--since <day>', 'only days from this one: a date (YYYY-MM-DD) or days back (7d)')
    .option('-t, --type <name>', 'only this cache type')
    .option('--json', 'print the rows as JSON')
    .action(async (options: ConnectionOptions & { since?: string; type?: string; json?: boolean }) => {
      const since = options.since === undefined ? undefined : sinceDay(options.since);
      await withCache(options, async (cache) => {
        let rows = await cache.savings({ since });
        if (options.type !== undefined) rows = rows.filter((r) => r.cacheType === options.type);
        if (options.json) {
          console.log(JSON.stringify(rows, null, 2));
          return;
        }
        if (rows.length === 0) {
          console.log(
            'No savings recorded yet: hits count once entries record their cost (set with cost, or getOrCompute).',
          );
          return;
        }
        console.log(renderSavings(rows));
      });
    });
}

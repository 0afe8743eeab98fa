// pgcache stats: cache_stats() as a table, or as JSON for scripts.
import { Command } from 'commander';
import type { CacheStats } from '../../client/types.js';
import { renderStats } from '../../text/stats-table.js';
import { type ConnectionOptions, connectionOptions, withCache } from '../connection.js';
import { CliError } from '../errors.js';

/** A row as --json prints it: under cache_stats()'s own column names. */
export function statsJson(row: CacheStats): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(row).map(([name, value]) => [name.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`), value]),
  );
}

export function statsCommand(): Command {
  return connectionOptions(
    new Command('stats')
      .summary('show cache_stats(): entries, size, hits and misses per cache type')
      .description(
        'Prints pgcache.cache_stats() as a table: per cache type its entries (and how many are live, i.e.\n' +
          'neither expired nor invalidated), their size, exact hit and miss totals, hit rate, eviction policy\n' +
          'and budgets. --json prints the same rows as a JSON array.',
      ),
  )
    .option('--json', 'print the rows as JSON')
    .option('-t, --type <name>', 'only this cache type')
    .action(async (options: ConnectionOptions & { json?: boolean; type?: string }) => {
      await withCache(options, async (cache) => {
        let rows = await cache.stats();
        if (options.type !== undefined) rows = rows.filter((r) => r.cacheType === options.type);
        if (options.json) {
          console.log(JSON.stringify(rows.map(statsJson), null, 2));
          return;
        }
        if (rows.length === 0 && options.type !== undefined) {
          throw new CliError(`there is no cache type "${options.type}"`);
        }
        console.log(renderStats(rows));
      });
    });
}

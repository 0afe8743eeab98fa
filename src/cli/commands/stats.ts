// pgcache stats: cache_stats() as a table, or as JSON for scripts.
import { Command } from 'commander';
import type { Cache } from '../../client/cache.js';
import { type ConnectionOptions, connectionOptions, withCache } from '../connection.js';
import { CliError } from '../errors.js';
import { formatBytes, formatCount, formatRate, renderTable, toNumber } from '../format.js';

/** One row of cache_stats(), with bigint columns as numbers. */
export interface StatsRow {
  cache_type: string;
  value_kind: string;
  entries: number;
  valid_entries: number;
  bytes: number;
  hits: number;
  misses: number;
  hit_rate: number | null;
  version: number;
  eviction_policy: string;
  max_entries: number | null;
  max_bytes: number | null;
}

/** cache_stats() through the client, as the CLI's rows (snake_case, bigint columns as numbers). */
export async function fetchStats(cache: Cache): Promise<StatsRow[]> {
  return (await cache.stats()).map((r) => ({
    cache_type: r.cacheType,
    value_kind: r.valueKind,
    entries: r.entries,
    valid_entries: r.validEntries,
    bytes: r.bytes,
    hits: r.hits,
    misses: r.misses,
    hit_rate: toNumber(r.hitRate),
    version: toNumber(r.version) ?? 0,
    eviction_policy: r.evictionPolicy,
    max_entries: r.maxEntries,
    max_bytes: r.maxBytes,
  }));
}

export function renderStats(rows: StatsRow[]): string {
  const budget = (r: StatsRow) =>
    [
      r.max_entries !== null ? `${formatCount(r.max_entries)} entries` : '',
      r.max_bytes !== null ? formatBytes(r.max_bytes) : '',
    ]
      .filter(Boolean)
      .join(', ') || '-';
  return renderTable(rows, [
    { header: 'type', value: (r) => r.cache_type },
    { header: 'kind', value: (r) => r.value_kind },
    { header: 'entries', value: (r) => formatCount(r.entries), align: 'right' },
    { header: 'live', value: (r) => formatCount(r.valid_entries), align: 'right' },
    { header: 'size', value: (r) => formatBytes(r.bytes), align: 'right' },
    { header: 'hits', value: (r) => formatCount(r.hits), align: 'right' },
    { header: 'misses', value: (r) => formatCount(r.misses), align: 'right' },
    { header: 'hit rate', value: (r) => formatRate(r.hit_rate), align: 'right' },
    { header: 'policy', value: (r) => r.eviction_policy },
    { header: 'budget', value: budget },
  ]);
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
        let rows = await fetchStats(cache);
        if (options.type !== undefined) rows = rows.filter((r) => r.cache_type === options.type);
        if (options.json) {
          console.log(JSON.stringify(rows, null, 2));
          return;
        }
        if (rows.length === 0 && options.type !== undefined) {
          throw new CliError(`there is no cache type "${options.type}"`);
        }
        console.log(renderStats(rows));
      });
    });
}

// pgcache stats: cache_stats() as a table, or as JSON for scripts.
import { Command } from 'commander';
import type pg from 'pg';
import {
  type ConnectionOptions,
  connectionOptions,
  quotedSchema,
  requireInstalled,
  withClient,
} from '../connection.js';
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

export async function fetchStats(client: pg.ClientBase | pg.Pool, schema: string): Promise<StatsRow[]> {
  const { rows } = await client.query(`SELECT * FROM ${schema}.cache_stats()`);
  return rows.map((r) => ({
    cache_type: r.cache_type,
    value_kind: r.value_kind,
    entries: toNumber(r.entries) ?? 0,
    valid_entries: toNumber(r.valid_entries) ?? 0,
    bytes: toNumber(r.bytes) ?? 0,
    hits: toNumber(r.hits) ?? 0,
    misses: toNumber(r.misses) ?? 0,
    hit_rate: toNumber(r.hit_rate),
    version: toNumber(r.version) ?? 0,
    eviction_policy: r.eviction_policy,
    max_entries: toNumber(r.max_entries),
    max_bytes: toNumber(r.max_bytes),
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
      await withClient(options, async (client) => {
        await requireInstalled(client, options);
        let rows = await fetchStats(client, quotedSchema(options));
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

// pgcache evict: brings cache types down to their entry and byte budgets through cache_evict(type, ...).
import { Command } from 'commander';
import type { EvictionPolicy } from '../../client/types.js';
import { type ConnectionOptions, connectionOptions, withCache } from '../connection.js';
import { CliError } from '../errors.js';
import { formatBytes, formatCount, formatDuration } from '../format.js';
import { progressBar } from '../progress.js';

interface EvictOptions extends ConnectionOptions {
  type?: string;
  maxEntries?: string;
  maxBytes?: string;
  policy?: string;
  json?: boolean;
  progress: boolean;
}

export function evictCommand(): Command {
  return connectionOptions(
    new Command('evict')
      .summary("evict entries down to the types' entry and byte budgets")
      .description(
        'Calls cache_evict(type, max_entries, max_bytes, policy) for one type (--type) or for every type.\n' +
          'Without budgets given, each type is brought under its own budgets (max_entries, max_bytes in\n' +
          'cache_types; a type without budgets keeps everything). Expired and invalidated entries go first,\n' +
          "then entries in the order of the policy: lru, lfu, fifo or ttl (the type's own by default).\n" +
          '--max-bytes takes PostgreSQL sizes: 1048576, 512kB, 64MB, 1GB.',
      ),
  )
    .option('-t, --type <name>', 'only this cache type (required with --max-entries, --max-bytes or --policy)')
    .option('--max-entries <n>', 'keep at most n entries')
    .option('--max-bytes <size>', 'keep at most this many bytes (e.g. 64MB)')
    .option('--policy <policy>', "lru, lfu, fifo or ttl instead of the type's own policy")
    .option('--json', 'print the result as JSON')
    .option('--no-progress', 'never draw a progress bar')
    .action(async (options: EvictOptions) => {
      const overrides =
        options.maxEntries !== undefined || options.maxBytes !== undefined || options.policy !== undefined;
      if (overrides && options.type === undefined) {
        throw new CliError('--max-entries, --max-bytes and --policy apply to one cache type: add --type <name>', 2);
      }
      await withCache(options, async (cache) => {
        const started = performance.now();
        const types = options.type !== undefined ? [options.type] : (await cache.stats()).map((r) => r.cacheType);
        const bar = progressBar(types.length, { enabled: options.progress && types.length > 1, unit: 'types' });
        const results: { cache_type: string; evicted: number }[] = [];
        try {
          for (const [i, type] of types.entries()) {
            // --max-bytes goes as text, a PostgreSQL size; the policy is checked by cache_evict (PC010).
            const evicted = await cache.evict(type, {
              maxEntries: options.maxEntries === undefined ? undefined : Number(options.maxEntries),
              maxBytes: options.maxBytes,
              policy: options.policy as EvictionPolicy | undefined,
            });
            results.push({ cache_type: type, evicted });
            bar.update(i + 1);
          }
        } finally {
          bar.stop();
        }
        const ms = performance.now() - started;
        const evicted = results.reduce((sum, r) => sum + r.evicted, 0);
        if (options.json) {
          console.log(JSON.stringify({ evicted, types: results, ms: Math.round(ms) }));
          return;
        }
        const after = new Map((await cache.stats()).map((r) => [r.cacheType, r]));
        for (const r of results) {
          const now = after.get(r.cache_type);
          if (r.evicted > 0 || options.type !== undefined) {
            console.log(
              `${r.cache_type}: evicted ${formatCount(r.evicted)}; now ${formatCount(now?.entries)} entries, ${formatBytes(now?.bytes)}`,
            );
          }
        }
        console.log(
          `Evicted ${formatCount(evicted)} entries from ${types.length} type${types.length === 1 ? '' : 's'} (${formatDuration(ms)}).`,
        );
      });
    });
}

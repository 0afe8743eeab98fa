// pgcache cleanup: deletes expired and invalidated entries through cache_cleanup_expired(type, batch),
// one bounded batch per transaction, until a batch comes back short.
import { Command } from 'commander';
import { type ConnectionOptions, connectionOptions, withCache } from '../connection.js';
import { formatCount, formatDuration } from '../format.js';
import { progressBar } from '../progress.js';

interface CleanupOptions extends ConnectionOptions {
  type?: string;
  batch: string;
  json?: boolean;
  progress: boolean;
}

export function cleanupCommand(): Command {
  return connectionOptions(
    new Command('cleanup')
      .summary('delete expired and invalidated entries, in batches')
      .description(
        'Calls cache_cleanup_expired(type, batch) until it deletes less than a batch: every expired entry\n' +
          'and every entry of an older key-space version (after cache_bump_version) is removed, one bounded\n' +
          'transaction per batch, skipping rows other sessions hold locked. Shows a progress bar on a terminal.',
      ),
  )
    .option('-t, --type <name>', 'only this cache type (default: every type)')
    .option('-b, --batch <n>', 'entries deleted per transaction', '10000')
    .option('--json', 'print the result as JSON')
    .option('--no-progress', 'never draw a progress bar')
    .action(async (options: CleanupOptions) => {
      await withCache(options, async (cache) => {
        const started = performance.now();
        // cache_stats() counts entries that are not live (expired or invalidated): the work to do.
        const stats = await cache.stats();
        const todo = stats
          .filter((r) => options.type === undefined || r.cacheType === options.type)
          .reduce((sum, r) => sum + r.entries - r.validEntries, 0);
        const bar = progressBar(todo, { enabled: options.progress && todo > 0, unit: 'entries' });
        let deleted = 0;
        let batches = 0;
        try {
          for (;;) {
            const n = await cache.cleanupExpired({ type: options.type, batch: Number(options.batch) });
            deleted += n;
            batches++;
            if (deleted > todo) bar.setTotal(deleted);
            bar.update(deleted);
            if (n < Number(options.batch)) break;
          }
        } finally {
          bar.stop();
        }
        const ms = performance.now() - started;
        if (options.json) {
          console.log(JSON.stringify({ type: options.type ?? null, deleted, batches, ms: Math.round(ms) }));
        } else {
          console.log(
            `Deleted ${formatCount(deleted)} expired or invalidated entries${options.type ? ` of type "${options.type}"` : ''} ` +
              `in ${batches} batch${batches === 1 ? '' : 'es'} (${formatDuration(ms)}).`,
          );
        }
      });
    });
}

// cache_stats() as a text table, as `pgcache stats` and the embedded demo print it.
import type { CacheStats } from '../client/types.js';
import { formatBytes, formatCount, formatRate, renderTable } from './format.js';

export function renderStats(rows: CacheStats[]): string {
  const budget = (r: CacheStats) =>
    [
      r.maxEntries !== null ? `${formatCount(r.maxEntries)} entries` : '',
      r.maxBytes !== null ? formatBytes(r.maxBytes) : '',
    ]
      .filter(Boolean)
      .join(', ') || '-';
  return renderTable(rows, [
    { header: 'type', value: (r) => r.cacheType },
    { header: 'kind', value: (r) => r.valueKind },
    { header: 'entries', value: (r) => formatCount(r.entries), align: 'right' },
    { header: 'live', value: (r) => formatCount(r.validEntries), align: 'right' },
    { header: 'size', value: (r) => formatBytes(r.bytes), align: 'right' },
    { header: 'hits', value: (r) => formatCount(r.hits), align: 'right' },
    { header: 'misses', value: (r) => formatCount(r.misses), align: 'right' },
    { header: 'hit rate', value: (r) => formatRate(r.hitRate), align: 'right' },
    { header: 'policy', value: (r) => r.evictionPolicy },
    { header: 'budget', value: budget },
  ]);
}

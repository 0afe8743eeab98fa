// pgcache semantic-stats: the nearest distances of semantic lookups per type and model, as a chart in the
// terminal, so a threshold can be chosen from data: hits and misses per distance bucket, with the limit.
import { Command } from 'commander';
import type { SemanticStats } from '../../client/types.js';
import { type ConnectionOptions, connectionOptions, withCache } from '../connection.js';
import { CliError } from '../errors.js';
import { formatCount } from '../format.js';

interface ChartOptions {
  /** Bucket width of the chart, a multiple of 0.01. */
  bin: number;
  /** Characters of the longest bar. */
  width: number;
}

const HIT = '█';
const MISS = '░';

/** One type and model as text: a header, then one bar per bucket (hits, then misses), the limit marked. */
export function renderSemanticChart(s: SemanticStats, options: ChartOptions): string {
  const step = Math.max(1, Math.round(options.bin * 100));
  const bins = new Map<number, { hits: number; misses: number }>();
  let none = { hits: 0, misses: 0 };
  for (const d of s.distances) {
    if (d.bucket < 0) {
      none = { hits: d.hits, misses: d.misses };
      continue;
    }
    const b = Math.floor(d.bucket / step) * step;
    const held = bins.get(b) ?? { hits: 0, misses: 0 };
    held.hits += d.hits;
    held.misses += d.misses;
    bins.set(b, held);
  }
  const header =
    `${s.cacheType} · ${s.model}: ${formatCount(s.lookups)} lookups, ${formatCount(s.hits)} hits, ` +
    `${formatCount(s.misses)} misses; ${formatCount(s.wrongHits)} reported wrong, ` +
    `${formatCount(s.correctHits)} right, ${formatCount(s.verifierRejections)} rejected by a verifier` +
    (s.typeMaxDistance === null ? '' : `; limit ${s.typeMaxDistance}`);
  if (bins.size === 0 && none.hits + none.misses === 0) return `${header}\n  (no lookups yet)`;
  const last = Math.max(-1, ...bins.keys());
  const rows: { label: string; hits: number; misses: number; limit: boolean }[] = [];
  for (let b = 0; b <= last; b += step) {
    const { hits, misses } = bins.get(b) ?? { hits: 0, misses: 0 };
    const from = b / 100;
    const to = (b + step) / 100;
    const limit = s.typeMaxDistance !== null && s.typeMaxDistance >= from && s.typeMaxDistance < to;
    rows.push({ label: `${from.toFixed(2)}-${to.toFixed(2)}`, hits, misses, limit });
  }
  if (none.hits + none.misses > 0) rows.push({ label: 'none found', ...none, limit: false });
  const most = Math.max(1, ...rows.map((r) => r.hits + r.misses));
  const bar = (n: number) => Math.round((n / most) * options.width);
  const labelWidth = Math.max(...rows.map((r) => r.label.length));
  const lines = rows.map((r) => {
    const hits = HIT.repeat(bar(r.hits));
    const misses = MISS.repeat(r.misses > 0 ? Math.max(1, bar(r.misses)) : 0);
    const counts = r.hits + r.misses > 0 ? ` ${formatCount(r.hits)} / ${formatCount(r.misses)}` : '';
    return `  ${r.label.padEnd(labelWidth)} ${r.limit ? '┤' : '│'}${hits}${misses}${counts}${r.limit ? '  ← limit' : ''}`;
  });
  return [header, `  ${'distance'.padEnd(labelWidth)}  ${HIT} hits / ${MISS} misses`, ...lines].join('\n');
}

export function semanticStatsCommand(): Command {
  return connectionOptions(
    new Command('semantic-stats')
      .summary('chart the nearest distances of semantic lookups, to choose a threshold from data')
      .description(
        'Per cache type and embedding model: how many semantic lookups hit and missed, how many hits callers\n' +
          'reported wrong or a verifier rejected, and a chart of the nearest cosine distance each lookup found\n' +
          '(hits ' +
          HIT +
          ', misses ' +
          MISS +
          ') per bucket of --bin (default 0.01), the type limit marked. Misses just past\n' +
          'the threshold are near repeats it turns away; wrong hits say it is too loose. Needs pgvector.',
      ),
  )
    .option('-t, --type <name>', 'only this cache type')
    .option('-m, --model <name>', 'only this embedding model')
    .option('--bin <width>', 'bucket width of the chart, a multiple of 0.01', '0.01')
    .option('--width <chars>', 'length of the longest bar', '50')
    .option('--json', 'print the figures as JSON')
    .action(
      async (
        options: ConnectionOptions & { type?: string; model?: string; bin: string; width: string; json?: boolean },
      ) => {
        const bin = Number(options.bin);
        const width = Number(options.width);
        if (!(bin >= 0.01 && bin <= 2) || Math.abs(bin * 100 - Math.round(bin * 100)) > 1e-9) {
          throw new CliError(`--bin takes a multiple of 0.01 from 0.01 to 2, got "${options.bin}"`, 2);
        }
        if (!Number.isInteger(width) || width < 1 || width > 500) {
          throw new CliError(`--width takes a number of characters from 1 to 500, got "${options.width}"`, 2);
        }
        await withCache(options, async (cache) => {
          const stats = (await cache.semanticStats()).filter(
            (s) =>
              (options.type === undefined || s.cacheType === options.type) &&
              (options.model === undefined || s.model === options.model),
          );
          if (options.json) {
            console.log(JSON.stringify(stats, null, 2));
            return;
          }
          if (stats.length === 0) {
            console.log('No semantic lookups recorded yet.');
            return;
          }
          console.log(stats.map((s) => renderSemanticChart(s, { bin, width })).join('\n\n'));
        });
      },
    );
}

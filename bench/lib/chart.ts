// The report's chart, written as plain SVG: (1) each target's measured value against its goal on a log scale
// (right of the line meets it), (2) ops/s of every read and write path at c=1 and c=16.
import type { CaseResult } from './context.js';
import { formatValue, type TargetRow } from './targets.js';

const WIDTH = 1000;
const LABEL_W = 340;
const PLOT_W = WIDTH - LABEL_W - 250;
const FONT = 'font-family="system-ui, -apple-system, Segoe UI, Helvetica, Arial, sans-serif"';
const PASS = '#2e7d32';
const MISS = '#c62828';
const C1 = '#90a4ae';
const C16 = '#1565c0';

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
const text = (x: number, y: number, s: string, attrs = '') =>
  `<text x="${x.toFixed(1)}" y="${y.toFixed(1)}" ${attrs}>${esc(s)}</text>`;

/** How far a row is from its goal: >1 meets it (value/goal for "at least", goal/value for "at most"). */
function achievement(row: TargetRow): number | null {
  if (row.value === null || row.threshold === null || row.value <= 0) return null;
  return row.direction === 'min' ? row.value / row.threshold : row.threshold / row.value;
}

export function renderChart(targets: TargetRow[], cases: CaseResult[], title: string, subtitle: string): string {
  const parts: string[] = [];
  let y = 0;
  parts.push(text(12, (y += 28), title, 'font-size="18" font-weight="600"'));
  parts.push(text(12, (y += 20), subtitle, 'font-size="12" fill="#555"'));

  // Panel 1: targets.
  const rows = targets.filter((r) => r.status === 'PASS' || r.status === 'MISS');
  const rowH = 22;
  const lo = Math.log2(1 / 8);
  const hi = Math.log2(8);
  const xOf = (a: number) => LABEL_W + ((Math.min(hi, Math.max(lo, Math.log2(a))) - lo) / (hi - lo)) * PLOT_W;
  parts.push(
    text(
      12,
      (y += 28),
      'Targets: measured against goal (log scale; right of the line meets the goal)',
      'font-size="14" font-weight="600"',
    ),
  );
  const top = y + 12;
  for (const [i, row] of rows.entries()) {
    const cy = top + i * rowH;
    const a = achievement(row) ?? 1;
    const x0 = xOf(1);
    const x1 = xOf(a);
    const color = row.status === 'PASS' ? PASS : MISS;
    parts.push(text(LABEL_W - 8, cy + 15, row.name, 'font-size="12" text-anchor="end"'));
    parts.push(
      `<rect x="${Math.min(x0, x1).toFixed(1)}" y="${cy + 4}" width="${Math.max(1, Math.abs(x1 - x0)).toFixed(1)}" height="${rowH - 8}" fill="${color}" opacity="0.85"/>`,
    );
    parts.push(
      text(
        LABEL_W + PLOT_W + 8,
        cy + 15,
        `${formatValue(row)} (goal ${row.goal}) ${row.status}`,
        `font-size="12" fill="${color}"`,
      ),
    );
  }
  const bottom = top + rows.length * rowH;
  for (const tick of [0.125, 0.25, 0.5, 1, 2, 4, 8]) {
    const x = xOf(tick);
    parts.push(
      `<line x1="${x.toFixed(1)}" y1="${top}" x2="${x.toFixed(1)}" y2="${bottom}" stroke="${tick === 1 ? '#000' : '#ddd'}" stroke-width="${tick === 1 ? 1.5 : 1}"/>`,
    );
    parts.push(
      text(x, bottom + 14, tick === 1 ? 'goal' : `${tick}×`, 'font-size="11" text-anchor="middle" fill="#555"'),
    );
  }
  y = bottom + 30;

  // Panel 2: throughput of the read and write paths.
  const groups = ['reads', 'writes'];
  const ids = [...new Set(cases.filter((c) => groups.includes(c.group)).map((c) => c.id))];
  const byId = (id: string, conc: number) => cases.find((c) => c.id === id && c.sample.concurrency === conc);
  const max = Math.max(1, ...cases.filter((c) => groups.includes(c.group)).map((c) => c.sample.opsPerSec));
  parts.push(
    text(12, (y += 22), 'Throughput, ops/s (random key of 10,000, ~1 KB JSON)', 'font-size="14" font-weight="600"'),
  );
  parts.push(`<rect x="${LABEL_W}" y="${y + 8}" width="12" height="10" fill="${C1}"/>`);
  parts.push(text(LABEL_W + 16, y + 17, 'c=1', 'font-size="11"'));
  parts.push(`<rect x="${LABEL_W + 60}" y="${y + 8}" width="12" height="10" fill="${C16}"/>`);
  parts.push(text(LABEL_W + 76, y + 17, 'c=16', 'font-size="11"'));
  y += 24;
  const barH = 9;
  for (const id of ids) {
    const label = cases.find((c) => c.id === id)?.label ?? id;
    parts.push(text(LABEL_W - 8, y + 14, label, 'font-size="12" text-anchor="end"'));
    for (const [j, conc] of [1, 16].entries()) {
      const s = byId(id, conc);
      if (!s) continue;
      const w = (s.sample.opsPerSec / max) * PLOT_W;
      const by = y + 2 + j * (barH + 1);
      parts.push(
        `<rect x="${LABEL_W}" y="${by}" width="${Math.max(1, w).toFixed(1)}" height="${barH}" fill="${j ? C16 : C1}"/>`,
      );
      parts.push(
        text(
          LABEL_W + w + 4,
          by + barH - 1,
          Math.round(s.sample.opsPerSec).toLocaleString('en-US'),
          'font-size="10" fill="#333"',
        ),
      );
    }
    y += 2 * (barH + 1) + 8;
  }
  const height = y + 16;
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" ${FONT}>`,
    `<rect width="${WIDTH}" height="${height}" fill="#fff"/>`,
    ...parts,
    '</svg>',
    '',
  ].join('\n');
}

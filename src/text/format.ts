// Plain-text output helpers shared by the CLI and the embedded demo: aligned tables, byte sizes, numbers.

export type Align = 'left' | 'right';

export interface Column<Row> {
  header: string;
  value: (row: Row) => string;
  align?: Align;
}

/** A boxed table with one header row, aligned columns and no dependency on terminal width. */
export function renderTable<Row>(rows: Row[], columns: Column<Row>[]): string {
  const cells = rows.map((row) => columns.map((c) => c.value(row)));
  const widths = columns.map((c, i) => Math.max(c.header.length, ...cells.map((r) => (r[i] ?? '').length)));
  const line = (l: string, m: string, r: string) => l + widths.map((w) => '─'.repeat(w + 2)).join(m) + r;
  const pad = (text: string, i: number, align: Align) =>
    align === 'right' ? text.padStart(widths[i] ?? 0) : text.padEnd(widths[i] ?? 0);
  const renderRow = (values: string[], header = false) =>
    `│ ${values.map((v, i) => pad(v, i, header ? 'left' : (columns[i]?.align ?? 'left'))).join(' │ ')} │`;
  return [
    line('┌', '┬', '┐'),
    renderRow(
      columns.map((c) => c.header),
      true,
    ),
    line('├', '┼', '┤'),
    ...cells.map((r) => renderRow(r)),
    line('└', '┴', '┘'),
  ].join('\n');
}

/** 1536 -> "1.5 kB"; powers of 1024, with PostgreSQL's unit names (as pg_size_pretty). */
export function formatBytes(bytes: number | null | undefined): string {
  if (bytes === null || bytes === undefined) return '-';
  const units = ['bytes', 'kB', 'MB', 'GB', 'TB'];
  let value = bytes;
  let unit = 0;
  while (Math.abs(value) >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${value} bytes` : `${value.toFixed(value < 10 ? 1 : 0)} ${units[unit]}`;
}

/** 12345 -> "12,345"; null -> "-". */
export function formatCount(n: number | null | undefined): string {
  return n === null || n === undefined ? '-' : n.toLocaleString('en-US');
}

/** 0.8123 -> "81.2%"; null (no reads yet) -> "-". */
export function formatRate(rate: number | null | undefined): string {
  return rate === null || rate === undefined ? '-' : `${(rate * 100).toFixed(1)}%`;
}

/** A bigint column as pg returns it (a string) to a number; null stays null. */
export function toNumber(value: unknown): number | null {
  if (value === null || value === undefined) return null;
  return typeof value === 'number' ? value : Number(value);
}

export function formatDuration(ms: number): string {
  return ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(1)} s`;
}

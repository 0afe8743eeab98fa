// Progress bars for long runs (cleanup, evict, warm). They draw on stderr and only on a terminal, so piped
// or captured output (scripts, CI, --json) carries the results alone. A few lines of our own: a dependency
// for one line of text on a terminal is more than every application should install.

export interface Progress {
  /** Sets the total (when it becomes known or grows). */
  setTotal(total: number): void;
  update(value: number, payload?: Record<string, string | number>): void;
  stop(): void;
}

const noop: Progress = { setTotal() {}, update() {}, stop() {} };
const WIDTH = 40;
const REDRAW_MS = 100;

function duration(seconds: number): string {
  if (!Number.isFinite(seconds)) return '-';
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

/**
 * A bar over `total` units, drawn only when stderr is a terminal and `enabled` is true.
 * `format` may use {bar}, {percentage}, {value}, {total}, {eta_formatted} and payload fields.
 */
export function progressBar(
  total: number,
  options: { enabled?: boolean; format?: string; unit?: string } = {},
): Progress {
  if (options.enabled === false || !process.stderr.isTTY) return noop;
  const stream = process.stderr;
  const format = options.format ?? ` {bar} {percentage}% | {value}/{total} ${options.unit ?? ''} | eta {eta_formatted}`;
  const started = Date.now();
  let value = 0;
  let drawn = 0;
  let payload: Record<string, string | number> = {};
  const draw = (force = false) => {
    const now = Date.now();
    if (!force && now - drawn < REDRAW_MS) return;
    drawn = now;
    const share = total > 0 ? Math.min(1, value / total) : 0;
    const filled = Math.round(share * WIDTH);
    const elapsed = (now - started) / 1000;
    const eta = value > 0 ? (elapsed / value) * Math.max(0, total - value) : Number.POSITIVE_INFINITY;
    const fields: Record<string, string | number> = {
      ...payload,
      bar: '\u2588'.repeat(filled) + '\u2591'.repeat(WIDTH - filled),
      percentage: Math.round(share * 100),
      value,
      total,
      eta_formatted: duration(eta),
    };
    const line = format.replace(/\{(\w+)\}/g, (m, name: string) => (name in fields ? String(fields[name]) : m));
    stream.write(`\r${line}\x1b[K`);
  };
  stream.write('\x1b[?25l');
  draw(true);
  return {
    setTotal: (t) => {
      total = t;
      draw();
    },
    update: (v, p) => {
      value = v;
      if (p) payload = { ...payload, ...p };
      draw();
    },
    stop: () => {
      stream.write('\r\x1b[K\x1b[?25h');
    },
  };
}

// Progress bars for long runs (cleanup, evict, warm). They draw on stderr and only on a terminal, so piped
// or captured output (scripts, CI, --json) carries the results alone.
import cliProgress from 'cli-progress';

export interface Progress {
  /** Sets the total (when it becomes known or grows). */
  setTotal(total: number): void;
  update(value: number, payload?: Record<string, string | number>): void;
  stop(): void;
}

const noop: Progress = { setTotal() {}, update() {}, stop() {} };

/**
 * A bar over `total` units, drawn only when stderr is a terminal and `enabled` is true.
 * `format` may use {bar}, {percentage}, {value}, {total}, {eta_formatted} and payload fields.
 */
export function progressBar(
  total: number,
  options: { enabled?: boolean; format?: string; unit?: string } = {},
): Progress {
  if (options.enabled === false || !process.stderr.isTTY) return noop;
  const bar = new cliProgress.SingleBar(
    {
      stream: process.stderr,
      format: options.format ?? ` {bar} {percentage}% | {value}/{total} ${options.unit ?? ''} | eta {eta_formatted}`,
      hideCursor: true,
      clearOnComplete: true,
      etaBuffer: 20,
    },
    cliProgress.Presets.shades_classic,
  );
  bar.start(total, 0);
  return {
    setTotal: (t) => bar.setTotal(t),
    update: (value, payload) => bar.update(value, payload),
    stop: () => bar.stop(),
  };
}

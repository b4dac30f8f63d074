/**
 * Small text helpers of the CLI's output: bars, durations, aligned tables,
 * colours (on a terminal only, and never with NO_COLOR).
 *
 * @module
 */

/** `[#####.....]` for 50 (percent, clamped to 0..100). */
export function bar(percentage: number, width = 20): string {
  const clamped = Math.min(100, Math.max(0, percentage));
  // Floor, so that the bar is full only at 100%.
  const filled = Math.floor((clamped / 100) * width);
  return `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}]`;
}

/** `42%`, right-aligned to 4 characters. */
export function percent(value: number): string {
  return `${Math.round(Math.min(100, Math.max(0, value)))}%`.padStart(4);
}

/** `0.4 s`, `12.0 s`, `3 min 05 s`. */
export function seconds(value: number | null | undefined): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return '-';
  if (value < 60) return `${value.toFixed(1)} s`;
  const minutes = Math.floor(value / 60);
  return `${minutes} min ${String(Math.round(value - minutes * 60)).padStart(2, '0')} s`;
}

/** Columns padded to their widest cell; the last column is not padded. */
export function table(header: readonly string[], rows: readonly (readonly string[])[]): string[] {
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => (row[column] ?? '').length)));
  const line = (cells: readonly string[]): string =>
    cells
      .map((cell, column) => (column === cells.length - 1 ? cell : cell.padEnd(widths[column] ?? 0)))
      .join('  ')
      .trimEnd();
  return [line(header), ...rows.map(line)];
}

/** ANSI colours, or identity functions when colour is off. */
export interface Paint {
  green: (text: string) => string;
  red: (text: string) => string;
  yellow: (text: string) => string;
  dim: (text: string) => string;
  bold: (text: string) => string;
}

const wrap = (open: number, close: number) => (text: string) => `\u001b[${open}m${text}\u001b[${close}m`;

/** Colours for a terminal unless NO_COLOR is set; none otherwise. */
export function paintFor(tty: boolean, env: Readonly<Record<string, string | undefined>>): Paint {
  const on = tty && (env.NO_COLOR === undefined || env.NO_COLOR === '');
  const plain = (text: string): string => text;
  return on
    ? { green: wrap(32, 39), red: wrap(31, 39), yellow: wrap(33, 39), dim: wrap(2, 22), bold: wrap(1, 22) }
    : { green: plain, red: plain, yellow: plain, dim: plain, bold: plain };
}

/** Cuts `text` to `width` visible characters (escape codes are not counted). */
export function fit(text: string, width: number): string {
  let visible = 0;
  let out = '';
  for (let i = 0; i < text.length; i++) {
    if (text[i] === '\u001b') {
      const end = text.indexOf('m', i);
      if (end > i) {
        out += text.slice(i, end + 1);
        i = end;
        continue;
      }
    }
    if (visible >= width) continue;
    out += text[i] ?? '';
    visible += 1;
  }
  return out;
}

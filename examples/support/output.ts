/**
 * Where an example's lines go: a caller's `log` callback (plain lines), or the
 * terminal, where progress of one step is redrawn in place on a TTY.
 *
 * @module
 */

/** Line sink of an example. */
export interface ExampleOutput {
  /** Prints a line that stays. */
  line(text: string): void;
  /**
   * Prints a line that the next `redraw` with the same `key` replaces (on a
   * TTY); elsewhere it is an ordinary line.
   */
  redraw(key: string, text: string): void;
  /** Ends a pending in-place line, so that what follows starts on a fresh line. */
  end(): void;
}

/** The minimal writable stream the terminal output needs. */
export interface TerminalStream {
  write(chunk: string): unknown;
  isTTY?: boolean;
}

// Carriage return + "erase the whole line" (ECMA-48 EL 2).
const CLEAR_LINE = '\r\u001b[2K';

/**
 * Lines to `log` when given, else to the terminal `stream`.
 *
 * @example
 * const out = createOutput(undefined);          // stdout
 * out.redraw('step-1', '[#####.....] 50%');
 * out.redraw('step-1', '[##########] 100%');     // same line on a TTY
 * out.line('done');
 */
export function createOutput(log: ((line: string) => void) | undefined, stream: TerminalStream = process.stdout): ExampleOutput {
  if (log !== undefined) {
    return { line: log, redraw: (_key, text) => { log(text); }, end: () => undefined };
  }
  if (stream.isTTY !== true) {
    const write = (text: string): void => {
      stream.write(`${text}\n`);
    };
    return { line: write, redraw: (_key, text) => { write(text); }, end: () => undefined };
  }
  // The key of the line the cursor sits on, not yet ended by a newline.
  let openKey: string | null = null;
  const end = (): void => {
    if (openKey !== null) stream.write('\n');
    openKey = null;
  };
  return {
    line: (text) => {
      end();
      stream.write(`${text}\n`);
    },
    redraw: (key, text) => {
      if (openKey !== key) end();
      stream.write(`${openKey === key ? CLEAR_LINE : ''}${text}`);
      openKey = key;
    },
    end,
  };
}

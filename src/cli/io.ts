/**
 * What the CLI touches outside itself, injectable so that commands run in
 * tests without a process of their own.
 *
 * @module
 */

/** A writable text stream (stdout or stderr). */
export interface CliStream {
  write(chunk: string): unknown;
  /** True on a terminal: live progress redrawn in place. */
  isTTY?: boolean;
  /** Terminal width, when known. */
  columns?: number;
}

/** The CLI's environment. */
export interface CliIo {
  stdout: CliStream;
  stderr: CliStream;
  /** Relative paths resolve from here. */
  cwd: string;
  env: Readonly<Record<string, string | undefined>>;
  /** Subscribes to Ctrl-C (SIGINT); returns the unsubscribe function. */
  onInterrupt(handler: () => void): () => void;
  /** Ends the process at once (a second Ctrl-C). */
  exit(code: number): void;
  /**
   * Imports a module in a module namespace of its own (tsx's `tsImport`):
   * the fallback for a `.ts` module that Node cannot import as it is (one in
   * a CommonJS package).
   */
  importIsolated?: (specifier: string) => Promise<unknown>;
}

/** The real process. */
export function processIo(): CliIo {
  // `orchestrator list | head`: a reader that went away ends the command
  // quietly, as it would end `ls` (a run stopped this way stays resumable).
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code !== 'EPIPE') throw error;
      process.exit(process.exitCode ?? 0);
    });
  }
  return {
    stdout: process.stdout,
    stderr: process.stderr,
    cwd: process.cwd(),
    env: process.env,
    onInterrupt: (handler) => {
      process.on('SIGINT', handler);
      return () => {
        process.off('SIGINT', handler);
      };
    },
    exit: (code) => {
      process.exit(code);
    },
  };
}

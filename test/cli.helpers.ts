/**
 * Shared pieces of the CLI tests: a temporary project with pipeline modules,
 * an in-memory CliIo, and child processes (piped, or in a pseudo-terminal
 * through util-linux `script`).
 *
 * @module
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { CliIo } from '../src/cli/io.js';

/** The repository root. */
export const ROOT = fileURLToPath(new URL('..', import.meta.url));
/** The `orchestrator` bin. */
export const BIN = join(ROOT, 'bin', 'orchestrator.js');

// eslint-disable-next-line no-control-regex
const ANSI = /\u001b\[[0-9;?]*[A-Za-z]/g;

/** The text without escape codes or carriage returns. */
export function stripAnsi(text: string): string {
  return text.replace(ANSI, '').replace(/\r/g, '');
}

/** True when `text` contains an escape code. */
export function hasEscapes(text: string): boolean {
  return text.includes('\u001b');
}

/**
 * A pipeline module for the tests: `load` -> `work` (10 progress updates)
 * -> `finish`, plus `audit` beside them. Every step appends its id to the
 * file named by RUN_LOG; `work` waits WORK_DELAY_MS per item, and a minute
 * (or until cancelled) at the end while HANG=1.
 */
const FIXTURE = (src: string): string => `
import { appendFileSync } from 'node:fs';
import { definePipeline } from ${JSON.stringify(src)};

const log = (id: string): void => {
  if (process.env.RUN_LOG) appendFileSync(process.env.RUN_LOG, id + '\\n');
};
// A minute of "work" that ends early when the step is cancelled.
const longWork = (signal: AbortSignal): Promise<void> =>
  new Promise((resolve, reject) => {
    const timer = setTimeout(resolve, 60_000);
    signal.addEventListener('abort', () => { clearTimeout(timer); reject(signal.reason); }, { once: true });
  });
const pause = (): Promise<void> =>
  new Promise((resolve) => (process.env.WORK_DELAY_MS ? setTimeout(resolve, Number(process.env.WORK_DELAY_MS)) : setImmediate(resolve)));

export default definePipeline({
  id: 'fixture',
  steps: [
    { id: 'load', name: 'Load input', run: () => { log('load'); return { items: 10 }; } },
    { id: 'audit', run: () => { log('audit'); return 'ok'; } },
    {
      id: 'work',
      name: 'Do the work',
      dependsOn: ['load'],
      run: async ({ outputs, reportProgress, signal }) => {
        log('work');
        const { items } = outputs.load as { items: number };
        for (let i = 1; i <= items; i++) {
          reportProgress((i / items) * 100, 'item ' + i + '/' + items);
          await pause();
        }
        if (process.env.HANG === '1') await longWork(signal);
        return items;
      },
    },
    { id: 'finish', dependsOn: ['work', 'audit'], run: ({ outputs }) => { log('finish'); return { done: outputs.work }; } },
  ],
});
`;

/** A temporary project directory with pipeline modules in it. */
export interface Project {
  dir: string;
  /** `pipeline.ts`: the fixture pipeline. */
  pipeline: string;
  /** The file the fixture's steps append their ids to. */
  runLog: string;
  write(name: string, text: string): string;
  cleanup(): void;
}

/** Creates a project (an ESM package, so `.ts` modules are ES modules). */
export function createProject(): Project {
  const dir = mkdtempSync(join(tmpdir(), 'cli-test-'));
  const write = (name: string, text: string): string => {
    const path = join(dir, name);
    writeFileSync(path, text);
    return path;
  };
  write('package.json', JSON.stringify({ type: 'module' }));
  const src = join(ROOT, 'src', 'index.ts');
  return {
    dir,
    pipeline: write('pipeline.ts', FIXTURE(src)),
    runLog: join(dir, 'run.log'),
    write,
    cleanup: () => {
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A CliIo that records what is written; `interrupt()` plays a Ctrl-C. */
export function memoryIo(cwd: string, options: { tty?: boolean } = {}): CliIo & {
  out: () => string;
  err: () => string;
  interrupt: () => void;
} {
  let out = '';
  let err = '';
  const handlers = new Set<() => void>();
  return {
    stdout: { write: (chunk: string) => (out += chunk), isTTY: options.tty ?? false, columns: 100 },
    stderr: { write: (chunk: string) => (err += chunk) },
    cwd,
    env: {},
    onInterrupt: (handler) => {
      handlers.add(handler);
      return () => handlers.delete(handler);
    },
    exit: (code) => {
      throw new Error(`exit(${code})`);
    },
    out: () => out,
    err: () => err,
    interrupt: () => {
      for (const handler of [...handlers]) handler();
    },
  };
}

/** A finished child process. */
export interface ChildResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** A running child process; `waitFor` resolves once stdout (escape codes stripped) matches. */
export interface Child {
  write(text: string): void;
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<void>;
  result: Promise<ChildResult>;
}

function start(command: string, args: readonly string[], cwd: string, env: Record<string, string>): Child {
  const child = spawn(command, args, { cwd, env: { ...process.env, NO_COLOR: '', FORCE_COLOR: '', ...env }, stdio: 'pipe' });
  let stdout = '';
  let stderr = '';
  const watchers = new Set<() => void>();
  child.stdout.on('data', (chunk: Buffer) => {
    stdout += chunk.toString();
    for (const watcher of [...watchers]) watcher();
  });
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const result = new Promise<ChildResult>((resolve) => {
    child.on('close', (code) => {
      resolve({ code, stdout, stderr });
    });
  });
  return {
    write: (text) => child.stdin.write(text),
    waitFor: (pattern, timeoutMs = 20_000) =>
      new Promise<void>((resolve, reject) => {
        const check = (): void => {
          if (!pattern.test(stripAnsi(stdout))) return;
          watchers.delete(check);
          clearTimeout(timer);
          resolve();
        };
        const timer = setTimeout(() => {
          watchers.delete(check);
          reject(new Error(`timed out waiting for ${String(pattern)}; output so far:\n${stripAnsi(stdout)}\n${stderr}`));
        }, timeoutMs);
        watchers.add(check);
        check();
      }),
    result: result.then((value) => {
      child.stdin.end();
      return value;
    }),
  };
}

/** `orchestrator <args>` with stdout piped (not a terminal). */
export function cli(args: readonly string[], cwd: string, env: Record<string, string> = {}): Child {
  const child = start(process.execPath, [BIN, ...args], cwd, env);
  return child;
}

function shellQuote(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

/** `orchestrator <args>` in a pseudo-terminal (`script -qfec`); its stdin is the terminal's keyboard. */
export function cliInTerminal(args: readonly string[], cwd: string, env: Record<string, string> = {}): Child {
  const command = [process.execPath, BIN, ...args].map(shellQuote).join(' ');
  return start('script', ['-qfec', command, '/dev/null'], cwd, env);
}

/**
 * Shared pieces of the runner tests: yielding without timers, steps that
 * wait for their signal, temporary SQLite stores.
 *
 * @module
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createSqliteStore } from '../src/stores/index.js';
import type { SqliteCheckpointStore } from '../src/stores/index.js';

/** Lets other promise chains and I/O callbacks run `n` times (no timers, no real waiting). */
export async function ticks(n = 1): Promise<void> {
  for (let i = 0; i < n; i++) {
    await new Promise<void>((resolve) => {
      setImmediate(resolve);
    });
  }
}

/** Resolves when `signal` aborts, rejecting with its reason (a step that runs until cancelled). */
export function untilAborted(signal: AbortSignal): Promise<never> {
  return new Promise((_resolve, reject) => {
    if (signal.aborted) {
      reject(signal.reason as Error);
      return;
    }
    signal.addEventListener(
      'abort',
      () => {
        reject(signal.reason as Error);
      },
      { once: true },
    );
  });
}

/** A promise with its resolver. */
export interface Deferred<T> {
  promise: Promise<T>;
  resolve: (value: T) => void;
}

/** A promise resolved from outside. */
export function deferred<T = void>(): Deferred<T> {
  let resolve: (value: T) => void = () => undefined;
  const promise = new Promise<T>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

/** A temporary directory with a SQLite file path in it; `cleanup()` removes it. */
export function tempDatabase(): { filename: string; open: () => SqliteCheckpointStore; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'runner-test-'));
  const filename = join(dir, 'state.db');
  return {
    filename,
    open: () => createSqliteStore({ filename }),
    cleanup: () => {
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

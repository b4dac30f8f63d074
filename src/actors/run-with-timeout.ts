/**
 * Runs one attempt of user code under one `AbortSignal` that carries both the
 * caller's cancellation and the attempt's timeout, on the injected clock.
 *
 * @module
 */
import type { Clock } from '../clock.js';
import { StepTimeoutError, toError } from '../errors.js';

/** Options of {@link runWithTimeout}. */
export interface RunWithTimeoutOptions {
  clock: Clock;
  stepId: string;
  /** Abort after this many ms of the clock's time; null for no timeout. */
  timeoutMs: number | null;
  /** Aborted when the attempt's actor is stopped (cancel, restore, shutdown). */
  signal: AbortSignal;
}

/**
 * Calls `work(signal)` and settles with its result. When the timeout elapses
 * first, the signal is aborted with a {@link StepTimeoutError} and the promise
 * rejects with it even if `work` ignores the signal.
 */
export function runWithTimeout<T>(work: (signal: AbortSignal) => T | Promise<T>, options: RunWithTimeoutOptions): Promise<T> {
  const { clock, stepId, timeoutMs, signal } = options;
  if (timeoutMs === null) {
    try {
      return Promise.resolve(work(signal));
    } catch (error) {
      return Promise.reject(toError(error));
    }
  }
  const controller = new AbortController();
  return new Promise<T>((resolve, reject) => {
    let settled = false;
    const settle = (): boolean => {
      if (settled) return false;
      settled = true;
      clock.clearTimeout(timer);
      signal.removeEventListener('abort', onCallerAbort);
      return true;
    };
    // The caller's abort ends the attempt at once and stops the timer, even if
    // `work` ignores its signal (otherwise the timer would fire later, and
    // keep the process alive until it does).
    const onCallerAbort = (): void => {
      if (!settle()) return;
      controller.abort(signal.reason);
      reject(toError(signal.reason));
    };
    const timer = clock.setTimeout(() => {
      if (!settle()) return;
      const error = new StepTimeoutError(stepId, timeoutMs);
      controller.abort(error);
      reject(error);
    }, timeoutMs);
    if (signal.aborted) {
      onCallerAbort();
      return;
    }
    signal.addEventListener('abort', onCallerAbort, { once: true });
    let pending: Promise<T>;
    try {
      pending = Promise.resolve(work(controller.signal));
    } catch (error) {
      pending = Promise.reject(toError(error));
    }
    pending.then(
      (value) => {
        if (settle()) resolve(value);
      },
      (error: unknown) => {
        if (settle()) reject(toError(error));
      },
    );
  });
}

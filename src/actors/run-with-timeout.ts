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
  const forwardAbort = (): void => {
    controller.abort(signal.reason);
  };
  if (signal.aborted) forwardAbort();
  else signal.addEventListener('abort', forwardAbort, { once: true });
  return new Promise<T>((resolve, reject) => {
    const timer = clock.setTimeout(() => {
      const error = new StepTimeoutError(stepId, timeoutMs);
      controller.abort(error);
      reject(error);
    }, timeoutMs);
    const settle = (): void => {
      clock.clearTimeout(timer);
      signal.removeEventListener('abort', forwardAbort);
    };
    let pending: Promise<T>;
    try {
      pending = Promise.resolve(work(controller.signal));
    } catch (error) {
      pending = Promise.reject(toError(error));
    }
    pending.then(
      (value) => {
        settle();
        resolve(value);
      },
      (error: unknown) => {
        settle();
        reject(toError(error));
      },
    );
  });
}

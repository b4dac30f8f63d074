/**
 * One executor call bounded by a timeout and the caller's signal. The
 * executor gets its own `AbortSignal`; a timeout aborts it with a
 * `StepTimeoutError` and fails the attempt even if the executor ignores the
 * signal (its late result is dropped).
 *
 * @module
 */
import type { Clock } from '../../clock.js';
import { CancelledError, StepTimeoutError, toError } from '../../errors.js';
import type { StepExecutor } from './types.js';

/** Result of {@link runAttempt}. */
export type AttemptResult<T> =
  | { ok: true; value: T }
  | { ok: false; error: unknown; timedOut: boolean; cancelled: boolean };

/** Options of {@link runAttempt}. */
export interface AttemptOptions {
  stepId: string;
  attempt: number;
  /** Bound in ms; none when undefined. */
  timeoutMs: number | undefined;
  /** The run's signal (caller cancellation, manager shutdown). */
  signal: AbortSignal;
  clock: Clock;
}

/** A `CancelledError` carrying the signal's reason as its cause. */
export function cancelledError(stepId: string, signal: AbortSignal): CancelledError {
  return new CancelledError(`Step "${stepId}" was cancelled`, { cause: signal.reason });
}

function invoke<T>(executor: StepExecutor<T>, signal: AbortSignal, attempt: number): Promise<T> {
  try {
    return Promise.resolve(executor({ signal, attempt }));
  } catch (error) {
    return Promise.reject(toError(error));
  }
}

/** Runs one attempt; never rejects. */
export async function runAttempt<T>(executor: StepExecutor<T>, options: AttemptOptions): Promise<AttemptResult<T>> {
  const { stepId, attempt, timeoutMs, signal, clock } = options;
  if (signal.aborted) return { ok: false, error: cancelledError(stepId, signal), timedOut: false, cancelled: true };
  const controller = new AbortController();
  let clearTimer: (() => void) | undefined;
  let onAbort: (() => void) | undefined;
  let interruption: { error: unknown; timedOut: boolean } | undefined;
  const interrupted = new Promise<never>((_, reject) => {
    onAbort = () => {
      const error = cancelledError(stepId, signal);
      interruption = { error, timedOut: false };
      controller.abort(error);
      reject(error);
    };
    signal.addEventListener('abort', onAbort, { once: true });
    if (timeoutMs !== undefined) {
      const handle = clock.setTimeout(() => {
        const error = new StepTimeoutError(stepId, timeoutMs);
        interruption = { error, timedOut: true };
        controller.abort(error);
        reject(error);
      }, timeoutMs);
      clearTimer = () => {
        clock.clearTimeout(handle);
      };
    }
  });
  try {
    const value = await Promise.race([invoke(executor, controller.signal, attempt), interrupted]);
    return { ok: true, value };
  } catch (error) {
    // The interruption wins even when the executor rejected first because of the abort.
    const cause = interruption ?? { error, timedOut: false };
    return { ok: false, error: cause.error, timedOut: cause.timedOut, cancelled: interruption !== undefined && !cause.timedOut };
  } finally {
    clearTimer?.();
    if (onAbort !== undefined) signal.removeEventListener('abort', onAbort);
  }
}

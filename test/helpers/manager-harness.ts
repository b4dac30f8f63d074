/**
 * Shared harness of the manager tests: a SimulatedClock at a fixed instant,
 * a driver that moves that clock timer by timer until a promise settles (no
 * test sleeps for a real backoff), a manager factory that records every
 * progress event, and errors that classify into each ErrorCategory.
 *
 * @module
 */
import { SimulatedClock } from '../../src/clock.js';
import { ErrorCategory } from '../../src/constants.js';
import {
  ComprehensiveExecutionManager,
  type ComprehensiveExecutionManagerOptions,
} from '../../src/services/manager.js';
import { ExecutionContext, type ExecutionContextOptions } from '../../src/services/context/index.js';
import type { StepExecutorArgs } from '../../src/services/manager/step-runtime.js';
import type { ProgressEvent } from '../../src/services/progress/index.js';

/** 2026-01-01T00:00:00Z, the instant every manager test starts at. */
export const T0 = Date.parse('2026-01-01T00:00:00Z');

/** A fresh SimulatedClock at {@link T0}. */
export function newClock(): SimulatedClock {
  return new SimulatedClock(T0);
}

/** Lets queued microtasks and I/O callbacks run, `rounds` times (no timers fire). */
export async function flush(rounds = 4): Promise<void> {
  for (let i = 0; i < rounds; i++) {
    await new Promise<void>((resolve) => {
      setImmediate(resolve);
    });
  }
}

/**
 * Drives `clock` until `promise` settles: flush, then fire the next timer,
 * repeated. Fails (instead of hanging) when nothing is pending and the
 * promise is still open, or after `maxTimers` timers.
 */
export async function drive<T>(clock: SimulatedClock, promise: Promise<T>, maxTimers = 1000): Promise<T> {
  let done = false;
  const settled = (): boolean => done;
  promise.then(
    () => (done = true),
    () => (done = true),
  );
  for (let fired = 0; fired <= maxTimers; fired++) {
    await flush();
    if (settled()) return promise;
    if (!clock.runNext()) {
      await flush();
      if (settled()) return promise;
      throw new Error('drive: the promise is still pending and no timer is scheduled');
    }
  }
  throw new Error(`drive: still pending after ${maxTimers} timers`);
}

/**
 * Fires timers one by one until `condition()` holds; flushes between timers.
 * Returns false when no timer is left and the condition still fails.
 */
export async function driveUntil(clock: SimulatedClock, condition: () => boolean, maxTimers = 1000): Promise<boolean> {
  for (let fired = 0; fired <= maxTimers; fired++) {
    await flush();
    if (condition()) return true;
    if (!clock.runNext()) return condition();
  }
  return condition();
}

/** A manager on a fresh SimulatedClock with every progress event recorded. */
export interface Harness {
  clock: SimulatedClock;
  manager: ComprehensiveExecutionManager;
  events: ProgressEvent[];
  /** Events of one type, in order. */
  eventsOf: (type: ProgressEvent['eventType']) => ProgressEvent[];
}

/** Builds a {@link Harness}; `options` override the defaults (executionId "exec-1", pipelineId "pipe-1"). */
export function createHarness(
  options: Partial<ComprehensiveExecutionManagerOptions> = {},
  clock: SimulatedClock = newClock(),
): Harness {
  const manager = new ComprehensiveExecutionManager({ executionId: 'exec-1', pipelineId: 'pipe-1', clock, ...options });
  const events: ProgressEvent[] = [];
  manager.progressTracker.addEventHandler((event) => {
    events.push(event);
  });
  return {
    clock,
    manager,
    events,
    eventsOf: (type) => events.filter((event) => event.eventType === type),
  };
}

/** An error that classifies as NETWORK through its Node code. */
export function networkError(message = 'socket hang up'): Error {
  return Object.assign(new Error(message), { code: 'ECONNRESET' });
}

/** One error per ErrorCategory, each classified by the signals SPEC lists. */
export const ERROR_FOR_CATEGORY: Readonly<Record<ErrorCategory, () => Error>> = {
  [ErrorCategory.VALIDATION]: () => Object.assign(new Error('bad row'), { name: 'ValidationError' }),
  [ErrorCategory.EXECUTION]: () => new Error('Something failed'),
  [ErrorCategory.TIMEOUT]: () => Object.assign(new Error('took too long'), { code: 'ETIMEDOUT' }),
  [ErrorCategory.RESOURCE]: () => Object.assign(new Error('full'), { code: 'ENOSPC' }),
  [ErrorCategory.NETWORK]: () => networkError(),
  [ErrorCategory.AUTHENTICATION]: () => Object.assign(new Error('denied'), { status: 401 }),
  [ErrorCategory.SYSTEM]: () => Object.assign(new Error('boom'), { category: ErrorCategory.SYSTEM }),
  [ErrorCategory.DEPENDENCY]: () => Object.assign(new Error('missing'), { code: 'ERR_MODULE_NOT_FOUND' }),
  [ErrorCategory.CONFIGURATION]: () => new Error('bad configuration value'),
  [ErrorCategory.USER]: () => Object.assign(new Error('user said no'), { category: ErrorCategory.USER }),
  [ErrorCategory.UNKNOWN]: () => Object.assign(new Error('what'), { category: ErrorCategory.UNKNOWN }),
};

/**
 * An ExecutionContext that counts restores and refuses (returns false) after
 * `maxRestores`, so a restore loop in the code under test ends in a failing
 * assertion instead of a microtask loop that starves the test runner.
 */
export class RestoreCountingContext extends ExecutionContext {
  restores = 0;
  readonly maxRestores: number;

  constructor(options: ExecutionContextOptions & { maxRestores?: number }) {
    const { maxRestores = 5, ...rest } = options;
    super(rest);
    this.maxRestores = maxRestores;
  }

  override restoreCheckpoint(checkpointId: string): boolean {
    this.restores += 1;
    if (this.restores > this.maxRestores) return false;
    return super.restoreCheckpoint(checkpointId);
  }
}

/** A recording executor: `calls` holds the arguments of every call. */
export interface RecordingExecutor<T> {
  calls: StepExecutorArgs[];
  executor: (args: StepExecutorArgs) => T;
}

/** An executor that throws `errors` in turn (one per call), then returns `value`. */
export function scripted<T>(errors: readonly Error[], value: T): RecordingExecutor<T> {
  const calls: StepExecutorArgs[] = [];
  const executor = (args: StepExecutorArgs): T => {
    calls.push(args);
    const error = errors[calls.length - 1];
    if (error !== undefined) throw error;
    return value;
  };
  return { calls, executor };
}

/** An executor that always throws `make()`. */
export function always(make: () => Error): RecordingExecutor<never> {
  const calls: StepExecutorArgs[] = [];
  return {
    calls,
    executor: (args: StepExecutorArgs): never => {
      calls.push(args);
      throw make();
    },
  };
}

/**
 * The only test doubles of the model tests: user executors that settle when
 * a path says so, a planner that returns the failure the path carries, and a
 * SimulatedClock that can be told to fail once. Everything else is the real
 * actor layer (`createStepLogic`, `runWithTimeout`).
 *
 * @module
 */
import type { StepRuntime } from '../../src/actors/step-logic.js';
import { runWithTimeout } from '../../src/actors/run-with-timeout.js';
import { SimulatedClock, type TimerHandle } from '../../src/clock.js';
import type { AlternativeInput, ExecutorInput, StepFailure } from '../../src/machines/machine-types.js';
import { T0, failure } from './fixtures.js';

/** A SimulatedClock whose next `setTimeout` can be made to throw (a failing clock). */
export class FaultyClock extends SimulatedClock {
  private fault: Error | null = null;

  /** Makes the next `setTimeout` throw `error`. */
  failNextTimer(error: Error): void {
    this.fault = error;
  }

  /** Whether a fault is armed and not yet thrown. */
  get faultArmed(): boolean {
    return this.fault !== null;
  }

  override setTimeout(fn: () => void, ms: number): TimerHandle {
    const fault = this.fault;
    if (fault !== null) {
      this.fault = null;
      throw fault;
    }
    return super.setTimeout(fn, ms);
  }
}

/** What a scripted executor rejects with when its signal aborts (cancel, stop, timeout). */
export class AbortedAttempt extends Error {
  override name = 'AbortedAttempt';
  constructor(readonly reason: unknown) {
    super('The attempt was aborted', { cause: reason });
  }
}

/** One call of a scripted executor, settled by the driver (or by its signal aborting). */
export interface ScriptedCall<I> {
  input: I;
  signal: AbortSignal;
  settled: boolean;
  resolve(value: unknown): void;
  reject(error: Error): void;
}

/** A StepRuntime whose executors wait to be settled; records every call. */
export interface ScriptedRuntime extends StepRuntime {
  clock: FaultyClock;
  executeCalls: ScriptedCall<ExecutorInput>[];
  alternativeCalls: ScriptedCall<AlternativeInput>[];
  /** Errors the planner was given for attempts that failed, in order. */
  plannedErrors: unknown[];
  /** Errors the planner was given for attempts that had been aborted (nobody reads that plan). */
  plannedAfterAbort: unknown[];
  /** Failure the planner returns next, per step id. */
  nextFailure: Map<string, StepFailure>;
  /** Error the planner throws next, per step id (makes the invoked actor reject). */
  nextCrash: Map<string, Error>;
  /** Calls the runtime received after `sealed` was set (should stay 0 once every step is final). */
  callsAfterSeal: number;
  sealed: boolean;
}

function scripted<I extends { stepId: string; timeoutMs: number | null }>(
  runtime: { clock: FaultyClock; sealed: boolean; callsAfterSeal: number },
  calls: ScriptedCall<I>[],
): (input: I, signal: AbortSignal) => Promise<unknown> {
  return (input, signal) => {
    if (runtime.sealed) runtime.callsAfterSeal++;
    return runWithTimeout(
      (attemptSignal) =>
        new Promise<unknown>((resolve, reject) => {
          const call: ScriptedCall<I> = {
            input,
            signal: attemptSignal,
            settled: false,
            resolve: (value) => {
              call.settled = true;
              resolve(value);
            },
            reject: (error) => {
              call.settled = true;
              reject(error);
            },
          };
          // Like well-behaved user code: give up when the signal aborts.
          attemptSignal.addEventListener(
            'abort',
            () => {
              if (!call.settled) call.reject(new AbortedAttempt(attemptSignal.reason));
            },
            { once: true },
          );
          calls.push(call);
        }),
      { clock: runtime.clock, stepId: input.stepId, timeoutMs: input.timeoutMs, signal },
    );
  };
}

const abortedPlan = failure({ strategy: 'fail_fast', retryAllowed: false, planDescription: 'aborted attempt' });

/**
 * A scripted runtime on a fresh {@link FaultyClock} at {@link T0}.
 *
 * @example
 * const runtime = createScriptedRuntime();
 * const step = createActor(createStepLogic(runtime), { input, clock: runtime.clock });
 */
export function createScriptedRuntime(startMs = T0): ScriptedRuntime {
  const runtime: ScriptedRuntime = {
    clock: new FaultyClock(startMs),
    executeCalls: [],
    alternativeCalls: [],
    plannedErrors: [],
    plannedAfterAbort: [],
    nextFailure: new Map(),
    nextCrash: new Map(),
    callsAfterSeal: 0,
    sealed: false,
    execute: () => Promise.reject(new Error('replaced below')),
    executeAlternatives: () => Promise.reject(new Error('replaced below')),
    planFailure: (input, error) => {
      if (runtime.sealed) runtime.callsAfterSeal++;
      if (error instanceof AbortedAttempt) {
        runtime.plannedAfterAbort.push(error);
        return abortedPlan;
      }
      runtime.plannedErrors.push(error);
      const crash = runtime.nextCrash.get(input.stepId);
      if (crash !== undefined) {
        runtime.nextCrash.delete(input.stepId);
        throw crash;
      }
      const planned = runtime.nextFailure.get(input.stepId);
      if (planned === undefined) throw new Error(`No failure scripted for step ${input.stepId}`);
      runtime.nextFailure.delete(input.stepId);
      return planned;
    },
  };
  runtime.execute = scripted(runtime, runtime.executeCalls);
  runtime.executeAlternatives = scripted(runtime, runtime.alternativeCalls);
  return runtime;
}

/** The latest unsettled call for `stepId`, or an error saying the path is not realisable. */
export function pendingCall<I extends { stepId: string }>(calls: ScriptedCall<I>[], stepId: string): ScriptedCall<I> {
  const call = calls.findLast((candidate) => candidate.input.stepId === stepId);
  if (call === undefined || call.settled || call.signal.aborted) {
    throw new Error(`No running call for step ${stepId} to settle`);
  }
  return call;
}

/**
 * One runtime object whose calls go to a replaceable scripted runtime, so one
 * actor logic built on it serves many restores (building a logic with
 * `provide()` costs more than the restore itself).
 */
export interface SwitchableRuntime {
  runtime: StepRuntime;
  /** Routes every later call to a fresh scripted runtime at `now` and returns it. */
  next(now: number): ScriptedRuntime;
}

/** A {@link SwitchableRuntime}. */
export function createSwitchableRuntime(): SwitchableRuntime {
  let current = createScriptedRuntime();
  const runtime: StepRuntime = {
    get clock() {
      return current.clock;
    },
    execute: (input, signal) => current.execute(input, signal),
    executeAlternatives: (input, signal) => current.executeAlternatives(input, signal),
    planFailure: (input, error) => current.planFailure(input, error),
  };
  return {
    runtime,
    next: (now) => {
      current = createScriptedRuntime(now);
      return current;
    },
  };
}

/**
 * Assertions about one step actor: equality with a model state, and the
 * invariants that hold in every state.
 *
 * @module
 */
import { expect } from 'vitest';
import type { StepInput } from '../../src/machines/machine-types.js';
import type { StepSnapshot } from './step-model.js';
import type { ScriptedCall, ScriptedRuntime } from './runtime.js';

/** How many times the model started each invoked actor of a step (its `spawn` actions). */
export interface InvokeCounts {
  executor: number;
  alternative: number;
}

/** The real step is in the model's state: same value, context and status. */
export function expectSameState(real: StepSnapshot, expected: StepSnapshot, at: string): void {
  expect({ value: real.value, status: real.status }, `${at}: state`).toEqual({ value: expected.value, status: expected.status });
  expect(real.context, `${at}: context`).toEqual(expected.context);
}

function live<I>(call: ScriptedCall<I>): boolean {
  return !call.settled && !call.signal.aborted;
}

/**
 * Invariants of a step actor in any state, given how many times the model
 * started its executor and alternative path so far.
 */
export function checkStepInvariants(
  real: StepSnapshot,
  input: StepInput,
  runtime: ScriptedRuntime,
  invoked: InvokeCounts,
  at: string,
): void {
  const { context } = real;
  const stepCalls = runtime.executeCalls.filter((call) => call.input.stepId === context.stepId);
  const alternativeCalls = runtime.alternativeCalls.filter((call) => call.input.stepId === context.stepId);
  expect(context.progress, `${at}: progress`).toBeGreaterThanOrEqual(0);
  expect(context.progress, `${at}: progress`).toBeLessThanOrEqual(100);
  expect(context.retries, `${at}: retries counts the attempts after the first of this run`).toBe(
    context.attempt - (input.attempt ?? 1),
  );
  // One executor call per entry into `executing`, one alternative run per entry into `alternativePath`.
  expect(stepCalls, `${at}: executor calls`).toHaveLength(invoked.executor);
  expect(alternativeCalls, `${at}: alternative calls`).toHaveLength(invoked.alternative);
  const executing = real.matches({ running: 'executing' });
  expect(stepCalls.filter(live), `${at}: live executors`).toHaveLength(executing ? 1 : 0);
  if (executing) {
    expect(stepCalls.at(-1)?.input, `${at}: executor input`).toEqual({
      stepId: context.stepId,
      stepName: context.stepName,
      attempt: context.attempt,
      resumed: context.resumed,
      timeoutMs: context.timeoutMs,
    });
  }
  expect(alternativeCalls.filter(live), `${at}: live alternatives`).toHaveLength(
    real.matches({ recovering: 'alternativePath' }) ? 1 : 0,
  );
  if (real.matches({ recovering: 'waitingToRetry' })) {
    const { failure } = context;
    expect(failure, `${at}: a retry waits because of a failure`).not.toBeNull();
    expect(context.retryAt, `${at}: retryAt`).toBe((failure?.failedAt ?? 0) + (failure?.retryDelayMs ?? 0));
  } else if (real.status === 'active') {
    expect(context.retryAt, `${at}: retryAt is only set while waiting`).toBeNull();
  }
  if (real.status === 'done') {
    expect(Object.keys(real.children), `${at}: a final step has no invoked actors`).toEqual([]);
    expect(context.finished, `${at}: a final step holds its record and output`).not.toBeNull();
    expect(real.output, `${at}: the output of a final step is what it finished with`).toBe(context.finished);
  } else {
    // The user's output (not necessarily JSON) is kept only from the final state on, so no live step persists it.
    expect(context.finished, `${at}: a live step holds no finished record`).toBeNull();
  }
}

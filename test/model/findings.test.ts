/**
 * Behaviours the model tests turned up, each reduced to one small test.
 * They describe what should happen; see the report for the proposed fixes.
 */
import { getShortestPaths } from '@xstate/graph';
import { describe, expect, it } from 'vitest';
import { createActor } from 'xstate';
import { runWithTimeout } from '../../src/actors/run-with-timeout.js';
import { stepMachine } from '../../src/machines/step.machine.js';
import { flush } from './fixtures.js';
import { createScriptedRuntime } from './runtime.js';
import { createStepHarness } from './step-driver.js';
import { DONE } from './step-oracle.js';

describe('aborted attempts', () => {
  it('a cancelled step does not ask the planner to plan its aborted attempt', async () => {
    const runtime = createScriptedRuntime();
    const harness = createActor(createStepHarness(runtime), {
      input: { stepId: 'load', stepName: 'Load', mode: 'executor' },
      clock: runtime.clock,
    });
    harness.start();
    harness.send({ type: 'STEP.RUN' });
    // The executor honours its signal and rejects when it aborts, as user code should.
    harness.send({ type: 'STEP.CANCEL', reason: 'user' });
    await flush();
    expect(harness.getSnapshot().context.reports.map((report) => report.type)).toEqual([DONE]);
    // Planning classifies and records an error that never happened (error history, recovery stats).
    expect(runtime.plannedAfterAbort).toEqual([]);
    harness.stop();
  });

  it('an attempt whose caller aborts leaves no timeout timer behind', async () => {
    const runtime = createScriptedRuntime();
    const caller = new AbortController();
    // User code that ignores its signal.
    const pending = runWithTimeout(() => new Promise<never>(() => undefined), {
      clock: runtime.clock,
      stepId: 'load',
      timeoutMs: 60_000,
      signal: caller.signal,
    });
    const settled = pending.then(
      () => 'resolved',
      (error: unknown) => (error instanceof Error ? error.name : 'rejected'),
    );
    caller.abort(new Error('step cancelled'));
    await flush();
    // With the system clock this timer keeps the process alive for the whole timeout,
    // then rejects with a TimeoutError that the step actor layer plans as a failure.
    expect(runtime.clock.pendingTimers).toBe(0);
    runtime.clock.advance(60_000);
    expect(await settled).not.toBe('TimeoutError');
  });
});

describe('the exported step machine and @xstate/graph (SPEC: "They can be given to @xstate/graph")', () => {
  it('getShortestPaths traverses the pure step machine', () => {
    const traverse = () =>
      getShortestPaths(stepMachine, {
        input: { stepId: 'review', stepName: 'Review', mode: 'manual' },
        events: [{ type: 'STEP.RUN' }, { type: 'STEP.COMPLETE', output: 1 }],
      });
    // Today: "Unable to send event to actor '#_parent' from machine 'step'" (sendParent without a parent).
    expect(traverse).not.toThrow();
  });
});

import { describe, expect, it } from 'vitest';
import { SimulatedClock } from '../src/clock.js';
import { ErrorCategory, RecoveryStrategy } from '../src/constants.js';
import { ErrorCode, RetryableError, StepTimeoutError, toError } from '../src/errors.js';
import {
  RecoveryManager,
  RecoveryPlan,
  type RecoveryOutcome,
  type RecoveryPlanInput,
  type RollbackTarget,
  type StepRunContext,
} from '../src/services/recovery/index.js';

const network = (message = 'reset'): Error => Object.assign(new Error(message), { code: 'ECONNRESET' });

/** Lets microtasks and I/O callbacks run (no real waiting on timers). */
const flush = (): Promise<void> =>
  new Promise((resolve) => {
    setImmediate(resolve);
  });

/** Drives the simulated clock timer by timer until `promise` settles. */
async function settle<T>(clock: SimulatedClock, promise: Promise<T>): Promise<T> {
  const state = { done: false };
  const settled = (): boolean => state.done;
  promise.then(
    () => (state.done = true),
    () => (state.done = true),
  );
  for (let step = 0; step < 10_000 && !settled(); step++) {
    await flush();
    if (!settled()) clock.runNext();
  }
  return promise;
}

/** An executor failing with `errors` in turn, then resolving `value`; records every context. */
function scripted<T>(errors: readonly unknown[], value: T) {
  const calls: StepRunContext[] = [];
  const executor = (context: StepRunContext): Promise<T> => {
    calls.push(context);
    const error = errors[calls.length - 1];
    return error === undefined ? Promise.resolve(value) : Promise.reject(toError(error));
  };
  return { calls, executor };
}

function setup(plan?: RecoveryPlanInput, extra: { executionContext?: RollbackTarget; random?: () => number } = {}) {
  const clock = new SimulatedClock(0);
  const marks: [string, string, string | undefined][] = [];
  const manager = new RecoveryManager({
    clock,
    executionId: 'exec-1',
    progressTracker: {
      markStepRecovering: (executionId, stepId, message) => {
        marks.push([executionId, stepId, message]);
      },
    },
    ...extra,
  });
  if (plan !== undefined) manager.setRecoveryPlan('step', new RecoveryPlan(plan));
  return { clock, manager, marks };
}

const backoff = (maxAttempts: number): RecoveryPlanInput => ({
  strategy: RecoveryStrategy.RETRY_WITH_BACKOFF,
  retryConfig: { maxAttempts, initialDelayMs: 1000, backoffFactor: 2, maxDelayMs: 10_000 },
});

describe('executeRecovery: retries', () => {
  it('a first success is attempt 1 and needs no plan', async () => {
    const { clock, manager } = setup();
    const { calls, executor } = scripted([], 'ok');
    const outcome = await settle(clock, manager.executeRecovery('step', 'Step', executor));
    expect(outcome).toMatchObject({ success: true, attempts: 1, retries: 0, strategy: null, output: 'ok' });
    expect(calls.map((c) => c.attempt)).toEqual([1]);
    expect(clock.scheduledDelays).toEqual([]);
    expect(manager.getErrorHistory()).toEqual([]);
  });

  it('success on the 3rd call: exactly 3 calls, retry count 2, delays 1 s and 2 s on the clock', async () => {
    const { clock, manager } = setup(backoff(5));
    const { calls, executor } = scripted([network(), network()], 'done');
    const outcome = await settle(clock, manager.executeRecovery('step', 'Step', executor));
    expect(outcome).toMatchObject({ success: true, attempts: 3, retries: 2, output: 'done', strategy: RecoveryStrategy.RETRY_WITH_BACKOFF });
    expect(calls.map((c) => c.attempt)).toEqual([1, 2, 3]);
    expect(manager.getRetryCount('step')).toBe(2);
    expect(clock.scheduledDelays).toEqual([1000, 2000]);
    expect(clock.now()).toBe(3000);
    expect(manager.getErrorHistory({ stepId: 'step' })).toHaveLength(2);
    expect(manager.isStepRecovering('step')).toBe(false);
  });

  it('gives up after maxAttempts: exactly maxAttempts calls, returns the last error', async () => {
    const { clock, manager } = setup(backoff(4));
    const errors = [network('e1'), network('e2'), network('e3'), network('e4'), network('e5')];
    const { calls, executor } = scripted(errors, 'never');
    const outcome = await settle(clock, manager.executeRecovery('step', 'Step', executor));
    expect(calls).toHaveLength(4);
    expect(outcome).toMatchObject({ success: false, attempts: 4, retries: 3, cancelled: false });
    expect(outcome.error?.message).toBe('e4');
    expect(outcome.errorInfo?.message).toBe('e4');
    expect(clock.scheduledDelays).toEqual([1000, 2000, 4000]);
    expect(manager.getRetryCount('step')).toBe(3);
    expect(manager.getRecoveryStatus()).toMatchObject({ totalErrors: 4, stepsWithRetries: 1, activeRecoveries: 0 });
  });

  it('uses the built-in network plan without a step plan: 5 calls, 2 s x1.5 delays', async () => {
    const { clock, manager } = setup();
    const { calls, executor } = scripted(Array.from({ length: 9 }, () => network()), 'never');
    const outcome = await settle(clock, manager.executeRecovery('step', 'Step', executor));
    expect(calls).toHaveLength(5);
    expect(outcome.success).toBe(false);
    expect(clock.scheduledDelays).toEqual([2000, 3000, 4500, 6750]);
  });

  it('uses the built-in timeout plan: RETRY, 3 calls, 5 s apart', async () => {
    const { clock, manager } = setup();
    const slow = (): Error => Object.assign(new Error('too slow'), { name: 'TimeoutError' });
    const { calls, executor } = scripted([slow(), slow(), slow(), slow()], 'never');
    const outcome = await settle(clock, manager.executeRecovery('step', 'Step', executor));
    expect(calls).toHaveLength(3);
    expect(outcome.strategy).toBe(RecoveryStrategy.RETRY);
    expect(clock.scheduledDelays).toEqual([5000, 5000]);
  });

  it('does not retry a category outside retryOnCategories (a plain Error under the default plan): 1 call', async () => {
    const { clock, manager } = setup();
    const { calls, executor } = scripted([new Error('Something failed')], 'never');
    const outcome = await settle(clock, manager.executeRecovery('step', 'Step', executor));
    expect(calls).toHaveLength(1);
    expect(outcome).toMatchObject({ success: false, attempts: 1, retries: 0, strategy: RecoveryStrategy.RETRY_WITH_BACKOFF });
    expect(clock.scheduledDelays).toEqual([]);
  });

  it('retries a plain failure thrown as RetryableError, and stops when a later error is not retryable', async () => {
    const { clock, manager } = setup(backoff(5));
    const { calls, executor } = scripted([new RetryableError('flaky', { category: 'execution' }), new Error('Something failed')], 'x');
    const outcome = await settle(clock, manager.executeRecovery('step', 'Step', executor));
    expect(calls).toHaveLength(2);
    expect(outcome.success).toBe(false);
    expect(outcome.error?.message).toBe('Something failed');
  });

  it('starts every run with fresh attempts', async () => {
    const { clock, manager } = setup(backoff(3));
    const first = scripted([network(), network(), network()], 'x');
    expect((await settle(clock, manager.executeRecovery('step', 'Step', first.executor))).success).toBe(false);
    expect(first.calls).toHaveLength(3);
    expect(manager.getRetryCount('step')).toBe(2);
    const second = scripted([network()], 'y');
    const outcome = await settle(clock, manager.executeRecovery('step', 'Step', second.executor));
    expect(outcome).toMatchObject({ success: true, attempts: 2, output: 'y' });
    expect(second.calls.map((c) => c.attempt)).toEqual([1, 2]);
    expect(manager.getRetryCount('step')).toBe(1);
  });

  it('applies full jitter with the injected random source', async () => {
    const { clock, manager } = setup(
      { ...backoff(3), retryConfig: { maxAttempts: 3, initialDelayMs: 1000, backoffFactor: 2, jitter: 'full' } },
      { random: () => 0.25 },
    );
    const { executor } = scripted([network(), network()], 'ok');
    await settle(clock, manager.executeRecovery('step', 'Step', executor));
    expect(clock.scheduledDelays).toEqual([250, 500]);
  });

  it('marks the step recovering while it waits, reports progress, and clears it after', async () => {
    const { clock, manager, marks } = setup(backoff(3));
    const { executor } = scripted([network()], 'ok');
    const running = manager.executeRecovery('step', 'Step', executor);
    for (let i = 0; i < 5 && clock.pendingTimers === 0; i++) await flush();
    expect(clock.pendingTimers).toBe(1);
    expect(manager.isStepRecovering('step')).toBe(true);
    expect(manager.getRecoveryStatus().activeRecoveries).toBe(1);
    expect(marks).toEqual([['exec-1', 'step', 'Retry 1 of 2 in 1s']]);
    const outcome = await settle(clock, running);
    expect(outcome.success).toBe(true);
    expect(manager.isStepRecovering('step')).toBe(false);
    expect(manager.getRecoveryStatus().activeRecoveries).toBe(0);
  });

  it('accepts synchronous executors, including ones that throw synchronously', async () => {
    const { clock, manager } = setup(backoff(3));
    let n = 0;
    const outcome = await settle(
      clock,
      manager.executeRecovery('step', 'Step', () => {
        n += 1;
        if (n < 2) throw network();
        return n;
      }),
    );
    expect(outcome).toMatchObject({ success: true, attempts: 2, output: 2 });
  });

  it('normalises non-Error throws', async () => {
    const { clock, manager } = setup({ strategy: RecoveryStrategy.FAIL_FAST });
    const outcome = await settle(
      clock,
      manager.executeRecovery('step', 'Step', () => {
        throw 'socket closed' as unknown as Error;
      }),
    );
    expect(outcome.error).toBeInstanceOf(Error);
    expect(outcome.error?.message).toBe('socket closed');
    expect(outcome.errorInfo?.category).toBe(ErrorCategory.NETWORK);
  });
});

describe('executeRecovery: other strategies', () => {
  it('SKIP: one call, success, skipped', async () => {
    const { clock, manager } = setup({ strategy: RecoveryStrategy.SKIP });
    const { calls, executor } = scripted([network()], 'x');
    const outcome = await settle(clock, manager.executeRecovery('step', 'Step', executor));
    expect(calls).toHaveLength(1);
    expect(outcome).toMatchObject({ success: true, skipped: true, attempts: 1, strategy: RecoveryStrategy.SKIP });
    expect(outcome).not.toHaveProperty('output');
  });

  it('FAIL_FAST: one call, failure (also the built-in answer to a critical error)', async () => {
    const { clock, manager } = setup();
    const critical = Object.assign(network(), { severity: 'critical' });
    const { calls, executor } = scripted([critical, critical], 'x');
    const outcome = await settle(clock, manager.executeRecovery('step', 'Step', executor));
    expect(calls).toHaveLength(1);
    expect(outcome).toMatchObject({ success: false, strategy: RecoveryStrategy.FAIL_FAST });
    expect(outcome.error).toBe(critical);
    expect(manager.getRetryCount('step')).toBe(0);
  });

  it('MANUAL_INTERVENTION: not automated, one call, failure with the instructions, never recovering', async () => {
    const { clock, manager, marks } = setup({ strategy: RecoveryStrategy.MANUAL_INTERVENTION, manualInstructions: 'Rotate the key.' });
    const { calls, executor } = scripted([network()], 'x');
    const outcome = await settle(clock, manager.executeRecovery('step', 'Step', executor));
    expect(calls).toHaveLength(1);
    expect(outcome.plan?.isAutomated()).toBe(false);
    expect(outcome).toMatchObject({ success: false, manualInstructions: 'Rotate the key.' });
    expect(marks).toEqual([]);
  });

  function fakeTarget(ids: string[], restores = true) {
    const restored: string[] = [];
    const target: RollbackTarget = {
      executionId: 'exec-ctx',
      checkpoints: ids.map((id) => ({ id })),
      restoreCheckpoint: (id) => {
        restored.push(id);
        return restores && ids.includes(id);
      },
    };
    return { restored, target };
  }

  it('ROLLBACK without a target restores the latest checkpoint', async () => {
    const { restored, target } = fakeTarget(['cp1', 'cp2']);
    const { clock, manager, marks } = setup({ strategy: RecoveryStrategy.ROLLBACK }, { executionContext: target });
    const { calls, executor } = scripted([network()], 'x');
    const outcome = await settle(clock, manager.executeRecovery('step', 'Step', executor));
    expect(restored).toEqual(['cp2']);
    expect(calls).toHaveLength(1);
    expect(outcome).toMatchObject({ success: true, rolledBackTo: 'cp2', strategy: RecoveryStrategy.ROLLBACK });
    expect(marks).toEqual([['exec-ctx', 'step', 'Rolling back to checkpoint cp2']]);
  });

  it('ROLLBACK to a named checkpoint, and the HIGH-severity default rolls back to the latest', async () => {
    const { restored, target } = fakeTarget(['cp1', 'cp2']);
    const { clock, manager } = setup({ strategy: RecoveryStrategy.ROLLBACK, targetCheckpoint: 'cp1' }, { executionContext: target });
    const named = await settle(clock, manager.executeRecovery('step', 'Step', scripted([network()], 'x').executor));
    expect(named.rolledBackTo).toBe('cp1');
    const auth = Object.assign(new Error('denied'), { status: 403 });
    const byDefault = await settle(clock, manager.executeRecovery('other', 'Other', scripted([auth], 'x').executor));
    expect(byDefault).toMatchObject({ success: true, rolledBackTo: 'cp2', strategy: RecoveryStrategy.ROLLBACK });
    expect(restored).toEqual(['cp1', 'cp2']);
  });

  it('ROLLBACK fails without a checkpoint, without a target, or when the restore is refused', async () => {
    const empty = fakeTarget([]);
    const a = setup({ strategy: RecoveryStrategy.ROLLBACK }, { executionContext: empty.target });
    const none = await settle(a.clock, a.manager.executeRecovery('step', 'Step', scripted([network()], 'x').executor));
    expect(none.success).toBe(false);
    expect(none.error).toMatchObject({ code: ErrorCode.CheckpointNotFound });
    expect(empty.restored).toEqual([]);

    const b = setup({ strategy: RecoveryStrategy.ROLLBACK });
    const noTarget = await settle(b.clock, b.manager.executeRecovery('step', 'Step', scripted([network()], 'x').executor));
    expect(noTarget.success).toBe(false);

    const refusing = fakeTarget(['cp1'], false);
    const c = setup({ strategy: RecoveryStrategy.ROLLBACK }, { executionContext: refusing.target });
    const refused = await settle(c.clock, c.manager.executeRecovery('step', 'Step', scripted([network()], 'x').executor));
    expect(refused.success).toBe(false);
    expect(refused.error).toMatchObject({ code: ErrorCode.CheckpointNotFound });
    expect(refusing.restored).toEqual(['cp1']);
  });

  it('ALTERNATIVE_PATH runs the alternatives in order; the first success wins', async () => {
    const { clock, manager } = setup({ strategy: RecoveryStrategy.ALTERNATIVE_PATH });
    const order: string[] = [];
    const outcome = await settle(
      clock,
      manager.executeRecovery('step', 'Step', scripted([network()], 'main').executor, {
        alternatives: [
          () => {
            order.push('first');
            throw new Error('first failed');
          },
          () => {
            order.push('second');
            return 'from second';
          },
          () => {
            order.push('third');
            return 'from third';
          },
        ],
      }),
    );
    expect(order).toEqual(['first', 'second']);
    expect(outcome).toMatchObject({ success: true, output: 'from second', alternative: '1', attempts: 1 });
    expect(manager.getErrorHistory().map((i) => i.message)).toEqual(['reset', 'first failed']);
  });

  it('ALTERNATIVE_PATH picks named alternatives in the order of plan.alternativeSteps', async () => {
    const { clock, manager } = setup({ strategy: RecoveryStrategy.ALTERNATIVE_PATH, alternativeSteps: ['cache', 'mirror'] });
    const order: string[] = [];
    const outcome = await settle(
      clock,
      manager.executeRecovery('step', 'Step', scripted([network()], 'main').executor, {
        alternatives: {
          mirror: () => {
            order.push('mirror');
            return 'mirror';
          },
          cache: () => {
            order.push('cache');
            return Promise.reject(new Error('cache miss'));
          },
          unused: () => 'unused',
        },
      }),
    );
    expect(order).toEqual(['cache', 'mirror']);
    expect(outcome).toMatchObject({ success: true, output: 'mirror', alternative: 'mirror' });
  });

  it('ALTERNATIVE_PATH fails when there are none or all fail', async () => {
    const { clock, manager } = setup({ strategy: RecoveryStrategy.ALTERNATIVE_PATH });
    const none = await settle(clock, manager.executeRecovery('step', 'Step', scripted([network()], 'x').executor));
    expect(none.success).toBe(false);
    expect(none.error).toMatchObject({ code: ErrorCode.InvalidState });
    const allFail = await settle(
      clock,
      manager.executeRecovery('step', 'Step', scripted([network()], 'x').executor, {
        alternatives: [() => Promise.reject(new Error('a')), () => Promise.reject(new Error('b'))],
      }),
    );
    expect(allFail.success).toBe(false);
    expect(allFail.error?.message).toBe('b');
  });
});

describe('executeRecovery: timeouts and cancellation', () => {
  /** Never settles on its own; rejects with the signal's reason when aborted. */
  function hanging() {
    const signals: AbortSignal[] = [];
    const executor = ({ signal }: StepRunContext): Promise<never> =>
      new Promise((_, reject) => {
        signals.push(signal);
        signal.addEventListener('abort', () => {
          reject(signal.reason as Error);
        });
      });
    return { signals, executor };
  }

  it('plan.timeoutMs aborts each attempt\'s signal and fails it with StepTimeoutError', async () => {
    const { clock, manager } = setup({ strategy: RecoveryStrategy.RETRY, timeoutMs: 5000, retryConfig: { maxAttempts: 2, initialDelayMs: 100 } });
    const { signals, executor } = hanging();
    const outcome = await settle(clock, manager.executeRecovery('step', 'Step', executor));
    expect(signals).toHaveLength(2);
    expect(signals.every((s) => s.aborted && s.reason instanceof StepTimeoutError)).toBe(true);
    expect(outcome.success).toBe(false);
    expect(outcome.error).toBeInstanceOf(StepTimeoutError);
    expect(outcome.error).toMatchObject({ name: 'TimeoutError', code: ErrorCode.StepTimeout });
    expect(outcome.errorInfo?.category).toBe(ErrorCategory.TIMEOUT);
    expect(clock.scheduledDelays).toEqual([5000, 100, 5000]);
    expect(clock.pendingTimers).toBe(0);
  });

  it('a timeout fails the attempt even when the executor ignores the signal; a late result is dropped', async () => {
    const { clock, manager } = setup({ strategy: RecoveryStrategy.RETRY, timeoutMs: 1000, retryConfig: { maxAttempts: 2, initialDelayMs: 0 } });
    let calls = 0;
    const outcome = await settle(
      clock,
      manager.executeRecovery('step', 'Step', () => {
        calls += 1;
        return calls === 1 ? new Promise<string>(() => undefined) : 'second';
      }),
    );
    expect(outcome).toMatchObject({ success: true, output: 'second', attempts: 2 });
    expect(manager.getErrorHistory()[0]).toMatchObject({ errorType: 'TimeoutError', category: ErrorCategory.TIMEOUT, context: { timedOut: true } });
  });

  it('options.timeoutMs bounds attempts when the plan has none', async () => {
    const { clock, manager } = setup({ strategy: RecoveryStrategy.FAIL_FAST });
    const { signals, executor } = hanging();
    const outcome = await settle(clock, manager.executeRecovery('step', 'Step', executor, { timeoutMs: 250 }));
    expect(signals[0]?.aborted).toBe(true);
    expect(outcome.error).toBeInstanceOf(StepTimeoutError);
    expect(clock.now()).toBe(250);
  });

  it("the caller's signal cancels during backoff: no further call, cancelled outcome", async () => {
    const { clock, manager } = setup(backoff(5));
    const controller = new AbortController();
    const { calls, executor } = scripted([network(), network()], 'x');
    const running = manager.executeRecovery('step', 'Step', executor, { signal: controller.signal });
    for (let i = 0; i < 5 && clock.pendingTimers === 0; i++) await flush();
    controller.abort(new Error('user stop'));
    const outcome: RecoveryOutcome = await running;
    expect(calls).toHaveLength(1);
    expect(outcome).toMatchObject({ success: false, cancelled: true });
    expect(outcome.error).toMatchObject({ code: ErrorCode.Cancelled });
    expect(clock.pendingTimers).toBe(0);
    expect(manager.isStepRecovering('step')).toBe(false);
  });

  it("the caller's signal aborts a running attempt's signal", async () => {
    const { manager } = setup(backoff(5));
    const controller = new AbortController();
    const { signals, executor } = hanging();
    const running = manager.executeRecovery('step', 'Step', executor, { signal: controller.signal });
    await flush();
    controller.abort();
    const outcome = await running;
    expect(signals).toHaveLength(1);
    expect(signals[0]?.aborted).toBe(true);
    expect(outcome).toMatchObject({ cancelled: true, attempts: 1 });
    expect(manager.getErrorHistory()).toEqual([]);
  });

  it('an already aborted signal runs nothing', async () => {
    const { manager } = setup();
    const { calls, executor } = scripted([], 'x');
    const outcome = await manager.executeRecovery('step', 'Step', executor, { signal: AbortSignal.abort() });
    expect(calls).toHaveLength(0);
    expect(outcome.cancelled).toBe(true);
  });

  it('shutdown cancels running loops and refuses new ones', async () => {
    const { clock, manager } = setup(backoff(5));
    const { calls, executor } = scripted([network(), network()], 'x');
    const running = manager.executeRecovery('step', 'Step', executor);
    for (let i = 0; i < 5 && clock.pendingTimers === 0; i++) await flush();
    manager.shutdown();
    expect((await running).cancelled).toBe(true);
    expect(calls).toHaveLength(1);
    await expect(manager.executeRecovery('step', 'Step', executor)).rejects.toMatchObject({ code: ErrorCode.ManagerShutDown });
  });

  it('uses an injected sleep instead of the clock', async () => {
    const { clock, manager } = setup(backoff(3));
    const slept: number[] = [];
    const { executor } = scripted([network(), network()], 'x');
    const outcome = await manager.executeRecovery('step', 'Step', executor, {
      sleep: (ms) => {
        slept.push(ms);
        return Promise.resolve();
      },
    });
    expect(outcome.success).toBe(true);
    expect(slept).toEqual([1000, 2000]);
    expect(clock.scheduledDelays).toEqual([]);
  });

  it('refuses bad input before running anything', async () => {
    const { manager } = setup();
    const { calls, executor } = scripted([], 'x');
    await expect(manager.executeRecovery('', 'Step', executor)).rejects.toMatchObject({ code: 'INVALID_INPUT' });
    await expect(manager.executeRecovery('step', 'Step', 'nope' as never)).rejects.toMatchObject({ code: 'INVALID_INPUT' });
    await expect(manager.executeRecovery('step', 'Step', executor, { timeoutMs: -1 })).rejects.toMatchObject({ code: 'INVALID_INPUT' });
    expect(calls).toHaveLength(0);
  });
});

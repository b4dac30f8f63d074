/**
 * A step cut short by the end of its execution (cancel, or complete/fail
 * with the step still in flight) gets its record from the execution actor,
 * not from the step actor: that record must still say how far the step got
 * (the attempt it was on and the retries it made), not `attempts: 0`.
 */
import { describe, expect, it } from 'vitest';
import { RecoveryPlan, RetryConfig } from '../src/services/recovery/index.js';
import { RecoveryStrategy } from '../src/constants.js';
import type { StepExecutorArgs } from '../src/services/manager/step-runtime.js';
import { createHarness, driveUntil, flush, networkError, type Harness } from './helpers/manager-harness.js';

const retryPlan = (): RecoveryPlan =>
  new RecoveryPlan({
    strategy: RecoveryStrategy.RETRY_WITH_BACKOFF,
    retryConfig: new RetryConfig({ maxAttempts: 5, initialDelayMs: 1000, backoffFactor: 2, maxDelayMs: 10_000, jitter: 'none' }),
  });

/**
 * Starts step "fetch" whose first two attempts fail with a network error and
 * whose third hangs until aborted; resolves once the third attempt runs.
 */
async function stepOnThirdAttempt(harness: Harness): Promise<{ calls: StepExecutorArgs[]; result: Promise<boolean> }> {
  const { manager, clock } = harness;
  const calls: StepExecutorArgs[] = [];
  const executor = (args: StepExecutorArgs): Promise<string> => {
    calls.push(args);
    if (calls.length <= 2) return Promise.reject(networkError());
    return new Promise<string>((_resolve, reject) => {
      args.signal.addEventListener('abort', () => {
        reject(new Error('aborted'));
      });
    });
  };
  manager.startExecution(1);
  const result = manager.executeStepWithRecovery('fetch', 'Fetch', executor, { recoveryPlan: retryPlan() });
  expect(await driveUntil(clock, () => calls.length === 3)).toBe(true);
  await flush();
  expect(calls.map((call) => call.attempt)).toEqual([1, 2, 3]);
  expect(clock.scheduledDelays).toEqual([1000, 2000]);
  expect(calls[2]?.signal.aborted).toBe(false);
  return { calls, result };
}

describe('a step in flight when its execution ends keeps its attempts', () => {
  it('cancelExecution() during the 3rd attempt: cancelled, attempts 3, retries 2', async () => {
    const harness = createHarness();
    const { manager } = harness;
    const { calls, result } = await stepOnThirdAttempt(harness);

    expect(manager.cancelExecution('stopped by the user')).toBe(true);
    await flush();

    expect(manager.getStepRecord('fetch')).toMatchObject({
      status: 'cancelled',
      attempts: 3,
      retries: 2,
      reason: 'stopped by the user',
    });
    expect(calls[2]?.signal.aborted).toBe(true);
    expect(calls).toHaveLength(3);
    await expect(result).resolves.toBe(false);
  });

  it.each([true, false])('completeExecution(%s) during the 3rd attempt: cancelled, attempts 3, retries 2', async (success) => {
    const harness = createHarness();
    const { manager } = harness;
    const { calls, result } = await stepOnThirdAttempt(harness);

    manager.completeExecution(success);
    await flush();

    expect(manager.getStepRecord('fetch')).toMatchObject({
      status: 'cancelled',
      attempts: 3,
      retries: 2,
      reason: 'Execution ended while the step was running',
    });
    expect(calls[2]?.signal.aborted).toBe(true);
    await expect(result).resolves.toBe(false);
  });

  it('a step on its first attempt (executor or manual): attempts 1, retries 0', async () => {
    const { manager } = createHarness();
    manager.startExecution(2);
    const hanging = manager.executeStepWithRecovery('load', 'Load', ({ signal }) =>
      new Promise<never>((_resolve, reject) => {
        signal.addEventListener('abort', () => {
          reject(new Error('aborted'));
        });
      }),
    );
    manager.startStep('review', 'Review');
    await flush();

    manager.cancelExecution();
    await flush();

    expect(manager.getStepRecord('load')).toMatchObject({ status: 'cancelled', attempts: 1, retries: 0 });
    expect(manager.getStepRecord('review')).toMatchObject({ status: 'cancelled', attempts: 1, retries: 0 });
    await expect(hanging).resolves.toBe(false);
  });
});

import { describe, expect, it } from 'vitest';
import {
  ErrorCode,
  ExecutionError,
  ExecutionStatus,
  FatalError,
  ProgressEventType,
  RecoveryStrategy,
  SimulatedClock,
} from '../src/index.js';
import { definePipeline, runPipeline } from '../src/runner/index.js';
import { T0, drive } from './helpers/manager-harness.js';
import { ticks, untilAborted } from './runner.helpers.js';

describe('timeouts', () => {
  it('abort the attempt through its signal with STEP_TIMEOUT and fail the step', async () => {
    const clock = new SimulatedClock(T0);
    let reason: unknown;
    const pipeline = definePipeline({
      id: 'timeouts',
      steps: [
        {
          id: 'slow',
          timeoutMs: 1000,
          recovery: { strategy: RecoveryStrategy.FAIL_FAST },
          run: async ({ signal }) => {
            try {
              await untilAborted(signal);
            } catch (error) {
              reason = error;
              throw error;
            }
          },
        },
        { id: 'after', dependsOn: ['slow'], run: () => 1 },
      ],
    });
    const result = await drive(clock, runPipeline(pipeline, { clock }).done);

    expect(reason).toBeInstanceOf(ExecutionError);
    expect((reason as ExecutionError).code).toBe(ErrorCode.StepTimeout);
    expect(clock.now() - T0).toBe(1000);
    expect(result.status).toBe(ExecutionStatus.FAILED);
    expect(result.steps[0]).toMatchObject({ id: 'slow', status: 'failed', attempts: 1, error: 'Step "slow" timed out after 1000 ms' });
    expect(result.steps[1]).toMatchObject({ id: 'after', status: 'skipped', reason: 'dependency "slow" did not complete' });
  });

  it('bound every retry of a step with `retry`', async () => {
    const clock = new SimulatedClock(T0);
    let calls = 0;
    const pipeline = definePipeline({
      id: 'timeouts',
      steps: [
        {
          id: 'slow',
          timeoutMs: 1000,
          retry: { maxAttempts: 3, initialDelayMs: 500, backoffFactor: 2 },
          run: async ({ signal }) => {
            calls += 1;
            await untilAborted(signal);
          },
        },
      ],
    });
    const result = await drive(clock, runPipeline(pipeline, { clock }).done);
    expect(calls).toBe(3);
    expect(result.steps[0]).toMatchObject({ status: 'failed', attempts: 3, retries: 2 });
    // Three attempts of 1 s, then waits of 500 ms and 1 s between them.
    expect(clock.now() - T0).toBe(4500);
  });
});

describe('cancellation', () => {
  it('aborts running steps, records them cancelled and leaves the rest pending', async () => {
    let signalReason: unknown;
    const pipeline = definePipeline({
      id: 'cancel',
      steps: [
        { id: 'quick', run: () => 'q' },
        {
          id: 'long',
          dependsOn: ['quick'],
          run: async ({ signal }) => {
            try {
              await untilAborted(signal);
            } catch (error) {
              signalReason = error;
              throw error;
            }
          },
        },
        { id: 'next', dependsOn: ['long'], run: () => 'n' },
      ],
    });
    const run = runPipeline(pipeline);
    run.on(ProgressEventType.STEP_STARTED, (event) => {
      if (event.stepId === 'long') run.cancel('enough');
    });
    const result = await run.done;

    expect(result.status).toBe(ExecutionStatus.CANCELLED);
    expect(signalReason).toBeInstanceOf(Error);
    expect(result.steps.map((step) => [step.id, step.status])).toEqual([
      ['quick', 'completed'],
      ['long', 'cancelled'],
      ['next', 'pending'],
    ]);
    expect(result.steps[1]?.reason).toBe('enough');
    expect(result.outputs).toEqual({ quick: 'q' });
    expect(result.report.status).toBe(ExecutionStatus.CANCELLED);
  });

  it('follows the `signal` option', async () => {
    const controller = new AbortController();
    const pipeline = definePipeline({
      id: 'cancel',
      steps: [{ id: 'long', run: ({ signal }) => untilAborted(signal) }],
    });
    const run = runPipeline(pipeline, { signal: controller.signal });
    run.on(ProgressEventType.STEP_STARTED, () => {
      controller.abort(new Error('caller gave up'));
    });
    const result = await run.done;
    expect(result.status).toBe(ExecutionStatus.CANCELLED);
    expect(result.steps[0]).toMatchObject({ status: 'cancelled', reason: 'caller gave up' });
  });

  it('before anything started leaves every step pending', async () => {
    let calls = 0;
    const pipeline = definePipeline({ id: 'cancel', steps: [{ id: 'a', run: () => (calls += 1) }] });
    const run = runPipeline(pipeline);
    run.cancel();
    const result = await run.done;
    expect(result.status).toBe(ExecutionStatus.CANCELLED);
    expect(calls).toBe(0);
    expect(result.steps[0]?.status).toBe('pending');
  });
});

describe('pause and resume', () => {
  it('stop starting new steps, let the running one finish, and continue on resume', async () => {
    const started: string[] = [];
    const pipeline = definePipeline({
      id: 'pause',
      steps: [
        { id: 'a', run: () => started.push('a') },
        { id: 'b', run: async () => {
          started.push('b');
          await ticks(5);
          return 'b';
        } },
        { id: 'c', dependsOn: ['a', 'b'], run: () => started.push('c') },
      ],
    });
    const run = runPipeline(pipeline);
    const completed: string[] = [];
    run.on(ProgressEventType.STEP_COMPLETED, (event) => completed.push(event.stepId ?? '?'));
    run.on(ProgressEventType.STEP_STARTED, (event) => {
      if (event.stepId === 'b') run.pause();
    });
    await ticks(30);
    // b was in flight and finished; c did not start while paused.
    expect(completed.sort()).toEqual(['a', 'b']);
    expect(started).not.toContain('c');
    run.resume();
    const result = await run.done;
    expect(result.status).toBe(ExecutionStatus.COMPLETED);
    expect(started).toContain('c');
  });

  it('paused before the first step, nothing starts until resume; cancel while paused ends it', async () => {
    let calls = 0;
    const pipeline = definePipeline({ id: 'pause', steps: [{ id: 'a', run: () => (calls += 1) }] });
    const run = runPipeline(pipeline);
    run.pause();
    await ticks(20);
    expect(calls).toBe(0);
    run.cancel('not today');
    const result = await run.done;
    expect(result.status).toBe(ExecutionStatus.CANCELLED);
    expect(calls).toBe(0);
  });
});

describe('conditions', () => {
  it('skip a step whose condition is false; its dependents still run', async () => {
    const seen: unknown[] = [];
    const pipeline = definePipeline({
      id: 'when',
      steps: [
        { id: 'size', run: () => 3 },
        { id: 'big', dependsOn: ['size'], when: ({ outputs }) => (outputs.size as number) > 10, run: () => 'big' },
        { id: 'small', dependsOn: ['size'], when: ({ outputs }) => Promise.resolve((outputs.size as number) <= 10), run: () => 'small' },
        { id: 'report', dependsOn: ['big', 'small'], run: ({ outputs }) => {
          seen.push({ ...outputs });
          return 'ok';
        } },
      ],
    });
    const result = await runPipeline(pipeline).done;
    expect(result.status).toBe(ExecutionStatus.COMPLETED);
    expect(result.steps.map((step) => [step.id, step.status])).toEqual([
      ['size', 'completed'],
      ['big', 'skipped'],
      ['small', 'completed'],
      ['report', 'completed'],
    ]);
    expect(result.steps[1]?.reason).toBe('its condition was false');
    expect(seen).toEqual([{ big: undefined, small: 'small' }]);
    expect(result.report.progress).toMatchObject({ completedSteps: 3, skippedSteps: 1, percentage: 100 });
  });

  it('a condition that throws fails its step', async () => {
    const pipeline = definePipeline({
      id: 'when',
      steps: [{ id: 'a', when: () => {
        throw new Error('cannot decide');
      }, run: () => 1 }],
    });
    const result = await runPipeline(pipeline).done;
    expect(result.status).toBe(ExecutionStatus.FAILED);
    expect(result.steps[0]).toMatchObject({ status: 'failed', error: 'cannot decide' });
  });
});

describe('a failed step', () => {
  it('skips what depends on it, lets independent branches finish, and fails the execution', async () => {
    const pipeline = definePipeline({
      id: 'fail',
      steps: [
        { id: 'a', run: () => {
          throw new FatalError('broken input');
        } },
        { id: 'b', dependsOn: ['a'], run: () => 'b' },
        { id: 'c', dependsOn: ['b'], run: () => 'c' },
        { id: 'd', run: async () => {
          await ticks(3);
          return 'd';
        } },
      ],
    });
    const result = await runPipeline(pipeline).done;
    expect(result.status).toBe(ExecutionStatus.FAILED);
    expect(result.steps.map((step) => [step.id, step.status, step.error ?? step.reason])).toEqual([
      ['a', 'failed', 'broken input'],
      ['b', 'skipped', 'dependency "a" did not complete'],
      ['c', 'skipped', 'upstream step "a" did not complete'],
      ['d', 'completed', null],
    ]);
    expect(result.outputs).toEqual({ d: 'd' });
    expect(result.report.progress).toMatchObject({ failedSteps: 1, skippedSteps: 2, completedSteps: 1 });
  });
});

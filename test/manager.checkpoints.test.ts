import { describe, expect, it } from 'vitest';
import { ExecutionStatus, ProgressEventType, StepStatus } from '../src/constants.js';
import { ErrorCode, ExecutionError } from '../src/errors.js';
import { createHarness, drive, driveUntil, flush, networkError, T0 } from './helpers/manager-harness.js';

describe('createCheckpoint', () => {
  it('returns unique, non-8-char ids and a record that round-trips through JSON', async () => {
    const { manager, clock, eventsOf } = createHarness();
    manager.startExecution(2);
    manager.variableManager.setVariable('answer', { n: 42, list: [1, 'two', null] });
    await drive(clock, manager.executeStepWithRecovery('a', 'A', () => ({ rows: [1, 2] })));
    manager.startStep('b', 'B');
    manager.updateStepProgress('b', 30);

    const ids = new Set<string>();
    for (let i = 0; i < 25; i++) {
      const checkpoint = manager.createCheckpoint(`cp ${i}`);
      expect(checkpoint.id).not.toHaveLength(8);
      expect(checkpoint.id.length).toBeGreaterThanOrEqual(16);
      ids.add(checkpoint.id);
      expect(JSON.parse(JSON.stringify(checkpoint))).toEqual(checkpoint);
      expect(checkpoint.description).toBe(`cp ${i}`);
      expect(checkpoint.createdAt).toBe(new Date(T0).toISOString());
    }
    expect(ids.size).toBe(25);
    // 10 kept in memory by default.
    expect(manager.getExecutionStatus().checkpoints).toBe(10);
    expect(eventsOf(ProgressEventType.CHECKPOINT_CREATED).length).toBe(26);
    const last = manager.executionContext.checkpoints.at(-1)!;
    expect(last.extensions.engine).toBeDefined();
    expect(last.variables.variables.answer?.value).toEqual({ n: 42, list: [1, 'two', null] });
  });
});

describe('restoreCheckpoint', () => {
  it('returns false for an unknown id and changes nothing', () => {
    const { manager, events } = createHarness();
    manager.startExecution(1);
    const before = manager.getExecutionStatus();
    const eventCount = events.length;
    expect(manager.restoreCheckpoint('no-such-checkpoint')).toBe(false);
    expect(manager.getExecutionStatus()).toEqual(before);
    expect(events).toHaveLength(eventCount);
  });

  it('refuses a non-string id with INVALID_INPUT', () => {
    const { manager } = createHarness();
    manager.startExecution(1);
    let error: unknown;
    try {
      manager.restoreCheckpoint(42 as unknown as string);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ExecutionError);
    expect((error as ExecutionError).code).toBe(ErrorCode.InvalidInput);
  });

  it('brings variables, metrics and progress back', async () => {
    const { manager, clock, eventsOf } = createHarness();
    manager.startExecution(3);
    manager.variableManager.setVariable('phase', 'extract');
    await drive(clock, manager.executeStepWithRecovery('a', 'A', () => 'A-out'));
    const checkpoint = manager.createCheckpoint('after a');
    const atCheckpoint = manager.getExecutionStatus();

    manager.variableManager.setVariable('phase', 'load');
    manager.variableManager.setVariable('extra', true);
    await drive(clock, manager.executeStepWithRecovery('b', 'B', () => 'B-out'));
    manager.completeStep('c', { success: false, error: new Error('c broke') });
    expect(manager.getExecutionStatus().progress).toMatchObject({ completedSteps: 2, failedSteps: 1 });

    expect(manager.restoreCheckpoint(checkpoint.id)).toBe(true);

    expect(manager.variableManager.getVariable('phase')).toBe('extract');
    expect(manager.variableManager.hasVariable('extra')).toBe(false);
    const status = manager.getExecutionStatus();
    expect(status.metrics).toEqual(atCheckpoint.metrics);
    expect(status.progress).toEqual(atCheckpoint.progress);
    expect(status.progress).toMatchObject({ completedSteps: 1, failedSteps: 0 });
    expect(manager.progressTracker.getStepProgress('exec-1', 'b')).toBeUndefined();
    expect(manager.progressTracker.getStepProgress('exec-1', 'c')).toBeUndefined();
    expect(manager.progressTracker.getStepProgress('exec-1', 'a')?.status).toBe(StepStatus.COMPLETED);
    expect(manager.getStepOutput('a')).toBe('A-out');
    expect(manager.getStepOutput('b')).toBeUndefined();
    expect(eventsOf(ProgressEventType.CHECKPOINT_RESTORED).map((e) => e.data.checkpointId)).toEqual([checkpoint.id]);

    // "b" is no longer completed: it runs again.
    let calls = 0;
    expect(
      await drive(
        clock,
        manager.executeStepWithRecovery('b', 'B', () => {
          calls += 1;
          return 'B-again';
        }),
      ),
    ).toBe(true);
    expect(calls).toBe(1);
  });

  it('resets retry counts of the steps it keeps', async () => {
    const { manager, clock } = createHarness();
    manager.startExecution(2);
    let n = 0;
    await drive(
      clock,
      manager.executeStepWithRecovery('a', 'A', () => {
        n += 1;
        if (n < 3) throw networkError();
        return 'ok';
      }),
    );
    expect(manager.recoveryManager.getRetryCount('a')).toBe(2);
    const checkpoint = manager.createCheckpoint('after a');
    expect(manager.restoreCheckpoint(checkpoint.id)).toBe(true);
    expect(manager.recoveryManager.getRetryCount('a')).toBe(0);
    expect(manager.getExecutionStatus().recovery.stepsWithRetries).toBe(0);
  });

  // BUG (reported): #rebuildFrom resets retry counts only for the steps the
  // checkpoint keeps and for steps with a pending caller; a step that finished
  // after the checkpoint keeps its count (SPEC: a restore resets retry counts).
  it('resets retry counts of steps that ran after the checkpoint too', async () => {
    const { manager, clock } = createHarness();
    manager.startExecution(2);
    const checkpoint = manager.createCheckpoint('before a');
    let n = 0;
    await drive(
      clock,
      manager.executeStepWithRecovery('a', 'A', () => {
        n += 1;
        if (n < 2) throw networkError();
        return 'ok';
      }),
    );
    expect(manager.recoveryManager.getRetryCount('a')).toBe(1);
    expect(manager.restoreCheckpoint(checkpoint.id)).toBe(true);
    expect(manager.recoveryManager.getRetryCount('a')).toBe(0);
    expect(manager.getExecutionStatus().recovery.stepsWithRetries).toBe(0);
  });

  it('a checkpoint restored right after it was taken leaves getExecutionStatus() deep-equal', async () => {
    const { manager, clock } = createHarness();
    manager.startExecution(4);
    await drive(clock, manager.executeStepWithRecovery('a', 'A', () => 1));
    manager.completeStep('b', { success: false, error: new Error('b broke') });
    manager.skipStep('c', 'not today');
    manager.startStep('d', 'D');
    manager.updateStepProgress('d', 35);
    manager.handleStepError('d', 'D', networkError());
    manager.variableManager.setVariable('x', [1, 2, 3]);
    clock.advance(1234);

    const checkpoint = manager.createCheckpoint('now');
    const before = manager.getExecutionStatus();
    const variables = manager.variableManager.exportState();
    expect(manager.restoreCheckpoint(checkpoint.id)).toBe(true);
    expect(manager.getExecutionStatus()).toEqual(before);
    expect(manager.variableManager.exportState()).toEqual(variables);
    expect(before.progress).toMatchObject({ completedSteps: 1, failedSteps: 1, skippedSteps: 1, runningSteps: 1 });

    // The restored manual step is still alive and can be completed.
    manager.completeStep('d');
    expect(manager.getExecutionStatus().progress).toMatchObject({ completedSteps: 2, runningSteps: 0, percentage: 100 });
  });

  it('a checkpoint taken while a step waits to retry restores, and the step still retries and completes', async () => {
    const { manager, clock } = createHarness();
    manager.startExecution(1);
    const attempts: number[] = [];
    const run = manager.executeStepWithRecovery('fetch', 'Fetch', ({ attempt }) => {
      attempts.push(attempt);
      if (attempt === 1) throw networkError();
      return 'fetched';
    });
    await flush();
    expect(manager.isStepRecovering('fetch')).toBe(true);
    clock.advance(1500);
    const checkpoint = manager.createCheckpoint('while recovering');

    expect(manager.restoreCheckpoint(checkpoint.id)).toBe(true);
    expect(manager.isStepRecovering('fetch')).toBe(true);
    expect(manager.getExecutionStatus().recovery.activeRecoveries).toBe(1);

    expect(await drive(clock, run)).toBe(true);
    expect(attempts).toEqual([1, 2]);
    // The restored wait only waits what was left of the 2 s backoff.
    expect(clock.scheduledDelays).toEqual([2000, 500]);
    expect(clock.now()).toBe(T0 + 2000);
    expect(manager.getStepRecord('fetch')).toMatchObject({ status: 'completed', attempts: 2, retries: 1 });
    expect(manager.getStepOutput('fetch')).toBe('fetched');
    expect(manager.isStepRecovering('fetch')).toBe(false);
    expect(manager.getExecutionStatus().progress).toMatchObject({ completedSteps: 1, runningSteps: 0 });
  });

  it('a checkpoint taken while recovering, restored later (after the retry ran), runs the retry again', async () => {
    const { manager, clock } = createHarness();
    manager.startExecution(1);
    const attempts: number[] = [];
    const run = manager.executeStepWithRecovery('fetch', 'Fetch', ({ attempt }) => {
      attempts.push(attempt);
      if (attempt === 1) throw networkError();
      return `fetched ${attempts.length}`;
    });
    await flush();
    const checkpoint = manager.createCheckpoint('while recovering');
    expect(await drive(clock, run)).toBe(true);
    expect(attempts).toEqual([1, 2]);

    expect(manager.restoreCheckpoint(checkpoint.id)).toBe(true);
    expect(manager.isStepRecovering('fetch')).toBe(true);
    const completed = await driveUntil(clock, () => manager.getStepRecord('fetch')?.status === 'completed', 10);
    expect(completed).toBe(true);
    expect(attempts).toEqual([1, 2, 2]);
    expect(manager.getStepOutput('fetch')).toBe('fetched 3');
  });

  // BUG (reported): #rebuildFrom does not bring the RecoveryManager's
  // recovering flags in line with the restored actors: restoring past a
  // recovering step leaves recoveryManager.isStepRecovering() true (and its
  // activeRecoveries 1), restoring into one leaves it false.
  it('the RecoveryManager\'s recovering flags follow a restore', async () => {
    const { manager } = createHarness();
    manager.startExecution(1);
    const started = manager.executionContext.checkpoints[0]!;
    const run = manager.executeStepWithRecovery('a', 'A', ({ attempt }) => {
      if (attempt === 1) throw networkError();
      return 'ok';
    });
    await flush();
    const whileRecovering = manager.createCheckpoint('while recovering');
    expect(manager.recoveryManager.isStepRecovering('a')).toBe(true);

    // Back past the step's start: nothing recovers any more.
    expect(manager.restoreCheckpoint(started.id)).toBe(true);
    expect(await run).toBe(false);
    expect(manager.isStepRecovering('a')).toBe(false);
    expect(manager.getExecutionStatus().recovery.activeRecoveries).toBe(0);
    expect(manager.recoveryManager.getRecoveryStatus().activeRecoveries).toBe(0);
    expect(manager.recoveryManager.isStepRecovering('a')).toBe(false);

    // Into the recovering wait again: the step recovers.
    expect(manager.restoreCheckpoint(whileRecovering.id)).toBe(true);
    expect(manager.isStepRecovering('a')).toBe(true);
    expect(manager.recoveryManager.isStepRecovering('a')).toBe(true);
  });

  it('restores a finished execution back to running', async () => {
    const { manager, clock } = createHarness();
    manager.startExecution(2);
    const started = manager.executionContext.checkpoints[0]!;
    await drive(clock, manager.executeStepWithRecovery('a', 'A', () => 1));
    manager.completeExecution(true);
    expect(manager.getExecutionStatus().status).toBe(ExecutionStatus.COMPLETED);

    expect(manager.restoreCheckpoint(started.id)).toBe(true);
    const status = manager.getExecutionStatus();
    expect(status.status).toBe(ExecutionStatus.RUNNING);
    expect(status.progress.completedSteps).toBe(0);
    expect(status.metrics.endTime).toBeNull();
    manager.startStep('b', 'B');
    manager.completeStep('b');
    expect(manager.getExecutionStatus().progress.completedSteps).toBe(1);
  });
});

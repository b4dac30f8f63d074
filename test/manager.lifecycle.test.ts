import { describe, expect, it } from 'vitest';
import {
  ExecutionStatus,
  ProgressEventType,
  StepStatus,
  VariableScope,
  VariableType,
} from '../src/constants.js';
import { ErrorCode, ExecutionError } from '../src/errors.js';
import { createHarness, T0 } from './helpers/manager-harness.js';

/** Runs `fn` and returns the ExecutionError it throws (fails the test otherwise). */
function thrown(fn: () => unknown): ExecutionError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(ExecutionError);
    return error as ExecutionError;
  }
  throw new Error('expected an ExecutionError, nothing was thrown');
}

describe('ComprehensiveExecutionManager lifecycle', () => {
  it('startExecution makes the execution running, emits EXECUTION_STARTED and takes the "execution_started" checkpoint', () => {
    const { manager, eventsOf } = createHarness();
    expect(manager.getExecutionStatus().status).toBe(ExecutionStatus.PENDING);

    manager.startExecution(4);

    const status = manager.getExecutionStatus();
    expect(status.status).toBe(ExecutionStatus.RUNNING);
    expect(status.progress.totalSteps).toBe(4);
    expect(status.metrics.startTime).toBe(new Date(T0).toISOString());
    expect(eventsOf(ProgressEventType.EXECUTION_STARTED)).toHaveLength(1);
    expect(eventsOf(ProgressEventType.EXECUTION_STARTED)[0]?.executionId).toBe('exec-1');
    expect(manager.executionContext.checkpoints.map((c) => c.description)).toEqual(['execution_started']);
    expect(status.checkpoints).toBe(1);
    expect(eventsOf(ProgressEventType.CHECKPOINT_CREATED)).toHaveLength(1);
  });

  it('completeExecution(true) -> completed, duration in seconds from the clock, EXECUTION_COMPLETED, final checkpoint', () => {
    const { manager, clock, eventsOf } = createHarness();
    manager.startExecution(1);
    clock.advance(12_500);
    manager.completeExecution(true);

    const status = manager.getExecutionStatus();
    expect(status.status).toBe(ExecutionStatus.COMPLETED);
    expect(status.metrics.duration).toBe(12.5);
    expect(status.metrics.endTime).toBe(new Date(T0 + 12_500).toISOString());
    expect(eventsOf(ProgressEventType.EXECUTION_COMPLETED)).toHaveLength(1);
    expect(eventsOf(ProgressEventType.EXECUTION_FAILED)).toHaveLength(0);
    const checkpoints = manager.executionContext.checkpoints;
    expect(checkpoints).toHaveLength(2);
    expect(checkpoints.at(-1)?.status).toBe(ExecutionStatus.COMPLETED);

    // The duration is fixed: time passing afterwards does not change it.
    clock.advance(60_000);
    expect(manager.getExecutionStatus().metrics.duration).toBe(12.5);
  });

  it('completeExecution(false) -> failed with EXECUTION_FAILED and a final checkpoint', () => {
    const { manager, clock, eventsOf } = createHarness();
    manager.startExecution(1);
    clock.advance(3000);
    manager.completeExecution(false);

    const status = manager.getExecutionStatus();
    expect(status.status).toBe(ExecutionStatus.FAILED);
    expect(status.metrics.duration).toBe(3);
    expect(eventsOf(ProgressEventType.EXECUTION_FAILED)).toHaveLength(1);
    expect(eventsOf(ProgressEventType.EXECUTION_COMPLETED)).toHaveLength(0);
    expect(manager.executionContext.checkpoints.at(-1)?.status).toBe(ExecutionStatus.FAILED);
    expect(status.checkpoints).toBe(2);
  });

  it('refuses state-changing calls after completion with INVALID_STATE and changes nothing', async () => {
    const { manager } = createHarness();
    manager.startExecution(2);
    manager.completeExecution(true);
    const before = manager.getExecutionStatus();

    for (const call of [
      () => { manager.startExecution(1); },
      () => { manager.completeExecution(false); },
      () => { manager.startStep('late', 'Late'); },
      () => { manager.completeStep('late'); },
      () => { manager.skipStep('late'); },
    ]) {
      expect(thrown(call).code).toBe(ErrorCode.InvalidState);
    }
    await expect(manager.executeStepWithRecovery('late', 'Late', () => 1)).rejects.toMatchObject({
      code: ErrorCode.InvalidState,
    });
    expect(manager.getExecutionStatus()).toEqual(before);
  });

  it('startStep on a step that is already running throws INVALID_STATE and keeps one running step', () => {
    const { manager, eventsOf } = createHarness();
    manager.startExecution(1);
    manager.startStep('load', 'Load');

    const error = thrown(() => {
      manager.startStep('load', 'Load');
    });
    expect(error.code).toBe(ErrorCode.InvalidState);
    expect(manager.getExecutionStatus().progress.runningSteps).toBe(1);
    expect(eventsOf(ProgressEventType.STEP_STARTED)).toHaveLength(1);
  });

  it('startStep before startExecution throws INVALID_STATE', () => {
    const { manager } = createHarness();
    expect(thrown(() => { manager.startStep('a', 'A'); }).code).toBe(ErrorCode.InvalidState);
  });
});

describe('ComprehensiveExecutionManager steps', () => {
  it('startStep spawns the step actor (id = step id) and emits STEP_STARTED', () => {
    const { manager, eventsOf } = createHarness();
    manager.startExecution(1);
    manager.startStep('load', 'Load data');

    const started = eventsOf(ProgressEventType.STEP_STARTED);
    expect(started).toHaveLength(1);
    expect(started[0]).toMatchObject({ stepId: 'load', stepName: 'Load data' });
    const child = manager.actor.getSnapshot().children.load;
    expect(child?.id).toBe('load');
    expect(manager.getExecutionStatus().currentStepId).toBe('load');
    expect(manager.getExecutionStatus().progress.runningSteps).toBe(1);
  });

  it('updateStepProgress: one PROGRESS_UPDATE per call, clamped, mirrored in a SYSTEM/STEP variable', () => {
    const { manager, eventsOf } = createHarness();
    manager.startExecution(1);
    manager.startStep('load', 'Load');

    const cases: [number, number][] = [
      [-5, 0],
      [42.5, 42.5],
      [150, 100],
    ];
    cases.forEach(([given, expected], index) => {
      manager.updateStepProgress('load', given, `at ${given}`);
      const updates = eventsOf(ProgressEventType.PROGRESS_UPDATE);
      expect(updates).toHaveLength(index + 1);
      expect(manager.variableManager.getVariable('progress.load.percentage')).toBe(expected);
      expect(manager.progressTracker.getStepProgress('exec-1', 'load')?.progressPercentage).toBe(expected);
    });

    const metadata = manager.variableManager.getVariableMetadata('progress.load.percentage');
    expect(metadata?.varType).toBe(VariableType.SYSTEM);
    expect(metadata?.scope).toBe(VariableScope.STEP);
    expect(metadata?.sourceStep).toBe('load');
    expect(manager.getExecutionStatus().progress.percentage).toBe(100);
  });

  it('updateStepProgress refuses NaN and ±Infinity with INVALID_INPUT and changes nothing', () => {
    const { manager, events } = createHarness();
    manager.startExecution(2);
    manager.startStep('load', 'Load');
    manager.updateStepProgress('load', 30);
    const before = {
      events: events.length,
      variable: manager.variableManager.getVariableMetadata('progress.load.percentage'),
      step: manager.progressTracker.getStepProgress('exec-1', 'load'),
      status: manager.getExecutionStatus(),
    };

    for (const bad of [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY]) {
      expect(thrown(() => { manager.updateStepProgress('load', bad); }).code).toBe(ErrorCode.InvalidInput);
    }

    expect(events.length).toBe(before.events);
    expect(manager.variableManager.getVariableMetadata('progress.load.percentage')).toEqual(before.variable);
    expect(manager.variableManager.getVariable('progress.load.percentage')).toBe(30);
    expect(manager.progressTracker.getStepProgress('exec-1', 'load')).toEqual(before.step);
    expect(manager.getExecutionStatus()).toEqual(before.status);
  });

  it('completeStep success: COMPLETED once, counters updated once', () => {
    const { manager, eventsOf } = createHarness();
    manager.startExecution(2);
    manager.startStep('load', 'Load');
    manager.completeStep('load');
    expect(eventsOf(ProgressEventType.STEP_COMPLETED).filter((e) => e.stepId === 'load')).toHaveLength(1);
    // A second completion of a finished step counts nothing.
    manager.completeStep('load');

    const status = manager.getExecutionStatus();
    expect(status.progress).toMatchObject({ completedSteps: 1, failedSteps: 0, runningSteps: 0, percentage: 50 });
    expect(status.metrics).toMatchObject({ stepsCompleted: 1, stepsFailed: 0 });
    expect(manager.executionContext.completedSteps).toEqual(['load']);
    expect(manager.progressTracker.getStepProgress('exec-1', 'load')?.status).toBe(StepStatus.COMPLETED);
    expect(manager.getStepRecord('load')?.status).toBe('completed');
  });

  it('completeStep({ success: false, error }) keeps the error message; failedSteps 1', () => {
    const { manager, eventsOf } = createHarness();
    manager.startExecution(2);
    manager.startStep('load', 'Load');
    manager.completeStep('load', { success: false, error: new Error('disk on fire') });

    const step = manager.progressTracker.getStepProgress('exec-1', 'load');
    expect(step?.status).toBe(StepStatus.FAILED);
    expect(step?.errorMessage).toBe('disk on fire');
    const status = manager.getExecutionStatus();
    expect(status.progress.failedSteps).toBe(1);
    expect(status.progress.completedSteps).toBe(0);
    expect(status.metrics.stepsFailed).toBe(1);
    expect(manager.getStepRecord('load')?.error?.message).toBe('disk on fire');
    expect(eventsOf(ProgressEventType.STEP_FAILED)).toHaveLength(1);
  });

  it('completeStep for a never-started step starts and finishes it in one go, counted once', () => {
    const { manager, eventsOf } = createHarness();
    manager.startExecution(3);
    manager.completeStep('ghost', { output: { rows: 3 } });

    const status = manager.getExecutionStatus();
    expect(status.progress).toMatchObject({ completedSteps: 1, runningSteps: 0, failedSteps: 0 });
    expect(status.metrics.stepsCompleted).toBe(1);
    expect(manager.progressTracker.getStepProgress('exec-1', 'ghost')?.status).toBe(StepStatus.COMPLETED);
    expect(eventsOf(ProgressEventType.STEP_COMPLETED).filter((e) => e.stepId === 'ghost')).toHaveLength(1);
    expect(manager.getStepOutput('ghost')).toEqual({ rows: 3 });

    manager.completeStep('ghost-2', { success: false, error: new Error('never ran') });
    const after = manager.getExecutionStatus();
    expect(after.progress).toMatchObject({ completedSteps: 1, failedSteps: 1, runningSteps: 0 });
    expect(manager.progressTracker.getStepProgress('exec-1', 'ghost-2')?.errorMessage).toBe('never ran');
  });

  it('completeStep on a step run by an executor is refused with INVALID_STATE', () => {
    const { manager } = createHarness();
    manager.startExecution(1);
    const pending = manager.executeStepWithRecovery('auto', 'Auto', () => new Promise(() => undefined));
    expect(thrown(() => { manager.completeStep('auto'); }).code).toBe(ErrorCode.InvalidState);
    void pending;
  });

  it('skipStep counts the step in skippedSteps', () => {
    const { manager } = createHarness();
    manager.startExecution(2);
    manager.startStep('a', 'A');
    manager.skipStep('a', 'not needed');
    manager.skipStep('b');
    const status = manager.getExecutionStatus();
    expect(status.progress).toMatchObject({ skippedSteps: 2, runningSteps: 0, percentage: 100 });
    expect(manager.progressTracker.getStepProgress('exec-1', 'a')?.status).toBe(StepStatus.SKIPPED);
  });

  it('refuses bad step ids with INVALID_INPUT', () => {
    const { manager } = createHarness();
    manager.startExecution(1);
    expect(thrown(() => { manager.startStep('', 'x'); }).code).toBe(ErrorCode.InvalidInput);
    expect(thrown(() => { manager.completeStep(''); }).code).toBe(ErrorCode.InvalidInput);
    expect(thrown(() => { manager.updateStepProgress('', 1); }).code).toBe(ErrorCode.InvalidInput);
    expect(thrown(() => { manager.startExecution(-1); }).code).toBe(ErrorCode.InvalidInput);
  });
});

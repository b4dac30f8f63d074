import { describe, expect, it } from 'vitest';
import { SimulatedClock } from '../src/clock.js';
import { ProgressEventType, StepStatus, VariableScope, VariableType } from '../src/constants.js';
import { ProgressTracker, progressVariableName } from '../src/services/progress/index.js';
import type { ProgressEvent } from '../src/services/progress/index.js';
import { VariableManager } from '../src/services/variables/variable-manager.js';

const T0 = Date.parse('2026-01-01T00:00:00.000Z');

function setup(options: { executionId?: string } = {}): {
  variables: VariableManager; tracker: ProgressTracker; events: ProgressEvent[];
} {
  const clock = new SimulatedClock(T0);
  const variables = new VariableManager({ pipelineId: 'p', clock });
  const tracker = new ProgressTracker({
    variableManager: variables, clock,
    ...(options.executionId === undefined ? {} : { executionContext: { executionId: options.executionId } }),
  });
  const events: ProgressEvent[] = [];
  tracker.addEventHandler((event) => events.push(event));
  return { variables, tracker, events };
}

const updates = (events: ProgressEvent[]): ProgressEvent[] => events.filter((e) => e.eventType === ProgressEventType.PROGRESS_UPDATE);

describe('progress variables drive steps', () => {
  it('creating and changing progress.<stepId>.percentage updates the step once per change', () => {
    const { variables, tracker, events } = setup();
    tracker.startExecution('run', 2);
    tracker.startStep('run', 'load', 'Load');
    variables.setVariable('progress.load.percentage', 30);
    expect(tracker.getStepProgress('run', 'load')?.progressPercentage).toBe(30);
    variables.setVariable('progress.load.percentage', 60);
    expect(tracker.getStepProgress('run', 'load')?.progressPercentage).toBe(60);
    variables.setVariable('progress.load.percentage', 60);
    expect(updates(events).map((e) => e.data.progressPercentage)).toEqual([30, 60]);
    expect(updates(events)[0]).toMatchObject({ executionId: 'run', stepId: 'load', stepName: 'Load' });
    expect(tracker.getExecutionProgress('run')?.progressPercentage).toBe(30);
    expect(tracker.getPerformanceMetrics()).toMatchObject({ variableUpdatesApplied: 2, variableUpdatesIgnored: 0 });
  });

  it('updateStepProgress followed by the manager writing the clamped value gives exactly one PROGRESS_UPDATE', () => {
    const { variables, tracker, events } = setup();
    tracker.startExecution('run', 1);
    tracker.startStep('run', 's', 'S');
    tracker.updateStepProgress('run', 's', 140, 'overshoot');
    variables.setVariable(progressVariableName('s', 'percentage'), 100, { scope: VariableScope.STEP, varType: VariableType.SYSTEM });
    tracker.updateStepProgress('run', 's', 20);
    variables.setVariable(progressVariableName('s', 'percentage'), 20);
    expect(updates(events).map((e) => e.data.progressPercentage)).toEqual([100, 20]);
  });

  it('progress.<stepId>.status sets completed, failed, skipped and running', () => {
    const { variables, tracker, events } = setup();
    tracker.startExecution('run', 4);
    for (const id of ['a', 'b', 'c', 'd']) tracker.startStep('run', id, id.toUpperCase());
    variables.setVariable('progress.a.status', 'completed');
    variables.setVariable('progress.b.status', 'failed');
    variables.setVariable('progress.c.status', 'skipped');
    expect(tracker.getStepProgress('run', 'a')).toMatchObject({ status: StepStatus.COMPLETED, progressPercentage: 100 });
    expect(tracker.getStepProgress('run', 'b')).toMatchObject({ status: StepStatus.FAILED, errorMessage: 'Marked failed by variable "progress.b.status"' });
    expect(tracker.getStepProgress('run', 'c')?.status).toBe(StepStatus.SKIPPED);
    variables.setVariable('progress.c.status', 'running');
    expect(tracker.getStepProgress('run', 'c')).toMatchObject({ status: StepStatus.RUNNING, stepName: 'C' });
    const before = events.length;
    variables.setVariable('progress.d.status', 'running');
    expect(events).toHaveLength(before);
    expect(tracker.getExecutionProgress('run')).toMatchObject({ completedSteps: 1, failedSteps: 1, skippedSteps: 0, runningSteps: 2 });
  });

  it('without an executionContext a variable refers to the most recently started execution that has the step', () => {
    const { variables, tracker } = setup();
    tracker.startExecution('old', 1);
    tracker.startStep('old', 'x', 'X');
    tracker.startExecution('new', 1);
    tracker.startStep('new', 'x', 'X');
    tracker.startExecution('newest-without-x', 1);
    variables.setVariable('progress.x.percentage', 45);
    expect(tracker.getStepProgress('new', 'x')?.progressPercentage).toBe(45);
    expect(tracker.getStepProgress('old', 'x')?.progressPercentage).toBe(0);
    variables.setVariable('progress.unknown.percentage', 10);
    expect(tracker.getPerformanceMetrics()).toMatchObject({ variableUpdatesApplied: 1, variableUpdatesIgnored: 1 });
  });

  it('with an executionContext a variable refers to that execution (an unseen step starts implicitly)', () => {
    const { variables, tracker } = setup({ executionId: 'ctx' });
    tracker.startExecution('ctx', 2);
    tracker.startExecution('later', 2);
    tracker.startStep('later', 'x', 'X');
    variables.setVariable('progress.x.percentage', 70);
    expect(tracker.getStepProgress('ctx', 'x')).toMatchObject({ status: StepStatus.RUNNING, progressPercentage: 70 });
    expect(tracker.getStepProgress('later', 'x')?.progressPercentage).toBe(0);
  });

  it('numeric strings count, unusable values and unrelated variables are ignored, and the write still succeeds', () => {
    const { variables, tracker, events } = setup();
    tracker.startExecution('run', 1);
    tracker.startStep('run', 's', 'S');
    variables.setVariable('progress.s.percentage', '25');
    expect(tracker.getStepProgress('run', 's')?.progressPercentage).toBe(25);
    const before = events.length;
    variables.setVariable('progress.s.percentage', 'lots');
    variables.setVariable('progress.s.status', 'exploded');
    variables.setVariable('progress.s.percentage', null);
    variables.setVariable('progress.s.other', 5);
    variables.setVariable('s.percentage', 5);
    expect(events).toHaveLength(before);
    expect(variables.getVariable('progress.s.status')).toBe('exploded');
    expect(tracker.getPerformanceMetrics().variableUpdatesIgnored).toBe(3);
  });

  it('step ids with dots are read whole', () => {
    const { variables, tracker } = setup();
    tracker.startExecution('run', 1);
    tracker.startStep('run', 'etl.load', 'Load');
    variables.setVariable('progress.etl.load.percentage', 12);
    expect(tracker.getStepProgress('run', 'etl.load')?.progressPercentage).toBe(12);
  });

  it('after shutdown variable writes drive nothing', () => {
    const { variables, tracker } = setup();
    tracker.startExecution('run', 1);
    tracker.startStep('run', 's', 'S');
    tracker.shutdown();
    variables.setVariable('progress.s.percentage', 80);
    expect(tracker.getStepProgress('run', 's')?.progressPercentage).toBe(0);
  });
});

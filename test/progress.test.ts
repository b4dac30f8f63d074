import { describe, expect, it } from 'vitest';
import { SimulatedClock } from '../src/clock.js';
import { ExecutionStatus, ProgressEventType, StepStatus } from '../src/constants.js';
import { ErrorCode, ExecutionError, ValidationFailure } from '../src/errors.js';
import { ProgressTracker } from '../src/services/progress/index.js';
import type { ProgressEvent } from '../src/services/progress/index.js';

const T0 = Date.parse('2026-01-01T00:00:00.000Z');
const at = (ms: number): string => new Date(T0 + ms).toISOString();

function setup(totalSteps = 4): { clock: SimulatedClock; tracker: ProgressTracker; events: ProgressEvent[] } {
  const clock = new SimulatedClock(T0);
  const tracker = new ProgressTracker({ clock });
  const events: ProgressEvent[] = [];
  tracker.addEventHandler((event) => events.push(event));
  tracker.startExecution('run', totalSteps);
  return { clock, tracker, events };
}

function catchError(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  throw new Error('expected a throw');
}

describe('ProgressTracker step lifecycle', () => {
  it('records running, completed, failed, skipped and recovering steps', () => {
    const { clock, tracker } = setup(5);
    tracker.startStep('run', 'a', 'Load');
    expect(tracker.getStepProgress('run', 'a')).toEqual({
      stepId: 'a', stepName: 'Load', status: StepStatus.RUNNING, progressPercentage: 0, errorMessage: null,
      startTime: at(0), endTime: null, duration: null, metadata: {},
    });
    clock.advance(2500);
    tracker.completeStep('run', 'a', { progressPercentage: 90 });
    expect(tracker.getStepProgress('run', 'a')).toMatchObject({
      status: StepStatus.COMPLETED, progressPercentage: 90, endTime: at(2500), duration: 2.5,
    });

    tracker.startStep('run', 'b', 'Transform');
    tracker.updateStepProgress('run', 'b', 40, 'batch 2/5');
    clock.advance(1000);
    tracker.completeStep('run', 'b', { success: false, errorMessage: 'disk full' });
    expect(tracker.getStepProgress('run', 'b')).toMatchObject({
      status: StepStatus.FAILED, errorMessage: 'disk full', progressPercentage: 40, duration: 1,
      metadata: { lastMessage: 'batch 2/5' },
    });

    tracker.skipStep('run', 'c', 'condition false');
    expect(tracker.getStepProgress('run', 'c')).toMatchObject({
      status: StepStatus.SKIPPED, startTime: null, endTime: at(3500), duration: null, metadata: { skipReason: 'condition false' },
    });

    tracker.startStep('run', 'd', 'Upload');
    tracker.markStepRecovering('run', 'd', 'retrying after timeout');
    expect(tracker.getStepProgress('run', 'd')).toMatchObject({
      status: StepStatus.RECOVERING, metadata: { lastMessage: 'retrying after timeout' },
    });

    expect(tracker.getExecutionProgress('run')).toMatchObject({
      status: ExecutionStatus.RUNNING, totalSteps: 5, completedSteps: 1, failedSteps: 1, skippedSteps: 1, runningSteps: 1,
      progressPercentage: 60, startTime: at(0), endTime: null,
    });
    expect(tracker.getAllStepProgress('run').map((s) => s.stepId)).toEqual(['a', 'b', 'c', 'd']);
  });

  it('a recovering step that fails again is counted once, and a retry keeps its start time', () => {
    const { clock, tracker } = setup(2);
    tracker.startStep('run', 'a', 'A');
    tracker.completeStep('run', 'a', { success: false, errorMessage: 'boom' });
    tracker.markStepRecovering('run', 'a');
    expect(tracker.getExecutionProgress('run')).toMatchObject({ failedSteps: 0, runningSteps: 1 });
    clock.advance(3000);
    tracker.startStep('run', 'a', 'A');
    clock.advance(1000);
    tracker.completeStep('run', 'a');
    expect(tracker.getStepProgress('run', 'a')).toMatchObject({ status: StepStatus.COMPLETED, startTime: at(0), duration: 4, errorMessage: null });
    expect(tracker.getExecutionProgress('run')).toMatchObject({ completedSteps: 1, failedSteps: 0, runningSteps: 0, progressPercentage: 50 });
  });

  it('completeStep/skipStep with the same final status again change nothing and emit nothing', () => {
    const { clock, tracker, events } = setup(2);
    tracker.completeStep('run', 'a');
    tracker.skipStep('run', 'b', 'first');
    const count = events.length;
    clock.advance(500);
    tracker.completeStep('run', 'a', { progressPercentage: 10 });
    tracker.skipStep('run', 'b', 'second');
    expect(events).toHaveLength(count);
    expect(tracker.getStepProgress('run', 'a')).toMatchObject({ progressPercentage: 100, endTime: at(0) });
    expect(tracker.getStepProgress('run', 'b')?.metadata.skipReason).toBe('first');
  });

  it('startExecution on a known id starts it afresh', () => {
    const { tracker } = setup(2);
    tracker.completeStep('run', 'a');
    tracker.startExecution('run', 3);
    expect(tracker.getExecutionProgress('run')).toMatchObject({ totalSteps: 3, completedSteps: 0, progressPercentage: 0 });
    expect(tracker.getAllStepProgress('run')).toEqual([]);
  });
});

describe('ProgressTracker execution percentage', () => {
  it('counts finished steps plus running fractions over totalSteps', () => {
    const { tracker } = setup(4);
    tracker.startStep('run', 'a', 'A');
    tracker.updateStepProgress('run', 'a', 50);
    tracker.startStep('run', 'b', 'B');
    tracker.updateStepProgress('run', 'b', 25);
    // (0 + 0.5 + 0.25) / 4
    expect(tracker.getExecutionProgress('run')?.progressPercentage).toBeCloseTo(18.75, 10);
    tracker.completeStep('run', 'a');
    tracker.skipStep('run', 'c');
    // (2 + 0.25) / 4
    expect(tracker.getExecutionProgress('run')?.progressPercentage).toBeCloseTo(56.25, 10);
  });

  it('is clamped to 100 when more steps finish than totalSteps', () => {
    const { tracker } = setup(2);
    for (const id of ['a', 'b', 'c']) tracker.completeStep('run', id);
    tracker.startStep('run', 'd', 'D');
    tracker.updateStepProgress('run', 'd', 80);
    expect(tracker.getExecutionProgress('run')).toMatchObject({ completedSteps: 3, progressPercentage: 100 });
  });

  it('handles totalSteps 0 without NaN: 0 while running, 100 once completed, 0 when failed', () => {
    const { tracker } = setup(0);
    tracker.startStep('run', 'a', 'A');
    tracker.updateStepProgress('run', 'a', 50);
    expect(tracker.getExecutionProgress('run')?.progressPercentage).toBe(0);
    tracker.completeExecution('run');
    expect(tracker.getExecutionProgress('run')?.progressPercentage).toBe(100);
    tracker.startExecution('other', 0);
    tracker.completeExecution('other', false);
    expect(tracker.getExecutionProgress('other')).toMatchObject({ status: ExecutionStatus.FAILED, progressPercentage: 0 });
  });
});

describe('ProgressTracker ETA', () => {
  it('is null until a step finished, then now + average duration x remaining work', () => {
    const { clock, tracker } = setup(4);
    expect(tracker.getExecutionProgress('run')?.estimatedCompletion).toBeNull();
    tracker.startStep('run', 'a', 'A');
    clock.advance(10_000);
    expect(tracker.getExecutionProgress('run')?.estimatedCompletion).toBeNull();
    tracker.skipStep('run', 'never-started');
    // A skip without a start has no duration, so still no estimate.
    expect(tracker.getExecutionProgress('run')?.estimatedCompletion).toBeNull();
    tracker.completeStep('run', 'a');
    // average 10 s, 2 of 4 finished -> 2 steps left -> now + 20 s
    expect(tracker.getExecutionProgress('run')?.estimatedCompletion).toBe(at(30_000));

    tracker.startStep('run', 'b', 'B');
    clock.advance(20_000);
    tracker.completeStep('run', 'b');
    // average 15 s, 1 step left
    expect(tracker.getExecutionProgress('run')?.estimatedCompletion).toBe(at(45_000));
    tracker.startStep('run', 'c', 'C');
    tracker.updateStepProgress('run', 'c', 40);
    // 0.6 step left -> 9 s
    expect(tracker.getExecutionProgress('run')?.estimatedCompletion).toBe(at(39_000));
    clock.advance(5000);
    tracker.completeExecution('run');
    expect(tracker.getExecutionProgress('run')).toMatchObject({ endTime: at(35_000), estimatedCompletion: at(35_000) });
  });
});

describe('ProgressTracker events', () => {
  it('counts the events nobody listens to exactly as those delivered to a handler', () => {
    const drive = (tracker: ProgressTracker): void => {
      tracker.startExecution('e', 3);
      tracker.startStep('e', 'a', 'A');
      tracker.updateStepProgress('e', 'a', 50, 'half');
      tracker.completeStep('e', 'a');
      tracker.startStep('e', 'b', 'B');
      tracker.completeStep('e', 'b', { success: false, errorMessage: 'boom' });
      tracker.skipStep('e', 'c', 'not needed');
      tracker.emitEvent('e', ProgressEventType.CHECKPOINT_CREATED, { message: 'cp' });
      tracker.completeExecution('e', false);
    };
    const unheard = new ProgressTracker({ clock: new SimulatedClock(0) });
    drive(unheard);
    const heard = new ProgressTracker({ clock: new SimulatedClock(0) });
    const delivered: ProgressEvent[] = [];
    heard.addEventHandler((event) => delivered.push(event));
    drive(heard);
    const metrics = unheard.getPerformanceMetrics();
    expect(delivered).toHaveLength(9);
    expect(metrics.eventsEmitted).toBe(delivered.length);
    expect(metrics.eventsByType).toEqual(heard.getPerformanceMetrics().eventsByType);
    // The state does not depend on anyone listening.
    expect(unheard.getExecutionProgress('e')).toEqual(heard.getExecutionProgress('e'));
  });


  it('delivers events in order with their data and clock timestamps', () => {
    const { clock, tracker, events } = setup(2);
    clock.advance(1000);
    tracker.startStep('run', 'a', 'Load');
    clock.advance(1000);
    tracker.updateStepProgress('run', 'a', 50, 'half');
    tracker.completeStep('run', 'a');
    tracker.startStep('run', 'b', 'Save');
    tracker.completeStep('run', 'b', { success: false, errorMessage: 'nope' });
    tracker.emitEvent('run', ProgressEventType.CHECKPOINT_CREATED, { message: 'cp', data: { checkpointId: 'x1' } });
    tracker.completeExecution('run', false);

    expect(events.map((e) => e.eventType)).toEqual([
      ProgressEventType.EXECUTION_STARTED, ProgressEventType.STEP_STARTED, ProgressEventType.PROGRESS_UPDATE,
      ProgressEventType.STEP_COMPLETED, ProgressEventType.STEP_STARTED, ProgressEventType.STEP_FAILED,
      ProgressEventType.CHECKPOINT_CREATED, ProgressEventType.EXECUTION_FAILED,
    ]);
    expect(events[0]).toEqual({ eventType: 'execution_started', timestamp: at(0), executionId: 'run', data: { totalSteps: 2, progressPercentage: 0 } });
    expect(events[1]).toEqual({
      eventType: 'step_started', timestamp: at(1000), executionId: 'run', stepId: 'a', stepName: 'Load',
      data: { progressPercentage: 0, executionPercentage: 0 },
    });
    expect(events[2]).toEqual({
      eventType: 'progress_update', timestamp: at(2000), executionId: 'run', stepId: 'a', stepName: 'Load', message: 'half',
      data: { progressPercentage: 50, executionPercentage: 25 },
    });
    expect(events[3]?.data).toEqual({ progressPercentage: 100, executionPercentage: 50, duration: 1 });
    expect(events[5]).toMatchObject({ stepId: 'b', message: 'nope', data: { errorMessage: 'nope', executionPercentage: 100 } });
    expect(events[6]).toEqual({
      eventType: 'checkpoint_created', timestamp: at(2000), executionId: 'run', message: 'cp', data: { checkpointId: 'x1' },
    });
    expect(events[7]?.data).toMatchObject({ success: false, completedSteps: 1, failedSteps: 1, duration: 2 });
  });

  it('a throwing handler breaks nothing: others still get the event and the call returns', () => {
    const { tracker, events } = setup(1);
    const afterBad: string[] = [];
    tracker.addEventHandler(() => {
      throw new Error('handler bug');
    });
    tracker.addEventHandler((e) => afterBad.push(e.eventType));
    expect(() => {
      tracker.startStep('run', 'a', 'A');
      tracker.completeStep('run', 'a');
    }).not.toThrow();
    expect(afterBad).toEqual(['step_started', 'step_completed']);
    expect(events).toHaveLength(3);
    expect(tracker.getPerformanceMetrics()).toMatchObject({ handlerErrors: 2, lastHandlerError: 'handler bug' });
  });

  it('events are frozen so one handler cannot change what the next one sees', () => {
    const { tracker } = setup(1);
    const seen: unknown[] = [];
    tracker.addEventHandler((e) => {
      e.data.progressPercentage = 999;
    });
    tracker.addEventHandler((e) => seen.push(e.data.progressPercentage));
    tracker.startStep('run', 'a', 'A');
    expect(seen).toEqual([0]);
    expect(tracker.getPerformanceMetrics().handlerErrors).toBe(1);
  });

  it('an unsubscribed handler gets nothing more; the same function added twice is two registrations', () => {
    const { tracker } = setup(1);
    const calls: string[] = [];
    const handler = (e: ProgressEvent): void => {
      calls.push(e.eventType);
    };
    const off1 = tracker.addEventHandler(handler);
    const off2 = tracker.addEventHandler(handler);
    tracker.startStep('run', 'a', 'A');
    off1();
    off1();
    tracker.updateStepProgress('run', 'a', 10);
    off2();
    tracker.completeStep('run', 'a');
    expect(calls).toEqual(['step_started', 'step_started', 'progress_update']);
  });

  it('events emitted from inside a handler are delivered after the current one, in the same order to everyone', () => {
    const { tracker } = setup(2);
    const first: string[] = [];
    const second: string[] = [];
    tracker.addEventHandler((e) => {
      first.push(`${e.eventType}:${e.stepId ?? ''}`);
      if (e.eventType === ProgressEventType.STEP_STARTED && e.stepId === 'a') tracker.updateStepProgress('run', 'a', 10);
    });
    tracker.addEventHandler((e) => second.push(`${e.eventType}:${e.stepId ?? ''}`));
    tracker.startStep('run', 'a', 'A');
    expect(first).toEqual(['step_started:a', 'progress_update:a']);
    expect(second).toEqual(first);
  });
});

describe('ProgressTracker.trackStep', () => {
  it('starts, completes and returns the value', async () => {
    const { clock, tracker, events } = setup(1);
    const value = await tracker.trackStep('run', 's', 'Compute', async () => {
      clock.advance(1500);
      return Promise.resolve(42);
    });
    expect(value).toBe(42);
    expect(tracker.getStepProgress('run', 's')).toMatchObject({ stepName: 'Compute', status: StepStatus.COMPLETED, progressPercentage: 100, duration: 1.5 });
    expect(events.slice(1).map((e) => e.eventType)).toEqual(['step_started', 'step_completed']);
  });

  it('marks failure with the message and rethrows the same error (async and sync throws)', async () => {
    const { tracker } = setup(2);
    const error = new Error('upstream 503');
    await expect(tracker.trackStep('run', 'x', 'X', () => Promise.reject(error))).rejects.toBe(error);
    expect(tracker.getStepProgress('run', 'x')).toMatchObject({ status: StepStatus.FAILED, errorMessage: 'upstream 503' });
    const thrown = new TypeError('bad arg');
    await expect(tracker.trackStep('run', 'y', 'Y', () => {
      throw thrown;
    })).rejects.toBe(thrown);
    expect(tracker.getExecutionProgress('run')).toMatchObject({ failedSteps: 2, runningSteps: 0 });
  });

  it('keeps the result when the tracker is shut down while the step runs', async () => {
    const { tracker } = setup(1);
    await expect(tracker.trackStep('run', 's', 'S', () => {
      tracker.shutdown();
      return 'done';
    })).resolves.toBe('done');
    expect(tracker.getStepProgress('run', 's')?.status).toBe(StepStatus.RUNNING);
  });
});

describe('ProgressTracker input checks', () => {
  it('refuses NaN and Infinity with INVALID_INPUT and changes nothing', () => {
    const { tracker, events } = setup(2);
    tracker.startStep('run', 'a', 'A');
    tracker.updateStepProgress('run', 'a', 30);
    const before = events.length;
    for (const bad of [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY]) {
      const error = catchError(() => {
        tracker.updateStepProgress('run', 'a', bad);
      });
      expect(error).toBeInstanceOf(ValidationFailure);
      expect(error).toMatchObject({ code: ErrorCode.InvalidInput, field: 'progressPercentage' });
    }
    expect(catchError(() => {
      tracker.completeStep('run', 'a', { progressPercentage: Number.NaN });
    })).toMatchObject({ code: ErrorCode.InvalidInput });
    expect(events).toHaveLength(before);
    expect(tracker.getStepProgress('run', 'a')).toMatchObject({ status: StepStatus.RUNNING, progressPercentage: 30 });
  });

  it('clamps negative and over-100 values', () => {
    const { tracker, events } = setup(1);
    tracker.startStep('run', 'a', 'A');
    tracker.updateStepProgress('run', 'a', -20);
    expect(tracker.getStepProgress('run', 'a')?.progressPercentage).toBe(0);
    tracker.updateStepProgress('run', 'a', 250);
    expect(tracker.getStepProgress('run', 'a')?.progressPercentage).toBe(100);
    expect(events.at(-1)?.data.progressPercentage).toBe(100);
    tracker.completeStep('run', 'a', { progressPercentage: -1 });
    expect(tracker.getStepProgress('run', 'a')?.progressPercentage).toBe(0);
  });

  it('an unknown execution throws INVALID_STATE naming it; an unknown step of a known execution is started implicitly', () => {
    const { tracker, events } = setup(2);
    const error = catchError(() => {
      tracker.updateStepProgress('ghost', 'a', 10);
    });
    expect(error).toBeInstanceOf(ExecutionError);
    expect(error).toMatchObject({ code: ErrorCode.InvalidState, details: { executionId: 'ghost' } });
    expect((error as Error).message).toContain('"ghost"');
    expect(tracker.getExecutionProgress('ghost')).toBeUndefined();

    tracker.updateStepProgress('run', 'late', 70);
    expect(tracker.getStepProgress('run', 'late')).toMatchObject({ status: StepStatus.RUNNING, stepName: 'late', progressPercentage: 70 });
    expect(events.slice(-2).map((e) => e.eventType)).toEqual(['step_started', 'progress_update']);
  });

  it('refuses empty ids, bad counts and bad handlers', () => {
    const tracker = new ProgressTracker({ clock: new SimulatedClock(T0) });
    expect(catchError(() => {
      tracker.startExecution('', 1);
    })).toMatchObject({ code: ErrorCode.InvalidInput, field: 'executionId' });
    expect(catchError(() => {
      tracker.startExecution('r', -1);
    })).toMatchObject({ code: ErrorCode.InvalidInput, field: 'totalSteps' });
    expect(catchError(() => {
      tracker.startExecution('r', 1.5);
    })).toMatchObject({ code: ErrorCode.InvalidInput, field: 'totalSteps' });
    expect(catchError(() => tracker.addEventHandler('nope' as unknown as () => void))).toMatchObject({ code: ErrorCode.InvalidInput });
    expect(catchError(() => {
      tracker.emitEvent('r', 'not_a_type' as ProgressEventType);
    })).toMatchObject({ code: ErrorCode.InvalidInput, field: 'eventType' });
    expect(catchError(() => new ProgressTracker({ executionContext: { executionId: '' } }))).toMatchObject({ code: ErrorCode.InvalidInput });
    expect(tracker.getPerformanceMetrics().trackedExecutions).toBe(0);
  });
});

describe('ProgressTracker metrics, cleanup and shutdown', () => {
  it('reports events, handler errors and step durations per execution', () => {
    const { clock, tracker } = setup(3);
    tracker.startExecution('other', 1);
    tracker.startStep('run', 'a', 'A');
    clock.advance(2000);
    tracker.completeStep('run', 'a');
    tracker.startStep('run', 'b', 'B');
    tracker.updateStepProgress('run', 'b', 10);
    tracker.updateStepProgress('run', 'b', 20);
    clock.advance(4000);
    tracker.completeStep('run', 'b', { success: false });
    tracker.skipStep('run', 'c');
    const metrics = tracker.getPerformanceMetrics();
    expect(metrics).toMatchObject({
      eventsEmitted: 9, handlerErrors: 0, lastHandlerError: null, eventHandlers: 1, activeStreams: 0, trackedExecutions: 2,
      eventsByType: { execution_started: 2, step_started: 2, step_completed: 1, step_failed: 1, step_skipped: 1, progress_update: 2 },
    });
    expect(metrics.executions.run).toEqual({
      status: ExecutionStatus.RUNNING, totalSteps: 3, finishedSteps: 3, measuredSteps: 2, totalStepDuration: 6,
      averageStepDuration: 3, elapsed: 6, progressUpdates: 2,
    });
    expect(metrics.executions.other).toMatchObject({ averageStepDuration: null, finishedSteps: 0 });
  });

  it('cleanup(executionId) drops only that execution; cleanup() drops all', () => {
    const { tracker } = setup(1);
    tracker.startExecution('other', 1);
    expect(tracker.cleanup('run')).toBe(true);
    expect(tracker.getExecutionProgress('run')).toBeUndefined();
    expect(tracker.getAllStepProgress('run')).toEqual([]);
    expect(tracker.getExecutionProgress('other')).toBeDefined();
    expect(tracker.cleanup('run')).toBe(false);
    expect(tracker.cleanup()).toBe(true);
    expect(tracker.getPerformanceMetrics().trackedExecutions).toBe(0);
  });

  it('after shutdown reads answer, changes throw MANAGER_SHUT_DOWN, handlers are gone', () => {
    const { tracker, events } = setup(1);
    tracker.startStep('run', 'a', 'A');
    tracker.shutdown();
    tracker.shutdown();
    const count = events.length;
    expect(tracker.isShutDown).toBe(true);
    for (const call of [
      () => { tracker.updateStepProgress('run', 'a', 5); },
      () => { tracker.completeStep('run', 'a'); },
      () => { tracker.startExecution('x', 1); },
      () => { tracker.emitEvent('run', ProgressEventType.CUSTOM_EVENT); },
      () => tracker.addEventHandler(() => undefined),
      () => { tracker.importProgress({}); },
    ]) {
      expect(catchError(call)).toMatchObject({ code: ErrorCode.ManagerShutDown });
    }
    expect(events).toHaveLength(count);
    expect(tracker.getStepProgress('run', 'a')?.status).toBe(StepStatus.RUNNING);
    expect(tracker.getPerformanceMetrics().eventHandlers).toBe(0);
  });
});

describe('ProgressTracker smaller contracts', () => {
  it('completeStep on a never-started step starts and finishes it in one go', () => {
    const { clock, tracker, events } = setup(2);
    clock.advance(700);
    tracker.completeStep('run', 'quick');
    expect(events.slice(1).map((e) => `${e.eventType}:${e.stepId ?? ''}`)).toEqual(['step_started:quick', 'step_completed:quick']);
    expect(tracker.getStepProgress('run', 'quick')).toMatchObject({ status: StepStatus.COMPLETED, startTime: at(700), duration: 0 });
    expect(tracker.getExecutionProgress('run')).toMatchObject({ completedSteps: 1, runningSteps: 0, progressPercentage: 50 });
  });

  it('setTotalSteps changes the denominator without an event', () => {
    const { tracker, events } = setup(4);
    tracker.completeStep('run', 'a');
    const count = events.length;
    tracker.setTotalSteps('run', 2);
    expect(tracker.getExecutionProgress('run')).toMatchObject({ totalSteps: 2, progressPercentage: 50 });
    expect(events).toHaveLength(count);
  });

  it('completeExecution emits once per outcome and fixes the end time', () => {
    const { clock, tracker, events } = setup(1);
    clock.advance(1000);
    tracker.completeExecution('run');
    clock.advance(1000);
    tracker.completeExecution('run');
    expect(events.filter((e) => e.eventType === ProgressEventType.EXECUTION_COMPLETED)).toHaveLength(1);
    expect(tracker.getExecutionProgress('run')).toMatchObject({ status: ExecutionStatus.COMPLETED, endTime: at(1000) });
    tracker.completeExecution('run', false);
    expect(tracker.getExecutionProgress('run')).toMatchObject({ status: ExecutionStatus.FAILED, endTime: at(2000) });
  });

  it('emitEvent works for an execution that is not tracked (it changes no state)', () => {
    const { tracker, events } = setup(1);
    tracker.emitEvent('elsewhere', ProgressEventType.CUSTOM_EVENT, { stepId: 's', data: { n: 1 } });
    expect(events.at(-1)).toMatchObject({ eventType: 'custom_event', executionId: 'elsewhere', stepId: 's', data: { n: 1 } });
    expect(tracker.getExecutionProgress('elsewhere')).toBeUndefined();
  });

  it('emitEvent: plain arguments pass as given, nested data is kept, bad ones are refused naming the field', () => {
    const { tracker, events } = setup(1);
    tracker.emitEvent('run', ProgressEventType.CUSTOM_EVENT, { message: 'm', data: { flat: 1, nested: { deep: [1, 2] } } });
    expect(events.at(-1)).toMatchObject({ message: 'm', data: { flat: 1, nested: { deep: [1, 2] } } });
    tracker.emitEvent('run', ProgressEventType.CUSTOM_EVENT, { unknownKey: 1 } as never);
    expect(events.at(-1)?.data).toEqual({});
    const refused = (options: unknown): unknown => {
      try {
        tracker.emitEvent('run', ProgressEventType.CUSTOM_EVENT, options as never);
      } catch (error) {
        return error;
      }
      return null;
    };
    const before = events.length;
    expect(refused({ message: 5 })).toMatchObject({ code: ErrorCode.InvalidInput, field: 'options.message' });
    expect(refused({ data: [1] })).toMatchObject({ code: ErrorCode.InvalidInput, field: 'options.data' });
    expect(refused({ data: JSON.parse('{"__proto__": {"polluted": true}}') as unknown })).toMatchObject({
      code: ErrorCode.InvalidInput,
      field: 'options.data.__proto__',
    });
    expect(events).toHaveLength(before);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SimulatedClock } from '../src/clock.js';
import { StepStatus } from '../src/constants.js';
import { ErrorCode } from '../src/errors.js';
import { ProgressTracker } from '../src/services/progress/index.js';
import type { ProgressState } from '../src/services/progress/index.js';
import type { JsonValue } from '../src/validation.js';

const T0 = Date.parse('2026-01-01T00:00:00.000Z');

function populated(): { clock: SimulatedClock; tracker: ProgressTracker } {
  const clock = new SimulatedClock(T0);
  const tracker = new ProgressTracker({ clock });
  tracker.startExecution('run', 5);
  tracker.startStep('run', 'a', 'Load');
  clock.advance(3000);
  tracker.completeStep('run', 'a');
  tracker.startStep('run', 'b', 'Transform');
  tracker.updateStepProgress('run', 'b', 35.5, 'chunk 3');
  tracker.skipStep('run', 'c', 'disabled');
  tracker.startStep('run', 'd', 'Save');
  clock.advance(1000);
  tracker.completeStep('run', 'd', { success: false, errorMessage: 'EACCES' });
  tracker.startStep('run', 'e', 'Notify');
  tracker.markStepRecovering('run', 'e', 'retry 1');
  return { clock, tracker };
}

function catchError(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  throw new Error('expected a throw');
}

describe('exportProgress / importProgress', () => {
  it('round-trips through JSON into another tracker', () => {
    const { tracker } = populated();
    const state = tracker.exportProgress('run');
    expect(state.formatVersion).toBe(1);
    // The export is plain JSON (the manager stores it in checkpoint extensions).
    const asJson: JsonValue = state;
    const copy = new ProgressTracker({ clock: new SimulatedClock(T0 + 4000) });
    copy.importProgress(JSON.parse(JSON.stringify(asJson)));
    expect(copy.getExecutionProgress('run')).toEqual(tracker.getExecutionProgress('run'));
    expect(copy.getAllStepProgress('run')).toEqual(tracker.getAllStepProgress('run'));
    expect(copy.exportProgress('run')).toEqual(state);
    expect(copy.getExecutionProgress('run')).toMatchObject({
      completedSteps: 1, failedSteps: 1, skippedSteps: 1, runningSteps: 2, progressPercentage: ((3 + 0.355) / 5) * 100,
    });
  });

  it('replaces the execution instead of merging, and recomputes duration from the times', () => {
    const { tracker } = populated();
    const state = tracker.exportProgress('run');
    tracker.startStep('run', 'extra', 'Extra');
    const edited = { ...state, steps: state.steps.map((s) => (s.stepId === 'a' ? { ...s, duration: 999 } : s)) };
    tracker.importProgress(edited);
    expect(tracker.getStepProgress('run', 'extra')).toBeUndefined();
    expect(tracker.getStepProgress('run', 'a')?.duration).toBe(3);
  });

  it('refuses a newer formatVersion with STATE_INCOMPATIBLE and changes nothing', () => {
    const { tracker } = populated();
    const before = tracker.exportProgress('run');
    const newer = { ...before, formatVersion: 2, steps: [] };
    expect(catchError(() => {
      tracker.importProgress(newer);
    })).toMatchObject({ code: ErrorCode.StateIncompatible });
    expect(tracker.exportProgress('run')).toEqual(before);
  });

  it('refuses garbage with INVALID_INPUT naming the field and changes nothing', () => {
    const { tracker } = populated();
    const before = tracker.exportProgress('run');
    const good: ProgressState = before;
    const cases: [unknown, string][] = [
      [null, ''],
      ['{"formatVersion":1}', ''],
      [{ ...good, status: 'exploded' }, 'status'],
      [{ ...good, totalSteps: -1 }, 'totalSteps'],
      [{ ...good, steps: [{ ...good.steps[0], progressPercentage: 120 }] }, 'steps[0].progressPercentage'],
      [{ ...good, steps: [{ ...good.steps[0], startTime: 'yesterday' }] }, 'steps[0].startTime'],
      [{ ...good, steps: [good.steps[0], good.steps[0]] }, 'steps[1].stepId'],
      [JSON.parse(`{"formatVersion":1,"executionId":"run","__proto__":{"polluted":true}}`), '__proto__'],
    ];
    for (const [input, field] of cases) {
      const error = catchError(() => {
        tracker.importProgress(input);
      });
      expect(error).toMatchObject({ code: ErrorCode.InvalidInput, field });
    }
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(tracker.exportProgress('run')).toEqual(before);
  });

  it('exporting an unknown execution throws INVALID_STATE', () => {
    const tracker = new ProgressTracker({ clock: new SimulatedClock(T0) });
    expect(catchError(() => tracker.exportProgress('nope'))).toMatchObject({ code: ErrorCode.InvalidState });
  });
});

type Op =
  | { op: 'start' | 'complete' | 'fail' | 'skip' | 'recover'; step: number }
  | { op: 'update'; step: number; pct: number }
  | { op: 'tick'; ms: number };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ op: fc.constantFrom('start', 'complete', 'fail', 'skip', 'recover'), step: fc.nat(5) }),
  fc.record({ op: fc.constant('update'), step: fc.nat(5), pct: fc.double({ min: -50, max: 150, noNaN: true }) }),
  fc.record({ op: fc.constant('tick'), ms: fc.nat(5000) }),
);

describe('progress invariants (fast-check)', () => {
  it('counters and percentage always equal a recount of the steps, within 0..100, and survive export/import', () => {
    fc.assert(
      fc.property(fc.nat(6), fc.array(opArb, { maxLength: 60 }), (totalSteps, ops) => {
        const clock = new SimulatedClock(T0);
        const tracker = new ProgressTracker({ clock });
        tracker.startExecution('r', totalSteps);
        for (const op of ops) {
          if (op.op === 'tick') {
            clock.advance(op.ms);
            continue;
          }
          const id = `s${op.step}`;
          switch (op.op) {
            case 'start': tracker.startStep('r', id, id); break;
            case 'complete': tracker.completeStep('r', id); break;
            case 'fail': tracker.completeStep('r', id, { success: false, errorMessage: 'x' }); break;
            case 'skip': tracker.skipStep('r', id); break;
            case 'recover': tracker.markStepRecovering('r', id); break;
            case 'update': tracker.updateStepProgress('r', id, op.pct); break;
          }
        }
        const steps = tracker.getAllStepProgress('r');
        const countOf = (...statuses: StepStatus[]): number => steps.filter((s) => statuses.includes(s.status)).length;
        const running = steps.filter((s) => s.status === StepStatus.RUNNING || s.status === StepStatus.RECOVERING);
        const finished = countOf(StepStatus.COMPLETED, StepStatus.FAILED, StepStatus.SKIPPED);
        const runningSum = running.reduce((sum, s) => sum + s.progressPercentage, 0);
        const expected = totalSteps === 0 ? 0 : Math.min(100, ((finished + runningSum / 100) / totalSteps) * 100);
        const progress = tracker.getExecutionProgress('r');
        expect(progress).toMatchObject({
          completedSteps: countOf(StepStatus.COMPLETED), failedSteps: countOf(StepStatus.FAILED),
          skippedSteps: countOf(StepStatus.SKIPPED), runningSteps: running.length,
        });
        expect(progress?.progressPercentage).toBeGreaterThanOrEqual(0);
        expect(progress?.progressPercentage).toBeLessThanOrEqual(100);
        expect(progress?.progressPercentage).toBeCloseTo(expected, 9);
        for (const step of steps) {
          expect(step.progressPercentage).toBeGreaterThanOrEqual(0);
          expect(step.progressPercentage).toBeLessThanOrEqual(100);
        }
        const copy = new ProgressTracker({ clock });
        copy.importProgress(JSON.parse(JSON.stringify(tracker.exportProgress('r'))));
        const imported = copy.getExecutionProgress('r');
        // Running sums are kept incrementally, so only the last bits may differ from a fresh sum.
        expect(imported?.progressPercentage).toBeCloseTo(progress?.progressPercentage ?? Number.NaN, 9);
        expect({ ...imported, progressPercentage: 0, estimatedCompletion: null }).toEqual({ ...progress, progressPercentage: 0, estimatedCompletion: null });
        expect(copy.getAllStepProgress('r')).toEqual(steps);
      }),
      { numRuns: 200 },
    );
  });
});

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SimulatedClock } from '../src/clock.js';
import { ExecutionStatus } from '../src/constants.js';
import { ErrorCode, ExecutionError, ValidationFailure } from '../src/errors.js';
import { ExecutionContext, parseExecutionContextState } from '../src/services/context/index.js';
import type { ExecutionContextState } from '../src/services/context/index.js';

const T0 = Date.parse('2026-01-01T00:00:00.000Z');

function makeContext(clock = new SimulatedClock(T0)): ExecutionContext {
  return new ExecutionContext({ executionId: 'exec_1', pipelineId: 'pipe', clock });
}

function busyContext(clock = new SimulatedClock(T0)): ExecutionContext {
  const context = makeContext(clock);
  context.start(4);
  context.variableManager.setVariable('x', { a: [1, 'two', null] });
  context.startStep('a');
  context.completeStep('a');
  context.createCheckpoint('after a', { actor: { value: 'a' } });
  clock.advance(1000);
  context.variableManager.setVariable('x', 2);
  context.startStep('b');
  context.completeStep('b', false);
  context.skipStep('c');
  context.startStep('d');
  const child = context.createNestedContext('loop');
  child.start(1);
  child.variableManager.setVariable('i', 0);
  child.createCheckpoint('child');
  return context;
}

function clone<T>(value: T): T {
  return JSON.parse(JSON.stringify(value)) as T;
}

function thrown(fn: () => unknown): ExecutionError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(ExecutionError);
    return error as ExecutionError;
  }
  throw new Error('nothing was thrown');
}

describe('ExecutionContext exportState / importState', () => {
  it('round-trips everything through JSON', () => {
    const clock = new SimulatedClock(T0);
    const source = busyContext(clock);
    const state = clone(source.exportState());
    expect(state.formatVersion).toBe(1);
    expect(state.checkpoints).toHaveLength(1);
    expect(state.nestedContexts).toHaveLength(1);

    const target = makeContext(clock);
    target.importState(state);
    expect(target.exportState()).toEqual(state);
    expect(target.status).toBe(ExecutionStatus.RUNNING);
    expect(target.currentStepId).toBe('d');
    expect(target.completedSteps).toEqual(['a']);
    expect(target.failedSteps).toEqual(['b']);
    expect(target.skippedSteps).toEqual(['c']);
    expect(target.variableManager.getVariable('x')).toBe(2);
    expect(target.nestedContexts[0]!.executionId).toBe('exec_1.loop');
    expect(target.nestedContexts[0]!.parent).toBe(target);
    expect(target.nestedContexts[0]!.variableManager.getVariable('i')).toBe(0);
    // the imported checkpoint is usable
    expect(target.restoreCheckpoint(state.checkpoints[0]!.id)).toBe(true);
    expect(target.variableManager.getVariable('x')).toEqual({ a: [1, 'two', null] });
  });

  it('replaces, never merges', () => {
    const clock = new SimulatedClock(T0);
    const empty = makeContext(clock).exportState();
    const context = busyContext(clock);
    context.importState(empty);
    expect(context.status).toBe(ExecutionStatus.PENDING);
    expect(context.checkpoints).toEqual([]);
    expect(context.nestedContexts).toEqual([]);
    expect(context.completedSteps).toEqual([]);
    expect(context.variableManager.hasVariable('x')).toBe(false);
    expect(context.metrics.stepsTotal).toBe(0);
  });

  it('keeps the newest maxCheckpoints of an imported state', () => {
    const clock = new SimulatedClock(T0);
    const source = makeContext(clock);
    for (let i = 0; i < 5; i += 1) source.createCheckpoint(`cp${i}`);
    const small = new ExecutionContext({ executionId: 'exec_1', pipelineId: 'pipe', clock, maxCheckpoints: 2 });
    small.importState(source.exportState());
    expect(small.checkpoints.map((c) => c.description)).toEqual(['cp3', 'cp4']);
  });

  it('refuses a newer formatVersion with STATE_INCOMPATIBLE', () => {
    const context = busyContext();
    const state = clone(context.exportState());
    const before = context.exportState();
    const newer = thrown(() => {
      context.importState({ ...state, formatVersion: 2 });
    });
    expect(newer.code).toBe(ErrorCode.StateIncompatible);
    const checkpoint = { ...state.checkpoints[0]!, formatVersion: 7 };
    const newerCheckpoint = thrown(() => {
      context.importState({ ...state, checkpoints: [checkpoint] });
    });
    expect(newerCheckpoint.code).toBe(ErrorCode.CheckpointIncompatible);
    expect(context.exportState()).toEqual(before);
  });

  const corruptions: [string, (s: Record<string, unknown>) => unknown, string][] = [
    ['garbage string', () => 'garbage', ''],
    ['null', () => null, ''],
    ['an array', () => [], ''],
    ['a wrong status', (s) => ({ ...s, status: 'sleeping' }), 'status'],
    ['a NaN counter', (s) => ({ ...s, metrics: { ...(s.metrics as object), stepsTotal: Number.NaN } }), 'metrics.stepsTotal'],
    ['a negative counter', (s) => ({ ...s, metrics: { ...(s.metrics as object), variablesCreated: -1 } }), 'metrics.variablesCreated'],
    ['a counter that disagrees with its list', (s) => ({ ...s, completedSteps: [] }), 'metrics.stepsCompleted'],
    ['a step listed twice', (s) => ({ ...s, failedSteps: ['a'], metrics: { ...(s.metrics as object) } }), 'failedSteps'],
    ['a missing field', (s) => ({ ...s, checkpoints: undefined }), 'checkpoints'],
    ['an unknown field', (s) => ({ ...s, extra: 1 }), ''],
    ['a bad timestamp', (s) => ({ ...s, metrics: { ...(s.metrics as object), startTime: 'yesterday' } }), 'metrics.startTime'],
    ['another execution', (s) => ({ ...s, executionId: 'exec_2', checkpoints: [], nestedContexts: [] }), 'executionId'],
    ['a foreign checkpoint', (s) => ({ ...s, checkpoints: [{ ...(s.checkpoints as object[])[0], executionId: 'x' }] }), 'checkpoints[0].executionId'],
    ['a bad nested id', (s) => ({ ...s, nestedContexts: [{ ...(s.nestedContexts as object[])[0], executionId: 'other.loop', checkpoints: [] }] }), 'nestedContexts[0].executionId'],
    ['a nested context of another pipeline', (s) => ({ ...s, nestedContexts: [{ ...(s.nestedContexts as object[])[0], pipelineId: 'other', checkpoints: [] }] }), 'nestedContexts[0].pipelineId'],
    ['bad variables', (s) => ({ ...s, variables: { ...(s.variables as object), variables: { x: { value: 1 } } } }), 'variables'],
    ['bad checkpoint variables', (s) => ({ ...s, checkpoints: [{ ...(s.checkpoints as object[])[0], variables: 5 }] }), 'checkpoints[0].variables'],
    ['a __proto__ key', (s) => JSON.parse(JSON.stringify(s).replace('"status":', '"__proto__":{"polluted":1},"status":')) as unknown, '__proto__'],
    ['a constructor key in extensions', (s) => JSON.parse(JSON.stringify(s).replace('"extensions":{', '"extensions":{"constructor":{"prototype":{"polluted":1}},')) as unknown, 'extensions.constructor'],
  ];

  it.each(corruptions)('refuses %s with INVALID_INPUT naming the field, changing nothing', (_name, corrupt, field) => {
    const context = busyContext();
    const before = context.exportState();
    const error = thrown(() => {
      context.importState(corrupt(clone(before) as unknown as Record<string, unknown>));
    });
    expect(error.code).toBe(ErrorCode.InvalidInput);
    expect(error).toBeInstanceOf(ValidationFailure);
    if (field !== '') {
      expect(error).toMatchObject({ field: expect.stringContaining(field) as unknown });
      expect(error.message).toContain(field);
    }
    expect(context.exportState()).toEqual(before);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('parseExecutionContextState returns a deep copy', () => {
    const state = clone(busyContext().exportState());
    const parsed = parseExecutionContextState(state);
    expect(parsed).toEqual(state);
    expect(parsed.variables).not.toBe(state.variables);
  });
});

// Random operation sequences: the counters always equal the distinct finished
// steps, and export -> import -> export is the identity.
const stepId = fc.constantFrom('a', 'b', 'c', 'd', 'e');
const operation = fc.oneof(
  fc.record({ op: fc.constant('start' as const), id: stepId }),
  fc.record({ op: fc.constant('complete' as const), id: stepId, success: fc.boolean() }),
  fc.record({ op: fc.constant('skip' as const), id: stepId }),
  fc.record({ op: fc.constant('set' as const), id: stepId, value: fc.integer() }),
  fc.record({ op: fc.constant('checkpoint' as const) }),
  fc.record({ op: fc.constant('restore' as const), index: fc.nat(12) }),
  fc.record({ op: fc.constant('pause' as const) }),
  fc.record({ op: fc.constant('resume' as const) }),
  fc.record({ op: fc.constant('tick' as const), ms: fc.nat(5000) }),
);
type Operation = typeof operation extends fc.Arbitrary<infer O> ? O : never;

function apply(context: ExecutionContext, clock: SimulatedClock, op: Operation): void {
  switch (op.op) {
    case 'start':
      context.startStep(op.id);
      break;
    case 'complete':
      context.completeStep(op.id, op.success);
      break;
    case 'skip':
      context.skipStep(op.id);
      break;
    case 'set':
      context.variableManager.setVariable(op.id, op.value);
      break;
    case 'checkpoint':
      context.createCheckpoint();
      break;
    case 'restore': {
      const checkpoint = context.checkpoints[op.index];
      expect(context.restoreCheckpoint(checkpoint?.id ?? 'missing')).toBe(checkpoint !== undefined);
      break;
    }
    case 'pause':
      context.pauseExecution();
      break;
    case 'resume':
      context.resumeExecution();
      break;
    case 'tick':
      clock.advance(op.ms);
      break;
  }
}

describe('ExecutionContext properties', () => {
  it('keeps the step counters equal to the distinct finished steps and round-trips', () => {
    fc.assert(
      fc.property(fc.array(operation, { maxLength: 40 }), (ops) => {
        const clock = new SimulatedClock(T0);
        const context = makeContext(clock);
        context.start(5);
        for (const op of ops) {
          apply(context, clock, op);
          const m = context.metrics;
          const finished = [...context.completedSteps, ...context.failedSteps, ...context.skippedSteps];
          expect(new Set(finished).size).toBe(finished.length);
          expect(m.stepsCompleted + m.stepsFailed + m.stepsSkipped).toBe(finished.length);
          expect(m.stepsCompleted).toBe(context.completedSteps.length);
          expect(context.checkpoints.length).toBeLessThanOrEqual(10);
        }
        const state = JSON.parse(JSON.stringify(context.exportState())) as ExecutionContextState;
        const copy = makeContext(clock);
        copy.importState(state);
        expect(copy.exportState()).toEqual(state);
      }),
      { numRuns: 150 },
    );
  });
});

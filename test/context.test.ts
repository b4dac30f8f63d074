import { describe, expect, it, vi } from 'vitest';
import { SimulatedClock } from '../src/clock.js';
import { ExecutionStatus } from '../src/constants.js';
import { ErrorCode, ExecutionError } from '../src/errors.js';
import { createExecutionContext, ExecutionContext } from '../src/services/context/index.js';
import type { ContextStepEvent } from '../src/services/context/index.js';
import { VariableManager } from '../src/services/variables/variable-manager.js';

const T0 = Date.parse('2026-01-01T00:00:00.000Z');

function setup(extra: { maxCheckpoints?: number } = {}) {
  const clock = new SimulatedClock(T0);
  const context = new ExecutionContext({ executionId: 'exec_1', pipelineId: 'pipe', clock, ...extra });
  return { clock, context };
}

function expectCode(fn: () => unknown, code: string): ExecutionError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(ExecutionError);
    expect((error as ExecutionError).code).toBe(code);
    return error as ExecutionError;
  }
  throw new Error(`expected ${code}, nothing was thrown`);
}

describe('ExecutionContext lifecycle', () => {
  it('starts PENDING with empty metrics', () => {
    const { context } = setup();
    expect(context.status).toBe(ExecutionStatus.PENDING);
    expect(context.currentStepId).toBeNull();
    expect(context.metrics).toEqual({
      startTime: null,
      endTime: null,
      duration: null,
      stepsCompleted: 0,
      stepsFailed: 0,
      stepsSkipped: 0,
      stepsTotal: 0,
      variablesCreated: 0,
      variablesUpdated: 0,
    });
    expect(context.totalSteps).toBe(0);
    expect(context.variableManager).toBeInstanceOf(VariableManager);
    expect(context.variableManager.pipelineId).toBe('pipe');
  });

  it('runs PENDING -> RUNNING -> COMPLETED with duration in seconds from the clock', () => {
    const { clock, context } = setup();
    context.start(3);
    expect(context.status).toBe(ExecutionStatus.RUNNING);
    expect(context.totalSteps).toBe(3);
    expect(context.metrics.startTime).toBe('2026-01-01T00:00:00.000Z');
    clock.advance(1500);
    expect(context.metrics.duration).toBe(1.5);
    context.complete(true);
    expect(context.status).toBe(ExecutionStatus.COMPLETED);
    expect(context.metrics.endTime).toBe('2026-01-01T00:00:01.500Z');
    clock.advance(10_000);
    expect(context.metrics.duration).toBe(1.5);
    expect(context.metrics.endTime).toBe('2026-01-01T00:00:01.500Z');
  });

  it('complete(false) fails the execution; the aliases do the same', () => {
    const { context } = setup();
    context.startExecution(2);
    expect(context.totalSteps).toBe(2);
    context.completeExecution(false);
    expect(context.status).toBe(ExecutionStatus.FAILED);
  });

  it('refuses complete() and start() on a terminal context with INVALID_STATE', () => {
    const { context } = setup();
    context.start();
    context.complete();
    expectCode(() => {
      context.complete(false);
    }, ErrorCode.InvalidState);
    expectCode(() => {
      context.start();
    }, ErrorCode.InvalidState);
    expect(context.status).toBe(ExecutionStatus.COMPLETED);
  });

  it('start() on a running context only updates the total', () => {
    const { clock, context } = setup();
    context.start(1);
    clock.advance(1000);
    context.start(5);
    expect(context.totalSteps).toBe(5);
    expect(context.metrics.startTime).toBe('2026-01-01T00:00:00.000Z');
  });

  it('pauses only from RUNNING and resumes only from PAUSED', () => {
    const { context } = setup();
    expect(context.pauseExecution()).toBe(false);
    expect(context.resumeExecution()).toBe(false);
    context.start();
    expect(context.resumeExecution()).toBe(false);
    expect(context.pauseExecution()).toBe(true);
    expect(context.status).toBe(ExecutionStatus.PAUSED);
    expect(context.pauseExecution()).toBe(false);
    expect(context.resumeExecution()).toBe(true);
    expect(context.status).toBe(ExecutionStatus.RUNNING);
    context.complete();
    expect(context.pauseExecution()).toBe(false);
    expect(context.resumeExecution()).toBe(false);
    expect(context.status).toBe(ExecutionStatus.COMPLETED);
  });

  it.each([
    ['pending', (_c: ExecutionContext) => undefined],
    [
      'running',
      (c: ExecutionContext) => {
        c.start();
      },
    ],
    ['paused', (c: ExecutionContext) => (c.start(), c.pauseExecution())],
  ])('cancels from %s', (_name, prepare) => {
    const { context } = setup();
    prepare(context);
    expect(context.cancelExecution()).toBe(true);
    expect(context.status).toBe(ExecutionStatus.CANCELLED);
    expect(context.metrics.endTime).toBe('2026-01-01T00:00:00.000Z');
    expect(context.cancelExecution()).toBe(false);
  });

  it.each([
    [
      'completed',
      (c: ExecutionContext) => {
        c.complete(true);
      },
      ExecutionStatus.COMPLETED,
    ],
    [
      'failed',
      (c: ExecutionContext) => {
        c.complete(false);
      },
      ExecutionStatus.FAILED,
    ],
  ])('does not cancel a %s execution', (_name, finish, status) => {
    const { context } = setup();
    context.start();
    finish(context);
    expect(context.cancelExecution()).toBe(false);
    expect(context.status).toBe(status);
  });

  it('createExecutionContext makes a context; bad options are INVALID_INPUT naming the field', () => {
    const context = createExecutionContext({ executionId: 'a', pipelineId: 'p' });
    expect(context.executionId).toBe('a');
    expect(context.maxCheckpoints).toBe(10);
    const missing = expectCode(() => createExecutionContext({ pipelineId: 'p' } as never), ErrorCode.InvalidInput);
    expect(missing.message).toContain('executionId');
    const zero = expectCode(
      () => createExecutionContext({ executionId: 'a', pipelineId: 'p', maxCheckpoints: 0 }),
      ErrorCode.InvalidInput,
    );
    expect(zero.message).toContain('maxCheckpoints');
    const vm = expectCode(
      () => createExecutionContext({ executionId: 'a', pipelineId: 'p', variableManager: {} as never }),
      ErrorCode.InvalidInput,
    );
    expect(vm.message).toContain('variableManager');
  });

  it('refuses bad arguments without changing anything', () => {
    const { context } = setup();
    expectCode(() => {
      context.start(Number.NaN);
    }, ErrorCode.InvalidInput);
    expectCode(() => {
      context.start(-1);
    }, ErrorCode.InvalidInput);
    expect(context.status).toBe(ExecutionStatus.PENDING);
    context.start();
    expectCode(() => {
      context.startStep('');
    }, ErrorCode.InvalidInput);
    expectCode(() => {
      context.completeStep('s', 'yes' as never);
    }, ErrorCode.InvalidInput);
    expect(context.currentStepId).toBeNull();
    expect(context.metrics.stepsCompleted).toBe(0);
  });
});

describe('ExecutionContext steps', () => {
  it('counts completed, failed and skipped steps and tracks the current step', () => {
    const { context } = setup();
    context.start(4);
    context.startStep('a');
    expect(context.currentStepId).toBe('a');
    context.completeStep('a');
    expect(context.currentStepId).toBeNull();
    context.startStep('b');
    context.completeStep('b', false);
    context.skipStep('c');
    context.completeStep('d');
    expect(context.completedSteps).toEqual(['a', 'd']);
    expect(context.failedSteps).toEqual(['b']);
    expect(context.skippedSteps).toEqual(['c']);
    const m = context.metrics;
    expect([m.stepsCompleted, m.stepsFailed, m.stepsSkipped, m.stepsTotal]).toEqual([2, 1, 1, 4]);
  });

  it('does not double count a step completed twice', () => {
    const { context } = setup();
    context.start();
    const events: string[] = [];
    context.onStepEvent((id, event) => events.push(`${id}:${event}`));
    context.startStep('a');
    context.completeStep('a');
    context.completeStep('a');
    expect(context.metrics.stepsCompleted).toBe(1);
    expect(context.completedSteps).toEqual(['a']);
    expect(events).toEqual(['a:started', 'a:completed']);
  });

  it('moves a step to its latest outcome (failed, then completed on a retry)', () => {
    const { context } = setup();
    context.start();
    context.startStep('a');
    context.completeStep('a', false);
    context.startStep('a');
    context.completeStep('a', true);
    expect(context.failedSteps).toEqual([]);
    expect(context.completedSteps).toEqual(['a']);
    expect(context.metrics.stepsFailed).toBe(0);
    expect(context.metrics.stepsCompleted).toBe(1);
  });

  it('falls back to the latest still running step as current', () => {
    const { context } = setup();
    context.start();
    context.startStep('a');
    context.startStep('b');
    expect(context.currentStepId).toBe('b');
    context.completeStep('b');
    expect(context.currentStepId).toBe('a');
    context.completeStep('a');
    expect(context.currentStepId).toBeNull();
  });

  it('refuses step calls on a terminal context', () => {
    const { context } = setup();
    context.start();
    context.cancelExecution();
    expectCode(() => {
      context.startStep('a');
    }, ErrorCode.InvalidState);
    expectCode(() => {
      context.completeStep('a');
    }, ErrorCode.InvalidState);
    expectCode(() => {
      context.skipStep('a');
    }, ErrorCode.InvalidState);
  });

  it('counts variables created and updated in its VariableManager', () => {
    const { context } = setup();
    context.variableManager.setVariable('x', 1);
    context.variableManager.setVariable('x', 2);
    context.variableManager.setVariable('y', null);
    expect(context.metrics.variablesCreated).toBe(2);
    expect(context.metrics.variablesUpdated).toBe(1);
    context.dispose();
    context.variableManager.setVariable('z', 1);
    expect(context.metrics.variablesCreated).toBe(2);
  });

  it('uses an injected VariableManager as given', () => {
    const variableManager = new VariableManager({ pipelineId: 'pipe' });
    const context = new ExecutionContext({ executionId: 'e', pipelineId: 'pipe', variableManager });
    expect(context.variableManager).toBe(variableManager);
    variableManager.setVariable('a', 1);
    expect(context.metrics.variablesCreated).toBe(1);
  });
});

describe('ExecutionContext handlers', () => {
  it('tells status handlers (executionId, status) and stops after unsubscribe', () => {
    const { context } = setup();
    const seen: [string, string][] = [];
    const off = context.onStatusChange((id, status) => seen.push([id, status]));
    context.start();
    context.pauseExecution();
    context.resumeExecution();
    off();
    context.complete();
    expect(seen).toEqual([
      ['exec_1', 'running'],
      ['exec_1', 'paused'],
      ['exec_1', 'running'],
    ]);
  });

  it('tells step handlers (stepId, event) for every kind of event', () => {
    const { context } = setup();
    context.start();
    const seen: [string, ContextStepEvent][] = [];
    const off = context.onStepEvent((id, event) => seen.push([id, event]));
    context.startStep('a');
    context.completeStep('a');
    context.startStep('b');
    context.completeStep('b', false);
    context.skipStep('c');
    off();
    context.startStep('d');
    expect(seen).toEqual([
      ['a', 'started'],
      ['a', 'completed'],
      ['b', 'started'],
      ['b', 'failed'],
      ['c', 'skipped'],
    ]);
  });

  it('a throwing handler does not break the context or the other handlers', () => {
    const onHandlerError = vi.fn<(error: unknown, source: string) => void>();
    const context = new ExecutionContext({ executionId: 'e', pipelineId: 'p', onHandlerError });
    const after = vi.fn();
    context.onStatusChange(() => {
      throw new Error('boom');
    });
    context.onStatusChange(after);
    context.onStepEvent(() => {
      throw new Error('step boom');
    });
    context.start();
    context.startStep('a');
    context.completeStep('a');
    expect(context.status).toBe(ExecutionStatus.RUNNING);
    expect(context.completedSteps).toEqual(['a']);
    expect(after).toHaveBeenCalledWith('e', 'running');
    expect(onHandlerError).toHaveBeenCalledTimes(3);
    expect(onHandlerError.mock.calls.map((call) => call[1])).toEqual(['onStatusChange', 'onStepEvent', 'onStepEvent']);
  });

  it('refuses a handler that is not a function', () => {
    const { context } = setup();
    expectCode(() => context.onStepEvent('nope' as never), ErrorCode.InvalidInput);
  });
});

describe('ExecutionContext nested contexts', () => {
  it('creates children named <executionId>.<id> of the same pipeline with their own variables', () => {
    const { context } = setup();
    context.variableManager.setVariable('parentOnly', 1);
    const child = context.createNestedContext('loop_0');
    expect(child.executionId).toBe('exec_1.loop_0');
    expect(child.pipelineId).toBe('pipe');
    expect(child.parent).toBe(context);
    expect(child.variableManager).not.toBe(context.variableManager);
    expect(child.variableManager.hasVariable('parentOnly')).toBe(false);
    expect(context.nestedContexts).toEqual([child]);
    expect(context.getNestedContext('loop_0')).toBe(child);
    child.start(1);
    child.completeStep('inner');
    expect(context.completedSteps).toEqual([]);
    expect(context.status).toBe(ExecutionStatus.PENDING);
  });

  it('refuses a duplicate nested id and an empty one', () => {
    const { context } = setup();
    context.createNestedContext('x');
    expectCode(() => context.createNestedContext('x'), ErrorCode.InvalidInput);
    expectCode(() => context.createNestedContext(''), ErrorCode.InvalidInput);
    expect(context.nestedContexts).toHaveLength(1);
  });
});

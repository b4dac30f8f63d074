import { describe, expect, it } from 'vitest';
import { SimulatedClock } from '../src/clock.js';
import { ExecutionStatus, VariableScope, VariableType } from '../src/constants.js';
import { ErrorCode, ExecutionError, ValidationFailure } from '../src/errors.js';
import { ExecutionStateBridge, PipelineExecutionState } from '../src/services/bridge/index.js';
import { ExecutionContext } from '../src/services/context/execution-context.js';
import { VariableManager } from '../src/services/variables/variable-manager.js';

const START = Date.parse('2026-01-01T00:00:00.000Z');

function setup() {
  const clock = new SimulatedClock(START);
  const variables = new VariableManager({ pipelineId: 'etl', clock });
  const context = new ExecutionContext({ executionId: 'run-1', pipelineId: 'etl', variableManager: variables, clock });
  const legacy = new PipelineExecutionState({ pipelineId: 'etl', clock });
  const bridge = new ExecutionStateBridge({ executionContext: context, pipelineExecutionState: legacy });
  context.start(3);
  return { clock, variables, context, legacy, bridge };
}

function caught(fn: () => unknown): ExecutionError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(ExecutionError);
    return error as ExecutionError;
  }
  throw new Error('expected a throw');
}

describe('ExecutionStateBridge construction', () => {
  it('refuses a missing legacy state or context with a ValidationFailure naming it', () => {
    const { context, legacy } = setup();
    const noLegacy = caught(() => new ExecutionStateBridge({ executionContext: context, pipelineExecutionState: {} as never }));
    expect(noLegacy).toBeInstanceOf(ValidationFailure);
    expect(noLegacy.details.field).toBe('pipelineExecutionState');
    const noContext = caught(() => new ExecutionStateBridge({ executionContext: null as never, pipelineExecutionState: legacy }));
    expect(noContext.details.field).toBe('executionContext');
  });
});

describe('registerVariable', () => {
  it('writes both systems with the given metadata', () => {
    const { variables, legacy, bridge } = setup();
    bridge.registerVariable('summary', { status: 'success', count: 1500 }, {
      varType: VariableType.OUTPUT,
      sourceStep: 'process_data',
      description: 'totals',
      tags: ['report'],
    });
    expect(variables.getVariable('summary')).toEqual({ status: 'success', count: 1500 });
    expect(variables.getVariableMetadata('summary')).toMatchObject({
      varType: VariableType.OUTPUT,
      scope: VariableScope.GLOBAL,
      sourceStep: 'process_data',
      description: 'totals',
      tags: ['report'],
      version: 1,
    });
    expect(legacy.getVariable('summary')).toEqual({ status: 'success', count: 1500 });
    expect(legacy.getTags('variable', 'summary')).toContain('report');
  });

  it('defaults to an INTERMEDIATE global variable', () => {
    const { variables, bridge } = setup();
    bridge.registerVariable('n', 1);
    expect(variables.getVariableMetadata('n')).toMatchObject({ varType: VariableType.INTERMEDIATE, scope: VariableScope.GLOBAL });
  });

  it('changes neither system when the value, a name or an option is refused', () => {
    const { variables, legacy, bridge } = setup();
    const badValue = caught(() => {
      bridge.registerVariable('when', { at: new Date(0) });
    });
    expect(badValue.code).toBe(ErrorCode.InvalidInput);
    expect(badValue.details.field).toBe('value.at');
    const badOption = caught(() => {
      bridge.registerVariable('x', 1, { varType: 'weird' as never });
    });
    expect(badOption.details.field).toBe('varType');
    expect(() => {
      bridge.registerVariable('constructor', 1);
    }).toThrow(ValidationFailure);
    expect(variables.listVariables()).toEqual({});
    expect(legacy.getVariables()).toEqual({});
  });
});

describe('steps', () => {
  it('registerStepResult stores <id>_result as an OUTPUT, the legacy result with aliases, and completes the step', () => {
    const { variables, context, legacy, bridge } = setup();
    bridge.startStep('load');
    expect(context.currentStepId).toBe('load');
    expect(legacy.runningTasks).toEqual(['load']);

    bridge.registerStepResult('load', { value: 42, rows: 3 });
    expect(variables.getVariable('load_result')).toEqual({ value: 42, rows: 3 });
    expect(variables.getVariableMetadata('load_result')).toMatchObject({
      varType: VariableType.OUTPUT,
      scope: VariableScope.GLOBAL,
      sourceStep: 'load',
    });
    expect(context.completedSteps).toContain('load');
    expect(context.metrics.stepsCompleted).toBe(1);
    expect(legacy.getResult('load')).toEqual({ value: 42, rows: 3 });
    expect(legacy.executedTasks).toEqual(['load']);
    expect(legacy.runningTasks).toEqual([]);
    expect(bridge.getVariable('load_value')).toBe(42);
    expect(bridge.getVariable('load_str')).toBe('{"value":42,"rows":3}');

    bridge.registerStepResult('load', { value: 43 });
    expect(context.metrics.stepsCompleted).toBe(1);
    expect(variables.getVariableMetadata('load_result')?.version).toBe(2);
  });

  it('registerStepResult of a step never started still completes it once', () => {
    const { context, bridge } = setup();
    bridge.registerStepResult('quick', 'done');
    expect(context.completedSteps).toEqual(['quick']);
    expect(context.metrics.stepsCompleted).toBe(1);
  });

  it('registerStepResult after the execution finished writes nothing', () => {
    const { variables, context, legacy, bridge } = setup();
    context.complete(true);
    expect(context.status).toBe(ExecutionStatus.COMPLETED);
    const error = caught(() => {
      bridge.registerStepResult('late', 1);
    });
    expect(error.code).toBe(ErrorCode.InvalidState);
    expect(variables.hasVariable('late_result')).toBe(false);
    expect(legacy.hasResult('late')).toBe(false);
  });

  it('failStep fails the step in the context and the legacy task with the message', () => {
    const { context, legacy, bridge } = setup();
    bridge.startStep('send');
    bridge.failStep('send', new Error('smtp down'));
    expect(context.failedSteps).toEqual(['send']);
    expect(context.metrics.stepsFailed).toBe(1);
    expect(legacy.failedTasks).toEqual(['send']);
    expect(legacy.getTaskError('send')).toBe('smtp down');
    expect(legacy.runningTasks).toEqual([]);
  });

  it('refuses an empty step id before touching either system', () => {
    const { context, legacy, bridge } = setup();
    expect(() => {
      bridge.startStep('');
    }).toThrow(ValidationFailure);
    expect(context.currentStepId).toBeNull();
    expect(legacy.runningTasks).toEqual([]);
  });
});

describe('getVariable / hasVariable', () => {
  it('reads the VariableManager first, then legacy variables, results and aliases, then the default', () => {
    const { variables, legacy, bridge } = setup();
    variables.setVariable('shared', 'new');
    legacy.registerVariable('shared', 'old');
    legacy.registerVariable('legacy_only', 'L');
    legacy.registerResult('step', { result: 'inner' });
    variables.setVariable('empty', null);

    expect(bridge.getVariable('shared')).toBe('new');
    expect(bridge.getVariable('legacy_only')).toBe('L');
    expect(bridge.getVariable('step')).toEqual({ result: 'inner' });
    expect(bridge.getVariable('step_value')).toBe('inner');
    expect(bridge.getVariable('empty', { defaultValue: 'fallback' })).toBeNull();
    expect(bridge.getVariable('missing', { defaultValue: 'fallback' })).toBe('fallback');
    expect(bridge.getVariable('missing')).toBeUndefined();

    expect(bridge.hasVariable('shared')).toBe(true);
    expect(bridge.hasVariable('step_str')).toBe(true);
    expect(bridge.hasVariable('empty')).toBe(true);
    expect(bridge.hasVariable('missing')).toBe(false);
  });

  it('sees the current legacy loop variables', () => {
    const { legacy, bridge } = setup();
    legacy.pushLoopContext({ loopId: 'each', index: 0, item: 'a', total: 1 });
    expect(bridge.getVariable('$item')).toBe('a');
    expect(bridge.getVariable('$is_last')).toBe(true);
    legacy.popLoopContext();
    expect(bridge.hasVariable('$item')).toBe(false);
  });
});

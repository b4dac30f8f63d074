import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SimulatedClock } from '../src/clock.js';
import { VariableScope, VariableType } from '../src/constants.js';
import { ErrorCode, ExecutionError } from '../src/errors.js';
import { ExecutionStateBridge, PipelineExecutionState } from '../src/services/bridge/index.js';
import { ExecutionContext } from '../src/services/context/execution-context.js';
import { VariableManager } from '../src/services/variables/variable-manager.js';

const START = Date.parse('2026-01-01T00:00:00.000Z');

function setup(executionId = 'run-1') {
  const clock = new SimulatedClock(START);
  const variables = new VariableManager({ pipelineId: 'etl', clock });
  const context = new ExecutionContext({ executionId, pipelineId: 'etl', variableManager: variables, clock });
  const legacy = new PipelineExecutionState({ pipelineId: 'etl', clock });
  const bridge = new ExecutionStateBridge({ executionContext: context, pipelineExecutionState: legacy });
  return { clock, variables, context, legacy, bridge };
}

function versions(variables: VariableManager): Record<string, number> {
  const entries = variables.listVariables({ includeMetadata: true });
  return Object.fromEntries(Object.entries(entries).map(([name, entry]) => [name, entry.metadata.version]));
}

describe('syncFromPipelineState', () => {
  it('brings legacy variables as CONFIGURATION and results as OUTPUT <id>_result with sourceStep', () => {
    const { variables, legacy, bridge } = setup();
    legacy.registerVariable('region', 'eu');
    legacy.registerVariable('limits', { rows: 10 });
    legacy.registerResult('load', { value: 42 });

    const report = bridge.syncFromPipelineState();
    expect(report).toEqual({ variables: ['region', 'limits'], results: ['load'], unchanged: 0 });
    expect(variables.getVariable('region')).toBe('eu');
    expect(variables.getVariableMetadata('region')).toMatchObject({
      varType: VariableType.CONFIGURATION,
      scope: VariableScope.GLOBAL,
      sourceStep: null,
    });
    expect(variables.getVariable('load_result')).toEqual({ value: 42 });
    expect(variables.getVariableMetadata('load_result')).toMatchObject({
      varType: VariableType.OUTPUT,
      scope: VariableScope.GLOBAL,
      sourceStep: 'load',
    });
    // Aliases stay derived on the legacy side; the bridge still answers them.
    expect(variables.hasVariable('load_value')).toBe(false);
    expect(bridge.getVariable('load_value')).toBe(42);
  });

  it('is idempotent: a second sync writes nothing and moves no version', () => {
    const { variables, legacy, bridge } = setup();
    legacy.registerVariable('region', 'eu');
    legacy.registerResult('load', [1, 2]);
    bridge.syncFromPipelineState();
    const first = versions(variables);
    expect(first).toEqual({ region: 1, load_result: 1 });

    expect(bridge.syncFromPipelineState()).toEqual({ variables: [], results: [], unchanged: 2 });
    expect(versions(variables)).toEqual(first);

    legacy.registerVariable('region', 'us');
    expect(bridge.syncFromPipelineState()).toEqual({ variables: ['region'], results: [], unchanged: 1 });
    expect(versions(variables)).toEqual({ region: 2, load_result: 1 });
  });

  it('does not rewrite a variable that registerVariable already put in both systems', () => {
    const { variables, bridge } = setup();
    bridge.registerVariable('n', { deep: [1, { x: null }] });
    expect(bridge.syncFromPipelineState().unchanged).toBe(1);
    expect(variables.getVariableMetadata('n')).toMatchObject({ version: 1, varType: VariableType.INTERMEDIATE });
  });
});

describe('syncToPipelineState', () => {
  it('copies variables by name and step outputs as legacy results keyed by step id, with aliases', () => {
    const { variables, legacy, bridge } = setup();
    variables.setVariable('threshold', 5, { varType: VariableType.CONFIGURATION });
    variables.setVariable('transform_result', { result: 'ok' }, { varType: VariableType.OUTPUT, sourceStep: 'transform' });
    // An OUTPUT that is not the step's result variable keeps its own name.
    variables.setVariable('summary', 'text', { varType: VariableType.OUTPUT, sourceStep: 'transform' });

    const report = bridge.syncToPipelineState();
    expect(report).toEqual({ variables: ['threshold', 'summary'], results: ['transform'], unchanged: 0 });
    expect(legacy.getVariables()).toEqual({ threshold: 5, summary: 'text' });
    expect(legacy.getResults()).toEqual({ transform: { result: 'ok' } });
    const context = legacy.getAvailableContext();
    expect(context.transform_result).toEqual({ result: 'ok' });
    expect(context.transform_value).toBe('ok');
    expect(context.transform_str).toBe('{"result":"ok"}');
    expect(legacy.executedTasks).toEqual(['transform']);
  });

  it('copies raw template strings, not their rendering', () => {
    const { variables, legacy, bridge } = setup();
    variables.setVariable('name', 'Ada');
    variables.setVariable('greeting', 'Hi ${name}');
    bridge.syncToPipelineState();
    expect(legacy.getVariable('greeting')).toBe('Hi ${name}');
    expect(legacy.resolveTemplate('${greeting}')).toBe('Hi ${name}');
  });

  it('is idempotent, and a round trip through both directions settles at once', () => {
    const { variables, legacy, bridge } = setup();
    variables.setVariable('a', 1);
    bridge.registerStepResult('s', 'out');
    legacy.registerVariable('legacy_var', true);
    bridge.syncToPipelineState();
    expect(bridge.syncToPipelineState()).toEqual({ variables: [], results: [], unchanged: 2 });
    bridge.syncFromPipelineState();
    const settled = versions(variables);
    expect(bridge.syncFromPipelineState().variables).toEqual([]);
    expect(bridge.syncToPipelineState()).toMatchObject({ variables: [], results: [] });
    expect(versions(variables)).toEqual(settled);
  });

  it('any values survive to-then-from without changing the VariableManager', () => {
    const safeJson = fc.jsonValue().filter((value) => !/"(__proto__|constructor|prototype)":/.test(JSON.stringify(value)));
    fc.assert(
      fc.property(fc.dictionary(fc.stringMatching(/^[a-z][a-z0-9]{0,6}$/), safeJson, { maxKeys: 6 }), (values) => {
        const { variables, bridge } = setup();
        for (const [name, value] of Object.entries(values)) variables.setVariable(name, value);
        const before = variables.listVariables();
        bridge.syncToPipelineState();
        const report = bridge.syncFromPipelineState();
        expect(report.variables).toEqual([]);
        expect(variables.listVariables()).toEqual(before);
        expect(Object.values(versions(variables)).every((version) => version === 1)).toBe(true);
      }),
      { numRuns: 60 },
    );
  });
});

describe('exportCombinedState / importCombinedState', () => {
  it('holds both exports, a format version and the export time', () => {
    const { clock, context, legacy, bridge } = setup();
    context.start(2);
    bridge.startStep('load');
    bridge.registerStepResult('load', { value: 1 });
    legacy.registerTemplate('t', '${load_value}');
    clock.advance(1500);

    const combined = bridge.exportCombinedState();
    expect(Object.keys(combined).sort()).toEqual(['executionContext', 'exportedAt', 'formatVersion', 'pipelineState']);
    expect(combined.formatVersion).toBe(1);
    expect(combined.exportedAt).toBe('2026-01-01T00:00:01.500Z');
    expect(combined.pipelineState).toEqual(legacy.exportState());
    expect(combined.executionContext).toEqual(context.exportState());
    expect(combined.executionContext.executionId).toBe('run-1');
    expect(combined.executionContext.completedSteps).toEqual(['load']);
    expect(combined.executionContext.variables.variables.load_result?.value).toEqual({ value: 1 });
    expect(combined.pipelineState.results).toEqual({ load: { value: 1 } });
    expect(JSON.parse(JSON.stringify(combined))).toEqual(combined);
  });

  it('imports into fresh systems, replacing what was there', () => {
    const source = setup();
    source.context.start(1);
    source.bridge.registerStepResult('load', 'rows');
    source.bridge.registerVariable('region', 'eu');
    const combined = JSON.parse(JSON.stringify(source.bridge.exportCombinedState())) as unknown;

    const target = setup();
    target.legacy.registerVariable('stale', 1);
    target.bridge.importCombinedState(combined);
    expect(target.legacy.exportState()).toEqual(source.legacy.exportState());
    expect(target.legacy.hasVariable('stale')).toBe(false);
    expect(target.context.completedSteps).toEqual(['load']);
    expect(target.bridge.getVariable('load_result')).toBe('rows');
    expect(target.bridge.getVariable('load_str')).toBe('rows');
  });

  it('refuses a newer envelope, a bad legacy half or a bad context half, changing nothing', () => {
    const { context, legacy, bridge } = setup();
    context.start(1);
    bridge.registerStepResult('load', 1);
    const good = bridge.exportCombinedState();
    const legacyBefore = legacy.exportState();
    const contextBefore = context.exportState();

    const attempts: [unknown, string][] = [
      [{ ...good, formatVersion: 2 }, ErrorCode.StateIncompatible],
      [{ ...good, exportedAt: 'never' }, ErrorCode.InvalidInput],
      [{ ...good, pipelineState: { ...good.pipelineState, variables: { bad: Number.NaN } } }, ErrorCode.InvalidInput],
      [
        { ...good, pipelineState: { ...good.pipelineState, variables: { fresh: 1 } }, executionContext: { formatVersion: 1 } },
        ErrorCode.InvalidInput,
      ],
    ];
    for (const [input, code] of attempts) {
      let thrown: unknown;
      try {
        bridge.importCombinedState(input);
      } catch (error) {
        thrown = error;
      }
      expect(thrown).toBeInstanceOf(ExecutionError);
      expect((thrown as ExecutionError).code).toBe(code);
      expect(legacy.exportState()).toEqual(legacyBefore);
      expect(context.exportState()).toEqual(contextBefore);
    }
  });
});

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SimulatedClock } from '../src/clock.js';
import { ErrorCode, ValidationFailure } from '../src/errors.js';
import { PipelineExecutionState } from '../src/services/bridge/index.js';
import type { PipelineState } from '../src/services/bridge/index.js';

const START = Date.parse('2026-01-01T00:00:00.000Z');

function populated(): PipelineExecutionState {
  const state = new PipelineExecutionState({ pipelineId: 'etl', clock: new SimulatedClock(START) });
  state.registerVariable('region', 'eu', { tags: ['config'] });
  state.registerResult('load', { value: 42 });
  state.registerTemplate('greeting', 'Hello ${region}');
  state.pushLoopContext({ loopId: 'each', index: 1, item: 'b', total: 3, variables: { row: 2 } });
  state.markTaskPending('report');
  state.markTaskRunning('transform');
  state.markTaskFailed('notify', 'smtp down');
  return state;
}

function refusal(state: PipelineExecutionState, input: unknown): ValidationFailure {
  try {
    state.importState(input);
  } catch (error) {
    expect(error).toBeInstanceOf(ValidationFailure);
    return error as ValidationFailure;
  }
  throw new Error('importState accepted bad input');
}

describe('exportState', () => {
  it('is versioned JSON with everything the state holds', () => {
    const exported = populated().exportState();
    expect(JSON.parse(JSON.stringify(exported))).toEqual(exported);
    expect(exported).toEqual({
      formatVersion: 1,
      pipelineId: 'etl',
      startTime: '2026-01-01T00:00:00.000Z',
      variables: { region: 'eu' },
      results: { load: { value: 42 } },
      templates: { greeting: 'Hello ${region}' },
      tags: {
        variables: { region: ['variable', 'type:string', 'config'] },
        results: { load: ['step_result', 'step:load', 'type:object'] },
      },
      loopStack: [{ loopId: 'each', index: 1, item: 'b', total: 3, isFirst: false, isLast: false, variables: { row: 2 } }],
      tasks: { executed: ['load'], pending: ['report'], running: ['transform'], failed: { notify: 'smtp down' } },
    });
  });
});

describe('importState', () => {
  it('round-trips through JSON and derives the aliases again', () => {
    const source = populated();
    const target = new PipelineExecutionState({ pipelineId: 'other' });
    target.registerVariable('stale', true);
    target.importState(JSON.parse(JSON.stringify(source.exportState())));
    expect(target.exportState()).toEqual(source.exportState());
    expect(target.pipelineId).toBe('etl');
    expect(target.hasVariable('stale')).toBe(false);
    expect(target.getAvailableContext()).toEqual(source.getAvailableContext());
    expect(target.getAvailableContext().load_value).toBe(42);
    expect(target.resolveTemplate('${greeting} #${$index}')).toBe('Hello eu #1');
    expect(target.getTaskError('notify')).toBe('smtp down');
  });

  it('refuses a newer formatVersion with STATE_INCOMPATIBLE and changes nothing', () => {
    const state = populated();
    const before = state.exportState();
    const error = refusal(state, { ...before, formatVersion: 2 });
    expect(error.code).toBe(ErrorCode.StateIncompatible);
    expect(error.field).toBe('formatVersion');
    expect(state.exportState()).toEqual(before);
  });

  it.each<[string, (good: PipelineState) => unknown, string]>([
    ['not an object', () => 'garbage', ''],
    ['null', () => null, ''],
    ['a missing field', ({ results: _results, ...rest }) => rest, 'results'],
    ['an unknown field', (good) => ({ ...good, extra: 1 }), ''],
    ['a wrong version', (good) => ({ ...good, formatVersion: 0 }), 'formatVersion'],
    ['a bad timestamp', (good) => ({ ...good, startTime: 'yesterday' }), 'startTime'],
    ['a non-JSON number', (good) => ({ ...good, variables: { x: Number.POSITIVE_INFINITY } }), 'variables.x'],
    ['a non-string template', (good) => ({ ...good, templates: { t: 5 } }), 'templates.t'],
    ['a task in two sets', (good) => ({ ...good, tasks: { ...good.tasks, pending: ['load'] } }), 'tasks.pending[0]'],
    ['tags of nothing', (good) => ({ ...good, tags: { ...good.tags, results: { ghost: ['x'] } } }), 'tags.results.ghost'],
    [
      'a loop index past its total',
      (good) => ({ ...good, loopStack: [{ ...good.loopStack[0], index: 3 }] }),
      'loopStack[0].index',
    ],
  ])('refuses %s with INVALID_INPUT naming the field, changing nothing', (_label, mutate, field) => {
    const state = populated();
    const before = state.exportState();
    const error = refusal(state, mutate(structuredClone(before)));
    expect(error.code).toBe(ErrorCode.InvalidInput);
    expect(error.field).toBe(field);
    expect(state.exportState()).toEqual(before);
  });

  it('refuses __proto__ and constructor keys anywhere without polluting prototypes', () => {
    const state = populated();
    const before = state.exportState();
    const text = JSON.stringify(before).replace('"region":"eu"', '"__proto__":{"polluted":true}');
    const error = refusal(state, JSON.parse(text));
    expect(error.field).toBe('variables.__proto__');
    const nested = refusal(state, { ...before, results: { load: { constructor: { prototype: 1 } } } });
    expect(nested.field).toBe('results.load.constructor');
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(state.exportState()).toEqual(before);
  });
});

describe('invariants', () => {
  const op = fc.oneof(
    fc.record({ kind: fc.constantFrom('pending', 'running', 'executed', 'failed', 'result'), id: fc.constantFrom('a', 'b', 'c') }),
  );

  // Prototype keys are refused on purpose (tested above); keep them out of the generated data.
  const jsonWithoutPrototypeKeys = fc
    .jsonValue()
    .filter((value) => !/"(__proto__|constructor|prototype)":/.test(JSON.stringify(value)));

  it('every task is in at most one set, and any sequence of operations survives export/import', () => {
    fc.assert(
      fc.property(fc.array(op, { maxLength: 30 }), fc.array(fc.tuple(fc.string({ minLength: 1 }), jsonWithoutPrototypeKeys)), (ops, vars) => {
        const state = new PipelineExecutionState({ clock: new SimulatedClock(START) });
        for (const { kind, id } of ops) {
          if (kind === 'pending') state.markTaskPending(id);
          else if (kind === 'running') state.markTaskRunning(id);
          else if (kind === 'executed') state.markTaskExecuted(id);
          else if (kind === 'failed') state.markTaskFailed(id, `${id} failed`);
          else state.registerResult(id, { value: id });
        }
        for (const [name, value] of vars) {
          if (['__proto__', 'constructor', 'prototype'].includes(name)) continue;
          state.registerVariable(name, value);
        }
        const all = [...state.pendingTasks, ...state.runningTasks, ...state.executedTasks, ...state.failedTasks];
        expect(new Set(all).size).toBe(all.length);
        const copy = new PipelineExecutionState();
        copy.importState(JSON.parse(JSON.stringify(state.exportState())));
        expect(copy.exportState()).toEqual(state.exportState());
        expect(copy.getAvailableContext()).toEqual(state.getAvailableContext());
      }),
      { numRuns: 200 },
    );
  });
});

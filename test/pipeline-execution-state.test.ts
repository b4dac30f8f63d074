import { describe, expect, it } from 'vitest';
import { SimulatedClock } from '../src/clock.js';
import { ErrorCode, ValidationFailure } from '../src/errors.js';
import { PipelineExecutionState } from '../src/services/bridge/index.js';

const START = Date.parse('2026-01-01T00:00:00.000Z');

function newState(): PipelineExecutionState {
  return new PipelineExecutionState({ pipelineId: 'etl', clock: new SimulatedClock(START) });
}

function catchError(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  throw new Error('expected a throw');
}

describe('PipelineExecutionState construction', () => {
  it('defaults the pipeline id and takes the start time from the clock', () => {
    const state = new PipelineExecutionState({ clock: new SimulatedClock(START) });
    expect(state.pipelineId).toBe('default');
    expect(state.startTime).toBe('2026-01-01T00:00:00.000Z');
    expect(new PipelineExecutionState().pipelineId).toBe('default');
  });

  it('refuses unknown and bad options with a ValidationFailure naming the field', () => {
    const error = catchError(() => new PipelineExecutionState({ pipelineId: '' }));
    expect(error).toBeInstanceOf(ValidationFailure);
    expect((error as ValidationFailure).field).toBe('pipelineId');
    expect(() => new PipelineExecutionState({ pipelineid: 'x' } as never)).toThrow(ValidationFailure);
  });
});

describe('variables', () => {
  it('registers, reads with a default and checks presence', () => {
    const state = newState();
    state.registerVariable('region', 'eu');
    state.registerVariable('nothing', null);
    expect(state.getVariable('region')).toBe('eu');
    expect(state.getVariable('nothing', { defaultValue: 'fallback' })).toBeNull();
    expect(state.getVariable('missing', { defaultValue: 7 })).toBe(7);
    expect(state.getVariable('missing')).toBeUndefined();
    expect(state.hasVariable('nothing')).toBe(true);
    expect(state.hasVariable('missing')).toBe(false);
  });

  it('stores a copy, so mutating the input or a read value changes nothing', () => {
    const state = newState();
    const input = { list: [1, 2] };
    state.registerVariable('cfg', input);
    input.list.push(3);
    state.getVariable<{ list: number[] }>('cfg')!.list.push(4);
    expect(state.getVariable('cfg')).toEqual({ list: [1, 2] });
  });

  it('stores undefined as null and drops undefined object fields, as JSON does', () => {
    const state = newState();
    state.registerVariable('u', undefined);
    state.registerVariable('o', { a: 1, b: undefined });
    expect(state.getVariable('u')).toBeNull();
    expect(state.getVariable('o')).toEqual({ a: 1 });
  });

  it.each([
    ['a Date', { at: new Date(0) }, 'value.at'],
    ['NaN', [1, Number.NaN], 'value[1]'],
    ['a function', { f: () => 1 }, 'value.f'],
    ['a Map', new Map(), 'value'],
  ])('refuses %s with INVALID_INPUT naming the field', (_label, value, field) => {
    const state = newState();
    const error = catchError(() => {
      state.registerVariable('x', value);
    });
    expect(error).toBeInstanceOf(ValidationFailure);
    expect((error as ValidationFailure).code).toBe(ErrorCode.InvalidInput);
    expect((error as ValidationFailure).field).toBe(field);
    expect(state.hasVariable('x')).toBe(false);
  });

  it('refuses circular values and prototype names', () => {
    const state = newState();
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    expect(() => {
      state.registerVariable('c', cyclic);
    }).toThrow(/circular/);
    expect(() => {
      state.registerVariable('__proto__', 1);
    }).toThrow(ValidationFailure);
    expect(() => {
      state.registerVariable('', 1);
    }).toThrow(ValidationFailure);
    expect(state.getVariables()).toEqual({});
  });
});

describe('results and aliases', () => {
  it('registers aliases _result, _value and _str for an object with a value field', () => {
    const state = newState();
    const result = { value: 42, rows: ['a'] };
    state.registerResult('load', result);
    const context = state.getAvailableContext();
    expect(context.load).toEqual(result);
    expect(context.load_result).toEqual(result);
    expect(context.load_value).toBe(42);
    expect(context.load_str).toBe(JSON.stringify(result));
  });

  it('uses the result field for _value when there is no value field, else the result itself', () => {
    const state = newState();
    state.registerResult('a', { result: 'inner', other: 1 });
    state.registerResult('b', 'plain text');
    state.registerResult('c', [1, 2]);
    state.registerResult('d', 5);
    const context = state.getAvailableContext();
    expect(context.a_value).toBe('inner');
    expect(context.b_value).toBe('plain text');
    expect(context.b_str).toBe('plain text');
    expect(context.c_value).toEqual([1, 2]);
    expect(context.c_str).toBe('[1,2]');
    expect(context.d_str).toBe('5');
  });

  it('marks the task executed and tags the result', () => {
    const state = newState();
    state.markTaskPending('load');
    state.registerResult('load', { value: 1 });
    expect(state.executedTasks).toEqual(['load']);
    expect(state.pendingTasks).toEqual([]);
    expect(state.getTags('result', 'load')).toEqual(['step_result', 'step:load', 'type:object']);
    expect(state.getResult('load')).toEqual({ value: 1 });
    expect(state.hasResult('load')).toBe(true);
    expect(state.getResult('nope', { defaultValue: 'd' })).toBe('d');
  });

  it('re-registering a result replaces it and its aliases', () => {
    const state = newState();
    state.registerResult('s', { value: 1 });
    state.registerResult('s', 'two');
    const context = state.getAvailableContext();
    expect(context.s_value).toBe('two');
    expect(context.s_str).toBe('two');
    expect(state.executedTasks).toEqual(['s']);
  });
});

describe('tags', () => {
  it('finds variables and results by automatic and user tags', () => {
    const state = newState();
    state.registerVariable('region', 'eu', { tags: ['config'] });
    state.registerResult('load', [1], { tags: ['config'] });
    state.registerResult('transform', { value: 2 });
    expect(state.findByTag('step_result').map((entry) => entry.name)).toEqual(['load', 'transform']);
    expect(state.findByTag('step:transform')).toEqual([
      { kind: 'result', name: 'transform', value: { value: 2 }, tags: ['step_result', 'step:transform', 'type:object'] },
    ]);
    expect(state.findByTag('config').map((entry) => [entry.kind, entry.name])).toEqual([
      ['variable', 'region'],
      ['result', 'load'],
    ]);
    expect(state.findByTag('type:string').map((entry) => entry.name)).toEqual(['region']);
    expect(state.findByTag('unknown')).toEqual([]);
  });
});

describe('templates', () => {
  it('resolves ${name} and {{ name }} with dotted paths and leaves unknown names literal', () => {
    const state = newState();
    state.registerVariable('user', { name: 'Ada', langs: ['en', 'fr'] });
    state.registerResult('count', { value: 3 });
    expect(state.resolveTemplate('Hi ${user.name}, {{ count_value }} rows, {{user.langs.1}}')).toBe('Hi Ada, 3 rows, fr');
    expect(state.resolveTemplate('${missing} and {{ user.age }} stay')).toBe('${missing} and {{ user.age }} stay');
    expect(state.resolveTemplate('{{ user | upper }}')).toBe('{{ user | upper }}');
    expect(state.resolveTemplate('${user.langs}')).toBe('["en","fr"]');
  });

  it('prefers a whole dotted name over walking into a prefix', () => {
    const state = newState();
    state.registerVariable('progress.s1.percentage', 50);
    state.registerVariable('progress', { s1: { percentage: 10 } });
    expect(state.resolveTemplate('${progress.s1.percentage}')).toBe('50');
  });

  it('renders named templates recursively and follows later changes', () => {
    const state = newState();
    state.registerTemplate('greeting', 'Hello ${who}');
    state.registerTemplate('banner', '** {{ greeting }} **');
    state.registerVariable('who', 'world');
    expect(state.resolveTemplate('${banner}')).toBe('** Hello world **');
    state.registerVariable('who', 'team');
    expect(state.resolveTemplate('${banner}')).toBe('** Hello team **');
    expect(state.getTemplate('greeting')).toBe('Hello ${who}');
  });

  it('leaves a template cycle literal instead of looping', () => {
    const state = newState();
    state.registerTemplate('a', 'A(${b})');
    state.registerTemplate('b', 'B(${a})');
    expect(state.resolveTemplate('${a}')).toBe('A(B(${a}))');
  });

  it('lets extra values win over the state', () => {
    const state = newState();
    state.registerVariable('x', 1);
    expect(state.resolveTemplate('${x}-${y}', { x: 'over', y: true })).toBe('over-true');
    expect(() => state.resolveTemplate('${x}', JSON.parse('{"__proto__": {"polluted": 1}}') as never)).toThrow(
      ValidationFailure,
    );
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});

describe('loop contexts', () => {
  it('exposes $item, $index, $is_first and $is_last of the current loop', () => {
    const state = newState();
    state.registerVariable('item', 'global');
    const loop = state.pushLoopContext({ loopId: 'each', index: 0, item: { id: 'a' }, total: 2 });
    expect(loop).toEqual({
      loopId: 'each',
      index: 0,
      item: { id: 'a' },
      total: 2,
      isFirst: true,
      isLast: false,
      variables: {},
    });
    let context = state.getAvailableContext();
    expect(context.$item).toEqual({ id: 'a' });
    expect(context.$index).toBe(0);
    expect(context.$is_first).toBe(true);
    expect(context.$is_last).toBe(false);
    expect(context.item).toBe('global');
    expect(state.resolveTemplate('${$item.id}#{{ $index }}')).toBe('a#0');

    state.popLoopContext();
    state.pushLoopContext({ loopId: 'each', index: 1, item: { id: 'b' }, total: 2 });
    context = state.getAvailableContext();
    expect(context.$is_first).toBe(false);
    expect(context.$is_last).toBe(true);
  });

  it('nests loops: the inner one is current, the outer one is prefixed', () => {
    const state = newState();
    state.pushLoopContext({ loopId: 'outer', index: 2, item: 'o', variables: { row: 7 } });
    state.pushLoopContext({ loopId: 'inner', index: 0, item: 'i' });
    const context = state.getAvailableContext();
    expect(context.$item).toBe('i');
    expect(context.$loop_id).toBe('inner');
    expect(context.parent_1_$item).toBe('o');
    expect(context.parent_1_$index).toBe(2);
    expect(context.parent_1_row).toBe(7);
    expect(state.loopContexts.map((loop) => loop.loopId)).toEqual(['outer', 'inner']);
    expect(state.popLoopContext()?.loopId).toBe('inner');
    expect(state.getAvailableContext().$item).toBe('o');
    expect(state.getAvailableContext().row).toBe(7);
    expect(state.popLoopContext()?.loopId).toBe('outer');
    expect(state.popLoopContext()).toBeUndefined();
    expect(state.getAvailableContext()).toEqual({});
  });

  it('refuses an index past the total and keeps the stack unchanged', () => {
    const state = newState();
    const error = catchError(() => state.pushLoopContext({ loopId: 'l', index: 3, total: 3 }));
    expect((error as ValidationFailure).field).toBe('index');
    expect(state.currentLoopContext).toBeUndefined();
  });
});

describe('tasks', () => {
  it('moves a task between pending, running, executed and failed, one set at a time', () => {
    const state = newState();
    state.markTaskPending('t');
    expect(state.pendingTasks).toEqual(['t']);
    state.markTaskRunning('t');
    expect(state.pendingTasks).toEqual([]);
    expect(state.runningTasks).toEqual(['t']);
    state.markTaskFailed('t', new Error('disk full'));
    expect(state.runningTasks).toEqual([]);
    expect(state.failedTasks).toEqual(['t']);
    expect(state.getTaskError('t')).toBe('disk full');
    state.markTaskRunning('t');
    state.markTaskExecuted('t');
    expect(state.failedTasks).toEqual([]);
    expect(state.executedTasks).toEqual(['t']);
    expect(state.getExecutionSummary()).toMatchObject({ tasksExecuted: 1, tasksFailed: 0, tasksRunning: 0 });
  });
});

describe('getAvailableContext', () => {
  it('is one flat object where results win over variables and loops win over both', () => {
    const state = newState();
    state.registerVariable('shared', 'variable');
    state.registerVariable('only_var', 1);
    state.registerResult('shared', 'result');
    expect(state.getAvailableContext()).toEqual({
      shared: 'result',
      only_var: 1,
      shared_result: 'result',
      shared_value: 'result',
      shared_str: 'result',
    });
    state.pushLoopContext({ loopId: 'l', index: 0, variables: { shared: 'loop' } });
    expect(state.getAvailableContext().shared).toBe('loop');
    expect(state.getContextValue('shared')).toBe('loop');
    expect(state.hasContextValue('shared_value')).toBe(true);
    expect(state.getContextValue('nope', { defaultValue: 0 })).toBe(0);
  });
});

import { describe, expect, it, vi } from 'vitest';
import { SimulatedClock } from '../src/clock.js';
import { VariableScope, VariableType } from '../src/constants.js';
import { ErrorCode, ExecutionError, ValidationFailure } from '../src/errors.js';
import {
  VariableContext,
  VariableManager,
  VariableManagerAdapter,
  type VariableEvent,
} from '../src/services/variables/index.js';

const T0 = Date.parse('2026-01-01T00:00:00.000Z');

function setup(): { clock: SimulatedClock; vm: VariableManager } {
  const clock = new SimulatedClock(T0);
  return { clock, vm: new VariableManager({ pipelineId: 'pipe', clock }) };
}

function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  throw new Error('expected a throw');
}

function expectCode(fn: () => unknown, code: string, messagePart?: string): ExecutionError {
  const error = thrown(fn);
  expect(error).toBeInstanceOf(ExecutionError);
  const e = error as ExecutionError;
  expect(e.code).toBe(code);
  if (messagePart !== undefined) expect(e.message).toContain(messagePart);
  return e;
}

describe('VariableManager basics', () => {
  it('sets, gets and falls back to the default', () => {
    const { vm } = setup();
    expect(vm.pipelineId).toBe('pipe');
    expect(new VariableManager().pipelineId).toBe('default');
    vm.setVariable('customer_count', 1500, { varType: VariableType.OUTPUT, sourceStep: 'load_data' });
    expect(vm.getVariable('customer_count')).toBe(1500);
    expect(vm.getVariable('missing')).toBeUndefined();
    expect(vm.getVariable('missing', { defaultValue: 42 })).toBe(42);
    expect(vm.getVariable('toString')).toBeUndefined();
    expect(vm.hasVariable('constructor')).toBe(false);
    vm.setVariable('nothing', null);
    expect(vm.getVariable('nothing', { defaultValue: 'fallback' })).toBeNull();
    expect(vm.hasVariable('nothing')).toBe(true);
    expect(vm.deleteVariable('nothing')).toBe(true);
    expect(vm.deleteVariable('nothing')).toBe(false);
    expect(vm.hasVariable('nothing')).toBe(false);
  });

  it('keeps metadata from the injected clock and counts versions', () => {
    const { clock, vm } = setup();
    vm.setVariable('x', 1, {
      scope: VariableScope.STEP,
      varType: VariableType.OUTPUT,
      sourceStep: 's1',
      description: 'first',
      tags: ['a', 'b', 'a'],
    });
    expect(vm.getVariableMetadata('x')).toEqual({
      name: 'x',
      scope: 'step',
      varType: 'output',
      createdAt: '2026-01-01T00:00:00.000Z',
      updatedAt: '2026-01-01T00:00:00.000Z',
      sourceStep: 's1',
      description: 'first',
      tags: ['a', 'b'],
      version: 1,
    });
    clock.advance(1500);
    vm.setVariable('x', 2, { sourceStep: 's2' });
    clock.advance(500);
    vm.setVariable('x', 3, { tags: ['c'], description: null });
    expect(vm.getVariableMetadata('x')).toEqual({
      name: 'x',
      scope: 'step',
      varType: 'output',
      createdAt: '2026-01-01T00:00:00.000Z',
      updatedAt: '2026-01-01T00:00:02.000Z',
      sourceStep: 's2',
      description: null,
      tags: ['c'],
      version: 3,
    });
    vm.setVariable('y', 'v');
    expect(vm.getVariableMetadata('y')).toMatchObject({ scope: 'global', varType: 'intermediate', version: 1, tags: [] });
    expect(vm.getVariableMetadata('none')).toBeUndefined();
  });

  it('recreates a deleted variable at version 1', () => {
    const { vm } = setup();
    vm.setVariable('x', 1);
    vm.setVariable('x', 2);
    vm.deleteVariable('x');
    vm.setVariable('x', 3);
    expect(vm.getVariableMetadata('x')?.version).toBe(1);
  });

  it('lists with scope and type filters, and with metadata', () => {
    const { vm } = setup();
    vm.setVariable('in', 1, { varType: VariableType.INPUT });
    vm.setVariable('out', 2, { varType: VariableType.OUTPUT, scope: VariableScope.STEP });
    vm.setVariable('tmp', 3, { scope: VariableScope.TEMPORARY });
    expect(vm.listVariables()).toEqual({ in: 1, out: 2, tmp: 3 });
    expect(vm.listVariables({ varType: VariableType.OUTPUT })).toEqual({ out: 2 });
    expect(vm.listVariables({ scope: VariableScope.GLOBAL })).toEqual({ in: 1 });
    expect(vm.listVariables({ scope: VariableScope.STEP, varType: VariableType.INPUT })).toEqual({});
    const detailed = vm.listVariables({ includeMetadata: true, scope: VariableScope.TEMPORARY });
    expect(Object.keys(detailed)).toEqual(['tmp']);
    expect(detailed.tmp?.value).toBe(3);
    expect(detailed.tmp?.metadata).toMatchObject({ name: 'tmp', scope: 'temporary', version: 1 });
  });
});

describe('values', () => {
  it('stores a frozen copy: later changes by the caller do not leak in, and reads cannot change it', () => {
    const { vm } = setup();
    const input = { rows: [{ id: 1 }], meta: { ok: true } };
    vm.setVariable('data', input);
    input.rows.push({ id: 2 });
    input.meta.ok = false;
    const read = vm.getVariable<{ rows: { id: number }[]; meta: { ok: boolean } }>('data')!;
    expect(read).toEqual({ rows: [{ id: 1 }], meta: { ok: true } });
    expect(Object.isFrozen(read)).toBe(true);
    expect(Object.isFrozen(read.rows[0])).toBe(true);
    expect(() => read.rows.push({ id: 3 })).toThrow(TypeError);
    expect(vm.getVariable('data')).toBe(read);
  });

  it('shares an already stored value instead of copying it again', () => {
    const { vm } = setup();
    vm.setVariable('a', { big: [1, 2, 3] });
    vm.setVariable('b', vm.getVariable('a'));
    expect(vm.getVariable('b')).toBe(vm.getVariable('a'));
  });

  it.each([
    ['a function', () => 1, 'value'],
    ['a BigInt', 10n, 'value'],
    ['NaN', Number.NaN, 'value'],
    ['Infinity', { n: Infinity }, 'value.n'],
    ['undefined', undefined, 'value'],
    ['undefined inside', { a: undefined }, 'value.a'],
    ['a Date', { at: new Date(0) }, 'value.at'],
    ['a Map', new Map(), 'value'],
    ['a class instance', [new (class Point {
      x = 1;
    })()], 'value[0]'],
    ['a symbol', Symbol('s'), 'value'],
    ['a sparse array', [1, , 3], 'value[1]'], // eslint-disable-line no-sparse-arrays
    ['a __proto__ key', JSON.parse('{"a":{"__proto__":{"polluted":1}}}') as unknown, 'value.a.__proto__'],
    ['a constructor key', { constructor: 1 }, 'value.constructor'],
  ])('refuses %s with INVALID_INPUT naming the path', (_label, value, field) => {
    const { vm } = setup();
    const error = expectCode(() => { vm.setVariable('bad', value); }, ErrorCode.InvalidInput, field);
    expect(error).toBeInstanceOf(ValidationFailure);
    expect(error.details.field).toBe(field);
    expect(vm.hasVariable('bad')).toBe(false);
    expect(Object.prototype).not.toHaveProperty('polluted');
  });

  it('refuses circular values', () => {
    const { vm } = setup();
    const loop: Record<string, unknown> = {};
    loop.self = loop;
    expectCode(() => { vm.setVariable('loop', loop); }, ErrorCode.InvalidInput, 'circular');
  });

  it('accepts shared (non-circular) references and null-prototype objects', () => {
    const { vm } = setup();
    const shared = { n: 1 };
    const bare = Object.assign(Object.create(null) as Record<string, unknown>, { k: 'v' });
    vm.setVariable('dag', { a: shared, b: shared, bare });
    expect(vm.getVariable('dag')).toEqual({ a: { n: 1 }, b: { n: 1 }, bare: { k: 'v' } });
  });

  it('refuses an update with a bad value and keeps the old one', () => {
    const { vm } = setup();
    vm.setVariable('x', 1);
    expectCode(() => { vm.setVariable('x', () => 2); }, ErrorCode.InvalidInput);
    expect(vm.getVariable('x')).toBe(1);
    expect(vm.getVariableMetadata('x')?.version).toBe(1);
  });
});

describe('argument validation', () => {
  it.each([
    ['an empty name', () => { new VariableManager().setVariable('', 1); }, 'name'],
    ['a non-string name', () => { new VariableManager().setVariable(7 as unknown as string, 1); }, 'name'],
    ['a __proto__ name', () => { new VariableManager().setVariable('__proto__', 1); }, 'name'],
    ['a BigInt name', () => { new VariableManager().setVariable(7n as unknown as string, 1); }, 'name'],
    ['a non-string context id', () => new VariableManager().getVariable('x', { contextId: 5 as never }), 'contextId'],
    ['an empty context id', () => { new VariableManager().setVariable('x', 1, { contextId: '' }); }, 'contextId'],
    ['an invalid scope', () => { new VariableManager().setVariable('x', 1, { scope: 'nope' as VariableScope }); }, 'scope'],
    ['an invalid varType', () => { new VariableManager().setVariable('x', 1, { varType: 'x' as VariableType }); }, 'varType'],
    ['non-string tags', () => { new VariableManager().setVariable('x', 1, { tags: [1] as unknown as string[] }); }, 'tags[0]'],
    ['an unknown option', () => { new VariableManager().setVariable('x', 1, { scoop: 'global' } as never); }, ''],
    ['a non-boolean resolveTemplates', () => new VariableManager().getVariable('x', { resolveTemplates: 'no' as never }), 'resolveTemplates'],
    ['an empty pipelineId', () => new VariableManager({ pipelineId: '' }), 'pipelineId'],
    ['a non-string template', () => { new VariableManager().setTemplate('t', 5 as unknown as string); }, 'template'],
    ['a non-function handler', () => new VariableManager().onVariableChanged('h' as never), 'handler'],
  ])('refuses %s with INVALID_INPUT', (_label, fn, field) => {
    const error = expectCode(fn, ErrorCode.InvalidInput);
    expect(error).toBeInstanceOf(ValidationFailure);
    if (field !== '') expect(error.details.field).toBe(field);
  });
});

describe('contexts', () => {
  it('isolates context variables, falls back to globals, and forgets them when destroyed', () => {
    const { vm } = setup();
    vm.setVariable('shared', 'global');
    vm.setVariable('x', 'global x');
    const a = vm.createContext();
    const b = vm.createContext();
    expect(a).not.toBe(b);
    vm.setVariable('x', 'in a', { contextId: a });
    vm.setVariable('only', 'a only', { contextId: a });
    expect(vm.getVariable('x', { contextId: a })).toBe('in a');
    expect(vm.getVariable('x', { contextId: b })).toBe('global x');
    expect(vm.getVariable('x')).toBe('global x');
    expect(vm.getVariable('only')).toBeUndefined();
    expect(vm.getVariable('only', { contextId: b })).toBeUndefined();
    expect(vm.getVariable('shared', { contextId: a })).toBe('global');
    expect(vm.listVariables({ contextId: a })).toEqual({ shared: 'global', x: 'in a', only: 'a only' });
    expect(vm.listVariables()).toEqual({ shared: 'global', x: 'global x' });

    expect(vm.deleteVariable('x', { contextId: a })).toBe(true);
    expect(vm.getVariable('x', { contextId: a })).toBe('global x');

    expect(vm.destroyContext(a)).toBe(true);
    expect(vm.destroyContext(a)).toBe(false);
    expect(vm.listContexts()).toEqual([b]);
    expectCode(() => vm.getVariable('only', { contextId: a }), ErrorCode.ContextNotFound, a);
    expectCode(() => { vm.setVariable('y', 1, { contextId: a }); }, ErrorCode.ContextNotFound);
    expectCode(() => vm.hasVariable('y', { contextId: 'never' }), ErrorCode.ContextNotFound);
    expect(JSON.stringify(vm.exportState())).not.toContain('a only');
  });

  it('creates a context with a given id once', () => {
    const { vm } = setup();
    expect(vm.createContext('loop-1')).toBe('loop-1');
    vm.setVariable('i', 1, { contextId: 'loop-1' });
    expect(vm.createContext('loop-1')).toBe('loop-1');
    expect(vm.getVariable('i', { contextId: 'loop-1' })).toBe(1);
  });

  it('VariableContext writes into its own context and destroys it on dispose', () => {
    const { vm } = setup();
    vm.setVariable('g', 'global');
    const scope = new VariableContext({ variableManager: vm });
    scope.set('row', 3, { varType: VariableType.INTERMEDIATE });
    expect(scope.get('row')).toBe(3);
    expect(scope.get('g')).toBe('global');
    expect(scope.has('row')).toBe(true);
    expect(scope.getMetadata('row')?.version).toBe(1);
    expect(scope.list()).toEqual({ g: 'global', row: 3 });
    expect(vm.getVariable('row')).toBeUndefined();
    scope[Symbol.dispose]();
    scope.dispose();
    expect(scope.isDisposed).toBe(true);
    expect(vm.listContexts()).toEqual([]);
    expectCode(() => scope.get('row'), ErrorCode.ContextNotFound);
  });

  it('VariableContext refuses bad options without leaving a context behind', () => {
    const { vm } = setup();
    expectCode(() => new VariableContext({ variableManager: vm, aliases: { item: '' } }), ErrorCode.InvalidInput);
    expect(vm.listContexts()).toEqual([]);
    expectCode(() => new VariableContext({ variableManager: {} as never }), ErrorCode.InvalidInput, 'variableManager');
    expectCode(() => new VariableContext(undefined as never), ErrorCode.InvalidInput, 'variableManager');
    expectCode(() => new VariableManagerAdapter({ variableManager: null as never }), ErrorCode.InvalidInput, 'variableManager');
  });

  it('VariableContext pops the scopes it pushed', () => {
    const { vm } = setup();
    vm.setVariable('items_0', 'first');
    const scope = new VariableContext({ variableManager: vm, aliases: { item: 'items_0' } });
    expect(scope.get('item')).toBe('first');
    scope.dispose();
    expect(vm.getVariable('item')).toBeUndefined();
    expect(vm.popScope()).toBeUndefined();
  });
});

describe('scope aliases', () => {
  it('reads the real variable through an alias until the scope is popped', () => {
    const { vm } = setup();
    vm.setVariable('realName', 'real');
    vm.setVariable('alias', 'shadowed global');
    vm.pushScope({ alias: 'realName' });
    expect(vm.getVariable('alias')).toBe('real');
    expect(vm.hasVariable('alias')).toBe(true);
    expect(vm.getVariableMetadata('alias')?.name).toBe('realName');
    expect(vm.resolveTemplate('${alias}')).toBe('real');
    expect(vm.popScope()).toEqual({ alias: 'realName' });
    expect(vm.getVariable('alias')).toBe('shadowed global');
    expect(vm.popScope()).toBeUndefined();
  });

  it('follows an inner alias through an outer one', () => {
    const { vm } = setup();
    vm.setVariable('rows_2', 'row two');
    vm.pushScope({ outer: 'rows_2' });
    vm.pushScope({ inner: 'outer' });
    expect(vm.getVariable('inner')).toBe('row two');
    vm.popScope();
    expect(vm.getVariable('inner')).toBeUndefined();
    expect(vm.getVariable('outer')).toBe('row two');
  });

  it('refuses bad aliases', () => {
    const { vm } = setup();
    expectCode(() => { vm.pushScope({ a: '' }); }, ErrorCode.InvalidInput, 'a');
    expectCode(() => { vm.pushScope(null as never); }, ErrorCode.InvalidInput);
    expect(vm.popScope()).toBeUndefined();
  });
});

describe('templates', () => {
  it('resolves ${name}, leaves unknown names literal and takes extra values first', () => {
    const { vm } = setup();
    vm.setVariable('name', 'Ada');
    vm.setVariable('count', 3);
    vm.setVariable('flag', false);
    vm.setVariable('none', null);
    vm.setVariable('list', [1, 'two']);
    expect(vm.resolveTemplate('Hi ${name}, ${count} ${flag} ${none} ${list} ${unknown}')).toBe(
      'Hi Ada, 3 false null [1,"two"] ${unknown}',
    );
    expect(vm.resolveTemplate('${ name }!')).toBe('Ada!');
    expect(vm.resolveTemplate('${name} ${extra}', { name: 'Bob', extra: 1 })).toBe('Bob 1');
    expect(vm.resolveTemplate('no placeholders')).toBe('no placeholders');
  });

  it('resolves dotted paths into object values, and whole dotted names first', () => {
    const { vm } = setup();
    vm.setVariable('data_info', { customers: 1500, regions: ['eu', 'us'], nested: { deep: { ok: true } } });
    vm.setVariable('progress.load.percentage', 40);
    expect(vm.resolveTemplate('${data_info.customers} ${data_info.regions.1} ${data_info.nested.deep.ok}')).toBe(
      '1500 us true',
    );
    expect(vm.resolveTemplate('${data_info.nested}')).toBe('{"deep":{"ok":true}}');
    expect(vm.resolveTemplate('${data_info.missing} ${data_info.regions.9} ${data_info.regions.x}')).toBe(
      '${data_info.missing} ${data_info.regions.9} ${data_info.regions.x}',
    );
    expect(vm.resolveTemplate('${progress.load.percentage}%')).toBe('40%');
    expect(vm.resolveTemplate('${user.name}', { user: { name: 'Eve' } })).toBe('Eve');
  });

  it('re-resolves nested templates after what they reference changes (no stale cache)', () => {
    const { vm } = setup();
    vm.setVariable('first', 'Ada');
    vm.setTemplate('greeting', 'Hello ${first}');
    vm.setTemplate('message', '${greeting}!');
    vm.setVariable('banner', '*** ${message} ***');
    expect(vm.getVariable('message')).toBe('Hello Ada!');
    expect(vm.getVariable('banner')).toBe('*** Hello Ada! ***');
    vm.setVariable('first', 'Grace');
    expect(vm.getVariable('message')).toBe('Hello Grace!');
    expect(vm.getVariable('banner')).toBe('*** Hello Grace! ***');
    vm.setTemplate('greeting', 'Goodbye ${first}');
    expect(vm.resolveTemplate('${banner}')).toBe('*** Goodbye Grace! ***');
    expect(vm.getVariable('banner', { resolveTemplates: false })).toBe('*** ${message} ***');
    expect(vm.getVariable('greeting', { resolveTemplates: false })).toBe('Goodbye ${first}');
  });

  it('resolves within a context when reading there', () => {
    const { vm } = setup();
    vm.setVariable('who', 'global');
    vm.setTemplate('hello', 'hi ${who}');
    const ctx = vm.createContext();
    vm.setVariable('who', 'local', { contextId: ctx });
    expect(vm.getVariable('hello', { contextId: ctx })).toBe('hi local');
    expect(vm.resolveTemplate('${who}', undefined, { contextId: ctx })).toBe('local');
    expect(vm.getVariable('hello')).toBe('hi global');
  });

  it('survives reference cycles by leaving the inner placeholder literal', () => {
    const { vm } = setup();
    vm.setVariable('a', 'A(${b})');
    vm.setVariable('b', 'B(${a})');
    vm.setTemplate('self', 'S(${self})');
    expect(vm.getVariable('a')).toBe('A(B(${a}))');
    expect(vm.getVariable('self')).toBe('S(${self})');
  });
});

describe('dependencies', () => {
  it('records dependencies and dependents', () => {
    const { vm } = setup();
    vm.addDependency('report', ['clean', 'load']);
    vm.addDependency('clean', 'load');
    vm.addDependency('report', 'clean');
    expect(vm.getDependencies('report')).toEqual(['clean', 'load']);
    expect(vm.getDependencies('load')).toEqual([]);
    expect(vm.getDependents('load')).toEqual(['report', 'clean']);
    expect(vm.getDependents('report')).toEqual([]);
  });

  it('refuses a cycle with DEPENDENCY_CYCLE naming it, and changes nothing', () => {
    const { vm } = setup();
    vm.addDependency('a', 'b');
    vm.addDependency('b', 'c');
    const before = vm.exportState();
    const error = expectCode(() => { vm.addDependency('c', ['d', 'a']); }, ErrorCode.DependencyCycle, 'c -> a -> b -> c');
    expect(error.details.cycle).toEqual(['c', 'a', 'b', 'c']);
    expectCode(() => { vm.addDependency('x', 'x'); }, ErrorCode.DependencyCycle, 'x -> x');
    expect(vm.exportState()).toEqual(before);
    expect(vm.getDependencies('c')).toEqual([]);
    expect(vm.getDependents('d')).toEqual([]);
  });
});

describe('events', () => {
  it('fires created once (also for null) and changed once per update, with the right event', () => {
    const { clock, vm } = setup();
    const created: VariableEvent[] = [];
    const changed: VariableEvent[] = [];
    vm.onVariableCreated((e) => created.push(e));
    vm.onVariableChanged((e) => changed.push(e));
    vm.setVariable('n', null);
    clock.advance(10);
    vm.setVariable('n', 1);
    vm.setVariable('n', 2, { sourceStep: 's' });
    const ctx = vm.createContext('c1');
    vm.setVariable('n', 'ctx', { contextId: ctx });
    expect(created).toHaveLength(2);
    expect(created[0]).toMatchObject({ name: 'n', value: null, previousValue: undefined, contextId: null });
    expect('previousValue' in created[0]!).toBe(true);
    expect(created[0]?.metadata.version).toBe(1);
    expect(created[1]).toMatchObject({ name: 'n', value: 'ctx', previousValue: undefined, contextId: 'c1' });
    expect(changed.map((e) => [e.value, e.previousValue, e.metadata.version])).toEqual([
      [1, null, 2],
      [2, 1, 3],
    ]);
    expect(changed[0]?.metadata.updatedAt).toBe('2026-01-01T00:00:00.010Z');
    expect(changed[1]?.metadata.sourceStep).toBe('s');
  });

  it('unsubscribes, and counts a handler registered twice twice', () => {
    const { vm } = setup();
    const handler = vi.fn();
    const off1 = vm.onVariableCreated(handler);
    const off2 = vm.onVariableCreated(handler);
    vm.setVariable('a', 1);
    expect(handler).toHaveBeenCalledTimes(2);
    off1();
    off1();
    vm.setVariable('b', 1);
    expect(handler).toHaveBeenCalledTimes(3);
    off2();
    vm.setVariable('c', 1);
    expect(handler).toHaveBeenCalledTimes(3);
  });

  it('a throwing handler does not break setVariable nor later handlers', () => {
    const reported: unknown[] = [];
    const vm = new VariableManager({ onHandlerError: (error) => reported.push(error) });
    const after = vi.fn();
    vm.onVariableChanged(() => {
      throw new Error('boom');
    });
    vm.onVariableChanged(after);
    vm.setVariable('x', 1);
    expect(() => {
      vm.setVariable('x', 2);
    }).not.toThrow();
    expect(vm.getVariable('x')).toBe(2);
    expect(after).toHaveBeenCalledTimes(1);
    expect(reported).toHaveLength(1);
    expect((reported[0] as Error).message).toBe('boom');
  });

  it('logs handler errors by default', () => {
    const spy = vi.spyOn(console, 'error').mockImplementation(() => undefined);
    try {
      const vm = new VariableManager();
      vm.onVariableCreated(() => {
        throw new Error('loud');
      });
      vm.setVariable('x', 1);
      expect(spy).toHaveBeenCalledTimes(1);
      expect(vm.getVariable('x')).toBe(1);
    } finally {
      spy.mockRestore();
    }
  });
});

describe('concurrent async writers', () => {
  it('leave consistent values and versions', async () => {
    const { vm } = setup();
    const tick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));
    const tasks = Array.from({ length: 50 }, async (_, task) => {
      for (let step = 0; step < 20; step++) {
        await tick();
        vm.setVariable(`own_${task}`, step);
        vm.updateVariable('shared', (n) => (typeof n === 'number' ? n : 0) + 1);
        const ctx = vm.createContext(`ctx_${task % 5}`);
        vm.updateVariable('count', (n) => (typeof n === 'number' ? n : 0) + 1, { contextId: ctx });
      }
    });
    await Promise.all(tasks);
    expect(vm.getVariable('shared')).toBe(1000);
    expect(vm.getVariableMetadata('shared')?.version).toBe(1000);
    for (let task = 0; task < 50; task++) {
      expect(vm.getVariable(`own_${task}`)).toBe(19);
      expect(vm.getVariableMetadata(`own_${task}`)?.version).toBe(20);
    }
    for (let c = 0; c < 5; c++) {
      expect(vm.getVariable('count', { contextId: `ctx_${c}` })).toBe(200);
      expect(vm.getVariableMetadata('count', { contextId: `ctx_${c}` })?.version).toBe(200);
    }
  });
});

describe('VariableManagerAdapter', () => {
  it('is a Map-like view of the manager', () => {
    const { vm } = setup();
    const map = new VariableManagerAdapter({ variableManager: vm });
    expect(map.set('a', 1).set('b', { x: 1 })).toBe(map);
    vm.setTemplate('t', 'a=${a}');
    expect(map.get('a')).toBe(1);
    expect(map.get('t')).toBe('a=1');
    expect(map.get('zz', { defaultValue: 'd' })).toBe('d');
    expect(map.has('b')).toBe(true);
    expect(map.size).toBe(2);
    expect([...map.keys()]).toEqual(['a', 'b']);
    expect([...map.values()]).toEqual([1, { x: 1 }]);
    expect([...map]).toEqual([
      ['a', 1],
      ['b', { x: 1 }],
    ]);
    expect(new Map(map.entries())).toEqual(new Map<string, unknown>([['a', 1], ['b', { x: 1 }]]));
    const seen: string[] = [];
    map.forEach((value, key) => seen.push(`${key}=${JSON.stringify(value)}`));
    expect(seen).toEqual(['a=1', 'b={"x":1}']);
    map.update({ c: 3 });
    expect(vm.getVariable('c')).toBe(3);
    expect(map.delete('a')).toBe(true);
    expect(map.has('a')).toBe(false);
    map.clear();
    expect(map.size).toBe(0);
    expect(Object.prototype.toString.call(map)).toBe('[object VariableManagerAdapter]');
  });

  it('can view a context and write with given options', () => {
    const { vm } = setup();
    vm.setVariable('g', 1);
    const ctx = vm.createContext();
    const map = new VariableManagerAdapter({
      variableManager: vm,
      contextId: ctx,
      setOptions: { varType: VariableType.OUTPUT },
    });
    map.set('local', 2);
    expect(vm.getVariable('local')).toBeUndefined();
    expect(vm.getVariableMetadata('local', { contextId: ctx })?.varType).toBe('output');
    expect(map.size).toBe(2);
    map.clear();
    expect(vm.getVariable('g')).toBe(1);
    expect(map.has('local')).toBe(false);
  });
});

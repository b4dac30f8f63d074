import { describe, expect, it } from 'vitest';
import { SimulatedClock } from '../src/clock.js';
import { VariableScope, VariableType } from '../src/constants.js';
import { ErrorCode, ValidationFailure } from '../src/errors.js';
import { VariableManager, type VariableState } from '../src/services/variables/index.js';

const T0 = Date.parse('2026-03-01T12:00:00.000Z');

/** A manager with one of everything: globals, a context, templates, dependencies, updated metadata. */
function populated(): VariableManager {
  const clock = new SimulatedClock(T0);
  const vm = new VariableManager({ pipelineId: 'etl', clock });
  vm.setVariable('data_info', { customers: 1500, regions: ['eu'] }, {
    varType: VariableType.OUTPUT,
    sourceStep: 'load',
    description: 'loaded data',
    tags: ['data', 'load'],
  });
  clock.advance(1000);
  vm.setVariable('data_info', { customers: 1600, regions: ['eu', 'us'] });
  vm.setVariable('name', 'Ada', { scope: VariableScope.STEP });
  vm.setVariable('nothing', null, { varType: VariableType.SYSTEM });
  vm.setTemplate('greeting', 'Hello ${name}, ${data_info.customers} customers');
  vm.addDependency('greeting', ['name', 'data_info']);
  const ctx = vm.createContext('loop_1');
  vm.setVariable('item', { id: 1 }, { contextId: ctx, scope: VariableScope.LOOP });
  vm.createContext('empty');
  return vm;
}

function refusal(vm: VariableManager, state: unknown): ValidationFailure {
  try {
    vm.importState(state);
  } catch (error) {
    expect(error).toBeInstanceOf(ValidationFailure);
    return error as ValidationFailure;
  }
  throw new Error('importState accepted bad input');
}

function withGlobal(state: VariableState, name: string, entry: unknown): unknown {
  const copy = JSON.parse(JSON.stringify(state)) as { variables: Record<string, unknown> };
  copy.variables[name] = entry;
  return copy;
}

describe('exportState / importState', () => {
  it('round-trips globals, contexts, templates, dependencies and metadata through JSON', () => {
    const source = populated();
    const exported = source.exportState();
    expect(exported.formatVersion).toBe(1);
    expect(Object.keys(exported.contexts)).toEqual(['loop_1', 'empty']);
    expect(exported.variables.data_info?.metadata).toMatchObject({
      version: 2,
      createdAt: '2026-03-01T12:00:00.000Z',
      updatedAt: '2026-03-01T12:00:01.000Z',
      tags: ['data', 'load'],
    });

    const target = new VariableManager();
    target.importState(JSON.parse(JSON.stringify(exported)));
    expect(target.pipelineId).toBe('etl');
    expect(target.exportState()).toEqual(exported);
    expect(target.getVariable('greeting')).toBe('Hello Ada, 1600 customers');
    expect(target.getVariable('item', { contextId: 'loop_1' })).toEqual({ id: 1 });
    expect(target.getDependencies('greeting')).toEqual(['name', 'data_info']);
    expect(target.getDependents('name')).toEqual(['greeting']);
    expect(target.getVariableMetadata('data_info')).toEqual(source.getVariableMetadata('data_info'));
    target.setVariable('data_info', 1);
    expect(target.getVariableMetadata('data_info')?.version).toBe(3);
  });

  it('exports one context on request, and refuses an unknown one', () => {
    const vm = populated();
    expect(Object.keys(vm.exportState('loop_1').contexts)).toEqual(['loop_1']);
    expect(() => vm.exportState('nope')).toThrow(expect.objectContaining({ code: ErrorCode.ContextNotFound }));
  });

  it('replaces everything instead of merging', () => {
    const target = new VariableManager();
    target.setVariable('stale', 1);
    target.createContext('old_ctx');
    target.setTemplate('old_tpl', '${stale}');
    target.addDependency('stale', 'x');
    const exported = populated().exportState();
    target.importState(exported);
    expect(target.hasVariable('stale')).toBe(false);
    expect(target.listContexts()).toEqual(['loop_1', 'empty']);
    expect(target.getVariable('old_tpl')).toBeUndefined();
    expect(target.getDependencies('stale')).toEqual([]);
    expect(target.exportState()).toEqual(exported);
  });

  it('imports an empty state', () => {
    const vm = populated();
    vm.importState({ formatVersion: 1, pipelineId: 'p', variables: {}, templates: {}, dependencies: {}, contexts: {} });
    expect(vm.listVariables()).toEqual({});
    expect(vm.listContexts()).toEqual([]);
  });

  it('fires no events on import', () => {
    const vm = new VariableManager();
    let events = 0;
    vm.onVariableCreated(() => events++);
    vm.onVariableChanged(() => events++);
    vm.importState(populated().exportState());
    expect(events).toBe(0);
  });

  it('does not share mutable containers with the export', () => {
    const vm = populated();
    const exported = vm.exportState();
    exported.variables.injected = exported.variables.name!;
    delete exported.contexts.loop_1;
    exported.templates.extra = 'x';
    expect(vm.hasVariable('injected')).toBe(false);
    expect(vm.listContexts()).toContain('loop_1');
    expect(vm.getVariable('extra')).toBeUndefined();
  });
});

describe('importState refuses bad input and changes nothing', () => {
  const base = (): VariableManager => populated();

  const cases: [string, (state: VariableState) => unknown, string, string][] = [
    ['null', () => null, ErrorCode.InvalidInput, ''],
    ['a string', () => 'state', ErrorCode.InvalidInput, ''],
    ['an array', () => [], ErrorCode.InvalidInput, ''],
    ['a newer formatVersion', (s) => ({ ...s, formatVersion: 2 }), ErrorCode.StateIncompatible, 'formatVersion'],
    ['a missing formatVersion', (s) => ({ ...s, formatVersion: undefined }), ErrorCode.InvalidInput, 'formatVersion'],
    ['a missing variables field', ({ variables: _v, ...rest }) => rest, ErrorCode.InvalidInput, 'variables'],
    [
      'a string version',
      (s) => withGlobal(s, 'name', { ...s.variables.name, metadata: { ...s.variables.name!.metadata, version: '2' } }),
      ErrorCode.InvalidInput,
      'variables.name.metadata.version',
    ],
    [
      "scope 'nope'",
      (s) => withGlobal(s, 'name', { ...s.variables.name, metadata: { ...s.variables.name!.metadata, scope: 'nope' } }),
      ErrorCode.InvalidInput,
      'variables.name.metadata.scope',
    ],
    [
      'version 0',
      (s) => withGlobal(s, 'name', { ...s.variables.name, metadata: { ...s.variables.name!.metadata, version: 0 } }),
      ErrorCode.InvalidInput,
      'variables.name.metadata.version',
    ],
    [
      'a bad timestamp',
      (s) => withGlobal(s, 'name', { ...s.variables.name, metadata: { ...s.variables.name!.metadata, createdAt: 'soon' } }),
      ErrorCode.InvalidInput,
      'variables.name.metadata.createdAt',
    ],
    [
      'a metadata name that differs from its key',
      (s) => withGlobal(s, 'alias', s.variables.name),
      ErrorCode.InvalidInput,
      'variables.alias.metadata.name',
    ],
    [
      'a missing value',
      (s) => withGlobal(s, 'name', { metadata: s.variables.name!.metadata }),
      ErrorCode.InvalidInput,
      'variables.name.value',
    ],
    [
      'an unknown metadata key',
      (s) => withGlobal(s, 'name', { ...s.variables.name, metadata: { ...s.variables.name!.metadata, extra: 1 } }),
      ErrorCode.InvalidInput,
      'variables.name.metadata',
    ],
    [
      'an empty variable name',
      (s) => withGlobal(s, '', s.variables.name),
      ErrorCode.InvalidInput,
      'variables.',
    ],
    [
      'a bad context entry',
      (s) => ({ ...s, contexts: { ...s.contexts, loop_1: { item: { value: 1 } } } }),
      ErrorCode.InvalidInput,
      'contexts.loop_1.item.metadata',
    ],
    ['a non-string template', (s) => ({ ...s, templates: { t: 5 } }), ErrorCode.InvalidInput, 'templates.t'],
    ['a dependency list that is a string', (s) => ({ ...s, dependencies: { a: 'b' } }), ErrorCode.InvalidInput, 'dependencies.a'],
    [
      'a dependency cycle',
      (s) => ({ ...s, dependencies: { a: ['b'], b: ['a'] } }),
      ErrorCode.DependencyCycle,
      'dependencies.b',
    ],
    [
      'a __proto__ key inside a value',
      (s) => JSON.parse(JSON.stringify(s).replace('"customers":1600', '"__proto__":{"polluted":true}')) as unknown,
      ErrorCode.InvalidInput,
      'variables.data_info.value.__proto__',
    ],
    [
      'a __proto__ variable name',
      (s) => JSON.parse(JSON.stringify(s).replace('"nothing":{', '"__proto__":{')) as unknown,
      ErrorCode.InvalidInput,
      'variables.__proto__',
    ],
    [
      'a constructor key in contexts',
      (s) => JSON.parse(JSON.stringify(s).replace('"empty":{}', '"constructor":{"prototype":{"polluted":true}}')) as unknown,
      ErrorCode.InvalidInput,
      'contexts.constructor',
    ],
  ];

  it.each(cases)('refuses %s', (_label, mutate, code, field) => {
    const vm = base();
    const before = vm.exportState();
    const beforeJson = JSON.stringify(before);
    const error = refusal(vm, mutate(before));
    expect(error.code).toBe(code);
    expect(error.field).toBe(field);
    if (field !== '') expect(error.message).toContain(field);
    expect(error.message).toContain('importState');
    expect(vm.exportState()).toEqual(before);
    expect(JSON.stringify(vm.exportState())).toBe(beforeJson);
    expect(vm.pipelineId).toBe('etl');
    expect(Object.keys(Object.prototype)).toEqual([]);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('refuses a non-JSON value in an in-memory state object', () => {
    const vm = base();
    const before = vm.exportState();
    const state = { ...before, variables: { ...before.variables, f: { metadata: { ...before.variables.name!.metadata, name: 'f' }, value: () => 1 } } };
    const error = refusal(vm, state);
    expect(error.code).toBe(ErrorCode.InvalidInput);
    expect(error.field).toBe('variables.f.value');
    expect(vm.exportState()).toEqual(before);
  });

  it('parses JSON.parse output with __proto__ without polluting the prototype', () => {
    const vm = new VariableManager();
    const raw = '{"formatVersion":1,"pipelineId":"p","variables":{"__proto__":{"value":1}},"templates":{},"dependencies":{},"contexts":{}}';
    const error = refusal(vm, JSON.parse(raw));
    expect(error.field).toBe('variables.__proto__');
    expect(vm.listVariables()).toEqual({});
    expect(Object.keys(Object.prototype)).toEqual([]);
  });
});

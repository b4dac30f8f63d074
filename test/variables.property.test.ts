import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SimulatedClock } from '../src/clock.js';
import { ErrorCode, ExecutionError } from '../src/errors.js';
import { isValidSetOptions, setVariableOptionsSchema } from '../src/services/variables/arguments.js';
import { VariableManager } from '../src/services/variables/index.js';

// Names chosen to collide often, and to include awkward but allowed keys.
const NAMES = ['a', 'b', 'data.rows', 'toString', 'hasOwnProperty', 'ünï', 'progress.s1.percentage'];
const CONTEXTS = ['c1', 'c2', 'valueOf'];

type Op =
  | { kind: 'set'; name: string; value: unknown; context: string | null }
  | { kind: 'delete'; name: string; context: string | null }
  | { kind: 'create'; context: string }
  | { kind: 'destroy'; context: string }
  | { kind: 'template'; name: string; text: string }
  | { kind: 'depend'; name: string; on: string }
  | { kind: 'tick'; ms: number };

const name = fc.constantFrom(...NAMES);
const context = fc.constantFrom(...CONTEXTS);
const maybeContext = fc.option(context, { nil: null });

const op: fc.Arbitrary<Op> = fc.oneof(
  { weight: 5, arbitrary: fc.record({ kind: fc.constant('set' as const), name, value: fc.jsonValue({ maxDepth: 3 }), context: maybeContext }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('delete' as const), name, context: maybeContext }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('create' as const), context }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('destroy' as const), context }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('template' as const), name, text: fc.string().map((s) => `${s}\${a}`) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('depend' as const), name, on: name }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('tick' as const), ms: fc.integer({ min: 0, max: 5000 }) }) },
);

interface ModelVariable {
  value: unknown;
  updates: number;
}
type Table = Map<string, ModelVariable>;

function hasForbiddenKey(value: unknown): boolean {
  if (typeof value !== 'object' || value === null) return false;
  if (Array.isArray(value)) return value.some(hasForbiddenKey);
  return Object.entries(value).some(
    ([key, inner]) => key === '__proto__' || key === 'constructor' || key === 'prototype' || hasForbiddenKey(inner),
  );
}

function reaches(edges: Map<string, Set<string>>, from: string, to: string): boolean {
  const seen = new Set<string>();
  const stack = [from];
  while (stack.length > 0) {
    const node = stack.pop()!;
    if (node === to) return true;
    if (seen.has(node)) continue;
    seen.add(node);
    stack.push(...(edges.get(node) ?? []));
  }
  return false;
}

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
    return undefined;
  } catch (error) {
    if (error instanceof ExecutionError) return error.code;
    throw error;
  }
}

/** Applies `ops` to a manager and to a plain model; checks each step's answer against the model. */
function run(ops: readonly Op[]): { vm: VariableManager; globals: Table; contexts: Map<string, Table> } {
  const clock = new SimulatedClock(Date.parse('2026-05-01T00:00:00.000Z'));
  const vm = new VariableManager({ pipelineId: 'prop', clock });
  const globals: Table = new Map();
  const contexts = new Map<string, Table>();
  const edges = new Map<string, Set<string>>();
  const tableOf = (ctx: string | null): Table | undefined => (ctx === null ? globals : contexts.get(ctx));
  for (const step of ops) {
    switch (step.kind) {
      case 'set': {
        const table = tableOf(step.context);
        const opts = step.context === null ? {} : { contextId: step.context };
        const code = codeOf(() => {
          vm.setVariable(step.name, step.value, opts);
        });
        if (table === undefined) expect(code).toBe(ErrorCode.ContextNotFound);
        else if (hasForbiddenKey(step.value)) expect(code).toBe(ErrorCode.InvalidInput);
        else {
          expect(code).toBeUndefined();
          const previous = table.get(step.name);
          // Values are JSON: the model keeps what JSON keeps (-0 is stored as 0).
          const value: unknown = JSON.parse(JSON.stringify(step.value));
          table.set(step.name, { value, updates: previous === undefined ? 0 : previous.updates + 1 });
        }
        break;
      }
      case 'delete': {
        const table = tableOf(step.context);
        const opts = step.context === null ? {} : { contextId: step.context };
        if (table === undefined) expect(codeOf(() => vm.deleteVariable(step.name, opts))).toBe(ErrorCode.ContextNotFound);
        else expect(vm.deleteVariable(step.name, opts)).toBe(table.delete(step.name));
        break;
      }
      case 'create':
        expect(vm.createContext(step.context)).toBe(step.context);
        if (!contexts.has(step.context)) contexts.set(step.context, new Map());
        break;
      case 'destroy':
        expect(vm.destroyContext(step.context)).toBe(contexts.delete(step.context));
        break;
      case 'template':
        vm.setTemplate(step.name, step.text);
        break;
      case 'depend': {
        const cycle = reaches(edges, step.on, step.name);
        expect(codeOf(() => { vm.addDependency(step.name, step.on); })).toBe(cycle ? ErrorCode.DependencyCycle : undefined);
        if (!cycle) {
          if (!edges.has(step.name)) edges.set(step.name, new Set());
          edges.get(step.name)!.add(step.on);
        }
        break;
      }
      case 'tick':
        clock.advance(step.ms);
        break;
    }
  }
  return { vm, globals, contexts };
}

function expectMatchesModel(vm: VariableManager, globals: Table, contexts: Map<string, Table>): void {
  const state = vm.exportState();
  expect(Object.keys(state.variables).sort()).toEqual([...globals.keys()].sort());
  for (const [key, model] of globals) {
    expect(state.variables[key]?.value).toEqual(model.value);
    expect(state.variables[key]?.metadata.version).toBe(1 + model.updates);
  }
  expect(Object.keys(state.contexts).sort()).toEqual([...contexts.keys()].sort());
  for (const [id, table] of contexts) {
    const exported = state.contexts[id]!;
    expect(Object.keys(exported).sort()).toEqual([...table.keys()].sort());
    for (const [key, model] of table) {
      expect(exported[key]?.value).toEqual(model.value);
      expect(exported[key]?.metadata.version).toBe(1 + model.updates);
    }
  }
}

describe('VariableManager properties', () => {
  it('matches a plain model, versions count updates, and export -> import -> export is the identity', () => {
    fc.assert(
      fc.property(fc.array(op, { maxLength: 60 }), (ops) => {
        const { vm, globals, contexts } = run(ops);
        expectMatchesModel(vm, globals, contexts);

        const exported = vm.exportState();
        const copy = new VariableManager();
        copy.importState(exported);
        expect(copy.exportState()).toEqual(exported);

        // Through real JSON text too, as a checkpoint file would be.
        const text = JSON.stringify(exported);
        const fromText = new VariableManager();
        fromText.importState(JSON.parse(text));
        expect(JSON.stringify(fromText.exportState())).toBe(text);
        expectMatchesModel(fromText, globals, contexts);
      }),
      { numRuns: 300 },
    );
  });

  it('a refused import leaves the exact previous export', () => {
    fc.assert(
      fc.property(fc.array(op, { maxLength: 30 }), fc.anything(), (ops, garbage) => {
        const { vm } = run(ops);
        const before = JSON.stringify(vm.exportState());
        const code = codeOf(() => {
          vm.importState(garbage);
        });
        expect(code).toBeDefined();
        expect(JSON.stringify(vm.exportState())).toBe(before);
        expect(Object.keys(Object.prototype)).toEqual([]);
      }),
      { numRuns: 200 },
    );
  });

  it('the fast setVariable options check never accepts what the zod schema refuses', () => {
    const field = fc.oneof(
      fc.constant(undefined),
      fc.constant(null),
      fc.string(),
      fc.constantFrom('global', 'step', 'loop', 'temporary', 'input', 'output', 'intermediate', 'nope', ''),
      fc.array(fc.oneof(fc.string(), fc.integer())),
      fc.integer(),
    );
    const options = fc.dictionary(
      fc.constantFrom('scope', 'varType', 'sourceStep', 'description', 'tags', 'contextId', 'scoop', '__proto__'),
      field,
    );
    fc.assert(
      fc.property(options, (candidate) => {
        if (isValidSetOptions(candidate)) expect(setVariableOptionsSchema.safeParse(candidate).success).toBe(true);
      }),
      { numRuns: 2000 },
    );
  });
});

describe('JSON semantics of stored numbers', () => {
  it('stores -0 as 0, so a value reads the same before and after a round trip through JSON', () => {
    const vm = new VariableManager();
    vm.setVariable('zero', -0);
    vm.setVariable('nested', { values: [-0, 1] });
    expect(Object.is(vm.getVariable('zero'), 0)).toBe(true);
    expect(Object.is((vm.getVariable('nested') as { values: number[] }).values[0], 0)).toBe(true);
  });
});

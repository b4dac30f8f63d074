import { describe, expect, it } from 'vitest';
import { ErrorCode, ExecutionError, RecoveryPlan, RecoveryStrategy } from '../src/index.js';
import { definePipeline, findCycle, isPipeline, runPipeline, type PipelineDefinition } from '../src/runner/index.js';

const run = (): number => 1;

function refusal(definition: unknown): ExecutionError {
  try {
    definePipeline(definition as PipelineDefinition);
  } catch (error) {
    expect(error).toBeInstanceOf(ExecutionError);
    expect((error as ExecutionError).code).toBe(ErrorCode.InvalidInput);
    return error as ExecutionError;
  }
  throw new Error('expected definePipeline to refuse the definition');
}

describe('definePipeline', () => {
  it('fills the defaults and freezes the pipeline', () => {
    const pipeline = definePipeline({
      id: 'etl',
      steps: [
        { id: 'extract', run },
        { id: 'load', name: 'Load rows', dependsOn: ['extract', 'extract'], run },
      ],
    });
    expect(isPipeline(pipeline)).toBe(true);
    expect(pipeline.steps.map((step) => [step.id, step.name, step.dependsOn])).toEqual([
      ['extract', 'extract', []],
      ['load', 'Load rows', ['extract']],
    ]);
    expect(Object.isFrozen(pipeline)).toBe(true);
    expect(Object.isFrozen(pipeline.steps)).toBe(true);
    expect(isPipeline({ id: 'etl', steps: pipeline.steps })).toBe(false);
  });

  it('refuses a duplicate id, naming it and both positions', () => {
    const error = refusal({ id: 'p', steps: [{ id: 'a', run }, { id: 'b', run }, { id: 'a', run }] });
    expect(error.message).toContain('duplicate step id "a"');
    expect(error.message).toContain('steps[0] and steps[2]');
  });

  it('refuses a dependency on an unknown step, naming both steps', () => {
    const error = refusal({ id: 'p', steps: [{ id: 'a', run }, { id: 'b', dependsOn: ['a', 'ghost'], run }] });
    expect(error.message).toContain('step "b" depends on unknown step "ghost"');
  });

  it('refuses a cycle and prints it', () => {
    const error = refusal({
      id: 'p',
      steps: [
        { id: 'start', run },
        { id: 'a', dependsOn: ['start', 'c'], run },
        { id: 'b', dependsOn: ['a'], run },
        { id: 'c', dependsOn: ['b'], run },
      ],
    });
    expect(error.message).toMatch(/dependency cycle (a -> c -> b -> a|b -> a -> c -> b|c -> b -> a -> c)/);
  });

  it('refuses a step that depends on itself', () => {
    expect(refusal({ id: 'p', steps: [{ id: 'a', dependsOn: ['a'], run }] }).message).toContain('dependency cycle a -> a');
  });

  it('refuses a malformed step, naming the step and the field', () => {
    expect(refusal({ id: 'p', steps: [{ id: 'a' }] }).message).toMatch(/step "a".*"run".*Expected a function/);
    expect(refusal({ id: 'p', steps: [{ id: 'a', run, dependOn: ['x'] }] }).message).toContain('dependOn');
    expect(refusal({ id: 'p', steps: [{ id: 'a', run, timeoutMs: -5 }] }).message).toMatch(/step "a".*timeoutMs/);
    expect(refusal({ id: 'p', steps: [{ id: 'a', run, when: true }] }).message).toMatch(/step "a".*when/);
    expect(refusal({ id: 'p', steps: [{ id: '', run }] }).message).toMatch(/steps\[0\].*id/);
  });

  it('refuses an empty pipeline and a missing id', () => {
    expect(refusal({ id: 'p', steps: [] }).message).toContain('at least one step');
    expect(refusal({ steps: [{ id: 'a', run }] }).message).toContain('"id"');
  });

  it('validates retry settings and refuses retry together with recovery', () => {
    expect(refusal({ id: 'p', steps: [{ id: 'a', run, retry: { maxAttempts: 0 } }] }).message).toMatch(/step "a".*maxAttempts/);
    const both = refusal({ id: 'p', steps: [{ id: 'a', run, retry: { maxAttempts: 2 }, recovery: { strategy: RecoveryStrategy.SKIP } }] });
    expect(both.message).toContain('either `retry` or `recovery`');
  });

  it('refuses a ROLLBACK plan, which would undo parallel steps', () => {
    const error = refusal({ id: 'p', steps: [{ id: 'a', run, recovery: new RecoveryPlan({ strategy: RecoveryStrategy.ROLLBACK }) }] });
    expect(error.message).toMatch(/step "a".*ROLLBACK is not supported/);
  });

  it('accepts plan options and turns them into a RecoveryPlan', () => {
    const pipeline = definePipeline({ id: 'p', steps: [{ id: 'a', run, recovery: { strategy: RecoveryStrategy.SKIP } }] });
    expect(pipeline.steps[0]?.recovery).toBeInstanceOf(RecoveryPlan);
  });
});

describe('findCycle', () => {
  it('finds none in a chain and the closed path in a loop', () => {
    expect(findCycle([{ id: 'a', dependsOn: [] }, { id: 'b', dependsOn: ['a'] }])).toBeNull();
    expect(findCycle([{ id: 'a', dependsOn: ['b'] }, { id: 'b', dependsOn: ['a'] }])).toEqual(['a', 'b', 'a']);
  });

  it('handles a deep chain without overflowing the stack', () => {
    const nodes = Array.from({ length: 20_000 }, (_, i) => ({ id: `s${i}`, dependsOn: i === 0 ? [] : [`s${i - 1}`] }));
    expect(findCycle(nodes)).toBeNull();
  });
});

describe('runPipeline input checks', () => {
  const pipeline = definePipeline({ id: 'p', steps: [{ id: 'a', run }] });

  it('refuses something that is not a defined pipeline', () => {
    expect(() => runPipeline(JSON.parse('{"id":"p","steps":[]}') as Parameters<typeof runPipeline>[0])).toThrow(/expected a pipeline made by definePipeline/);
  });

  it('refuses bad options, naming the field', () => {
    expect(() => runPipeline(pipeline, { concurrency: 0 })).toThrow(/concurrency/);
    expect(() => runPipeline(pipeline, { executionId: '' })).toThrow(/executionId/);
    expect(() => runPipeline(pipeline, { store: {} as never })).toThrow(/store/);
  });
});

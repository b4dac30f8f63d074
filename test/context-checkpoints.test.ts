import { describe, expect, it, vi } from 'vitest';
import { SimulatedClock } from '../src/clock.js';
import { ExecutionStatus } from '../src/constants.js';
import { ErrorCode, ExecutionError } from '../src/errors.js';
import { ExecutionContext, parseCheckpoint } from '../src/services/context/index.js';
import type { Checkpoint } from '../src/services/context/index.js';

const T0 = Date.parse('2026-01-01T00:00:00.000Z');

function setup(maxCheckpoints?: number) {
  const clock = new SimulatedClock(T0);
  const context = new ExecutionContext({
    executionId: 'exec_1',
    pipelineId: 'pipe',
    clock,
    ...(maxCheckpoints === undefined ? {} : { maxCheckpoints }),
  });
  return { clock, context };
}

describe('ExecutionContext checkpoints', () => {
  it('ids are 21 URL-safe characters, unique, and never start with "-" (a command line would take it for an option)', () => {
    const { context } = setup(5000);
    const ids = Array.from({ length: 5000 }, () => context.createCheckpoint().id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const id of ids) expect(id).toMatch(/^[A-Za-z0-9_]{21}$/);
  });

  it('captures status, step, metrics, step lists, variables and extensions', () => {
    const { clock, context } = setup();
    context.start(3);
    context.variableManager.setVariable('x', { rows: [1, 2] });
    context.startStep('a');
    context.completeStep('a');
    context.startStep('b');
    clock.advance(2000);
    const checkpoint = context.createCheckpoint('before b', { actor: { value: 'running', output: undefined } });
    expect(checkpoint).toMatchObject({
      formatVersion: 1,
      executionId: 'exec_1',
      pipelineId: 'pipe',
      createdAt: '2026-01-01T00:00:02.000Z',
      description: 'before b',
      status: 'running',
      currentStepId: 'b',
      completedSteps: ['a'],
      failedSteps: [],
      skippedSteps: [],
      extensions: { actor: { value: 'running' } },
    });
    expect(checkpoint.metrics).toMatchObject({ stepsCompleted: 1, stepsTotal: 3, duration: 2, variablesCreated: 1 });
    expect(checkpoint.variables.variables.x?.value).toEqual({ rows: [1, 2] });
    expect(checkpoint.extensions.actor).not.toHaveProperty('output');
    expect(context.createCheckpoint().description).toBeNull();
    expect(context.checkpoints).toHaveLength(2);
    expect(context.getCheckpoint(checkpoint.id)).toBe(checkpoint);
    expect(parseCheckpoint(JSON.parse(JSON.stringify(checkpoint)))).toEqual(checkpoint);
  });

  it('deep-copies extensions and freezes the record', () => {
    const { context } = setup();
    const extensions = { data: { list: [1] } };
    const checkpoint = context.createCheckpoint(undefined, extensions);
    extensions.data.list.push(2);
    expect(checkpoint.extensions).toEqual({ data: { list: [1] } });
    expect(Object.isFrozen(checkpoint.metrics)).toBe(true);
    expect(() => {
      checkpoint.completedSteps.push('x');
    }).toThrow(TypeError);
  });

  it('gives unique ids', () => {
    const { context } = setup(50);
    const ids = new Set(Array.from({ length: 50 }, () => context.createCheckpoint().id));
    expect(ids.size).toBe(50);
  });

  it('restores variables, metrics, status, step lists and current step', () => {
    const { clock, context } = setup();
    context.start(3);
    context.variableManager.setVariable('x', 1);
    context.startStep('a');
    context.completeStep('a');
    const checkpoint = context.createCheckpoint('after a');
    const before = context.metrics;

    context.variableManager.setVariable('x', 2);
    context.variableManager.setVariable('y', 3);
    context.startStep('b');
    context.completeStep('b', false);
    context.skipStep('c');
    context.complete(false);
    clock.advance(5000);
    expect(context.status).toBe(ExecutionStatus.FAILED);

    expect(context.restoreCheckpoint(checkpoint.id)).toBe(true);
    expect(context.status).toBe(ExecutionStatus.RUNNING);
    expect(context.variableManager.getVariable('x')).toBe(1);
    expect(context.variableManager.hasVariable('y')).toBe(false);
    expect(context.completedSteps).toEqual(['a']);
    expect(context.failedSteps).toEqual([]);
    expect(context.skippedSteps).toEqual([]);
    expect(context.currentStepId).toBeNull();
    const after = context.metrics;
    expect(after).toEqual({ ...before, duration: 5 });
    expect(after.endTime).toBeNull();
    expect(after.variablesCreated).toBe(1);
    expect(after.variablesUpdated).toBe(0);
    // the execution can go on after a rollback
    context.startStep('b');
    context.completeStep('b');
    expect(context.metrics.stepsCompleted).toBe(2);
  });

  it('keeps later checkpoints after a restore', () => {
    const { context } = setup();
    const first = context.createCheckpoint('1');
    const second = context.createCheckpoint('2');
    expect(context.restoreCheckpoint(first.id)).toBe(true);
    expect(context.checkpoints.map((c) => c.id)).toEqual([first.id, second.id]);
    expect(context.restoreCheckpoint(second.id)).toBe(true);
  });

  it('returns false for an unknown id and changes nothing', () => {
    const { context } = setup();
    context.start();
    context.variableManager.setVariable('x', 1);
    context.createCheckpoint();
    const handler = vi.fn();
    context.onCheckpointRestored(handler);
    expect(context.restoreCheckpoint('nope')).toBe(false);
    expect(context.variableManager.getVariable('x')).toBe(1);
    expect(handler).not.toHaveBeenCalled();
  });

  it('tells restore handlers with a mutable copy of the checkpoint', () => {
    const { context } = setup();
    const checkpoint = context.createCheckpoint('c', { actor: { n: 1 } });
    const got: Checkpoint[] = [];
    const off = context.onCheckpointRestored((cp) => got.push(cp));
    context.restoreCheckpoint(checkpoint.id);
    off();
    context.restoreCheckpoint(checkpoint.id);
    expect(got).toHaveLength(1);
    expect(got[0]).toEqual(checkpoint);
    expect(Object.isFrozen(got[0]!.extensions)).toBe(false);
  });

  it('tells status handlers when a restore changes the status', () => {
    const { context } = setup();
    context.start();
    const checkpoint = context.createCheckpoint();
    context.complete(false);
    const statuses: string[] = [];
    context.onStatusChange((_id, status) => statuses.push(status));
    context.restoreCheckpoint(checkpoint.id);
    expect(statuses).toEqual(['running']);
  });

  it('keeps only the newest maxCheckpoints', () => {
    const { context } = setup(3);
    const ids = Array.from({ length: 5 }, (_, i) => context.createCheckpoint(`cp${i}`).id);
    expect(context.checkpoints.map((c) => c.description)).toEqual(['cp2', 'cp3', 'cp4']);
    expect(context.restoreCheckpoint(ids[0]!)).toBe(false);
    expect(context.restoreCheckpoint(ids[4]!)).toBe(true);
  });

  it('keeps 10 by default and completing the execution prunes nothing', () => {
    const { context } = setup();
    context.start();
    for (let i = 0; i < 12; i += 1) context.createCheckpoint(`cp${i}`);
    context.complete();
    expect(context.checkpoints).toHaveLength(10);
    expect(context.checkpoints[0]!.description).toBe('cp2');
  });

  it('refuses non-JSON extensions and a non-string description', () => {
    const { context } = setup();
    const bad: [unknown, unknown, string][] = [
      [undefined, { f: () => 1 }, 'f'],
      [undefined, { n: Number.NaN }, 'n'],
      [undefined, { d: new Date(0) }, 'd'],
      [undefined, JSON.parse('{"a":{"__proto__":{"polluted":true}}}'), '__proto__'],
      [42, undefined, 'description'],
    ];
    for (const [description, extensions, field] of bad) {
      let error: unknown;
      try {
        context.createCheckpoint(description as never, extensions as never);
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(ExecutionError);
      expect((error as ExecutionError).code).toBe(ErrorCode.InvalidInput);
      expect((error as ExecutionError).message).toContain(field);
    }
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    expect(() => context.createCheckpoint('c', cyclic)).toThrow(/circular/);
    expect(context.checkpoints).toHaveLength(0);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('parseCheckpoint refuses a newer format with CHECKPOINT_INCOMPATIBLE and bad counters with INVALID_INPUT', () => {
    const { context } = setup();
    context.completeStep('a');
    const record = JSON.parse(JSON.stringify(context.createCheckpoint())) as Record<string, unknown>;
    expect(() => parseCheckpoint({ ...record, formatVersion: 2 })).toThrow(
      expect.objectContaining({ code: ErrorCode.CheckpointIncompatible }),
    );
    const metrics = record.metrics as Record<string, unknown>;
    expect(() => parseCheckpoint({ ...record, metrics: { ...metrics, stepsCompleted: 2 } })).toThrow(
      expect.objectContaining({ code: ErrorCode.InvalidInput, field: 'metrics.stepsCompleted' }),
    );
    expect(() => parseCheckpoint({ ...record, variables: { ...(record.variables as object), formatVersion: 'x' } })).toThrow(
      expect.objectContaining({ code: ErrorCode.InvalidInput }),
    );
  });
});

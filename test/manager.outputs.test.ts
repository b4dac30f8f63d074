/**
 * A step's output is kept as JSON (stores, checkpoints). One that JSON cannot
 * hold fails the step with a typed error naming it, instead of breaking a
 * write or a checkpoint later; what JSON.stringify takes is kept as JSON.
 */
import { describe, expect, it } from 'vitest';
import { createComprehensiveExecutionManager, createMemoryStore, ErrorCode, ValidationFailure } from '../src/index.js';

function cyclic(): unknown {
  const value: Record<string, unknown> = { id: 1 };
  value.self = value;
  return value;
}

describe('step outputs that JSON cannot hold', () => {
  it.each([
    ['a BigInt', () => ({ total: 10n }), 'Do not know how to serialize a BigInt'],
    ['a cycle', cyclic, 'Converting circular structure to JSON'],
    ['a function', () => () => 1, 'a function is not JSON'],
  ])('%s fails the step once (not retried), names it, and the execution goes on', async (_what, output, why) => {
    const store = createMemoryStore();
    const manager = createComprehensiveExecutionManager({ executionId: 'out-1', pipelineId: 'p', store });
    manager.startExecution(2);
    let calls = 0;
    const ok = await manager.executeStepWithRecovery('odd', 'Odd', () => {
      calls += 1;
      return output();
    });
    expect(ok).toBe(false);
    expect(calls).toBe(1);
    const record = manager.getStepRecord('odd');
    expect(record).toMatchObject({ status: 'failed', attempts: 1 });
    expect(record?.error).toMatchObject({ code: ErrorCode.InvalidInput, message: `Step "odd" returned an output that cannot be stored as JSON: ${why}` });
    expect(record?.error?.message).not.toContain('\n');
    // The execution and its store are fine: the next step runs, a checkpoint is taken, everything commits.
    expect(await manager.executeStepWithRecovery('next', 'Next', () => 'fine')).toBe(true);
    expect(manager.createCheckpoint('after').id).toEqual(expect.any(String));
    manager.completeExecution(false);
    await manager.shutdown();
    const stored = await store.loadExecution('out-1');
    expect(stored?.summary.status).toBe('failed');
  });

  it('completeStep with such an output is refused and changes nothing', () => {
    const manager = createComprehensiveExecutionManager({ executionId: 'out-2', pipelineId: 'p', store: createMemoryStore() });
    manager.startExecution(1);
    manager.startStep('manual', 'Manual');
    expect(() => {
      manager.completeStep('manual', { output: { n: 1n } });
    }).toThrow(ValidationFailure);
    expect(manager.getExecutionStatus().progress.runningSteps).toBe(1);
    manager.completeStep('manual', { output: { n: 1 } });
    expect(manager.getStepOutput('manual')).toEqual({ n: 1 });
  });

  it('what JSON.stringify takes is kept as JSON: a Date reads back as its ISO string after a resume', async () => {
    const store = createMemoryStore();
    const first = createComprehensiveExecutionManager({ executionId: 'out-3', pipelineId: 'p', store });
    first.startExecution(1);
    const when = new Date('2026-01-01T00:00:00.000Z');
    expect(await first.executeStepWithRecovery('stamp', 'Stamp', () => ({ when, skip: undefined, ratio: Number.NaN }))).toBe(true);
    await first.flush();
    const second = createComprehensiveExecutionManager({ executionId: 'out-3', pipelineId: 'p', store });
    expect(second.getStepOutput('stamp')).toEqual({ when: '2026-01-01T00:00:00.000Z', ratio: null });
  });

  it('with a store, an output is serialised once: the commit reuses the text the boundary check made', async () => {
    const store = createMemoryStore();
    const manager = createComprehensiveExecutionManager({ executionId: 'out-4', pipelineId: 'p', store });
    manager.startExecution(1);
    let serialised = 0;
    const output = {
      toJSON: () => {
        serialised += 1;
        return { rows: 3 };
      },
    };
    expect(await manager.executeStepWithRecovery('count', 'Count', () => output)).toBe(true);
    await manager.flush();
    expect(serialised).toBe(1);
    const stored = await store.loadExecution('out-4');
    const finished = stored?.journal.find((entry) => entry.kind === 'step_finished');
    expect(finished?.kind === 'step_finished' ? finished.output : undefined).toEqual({ rows: 3 });
  });
});

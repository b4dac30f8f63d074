import { afterEach, describe, expect, it } from 'vitest';
import { ErrorCode, ExecutionError, ExecutionStatus, ProgressEventType } from '../src/index.js';
import { definePipeline, restoreStoredExecution, runPipeline, type Pipeline } from '../src/runner/index.js';
import { tempDatabase, ticks, untilAborted } from './runner.helpers.js';

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const cleanup of cleanups.splice(0)) cleanup();
});

function database(): ReturnType<typeof tempDatabase> {
  const db = tempDatabase();
  cleanups.push(db.cleanup);
  return db;
}

/** load and audit (in parallel) -> transform -> save; `transform` hangs while `hang.value` is true. */
function etl(calls: Record<string, number>, hang: { value: boolean }): Pipeline {
  const count = (id: string): void => {
    calls[id] = (calls[id] ?? 0) + 1;
  };
  return definePipeline({
    id: 'etl',
    steps: [
      { id: 'load', run: () => {
        count('load');
        return { rows: [1, 2, 3] };
      } },
      { id: 'audit', run: async () => {
        count('audit');
        await ticks(1);
        return 'audited';
      } },
      {
        id: 'transform',
        dependsOn: ['load', 'audit'],
        run: async ({ outputs, signal, variables }) => {
          count('transform');
          variables.setVariable('transform.seen', (variables.getVariable<number>('transform.seen') ?? 0) + 1);
          if (hang.value) await untilAborted(signal);
          return (outputs.load as { rows: number[] }).rows.map((n) => n * 10);
        },
      },
      { id: 'save', dependsOn: ['transform'], run: ({ outputs }) => {
        count('save');
        return { saved: (outputs.transform as number[]).length };
      } },
    ],
  });
}

describe('runPipeline on the SQLite store', () => {
  it('cancelled, then run again with the same id and store: completes without re-running completed steps', async () => {
    const db = database();
    const calls: Record<string, number> = {};
    const hang = { value: true };
    const pipeline = etl(calls, hang);

    const first = db.open();
    const run = runPipeline(pipeline, { executionId: 'etl-1', store: first, metadata: { modulePath: '/pipelines/etl.ts' } });
    run.on(ProgressEventType.STEP_STARTED, (event) => {
      if (event.stepId === 'transform') run.cancel('operator stop');
    });
    const cancelled = await run.done;
    await first.close();
    expect(cancelled.status).toBe(ExecutionStatus.CANCELLED);
    expect(Object.fromEntries(cancelled.steps.map((step) => [step.id, step.status]))).toEqual({
      load: 'completed',
      audit: 'completed',
      transform: 'cancelled',
      save: 'pending',
    });

    // A new store connection: what another process would open.
    hang.value = false;
    const second = db.open();
    const resumed = runPipeline(pipeline, { executionId: 'etl-1', store: second });
    const heard: string[] = [];
    resumed.on('*', (event) => heard.push(`${event.eventType}${event.stepId === undefined ? '' : `:${event.stepId}`}`));
    const start = await resumed.started;
    expect(start.resumed).toBe(true);
    expect(start.steps.filter((step) => step.status === 'completed').map((step) => step.id).sort()).toEqual(['audit', 'load']);
    const result = await resumed.done;

    expect(result.status).toBe(ExecutionStatus.COMPLETED);
    expect(result.resumed).toBe(true);
    expect(calls).toEqual({ load: 1, audit: 1, transform: 2, save: 1 });
    expect(result.outputs).toEqual({ load: { rows: [1, 2, 3] }, audit: 'audited', transform: [10, 20, 30], save: { saved: 3 } });
    expect(result.steps.filter((step) => step.earlier).map((step) => step.id).sort()).toEqual(['audit', 'load']);
    // Its events tell only what happened in this run: the earlier run's steps are not announced again.
    expect(heard.filter((event) => event.startsWith('step_'))).toEqual([
      'step_started:transform',
      'step_completed:transform',
      'step_started:save',
      'step_completed:save',
    ]);
    expect(heard.filter((event) => event.startsWith('execution_'))).toEqual(['execution_started', 'execution_completed']);
    // The variable the cancelled attempt wrote survived into the resumed one.
    const [summary] = await second.listExecutions();
    expect(summary).toMatchObject({ executionId: 'etl-1', status: ExecutionStatus.COMPLETED, metadata: { modulePath: '/pipelines/etl.ts' } });
    const stored = await second.loadExecution('etl-1');
    const seen = stored?.journal.filter((entry) => entry.kind === 'variable_set' && entry.name === 'transform.seen').map((entry) => (entry.kind === 'variable_set' ? entry.value : null));
    expect(seen).toEqual([1, 2]);
    await second.close();
  });

  it('a stored run that completed is reported as it is, nothing runs again', async () => {
    const db = database();
    const calls: Record<string, number> = {};
    const pipeline = etl(calls, { value: false });
    const store = db.open();
    await runPipeline(pipeline, { executionId: 'etl-2', store }).done;
    const again = runPipeline(pipeline, { executionId: 'etl-2', store });
    expect((await again.started).status).toBe(ExecutionStatus.COMPLETED);
    const result = await again.done;
    expect(result.status).toBe(ExecutionStatus.COMPLETED);
    expect(calls).toEqual({ load: 1, audit: 1, transform: 1, save: 1 });
    expect(result.steps.every((step) => step.earlier && step.status === 'completed')).toBe(true);
    expect(result.outputs.save).toEqual({ saved: 3 });
    await store.close();
  });

  it('refuses to continue an execution of another pipeline', async () => {
    const db = database();
    const store = db.open();
    await runPipeline(etl({}, { value: false }), { executionId: 'shared-id', store }).done;
    const other = definePipeline({ id: 'other', steps: [{ id: 'x', run: () => 1 }] });
    const error = await runPipeline(other, { executionId: 'shared-id', store }).done.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ExecutionError);
    expect((error as ExecutionError).code).toBe(ErrorCode.InvalidInput);
    expect((error as ExecutionError).message).toContain('belongs to pipeline "etl", not "other"');
    await store.close();
  });
});

describe('restoreStoredExecution', () => {
  it('rolls a completed run back to its first checkpoint; the next run re-runs every step', async () => {
    const db = database();
    const calls: Record<string, number> = {};
    const pipeline = etl(calls, { value: false });
    const store = db.open();
    await runPipeline(pipeline, { executionId: 'etl-3', store }).done;
    const checkpoints = await store.listCheckpoints('etl-3');
    expect(checkpoints.map((checkpoint) => checkpoint.description)).toEqual(['execution_started', 'execution_completed']);

    const restored = await restoreStoredExecution(store, 'etl-3', checkpoints[0]?.id ?? '');
    expect(restored.status).toBe(ExecutionStatus.CANCELLED);
    expect(restored.stepsReset.sort()).toEqual(['audit', 'load', 'save', 'transform']);
    expect(restored.variablesReset).toContain('transform.seen');
    expect((await store.listExecutions())[0]?.status).toBe(ExecutionStatus.CANCELLED);

    const result = await runPipeline(pipeline, { executionId: 'etl-3', store }).done;
    expect(result.status).toBe(ExecutionStatus.COMPLETED);
    expect(calls).toEqual({ load: 2, audit: 2, transform: 2, save: 2 });
    await store.close();
  });

  it('rolled back to a checkpoint taken after some steps, keeps those steps', async () => {
    const db = database();
    const calls: Record<string, number> = {};
    const hang = { value: true };
    const pipeline = etl(calls, hang);
    const store = db.open();
    const run = runPipeline(pipeline, { executionId: 'etl-4', store });
    run.on(ProgressEventType.STEP_STARTED, (event) => {
      if (event.stepId === 'transform') run.cancel('stop');
    });
    await run.done;
    hang.value = false;
    await runPipeline(pipeline, { executionId: 'etl-4', store }).done;
    // The last checkpoint is "execution_completed": everything stays done.
    const checkpoints = await store.listCheckpoints('etl-4');
    const last = checkpoints.at(-1);
    expect(last?.description).toBe('execution_completed');
    const restored = await restoreStoredExecution(store, 'etl-4', last?.id ?? '');
    expect(restored.stepsReset).toEqual([]);
    const before = { ...calls };
    const result = await runPipeline(pipeline, { executionId: 'etl-4', store }).done;
    expect(result.status).toBe(ExecutionStatus.COMPLETED);
    expect(calls).toEqual(before);
    await store.close();
  });

  it('names what is missing', async () => {
    const db = database();
    const store = db.open();
    await expect(restoreStoredExecution(store, 'ghost', 'cp')).rejects.toMatchObject({ code: ErrorCode.ExecutionNotFound });
    await runPipeline(etl({}, { value: false }), { executionId: 'etl-5', store }).done;
    await expect(restoreStoredExecution(store, 'etl-5', 'no-such-checkpoint')).rejects.toMatchObject({
      code: ErrorCode.CheckpointNotFound,
      message: 'Execution "etl-5" has no checkpoint "no-such-checkpoint"',
    });
    await store.close();
  });
});

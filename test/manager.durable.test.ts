import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  ErrorCode,
  ExecutionError,
  createComprehensiveExecutionManager,
  createMemoryStore,
  createSqliteStore,
  listExecutions,
  openExecution,
  ProgressTracker,
  resumeExecution,
  SimulatedClock,
  type CheckpointStore,
  type StoreBatch,
} from '../src/index.js';
import { flush } from './helpers/manager-harness.js';

function sqliteFile(): string {
  return join(mkdtempSync(join(tmpdir(), 'manager-durable-')), 'state.db');
}

/** A store whose writes fail while `failing` is true (the failure a disk-full or busy database gives). */
function flakyStore(inner: CheckpointStore & { sync: NonNullable<CheckpointStore['sync']> }) {
  const state = { failing: false, attempts: 0 };
  const fail = (): never => {
    state.attempts += 1;
    throw Object.assign(new Error('database or disk is full'), { code: 'SQLITE_FULL' });
  };
  const store: CheckpointStore = {
    kind: inner.kind,
    sync: {
      ...inner.sync,
      write: (batches: readonly StoreBatch[]) => {
        if (state.failing) fail();
        inner.sync.write(batches);
      },
    },
    write: (batches) => (state.failing ? Promise.reject(new Error('database or disk is full')) : inner.write(batches)),
    loadExecution: (id) => inner.loadExecution(id),
    getCheckpoint: (id, cp) => inner.getCheckpoint(id, cp),
    listCheckpoints: (id) => inner.listCheckpoints(id),
    listExecutions: (filter) => inner.listExecutions(filter),
    close: () => inner.close(),
  };
  return { store, state };
}

describe('a manager with a store', () => {
  it('resumes: completed steps are not run again, outputs and variables come back, the interrupted step is told', async () => {
    const filename = sqliteFile();
    const store = createSqliteStore({ filename });
    const first = createComprehensiveExecutionManager({ executionId: 'resume-1', pipelineId: 'etl', store });
    first.startExecution(3);
    await first.executeStepWithRecovery('extract', 'Extract', () => ({ rows: [1, 2, 3] }));
    first.variableManager.setVariable('row_count', 3);
    const calls: string[] = [];
    // The process "dies" while this step runs: its manager is simply abandoned.
    void first.executeStepWithRecovery('transform', 'Transform', () => new Promise<never>(() => undefined));
    await flush();
    await first.flush();

    const reopened = createSqliteStore({ filename });
    const second = createComprehensiveExecutionManager({ executionId: 'resume-1', pipelineId: 'etl', store: reopened });
    expect(second.resumed).toBe(true);
    expect(second.interruptedSteps).toEqual(['transform']);
    expect(second.getExecutionStatus()).toMatchObject({ status: 'running', progress: { completedSteps: 1, totalSteps: 3 } });
    expect(second.variableManager.getVariable('row_count')).toBe(3);
    second.startExecution(3);
    expect(await second.executeStepWithRecovery('extract', 'Extract', () => calls.push('extract'))).toBe(true);
    expect(second.getStepOutput('extract')).toEqual({ rows: [1, 2, 3] });
    expect(
      await second.executeStepWithRecovery('transform', 'Transform', ({ attempt, resumed }) => {
        calls.push(`transform attempt=${attempt} resumed=${resumed}`);
        return 'ok';
      }),
    ).toBe(true);
    expect(await second.executeStepWithRecovery('load', 'Load', () => calls.push('load'))).toBe(true);
    second.completeExecution(true);
    expect(calls).toEqual(['transform attempt=2 resumed=true', 'load']);
    expect(second.getExecutionStatus()).toMatchObject({ status: 'completed', progress: { completedSteps: 3, percentage: 100 } });
    await second.shutdown();
    expect(await listExecutions(reopened, { status: 'completed' })).toEqual([
      expect.objectContaining({ executionId: 'resume-1', pipelineId: 'etl', status: 'completed' }),
    ]);
    await store.close();
    await reopened.close();
  });

  it('journals variable deletions: a deleted variable stays deleted after a resume', async () => {
    const store = createMemoryStore();
    const first = createComprehensiveExecutionManager({ executionId: 'deletions', pipelineId: 'etl', store });
    const deleted: unknown[] = [];
    first.variableManager.onVariableDeleted((event) => deleted.push(event));
    first.startExecution(1);
    first.variableManager.setVariable('scratch', { rows: 2 });
    first.variableManager.setVariable('kept', 1);
    expect(first.variableManager.deleteVariable('scratch')).toBe(true);
    expect(first.variableManager.deleteVariable('scratch')).toBe(false);
    expect(deleted).toEqual([{ name: 'scratch', previousValue: { rows: 2 }, contextId: null }]);
    await first.flush();
    const second = createComprehensiveExecutionManager({ executionId: 'deletions', pipelineId: 'etl', store });
    expect(second.variableManager.hasVariable('scratch')).toBe(false);
    expect(second.variableManager.getVariable('kept')).toBe(1);
  });

  it('restores a checkpoint written by an earlier manager, then continues', async () => {
    const store = createSqliteStore({ filename: sqliteFile() });
    const first = createComprehensiveExecutionManager({ executionId: 'restore-1', pipelineId: 'etl', store });
    first.startExecution(2);
    first.variableManager.setVariable('mode', 'before');
    const checkpoint = first.createCheckpoint('before the risky step');
    first.variableManager.setVariable('mode', 'after');
    await first.executeStepWithRecovery('risky', 'Risky', () => 'done');
    await first.flush();

    const second = createComprehensiveExecutionManager({ executionId: 'restore-1', pipelineId: 'etl', store });
    expect(second.variableManager.getVariable('mode')).toBe('after');
    expect(second.restoreCheckpoint(checkpoint.id)).toBe(true);
    expect(second.variableManager.getVariable('mode')).toBe('before');
    expect(second.getExecutionStatus().progress.completedSteps).toBe(0);
    let runs = 0;
    expect(await second.executeStepWithRecovery('risky', 'Risky', () => ++runs)).toBe(true);
    expect(runs).toBe(1);
    await store.close();
  });

  it('journals a restore: a resume after it starts from the checkpoint, and keeps the recorded times', async () => {
    const store = createSqliteStore({ filename: sqliteFile() });
    const clock = new SimulatedClock(Date.parse('2026-03-01T10:00:00Z'));
    const first = createComprehensiveExecutionManager({ executionId: 'journaled-restore', pipelineId: 'etl', store, clock });
    first.startExecution(2);
    await first.executeStepWithRecovery('a', 'A', () => 'a1');
    const checkpoint = first.createCheckpoint('after a');
    first.variableManager.setVariable('phase', 'b ran');
    await first.executeStepWithRecovery('b', 'B', () => 'b1');
    expect(first.restoreCheckpoint(checkpoint.id)).toBe(true);
    await first.flush();

    // A new process: the journal says b ran, then the execution went back to "after a".
    const second = createComprehensiveExecutionManager({ executionId: 'journaled-restore', pipelineId: 'etl', store, clock });
    expect(second.getStepRecord('a')?.status).toBe('completed');
    expect(second.getStepRecord('b')).toBeUndefined();
    expect(second.variableManager.hasVariable('phase')).toBe(false);
    let bRuns = 0;
    expect(await second.executeStepWithRecovery('b', 'B', () => `b${++bRuns + 1}`)).toBe(true);
    expect(second.getStepOutput('b')).toBe('b2');
    clock.advance(90_000);
    second.completeExecution(true);
    await second.shutdown();

    const third = createComprehensiveExecutionManager({ executionId: 'journaled-restore', pipelineId: 'etl', store, clock });
    expect(third.getExecutionStatus().metrics).toMatchObject({
      startTime: '2026-03-01T10:00:00.000Z',
      endTime: '2026-03-01T10:01:30.000Z',
      duration: 90,
    });
    await store.close();
  });

  it('refuses an async-only store without openExecution, and openExecution/resumeExecution work with one', async () => {
    const inner = createMemoryStore();
    const asyncOnly: CheckpointStore = {
      kind: 'postgres',
      write: (b) => inner.write(b),
      loadExecution: (id) => inner.loadExecution(id),
      getCheckpoint: (id, cp) => inner.getCheckpoint(id, cp),
      listCheckpoints: (id) => inner.listCheckpoints(id),
      listExecutions: (f) => inner.listExecutions(f),
      close: () => inner.close(),
    };
    expect(() => createComprehensiveExecutionManager({ executionId: 'a-1', pipelineId: 'p', store: asyncOnly })).toThrow(
      expect.objectContaining({ code: ErrorCode.InvalidInput }) as Error,
    );
    const first = await openExecution({ executionId: 'a-1', pipelineId: 'p', store: asyncOnly });
    first.startExecution(1);
    await first.executeStepWithRecovery('only', 'Only', () => 42);
    first.completeExecution(true);
    await first.shutdown();
    const again = await resumeExecution('a-1', { store: asyncOnly });
    expect(again.pipelineId).toBe('p');
    expect(again.getStepOutput('only')).toBe(42);
    expect(again.getExecutionStatus().status).toBe('completed');
    await expect(resumeExecution('missing', { store: asyncOnly })).rejects.toMatchObject({ code: ErrorCode.ExecutionNotFound });
  });

  it('a failing store gives STORE_ERROR, keeps the last good state, and a later write carries the entries', async () => {
    const inner = createMemoryStore();
    const { store, state } = flakyStore(inner);
    const manager = createComprehensiveExecutionManager({ executionId: 'faulty-1', pipelineId: 'p', store });
    manager.startExecution(2);
    await manager.executeStepWithRecovery('one', 'One', () => 1);
    state.failing = true;
    const error = await manager.executeStepWithRecovery('two', 'Two', () => 2).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ExecutionError);
    expect(error).toMatchObject({ code: ErrorCode.StoreError });
    expect((error as ExecutionError).cause).toMatchObject({ code: 'SQLITE_FULL' });
    // The store still holds the last good state: step one only.
    const stored = inner.sync.loadExecution('faulty-1');
    const finished = stored?.journal.filter((entry) => entry.kind === 'step_finished').map((entry) => entry.record.stepId);
    expect(finished).toEqual(['one']);
    state.failing = false;
    await manager.flush();
    const after = inner.sync.loadExecution('faulty-1');
    expect(after?.journal.filter((entry) => entry.kind === 'step_finished').map((entry) => entry.record.stepId)).toEqual([
      'one',
      'two',
    ]);
    expect(state.attempts).toBeGreaterThan(0);
  });

  it("'batched' groups concurrent executions into shared commits; 'none' does not wait", async () => {
    const inner = createMemoryStore();
    let writes = 0;
    const counting: CheckpointStore = {
      ...inner,
      kind: 'memory',
      write: (batches) => {
        writes += 1;
        return inner.write(batches);
      },
    };
    const { sync: _sync, ...asyncFace } = counting;
    const managers = await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        openExecution({ executionId: `batched-${i}`, pipelineId: 'p', store: asyncFace, durability: 'batched' }),
      ),
    );
    for (const manager of managers) manager.startExecution(3);
    await Promise.all(managers.map((manager) => manager.flush()));
    writes = 0;
    await Promise.all(
      managers.map(async (manager) => {
        for (let s = 0; s < 3; s++) await manager.executeStepWithRecovery(`s${s}`, `S${s}`, () => s);
      }),
    );
    // 30 step outcomes from 10 executions, committed in about 3 group commits.
    expect(writes).toBeLessThanOrEqual(6);
    for (const manager of managers) {
      const stored = await inner.loadExecution(manager.executionId);
      expect(stored?.journal.filter((entry) => entry.kind === 'step_finished')).toHaveLength(3);
    }
    const lazy = await openExecution({ executionId: 'none-1', pipelineId: 'p', store: asyncFace, durability: 'none' });
    lazy.startExecution(1);
    await lazy.executeStepWithRecovery('s', 'S', () => 'x');
    await lazy.flush();
    expect((await inner.loadExecution('none-1'))?.journal.some((entry) => entry.kind === 'step_finished')).toBe(true);
  });

  it("'sync': one commit per step, and a status change rides with its checkpoint (start and end are one commit each)", async () => {
    const inner = createMemoryStore();
    const commits: StoreBatch[][] = [];
    const store: CheckpointStore = {
      ...inner,
      sync: {
        ...inner.sync,
        write: (batches: readonly StoreBatch[]) => {
          commits.push([...batches]);
          inner.sync.write(batches);
        },
      },
    };
    const manager = createComprehensiveExecutionManager({ executionId: 'commits-1', pipelineId: 'p', store });
    manager.startExecution(2);
    expect(commits).toHaveLength(1);
    const [start] = commits[0] ?? [];
    expect(start?.summary?.status).toBe('running');
    expect(start?.journal?.map((entry) => entry.kind)).toEqual(['status']);
    expect(start?.checkpoints?.map((checkpoint) => checkpoint.description)).toEqual(['execution_started']);

    await manager.executeStepWithRecovery('a', 'A', () => 1);
    await manager.executeStepWithRecovery('b', 'B', () => 2);
    expect(commits).toHaveLength(3);
    expect(commits[1]?.[0]?.journal?.map((entry) => entry.kind)).toEqual(['step_finished']);

    manager.completeExecution(true);
    expect(commits).toHaveLength(4);
    const [end] = commits[3] ?? [];
    expect(end?.summary?.status).toBe('completed');
    expect(end?.journal?.map((entry) => entry.kind)).toEqual(['status']);
    expect(end?.checkpoints?.map((checkpoint) => checkpoint.description)).toEqual(['execution_completed']);
    await manager.shutdown();

    // What landed resumes as it was.
    const again = await resumeExecution('commits-1', { store });
    expect(again.getExecutionStatus().status).toBe('completed');
    expect(again.getStepOutput('b')).toBe(2);
  });

  it('a status change whose checkpoint fails to commit is kept and lands with the next write', () => {
    const { store, state } = flakyStore(createMemoryStore());
    const manager = createComprehensiveExecutionManager({ executionId: 'fold-1', pipelineId: 'p', store });
    state.failing = true;
    expect(() => {
      manager.startExecution(1);
    }).toThrow(expect.objectContaining({ code: ErrorCode.StoreError }) as Error);
    state.failing = false;
    manager.createCheckpoint('after the outage');
    const stored = (store.sync as NonNullable<CheckpointStore['sync']>).loadExecution('fold-1');
    expect(stored?.summary.status).toBe('running');
    expect(stored?.journal.map((entry) => entry.kind)).toEqual(['status']);
    expect(stored?.checkpoints.map((entry) => entry.checkpoint.description)).toEqual(['execution_started', 'after the outage']);
  });
});

describe('a resume announces nothing an earlier run did', () => {
  it('an injected tracker with a handler hears the resumed execution\'s new steps only', async () => {
    const store = createMemoryStore();
    const first = createComprehensiveExecutionManager({ executionId: 'quiet-1', pipelineId: 'p', store });
    first.startExecution(2);
    await first.executeStepWithRecovery('a', 'A', () => 1);
    await first.flush();
    // The first process dies here (no shutdown); a second one resumes with its own tracker, already listened to.
    const tracker = new ProgressTracker();
    const heard: string[] = [];
    tracker.addEventHandler((event) => heard.push(`${event.eventType}:${event.stepId ?? ''}`));
    const second = createComprehensiveExecutionManager({ executionId: 'quiet-1', pipelineId: 'p', store, progressTracker: tracker });
    expect(second.getExecutionStatus().progress).toMatchObject({ completedSteps: 1, totalSteps: 2 });
    expect(heard).toEqual([]);
    expect(tracker.getPerformanceMetrics().eventsEmitted).toBe(0);
    // Running the same script again: the execution goes on, announced once as resumed, at 50%.
    const starts: unknown[] = [];
    tracker.addEventHandler((event) => {
      if (event.eventType === 'execution_started') starts.push(event.data);
    });
    second.startExecution(2);
    expect(starts).toEqual([{ totalSteps: 2, progressPercentage: 50, resumed: true }]);
    heard.length = 0;
    expect(await second.executeStepWithRecovery('a', 'A', () => 'again')).toBe(true);
    await second.executeStepWithRecovery('b', 'B', () => 2);
    second.completeExecution(true);
    expect(heard).toEqual(['step_started:b', 'step_completed:b', 'execution_completed:', 'checkpoint_created:']);
    await second.shutdown();
  });
});

describe('a resume reports the times the steps took', () => {
  it('a step of 2 s reads back as 2 s in the next process, and so does the execution', async () => {
    const store = createMemoryStore();
    const clock = new SimulatedClock(Date.parse('2026-11-26T10:00:00.000Z'));
    const first = createComprehensiveExecutionManager({ executionId: 'times-1', pipelineId: 'p', store, clock });
    first.startExecution(3);
    await first.executeStepWithRecovery('slow', 'Slow', () => {
      clock.advance(2000);
      return 'done';
    });
    first.skipStep('never', 'not needed');
    await first.executeStepWithRecovery('quick', 'Quick', () => {
      clock.advance(500);
      return 'done';
    });
    first.completeExecution(true);
    await first.flush();
    expect(first.progressTracker.getStepProgress('times-1', 'slow')?.duration).toBe(2);

    clock.advance(60_000); // the next process opens it a minute later
    const second = createComprehensiveExecutionManager({ executionId: 'times-1', pipelineId: 'p', store, clock });
    const step = (id: string) => second.progressTracker.getStepProgress('times-1', id);
    expect(step('slow')).toMatchObject({ stepName: 'Slow', duration: 2, startTime: '2026-11-26T10:00:00.000Z', endTime: '2026-11-26T10:00:02.000Z' });
    expect(step('quick')).toMatchObject({ duration: 0.5, endTime: '2026-11-26T10:00:02.500Z' });
    expect(step('never')).toMatchObject({ status: 'skipped', startTime: null, duration: null });
    expect(second.getExecutionStatus().metrics).toMatchObject({ startTime: '2026-11-26T10:00:00.000Z', endTime: '2026-11-26T10:00:02.500Z', duration: 2.5 });
    expect(second.progressTracker.getExecutionProgress('times-1')).toMatchObject({ startTime: '2026-11-26T10:00:00.000Z', endTime: '2026-11-26T10:00:02.500Z' });
    await second.shutdown();
  });
});

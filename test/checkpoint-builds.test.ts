import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { buildPopulatedCheckpoint, restoreAndFinish, type FinishedRun } from './fixtures/populated-execution.js';

const run = promisify(execFile);

function expectFinished(finished: FinishedRun): void {
  // Restored in flight: running steps and the one waiting to retry.
  expect(finished.stateBeforeFinish).toEqual({ running: 'recovering' });
  expect(finished.status).toBe('completed');
  expect(finished.progress).toEqual({
    percentage: 100,
    completedSteps: 5,
    failedSteps: 1,
    skippedSteps: 1,
    totalSteps: 7,
    runningSteps: 0,
  });
  expect(finished.outputs).toEqual({
    done: { rows: 3 },
    manual: 'typed by hand',
    inflight: 'finished',
    retrying: 'recovered on attempt 2',
    last: 'ok',
  });
  // The completed step is not run again; the in-flight one runs once; the
  // one that waited to retry retries once (its lost `after` delay re-armed).
  expect(finished.executorCalls).toEqual({ done: 0, inflight: 1, retrying: 1 });
  expect(finished.retryingAttempts).toBe(2);
}

describe('a checkpoint of a fully populated execution', () => {
  it('round-trips through JSON and holds steps in every state', async () => {
    const { manager, checkpointId, contextState } = await buildPopulatedCheckpoint();
    const checkpoint = manager.executionContext.getCheckpoint(checkpointId);
    expect(JSON.parse(JSON.stringify(checkpoint))).toEqual(checkpoint);
    const engine = checkpoint?.extensions.engine as { actor: { children: Record<string, { snapshot: { value: unknown } }> }; steps: Record<string, { status: string }> };
    expect(Object.fromEntries(Object.entries(engine.actor.children).map(([id, child]) => [id, child.snapshot.value]))).toEqual({
      manual: { running: 'awaitingResult' },
      inflight: { running: 'executing' },
      retrying: { recovering: 'waitingToRetry' },
    });
    expect(Object.fromEntries(Object.entries(engine.steps).map(([id, record]) => [id, record.status]))).toEqual({
      done: 'completed',
      broken: 'failed',
      skipped: 'skipped',
    });
    expect(contextState).toBeTypeOf('object');
    await manager.shutdown();
  });

  it('restores and runs to the end under the development build (vitest)', async () => {
    expect(import.meta.resolve('xstate')).toContain('development');
    const built = await buildPopulatedCheckpoint();
    await built.manager.shutdown();
    expectFinished(await restoreAndFinish({ checkpointId: built.checkpointId, contextState: built.contextState }));
  });

  it('restores and runs to the end under the production build (plain node)', async () => {
    const built = await buildPopulatedCheckpoint();
    await built.manager.shutdown();
    const file = join(mkdtempSync(join(tmpdir(), 'populated-')), 'checkpoint.json');
    writeFileSync(file, JSON.stringify({ checkpointId: built.checkpointId, contextState: built.contextState }));
    const { stdout } = await run(process.execPath, ['--import', 'tsx', 'test/fixtures/restore-under-node.ts', file], {
      cwd: join(import.meta.dirname, '..'),
    });
    const finished = JSON.parse(stdout.trim().split('\n').at(-1) ?? '{}') as FinishedRun & { xstateEntry: string };
    expect(finished.xstateEntry).not.toContain('development');
    expectFinished(finished);
  }, 60_000);
});

/**
 * Worker processes sharing one queue: three drain 300 executions, each run
 * to the end exactly once; one of three is SIGKILLed mid-step and the
 * others finish everything without running a completed step again.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { createPostgresStore } from '../../src/stores/postgres-store.js';
import type { PostgresCheckpointStore } from '../../src/stores/postgres-store.js';
import { enqueue, queueCounts } from '../../src/workers/queue.js';
import { STEPS } from './fixtures/log-pipeline.js';
import type { LogInput } from './fixtures/log-pipeline.js';
import { describePg, PG_URL, sql, uniqueSchema, waitFor } from './helpers.js';
import { completions, readLog, runsByStep, spawnWorker } from './processes.js';
import type { WorkerProcess } from './processes.js';

let dir = '';
let schema = '';
let store: PostgresCheckpointStore;
let workers: WorkerProcess[] = [];

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'pg-workers-'));
  schema = uniqueSchema('proc');
  store = createPostgresStore({ connectionString: PG_URL, schema });
  await store.ready();
});
afterEach(async () => {
  for (const worker of workers) worker.kill('SIGKILL');
  await Promise.all(workers.map((w) => w.exited));
  workers = [];
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

async function enqueueMany(count: number, stepMs: number): Promise<string[]> {
  const ids = Array.from({ length: count }, (_, i) => `exec-${String(i).padStart(3, '0')}`);
  const log = join(dir, 'side.log');
  for (const executionId of ids) {
    const input: LogInput = { executionId, log, stepMs };
    await enqueue(store, 'pg-log', input, { executionId });
  }
  return ids;
}

async function stopAll(): Promise<void> {
  for (const worker of workers) worker.kill('SIGTERM');
  const exits = await Promise.all(workers.map((w) => w.exited));
  expect(exits.map((e) => e.code)).toEqual(workers.map(() => 0));
}

/** Every execution completed in the queue and the store, each step recorded completed exactly once. */
/** Per step of each execution: how often it completed, by which process, and when its committed starts were made. */
type CompletedStep = { completed: number; pid: number | null; startedAt: string[] };

async function expectAllCompletedOnce(ids: readonly string[]): Promise<Map<string, CompletedStep>> {
  expect(await queueCounts(store)).toEqual({ queued: 0, running: 0, completed: ids.length, failed: 0, cancelled: 0 });
  const summaries = await store.listExecutions({ pipelineId: 'pg-log' });
  expect(summaries.filter((s) => s.status === 'completed')).toHaveLength(ids.length);
  const completedBy = new Map<string, CompletedStep>();
  for (const id of ids) {
    const stored = await store.loadExecution(id);
    if (stored === null) throw new Error(`missing ${id}`);
    expect(stored.journal.map((e) => e.seq)).toEqual(stored.journal.map((_, i) => i + 1));
    const done = completions(stored);
    expect([...done.keys()].sort()).toEqual([...STEPS]);
    for (const [step, record] of done) {
      expect(record.completed, `${id}/${step}`).toBe(1);
      // A start committed with its step's outcome is left out of the journal; one committed on its own is there.
      const startedAt = stored.journal.flatMap((e) => (e.kind === 'step_started' && e.stepId === step ? [e.at] : []));
      completedBy.set(`${id}/${step}`, { ...record, startedAt });
    }
  }
  return completedBy;
}

describePg('worker processes', () => {
  it('three processes drain 300 executions: each runs exactly once, and all three share the work', async () => {
    workers = [1, 2, 3].map((n) => spawnWorker({ url: PG_URL, schema, workerId: `w${n}`, concurrency: 4, leaseMs: 10_000, pollMs: 25 }));
    await Promise.all(workers.map((w) => w.ready));
    const ids = await enqueueMany(300, 2);
    // Submitting again changes nothing: the id is the key.
    expect(await enqueue(store, 'pg-log', null, { executionId: 'exec-007' })).toEqual({ executionId: 'exec-007', created: false });
    await waitFor(async () => (await queueCounts(store)).completed === 300, '300 completed executions', 90_000, 100);
    await stopAll();

    await expectAllCompletedOnce(ids);
    const runs = runsByStep(readLog(join(dir, 'side.log')));
    expect(runs.size).toBe(300 * STEPS.length);
    for (const [key, pids] of runs) expect(pids, key).toHaveLength(1);
    const attempts = await sql<{ attempts: number; n: number }>(`SELECT attempts, count(*)::int AS n FROM "${schema}".queue GROUP BY attempts`);
    expect(attempts).toEqual([{ attempts: 1, n: 300 }]);
    const owners = await sql<{ owner: string; n: number }>(`SELECT owner, count(*)::int AS n FROM "${schema}".queue GROUP BY owner ORDER BY owner`);
    expect(owners.map((o) => o.owner)).toEqual(['w1', 'w2', 'w3']);
    expect(owners.reduce((sum, o) => sum + o.n, 0)).toBe(300);
  }, 150_000);

  it('a worker SIGKILLed mid-step loses its executions to the others, which resume them without re-running completed steps', async () => {
    workers = [1, 2, 3].map((n) => spawnWorker({ url: PG_URL, schema, workerId: `k${n}`, concurrency: 3, leaseMs: 1500, pollMs: 25 }));
    await Promise.all(workers.map((w) => w.ready));
    const [victim] = workers;
    if (victim === undefined) throw new Error('no worker');
    const ids = await enqueueMany(60, 40);
    const log = join(dir, 'side.log');
    // Kill it once it has finished some steps and is in the middle of others.
    await waitFor(() => {
      const mine = readLog(log).filter((l) => l.pid === victim.pid);
      const ended = mine.filter((l) => l.event === 'end').length;
      return ended >= 9 && mine.at(-1)?.event === 'run';
    }, 'the victim to be mid-step', 60_000, 5);
    victim.kill('SIGKILL');
    expect((await victim.exited).code).toBeNull();
    const killedAt = new Date().toISOString();
    await waitFor(async () => (await queueCounts(store)).completed === 60, '60 completed executions', 90_000, 100);
    workers = workers.slice(1);
    await stopAll();

    const completedBy = await expectAllCompletedOnce(ids);
    const lines = readLog(log);
    let completedByVictim = 0;
    let interrupted = 0;
    for (const [key, pids] of runsByStep(lines)) {
      const record = completedBy.get(key);
      const completer = record?.pid;
      const survivorRuns = pids.filter((pid) => pid !== victim.pid);
      if (completer === victim.pid) {
        // Completed before the kill: nobody ran it again.
        completedByVictim += 1;
        expect(survivorRuns, key).toEqual([]);
      } else {
        // Completed by a survivor exactly once; the victim may have started it before dying.
        expect(survivorRuns, key).toEqual([completer]);
        if (!pids.includes(victim.pid)) continue;
        interrupted += 1;
        // It runs again knowing it was interrupted, when the victim's start had been committed.
        const rerun = lines.find((l) => `${l.executionId}/${l.step}` === key && l.event === 'run' && l.pid === completer);
        expect(rerun?.resumed, key).toBe((record?.startedAt ?? []).some((at) => at <= killedAt));
      }
    }
    // At most `concurrency` (3) of its logged ends were not committed yet when it died.
    expect(completedByVictim).toBeGreaterThanOrEqual(6);
    expect(interrupted).toBeGreaterThanOrEqual(1);
    const takenOver = await sql<{ n: number }>(`SELECT count(*)::int AS n FROM "${schema}".queue WHERE attempts = 2 AND owner <> 'k1'`);
    expect(takenOver[0]?.n).toBeGreaterThanOrEqual(1);
  }, 150_000);
});

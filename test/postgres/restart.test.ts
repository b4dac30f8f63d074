/**
 * The database restarts (pg_ctl restart -m fast: every connection dropped)
 * while two workers are busy: they reconnect and finish everything, and no
 * step is recorded completed twice. A cluster of its own, so the restart
 * does not disturb the other test files.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createPostgresStore } from '../../src/stores/postgres-store.js';
import { enqueue, queueCounts } from '../../src/workers/queue.js';
import { createWorker } from '../../src/workers/worker.js';
import type { PgCluster } from './cluster.js';
import { startCluster } from './cluster.js';
import { logPipeline, STEPS } from './fixtures/log-pipeline.js';
import { describePg, PG_URL, sql, waitFor } from './helpers.js';
import { completions, readLog } from './processes.js';

let cluster: PgCluster;
let dir = '';
beforeAll(async () => {
  if (PG_URL === '') return; // no binaries: the suite below is skipped
  cluster = await startCluster();
  dir = mkdtempSync(join(tmpdir(), 'pg-restart-'));
});
afterAll(async () => {
  if (PG_URL === '') return;
  await cluster.stop();
  rmSync(dir, { recursive: true, force: true });
});

describePg('database restart under the workers', () => {
  it('the workers reconnect and carry on: every execution completes, no step is completed twice', async () => {
    const url = cluster.connectionString;
    const schema = 'restart';
    const stores = [0, 1, 2].map(() => createPostgresStore({ connectionString: url, schema }));
    const [control, ...workerStores] = stores;
    if (control === undefined) throw new Error('no store');
    const errors: string[] = [];
    const workers = workerStores.map((store, n) =>
      createWorker({ store, pipelines: [logPipeline], workerId: `r${n}`, concurrency: 4, leaseMs: 10_000, pollMs: 20, onError: (e) => errors.push(e.message) }),
    );
    const log = join(dir, 'side.log');
    const ids = Array.from({ length: 60 }, (_, i) => `r-${i}`);
    for (const executionId of ids) await enqueue(control, 'pg-log', { executionId, log, stepMs: 15 }, { executionId });
    await waitFor(async () => (await queueCounts(control)).completed >= 10, 'some executions to complete');
    const before = await sql<{ started: Date }>('SELECT pg_postmaster_start_time() AS started', [], url);
    await cluster.restart();
    const after = await sql<{ started: Date }>('SELECT pg_postmaster_start_time() AS started', [], url);
    expect(after[0]?.started.getTime()).toBeGreaterThan(before[0]?.started.getTime() ?? Infinity);
    expect((await queueCounts(control)).completed).toBeLessThan(60);
    await waitFor(async () => (await queueCounts(control)).completed === 60, 'all executions to complete', 90_000, 100);
    await Promise.all(workers.map((w) => w.stop()));

    expect(await queueCounts(control)).toEqual({ queued: 0, running: 0, completed: 60, failed: 0, cancelled: 0 });
    for (const id of ids) {
      const stored = await control.loadExecution(id);
      expect(stored?.summary.status, id).toBe('completed');
      expect(stored?.journal.map((e) => e.seq)).toEqual(stored?.journal.map((_, i) => i + 1));
      const done = completions(stored ?? { summary: {} as never, journal: [], checkpoints: [] });
      expect([...done.values()].map((d) => d.completed), id).toEqual(STEPS.map(() => 1));
    }
    // Every step ran; the few in flight at the restart may have run twice, nothing else.
    const runs = readLog(log).filter((l) => l.event === 'run');
    expect(new Set(runs.map((l) => `${l.executionId}/${l.step}`)).size).toBe(60 * STEPS.length);
    expect(runs.length - 60 * STEPS.length).toBeLessThanOrEqual(2 * 4);
    console.log(`restart: ${errors.length} errors survived, ${runs.length - 60 * STEPS.length} steps re-run`);
    await Promise.all(stores.map((s) => s.close()));
  }, 120_000);
});

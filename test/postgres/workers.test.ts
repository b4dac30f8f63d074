/**
 * Workers in one process, each with its own pool (so each is a separate
 * database client, as on separate machines): enqueue, racing claims, a
 * takeover after a lease ran out (the old owner's writes are fenced off),
 * stop() giving work back, failures and bad options.
 */
import { afterEach, expect, it } from 'vitest';
import { ErrorCode } from '../../src/errors.js';
import { definePipeline } from '../../src/runner/define.js';
import { createMemoryStore } from '../../src/stores/memory-store.js';
import { createPostgresStore } from '../../src/stores/postgres-store.js';
import type { PostgresCheckpointStore } from '../../src/stores/postgres-store.js';
import { createQueue } from '../../src/workers/queue-client.js';
import { enqueue, getQueueEntry, queueCounts } from '../../src/workers/queue.js';
import { logExecution } from '../../src/workers/worker-log.js';
import { createWorker } from '../../src/workers/worker.js';
import type { Worker, WorkerOptions } from '../../src/workers/worker.js';
import { describePg, PG_URL, sql, uniqueSchema, waitFor } from './helpers.js';

const stores: PostgresCheckpointStore[] = [];
const workers: Worker[] = [];
function openStore(schema: string): PostgresCheckpointStore {
  const store = createPostgresStore({ connectionString: PG_URL, schema });
  stores.push(store);
  return store;
}
function startWorker(options: WorkerOptions): Worker {
  const worker = createWorker({ pollMs: 10, ...options });
  workers.push(worker);
  return worker;
}
afterEach(async () => {
  await Promise.all(workers.splice(0).map((w) => w.stop()));
  await Promise.all(stores.splice(0).map((s) => s.close()));
});

/** A pipeline of `steps` chained steps that record each run in `runs` (`<execution>/<step>/<worker>`). */
function recordingPipeline(id: string, runs: string[], worker: string, steps = 3) {
  return definePipeline<{ executionId: string }>({
    id,
    steps: Array.from({ length: steps }, (_, i) => ({
      id: `s${i + 1}`,
      dependsOn: i === 0 ? [] : [`s${i}`],
      run: ({ input, resumed }: { input: { executionId: string }; resumed: boolean }) => {
        runs.push(`${input.executionId}/s${i + 1}/${worker}${resumed ? '/resumed' : ''}`);
        return { by: worker };
      },
    })),
  });
}

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve: () => void = () => undefined;
  const promise = new Promise<void>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

describePg('enqueue', () => {
  it('queues an execution id once, and says whether this call queued it', async () => {
    const store = openStore(uniqueSchema('enq'));
    expect(await enqueue(store, 'etl', { day: 1 }, { executionId: 'etl-1', metadata: { module: '/m.js' } })).toEqual({ executionId: 'etl-1', created: true });
    expect(await enqueue(store, 'etl', { day: 2 }, { executionId: 'etl-1' })).toEqual({ executionId: 'etl-1', created: false });
    expect(await getQueueEntry(store, 'etl-1')).toMatchObject({
      executionId: 'etl-1',
      pipelineId: 'etl',
      input: { day: 1 },
      metadata: { module: '/m.js' },
      status: 'queued',
      owner: null,
      attempts: 0,
      leaseExpiresAt: null,
      error: null,
    });
    const generated = await enqueue(store, 'etl');
    expect(generated).toMatchObject({ created: true, executionId: expect.stringMatching(/^etl-[0-9a-z]{12}$/) as unknown });
    expect(await getQueueEntry(store, 'nope')).toBeNull();
    expect(await queueCounts(store)).toEqual({ queued: 2, running: 0, completed: 0, failed: 0, cancelled: 0 });
  });

  it('createQueue binds the queue to its store: enqueue(pipelineId, input, { executionId }), get, counts', async () => {
    const store = openStore(uniqueSchema('queue'));
    const queue = createQueue(store);
    expect(await queue.enqueue('etl', { day: 1 }, { executionId: 'etl-1' })).toEqual({ executionId: 'etl-1', created: true });
    expect(await queue.enqueue('etl', { day: 2 }, { executionId: 'etl-1' })).toEqual({ executionId: 'etl-1', created: false });
    expect(await queue.get('etl-1')).toMatchObject({ pipelineId: 'etl', input: { day: 1 }, status: 'queued' });
    expect(await queue.enqueue('etl')).toMatchObject({ created: true });
    expect(await queue.counts()).toMatchObject({ queued: 2 });
    expect(() => createQueue(createMemoryStore() as never)).toThrow(expect.objectContaining({ code: ErrorCode.InvalidInput }) as Error);
    await expect(queue.enqueue('', null)).rejects.toMatchObject({ code: ErrorCode.InvalidInput });
    expect(await queue.counts()).toMatchObject({ queued: 2 });
  });

  it('refuses non-JSON input, empty ids and stores without a queue, with INVALID_INPUT', async () => {
    const store = openStore(uniqueSchema('enqbad'));
    await expect(enqueue(store, 'etl', { n: Number.NaN })).rejects.toMatchObject({ code: ErrorCode.InvalidInput, details: { field: 'input' } });
    await expect(enqueue(store, '', null)).rejects.toMatchObject({ code: ErrorCode.InvalidInput, details: { field: 'pipelineId' } });
    await expect(enqueue(createMemoryStore() as never, 'etl', null)).rejects.toMatchObject({ code: ErrorCode.InvalidInput, details: { field: 'store' } });
    expect(await queueCounts(store)).toEqual({ queued: 0, running: 0, completed: 0, failed: 0, cancelled: 0 });
  });
});

describePg('workers sharing a queue', () => {
  it('two workers racing for the same executions: each is claimed once and each step runs once', async () => {
    const schema = uniqueSchema('race');
    const runs: string[] = [];
    const a = startWorker({ store: openStore(schema), pipelines: [recordingPipeline('race', runs, 'a')], concurrency: 1, workerId: 'a', pollMs: 2 });
    const b = startWorker({ store: openStore(schema), pipelines: [recordingPipeline('race', runs, 'b')], concurrency: 1, workerId: 'b', pollMs: 2 });
    const store = openStore(schema);
    // One execution, both idle and polling: exactly one of them gets it.
    await enqueue(store, 'race', { executionId: 'solo' }, { executionId: 'solo' });
    await waitFor(async () => (await getQueueEntry(store, 'solo'))?.status === 'completed', 'solo to complete');
    expect(a.stats().claimed + b.stats().claimed).toBe(1);
    expect(runs.map((r) => r.replace(/\/[ab]$/, ''))).toEqual(['solo/s1', 'solo/s2', 'solo/s3']);
    // Then many at once.
    for (let i = 0; i < 30; i++) await enqueue(store, 'race', { executionId: `r${i}` }, { executionId: `r${i}` });
    await waitFor(async () => (await queueCounts(store)).completed === 31, 'all 31 to complete');
    expect(a.stats().claimed + b.stats().claimed).toBe(31);
    expect(a.stats().claimed).toBeGreaterThan(0);
    expect(b.stats().claimed).toBeGreaterThan(0);
    const keys = runs.map((r) => r.split('/').slice(0, 2).join('/'));
    expect(new Set(keys).size).toBe(31 * 3);
    expect(keys).toHaveLength(31 * 3);
    expect(await sql(`SELECT execution_id FROM "${schema}".queue WHERE attempts <> 1`)).toEqual([]);
  });

  it('heartbeats keep a long execution leased: nobody takes it over while its worker lives', async () => {
    const schema = uniqueSchema('beat');
    const gate = deferred();
    const started = deferred();
    const long = definePipeline({
      id: 'long',
      steps: [
        {
          id: 'wait',
          run: async () => {
            started.resolve();
            await gate.promise;
            return 'done';
          },
        },
      ],
    });
    const store = openStore(schema);
    startWorker({ store: openStore(schema), pipelines: [long], workerId: 'a', leaseMs: 400 });
    await enqueue(store, 'long', null, { executionId: 'l1' });
    await started.promise;
    const first = Date.parse((await getQueueEntry(store, 'l1'))?.leaseExpiresAt ?? '');
    const b = startWorker({ store: openStore(schema), pipelines: [long], workerId: 'b', pollMs: 5 });
    // Several lease lengths later the lease has moved on, and b, polling all along, got nothing.
    await waitFor(async () => Date.parse((await getQueueEntry(store, 'l1'))?.leaseExpiresAt ?? '') > first + 1000, 'the lease to be extended past 1 s');
    gate.resolve();
    await waitFor(async () => (await getQueueEntry(store, 'l1'))?.status === 'completed', 'l1 to complete');
    expect(await getQueueEntry(store, 'l1')).toMatchObject({ owner: 'a', attempts: 1 });
    expect(b.stats().claimed).toBe(0);
  });

  it('takes over an execution whose lease ran out; the old owner is fenced off and completed steps are not run again', async () => {
    const schema = uniqueSchema('takeover');
    const runs: string[] = [];
    const gate = deferred();
    const s2Started = deferred();
    const slow = definePipeline<{ executionId: string }>({
      id: 'takeover',
      steps: [
        { id: 's1', run: () => (runs.push('s1/a'), 'one') },
        {
          id: 's2',
          dependsOn: ['s1'],
          run: async ({ resumed }) => {
            runs.push(`s2/a${resumed ? '/resumed' : ''}`);
            s2Started.resolve();
            await gate.promise; // "a" stalls here (a long GC pause, a network partition...)
            return 'two from a';
          },
        },
        { id: 's3', dependsOn: ['s2'], run: () => (runs.push('s3/a'), 'three') },
      ],
    });
    const errors: string[] = [];
    const a = startWorker({ store: openStore(schema), pipelines: [slow], workerId: 'a', leaseMs: 60_000, onError: (e) => errors.push(e.message) });
    const store = openStore(schema);
    await enqueue(store, 'takeover', { executionId: 't1' }, { executionId: 't1' });
    await s2Started.promise;
    await waitFor(async () => (await store.loadExecution('t1'))?.journal.some((e) => e.kind === 'step_started' && e.stepId === 's2') === true, 's2 start committed');
    // a's lease runs out while it is stalled; b takes the execution over.
    await sql(`UPDATE "${schema}".queue SET lease_expires_at = now() - interval '1 second' WHERE execution_id = 't1'`);
    const told: string[] = [];
    const b = startWorker({
      store: openStore(schema),
      pipelines: [recordingPipeline('takeover', runs, 'b')],
      workerId: 'b',
      onStarted: (started) => {
        logExecution(started, (line) => told.push(line));
      },
    });
    await waitFor(async () => (await getQueueEntry(store, 't1'))?.status === 'completed', 't1 completed by b');
    gate.resolve();
    await waitFor(() => a.active.length === 0, 'a to give up its copy');

    expect(runs).toEqual(['s1/a', 's2/a', 't1/s2/b/resumed', 't1/s3/b']);
    expect(await getQueueEntry(store, 't1')).toMatchObject({ status: 'completed', owner: 'b', attempts: 2 });
    const stored = await store.loadExecution('t1');
    const finished = stored?.journal.filter((e) => e.kind === 'step_finished') ?? [];
    expect(finished.map((e) => [e.record.stepId, e.record.status, e.output])).toEqual([
      ['s1', 'completed', 'one'],
      ['s2', 'completed', { by: 'b' }],
      ['s3', 'completed', { by: 'b' }],
    ]);
    expect(a.stats()).toMatchObject({ completed: 0, released: 0 });
    expect(b.stats()).toMatchObject({ claimed: 1, completed: 1 });
    expect(errors.some((m) => m.includes('no longer leased by worker "a"'))).toBe(true);
    // What `orchestrator worker` prints for b: a resume, and only the steps it ran.
    expect(told).toEqual([
      'worker: t1 resumed (takeover, claim 2: completed steps are not run again)',
      expect.stringMatching(/^worker: t1 s2 completed in \d+\.\d s$/),
      expect.stringMatching(/^worker: t1 s3 completed in \d+\.\d s$/),
    ]);
  });

  it('stop() cancels what runs and gives it back; another worker finishes it without re-running completed steps', async () => {
    const schema = uniqueSchema('stop');
    const runs: string[] = [];
    const s2Started = deferred();
    const blocking = definePipeline({
      id: 'stopper',
      steps: [
        { id: 's1', run: () => (runs.push('s1/a'), 1) },
        {
          id: 's2',
          dependsOn: ['s1'],
          run: ({ signal }) =>
            new Promise((_, reject) => {
              runs.push('s2/a');
              s2Started.resolve();
              signal.addEventListener('abort', () => {
                reject(signal.reason instanceof Error ? signal.reason : new Error('aborted'));
              });
            }),
        },
        { id: 's3', dependsOn: ['s2'], run: () => 3 },
      ],
    });
    const a = startWorker({ store: openStore(schema), pipelines: [blocking], workerId: 'a' });
    const store = openStore(schema);
    await enqueue(store, 'stopper', { executionId: 'x1' }, { executionId: 'x1' });
    await s2Started.promise;
    await a.stop();
    expect(a.stats()).toMatchObject({ claimed: 1, released: 1, completed: 0 });
    expect(await getQueueEntry(store, 'x1')).toMatchObject({ status: 'queued', owner: null, leaseExpiresAt: null, attempts: 1 });
    expect((await store.loadExecution('x1'))?.summary.status).toBe('cancelled');

    startWorker({ store: openStore(schema), pipelines: [recordingPipeline('stopper', runs, 'b')], workerId: 'b' });
    await waitFor(async () => (await getQueueEntry(store, 'x1'))?.status === 'completed', 'x1 completed by b');
    expect(runs).toEqual(['s1/a', 's2/a', 'x1/s2/b', 'x1/s3/b']);
    expect((await store.loadExecution('x1'))?.summary.status).toBe('completed');
  });

  it('marks a failed run failed with its error, and gives up on an execution claimed maxAttempts times', async () => {
    const schema = uniqueSchema('fail');
    const failing = definePipeline({
      id: 'failing',
      steps: [
        {
          id: 'boom',
          run: () => {
            throw new Error('disk on fire');
          },
          recovery: { strategy: 'fail_fast' },
        },
      ],
    });
    const store = openStore(schema);
    await enqueue(store, 'failing', null, { executionId: 'f1' });
    // f2 looks like an execution whose workers died twice already.
    await enqueue(store, 'failing', null, { executionId: 'f2' });
    await sql(`UPDATE "${schema}".queue SET status = 'running', owner = 'dead', attempts = 2, lease_expires_at = now() - interval '1 second' WHERE execution_id = 'f2'`);
    const finished: string[] = [];
    startWorker({ store: openStore(schema), pipelines: [failing], maxAttempts: 2, onFinished: (e) => finished.push(`${e.executionId}:${e.status}`) });
    await waitFor(async () => (await queueCounts(store)).failed === 2, 'both to fail');
    expect(finished).toEqual(['f1:failed']);
    expect((await getQueueEntry(store, 'f1'))?.error?.message).toContain('disk on fire');
    expect((await getQueueEntry(store, 'f2'))?.error?.message).toContain('claimed 2 times');
    expect(await store.loadExecution('f2')).toBeNull();
  });

  it('refuses bad options with INVALID_INPUT naming the field', () => {
    const store = openStore(uniqueSchema('opts'));
    const pipeline = recordingPipeline('p', [], 'x');
    expect(() => createWorker({ store, pipelines: [] })).toThrow(expect.objectContaining({ field: 'pipelines' }));
    expect(() => createWorker({ store, pipelines: [{ id: 'p', steps: [] }] as never })).toThrow(expect.objectContaining({ field: 'pipelines[0]' }));
    expect(() => createWorker({ store, pipelines: [pipeline], leaseMs: 100, heartbeatMs: 100 })).toThrow(expect.objectContaining({ field: 'heartbeatMs' }));
    expect(() => createWorker({ store, pipelines: [pipeline], concurrency: 0 })).toThrow(expect.objectContaining({ field: 'concurrency' }));
    expect(() => createWorker({ store: createMemoryStore() as never, pipelines: [pipeline] })).toThrow(expect.objectContaining({ field: 'store' }));
  });
});

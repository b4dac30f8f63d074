/**
 * Durable step cost on the PostgreSQL store, on a throwaway cluster started
 * here (fsync on: a commit is a real WAL flush), measured in the same run as
 * its floor:
 *
 * - W(200 x 10) in 'sync' mode: µs per step, and the ratio to a raw `pg`
 *   INSERT per step (one commit each) into a journal table of the same shape;
 * - the least possible: the spawn floor with that INSERT after each step;
 * - commits per step (from pg_stat_database), the figure that bounds a
 *   shared database, and how the store wrote them (its `stats()`);
 * - the engine alone, on the memory store and on an async store (the path
 *   the engine takes with PostgreSQL), to see what the database adds;
 * - the store alone: a step's write, as the engine makes it, committed in a
 *   loop without the engine (what the store itself costs over the floor);
 * - throughput of 1, 2 and 4 worker processes (4 executions each) draining
 *   200 executions of 10 no-op steps.
 *
 * Run: npm run bench:postgres
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import pg from 'pg';
import { openExecution } from '../src/services/open-execution.js';
import { createMemoryStore } from '../src/stores/memory-store.js';
import { createPostgresStore } from '../src/stores/postgres-store.js';
import type { PostgresStoreStats } from '../src/stores/postgres-store.js';
import type { CheckpointStore, JournalEntry, StoreBatch } from '../src/stores/types.js';
import { startCluster } from '../test/postgres/cluster.js';
import { floorMicros } from './spawn-floor.js';

const cluster = await startCluster({ fsync: true });
const url = cluster.connectionString;
const output = { ok: true, rows: 10 };
let schemaCounter = 0;
const freshSchema = (): string => `bench_${schemaCounter++}`;

async function commits(client: pg.Client): Promise<number> {
  const result = await client.query<{ n: string }>(`SELECT xact_commit::text AS n FROM pg_stat_database WHERE datname = current_database()`);
  return Number(result.rows[0]?.n ?? 0);
}

/** A fresh table of the journal's shape on its own connection, and an INSERT of one step's outcome into it, committed alone. */
async function rawInserter(): Promise<{ insert: (execution: number, step: number) => Promise<unknown>; end: () => Promise<void> }> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  const table = `raw_${schemaCounter++}`;
  await client.query(`CREATE TABLE ${table} (execution_id text, seq integer, kind text, payload text, at text, PRIMARY KEY (execution_id, seq))`);
  const text = `INSERT INTO ${table} VALUES ($1, $2, $3, $4, $5)`;
  return {
    insert: (execution, step) =>
      client.query({ name: `raw-${table}`, text, values: [`raw-${execution}`, step, 'step_finished', JSON.stringify({ stepId: `s${step}`, output }), new Date().toISOString()] }),
    end: () => client.end(),
  };
}

/** The floor: one INSERT (a step's outcome as JSON) committed per step, in a tight loop on one connection. */
async function rawInsertMicros(steps: number): Promise<number> {
  const raw = await rawInserter();
  const start = performance.now();
  for (let i = 0; i < steps; i++) await raw.insert(0, i);
  const micros = ((performance.now() - start) * 1000) / steps;
  await raw.end();
  return micros;
}

/**
 * The least a durable step of this design can cost: the spawn floor (an
 * execution actor spawning one step actor per step, bench/spawn-floor.ts)
 * with the raw INSERT of each step's outcome awaited before the next step,
 * in one loop.
 */
async function leastMicros(executions: number, steps: number): Promise<number> {
  const raw = await rawInserter();
  const micros = await floorMicros(executions, steps, raw.insert);
  await raw.end();
  return micros;
}

/**
 * W(executions x steps) on `store`, in µs per step: one execution after the
 * other, each step committed before the next ('sync'). On the memory store
 * (no database) it is the engine alone, to see what the database adds.
 */
async function workloadMicros(executions: number, steps: number, store: CheckpointStore = createMemoryStore()): Promise<number> {
  const start = performance.now();
  for (let e = 0; e < executions; e++) {
    const manager = await openExecution({ executionId: `bench-${e}`, pipelineId: 'bench', store, durability: 'sync' });
    manager.startExecution(steps);
    for (let s = 0; s < steps; s++) await manager.executeStepWithRecovery(`step-${s}`, `Step ${s}`, () => output);
    manager.completeExecution(true);
    await manager.shutdown();
  }
  return ((performance.now() - start) * 1000) / (executions * steps);
}

/** A memory store without its synchronous face, as the engine sees the PostgreSQL store; `onWrite` sees every batch. */
function asyncMemoryStore(onWrite: (batches: readonly StoreBatch[]) => void = () => undefined): CheckpointStore {
  const memory = createMemoryStore();
  return {
    kind: 'memory',
    write: (batches) => {
      onWrite(batches);
      return memory.write(batches);
    },
    loadExecution: (id) => memory.loadExecution(id),
    getCheckpoint: (id, checkpointId) => memory.getCheckpoint(id, checkpointId),
    listCheckpoints: (id) => memory.listCheckpoints(id),
    listExecutions: (filter) => memory.listExecutions(filter),
    close: () => memory.close(),
  };
}

/** The journal entries the engine writes for one step (captured from a run on a memory store). */
async function oneStepsEntries(): Promise<JournalEntry[]> {
  const written: StoreBatch[] = [];
  const recording = asyncMemoryStore((batches) => written.push(...batches));
  const manager = await openExecution({ executionId: 'capture', pipelineId: 'bench', store: recording, durability: 'sync' });
  manager.startExecution(2);
  for (let s = 0; s < 2; s++) await manager.executeStepWithRecovery(`step-${s}`, `Step ${s}`, () => output);
  manager.completeExecution(true);
  await manager.shutdown();
  const step = written.find((b) => b.summary === undefined && (b.checkpoints ?? []).length === 0 && (b.journal ?? []).length > 0);
  if (step?.journal === undefined) throw new Error('no step write captured');
  return step.journal;
}

/** The store alone: a step's write (as the engine makes it) committed in a loop, without the engine around it. */
async function storeMicros(writes: number, entries: JournalEntry[]): Promise<number> {
  const store = createPostgresStore({ connectionString: url, schema: freshSchema() });
  const executionId = 'store-only';
  await store.loadExecution(executionId);
  const at = new Date().toISOString();
  await store.write([{ executionId, summary: { executionId, pipelineId: 'bench', status: 'running', createdAt: at, updatedAt: at, definitionHash: null, metadata: {} } }]);
  const start = performance.now();
  for (let i = 0; i < writes; i++) await store.write([{ executionId, journal: entries }]);
  const micros = ((performance.now() - start) * 1000) / writes;
  await store.close();
  return micros;
}

/** W(executions x steps) on a fresh PostgreSQL schema, with the commits per step from pg_stat_database. */
async function engineMicros(
  executions: number,
  steps: number,
  stats: pg.Client,
): Promise<{ micros: number; commitsPerStep: number; writes: PostgresStoreStats }> {
  const store = createPostgresStore({ connectionString: url, schema: freshSchema() });
  await store.ready();
  const before = await commits(stats);
  const micros = await workloadMicros(executions, steps, store);
  // Backends report their counters asynchronously (at most a second late).
  await new Promise((resolve) => setTimeout(resolve, 1100));
  const commitsPerStep = ((await commits(stats)) - before - 1) / (executions * steps);
  await store.close();
  return { micros, commitsPerStep, writes: store.stats() };
}

function startWorker(schema: string, workerId: string): Promise<{ stop: () => Promise<string> }> {
  const child = spawn(process.execPath, ['--import', 'tsx', join(import.meta.dirname, 'postgres-worker.ts'), url, schema, workerId, '4'], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      if (out === 'ready\n') {
        resolve({
          stop: () =>
            new Promise((done) => {
              child.once('exit', () => {
                done(out.trim().split('\n').at(-1) ?? '');
              });
              child.kill('SIGTERM');
            }),
        });
      }
    });
  });
}

/** N worker processes draining `executions` queued executions of the 10-step pipeline. */
async function workerThroughput(
  workers: number,
  executions: number,
  stats: pg.Client,
): Promise<{ executionsPerSecond: number; stepsPerSecond: number; commitsPerStep: number }> {
  const schema = freshSchema();
  const store = createPostgresStore({ connectionString: url, schema });
  await store.ready();
  const started = await Promise.all(Array.from({ length: workers }, (_, n) => startWorker(schema, `bench-w${n}`)));
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  const queue = `"${schema}".queue`;
  await new Promise((resolve) => setTimeout(resolve, 1100));
  const before = await commits(stats);
  const start = performance.now();
  // One statement queues them all, so the workers start together.
  await client.query(`INSERT INTO ${queue} (execution_id, pipeline_id, input) SELECT 'x-' || i, 'bench-10', 'null' FROM generate_series(1, $1) AS i`, [executions]);
  for (;;) {
    const done = await client.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${queue} WHERE status = 'completed'`);
    if ((done.rows[0]?.n ?? 0) >= executions) break;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  const seconds = (performance.now() - start) / 1000;
  // Idle polls of the waiting workers count too: they are part of the price.
  await new Promise((resolve) => setTimeout(resolve, 1100));
  const commitsPerStep = ((await commits(stats)) - before) / (executions * 10);
  await Promise.all(started.map((w) => w.stop()));
  await client.end();
  await store.close();
  return { executionsPerSecond: executions / seconds, stepsPerSecond: (executions * 10) / seconds, commitsPerStep };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
}

try {
  const stats = new pg.Client({ connectionString: url });
  await stats.connect();
  // Warm-up (JIT, connections, catalog caches).
  await engineMicros(20, 10, stats);
  await rawInsertMicros(500);
  await leastMicros(20, 10);
  await workloadMicros(50, 10);
  await workloadMicros(50, 10, asyncMemoryStore());
  const entries = await oneStepsEntries();
  await storeMicros(200, entries);

  const rounds = 3;
  const engine: number[] = [];
  const raw: number[] = [];
  const least: number[] = [];
  const perStep: number[] = [];
  const memory: number[] = [];
  const storeOnly: number[] = [];
  const asyncMemory: number[] = [];
  let writes: PostgresStoreStats = { optimistic: 0, solo: 0, locked: 0 };
  for (let r = 0; r < rounds; r++) {
    memory.push(await workloadMicros(200, 10));
    asyncMemory.push(await workloadMicros(200, 10, asyncMemoryStore()));
    raw.push(await rawInsertMicros(2000));
    least.push(await leastMicros(200, 10));
    storeOnly.push(await storeMicros(2000, entries));
    const result = await engineMicros(200, 10, stats);
    engine.push(result.micros);
    perStep.push(result.commitsPerStep);
    writes = result.writes;
  }
  const e = median(engine);
  const b = median(raw);
  const l = median(least);
  console.log('case                              engine µs/step   raw INSERT µs/step   ratio   commits/step');
  console.log(
    `${'W(200 x 10) sync'.padEnd(33)} ${e.toFixed(1).padStart(14)} ${b.toFixed(1).padStart(20)} ${(e / b).toFixed(2).padStart(7)}x ${median(perStep).toFixed(2).padStart(14)}`,
  );
  console.log(
    `least possible (spawn floor + raw INSERT per step, one loop): ${l.toFixed(1)} µs/step = ${(l / b).toFixed(2)}x the raw INSERT; the engine is ${(e / l).toFixed(2)}x it`,
  );
  const m = median(memory);
  console.log(`engine alone (memory store): ${m.toFixed(1)} µs/step; the database adds ${(e - m).toFixed(1)} µs/step = ${((e - m) / b).toFixed(2)}x the raw INSERT`);
  const am = median(asyncMemory);
  console.log(
    `engine alone on an async store (memory without its sync face, as the engine sees PostgreSQL): ${am.toFixed(1)} µs/step; over it the database adds ${(e - am).toFixed(1)} µs/step = ${((e - am) / b).toFixed(2)}x the raw INSERT`,
  );
  const so = median(storeOnly);
  console.log(`store alone (a step's write of ${entries.length} journal entries, in a loop): ${so.toFixed(1)} µs/write = ${(so / b).toFixed(2)}x the raw INSERT`);
  const per = (n: number): string => (n / (200 * 10)).toFixed(2);
  console.log(
    `store writes/step: ${per(writes.optimistic + writes.locked)} (${per(writes.solo)} one execution in scalar parameters, ${per(writes.optimistic - writes.solo)} in arrays, ${per(writes.locked)} locking)`,
  );
  console.log('');
  console.log('workers (processes x 4 executions)   executions/s   steps/s   commits/step');
  for (const workers of [1, 2, 4]) {
    const result = await workerThroughput(workers, 200, stats);
    console.log(
      `${String(workers).padEnd(36)} ${result.executionsPerSecond.toFixed(1).padStart(12)} ${result.stepsPerSecond.toFixed(0).padStart(9)} ${result.commitsPerStep.toFixed(2).padStart(14)}`,
    );
  }
  await stats.end();
} finally {
  await cluster.stop();
}

/**
 * Durable step cost on the PostgreSQL store, on a throwaway cluster started
 * here (fsync on: a commit is a real WAL flush), measured in the same run as
 * its floor:
 *
 * - W(200 x 10) in 'sync' mode: µs per step, and the ratio to a raw `pg`
 *   INSERT per step (one commit each) into a journal table of the same shape;
 * - commits per step (from pg_stat_database), the figure that bounds a
 *   shared database;
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
import { startCluster } from '../test/postgres/cluster.js';

const cluster = await startCluster({ fsync: true });
const url = cluster.connectionString;
const output = { ok: true, rows: 10 };
let schemaCounter = 0;
const freshSchema = (): string => `bench_${schemaCounter++}`;

async function commits(client: pg.Client): Promise<number> {
  const result = await client.query<{ n: string }>(`SELECT xact_commit::text AS n FROM pg_stat_database WHERE datname = current_database()`);
  return Number(result.rows[0]?.n ?? 0);
}

/** The floor: one INSERT (a step's outcome as JSON) committed per step, on one connection. */
async function rawInsertMicros(steps: number): Promise<number> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  const table = `raw_${schemaCounter++}`;
  await client.query(`CREATE TABLE ${table} (execution_id text, seq integer, kind text, payload text, at text, PRIMARY KEY (execution_id, seq))`);
  const insert = `INSERT INTO ${table} VALUES ($1, $2, $3, $4, $5)`;
  const start = performance.now();
  for (let i = 0; i < steps; i++) {
    await client.query({ name: `raw-${table}`, text: insert, values: ['raw', i, 'step_finished', JSON.stringify({ stepId: `s${i}`, output }), new Date().toISOString()] });
  }
  const micros = ((performance.now() - start) * 1000) / steps;
  await client.end();
  return micros;
}

/** The engine alone: the same loop on the memory store (no database), to see what the database adds. */
async function memoryMicros(executions: number, steps: number): Promise<number> {
  const store = createMemoryStore();
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

/** W(executions x steps): one execution after the other, each step committed before the next ('sync'). */
async function engineMicros(executions: number, steps: number, stats: pg.Client): Promise<{ micros: number; commitsPerStep: number }> {
  const store = createPostgresStore({ connectionString: url, schema: freshSchema() });
  await store.ready();
  const before = await commits(stats);
  const start = performance.now();
  for (let e = 0; e < executions; e++) {
    const manager = await openExecution({ executionId: `bench-${e}`, pipelineId: 'bench', store, durability: 'sync' });
    manager.startExecution(steps);
    for (let s = 0; s < steps; s++) await manager.executeStepWithRecovery(`step-${s}`, `Step ${s}`, () => output);
    manager.completeExecution(true);
    await manager.shutdown();
  }
  const micros = ((performance.now() - start) * 1000) / (executions * steps);
  // Backends report their counters asynchronously (at most a second late).
  await new Promise((resolve) => setTimeout(resolve, 1100));
  const commitsPerStep = ((await commits(stats)) - before - 1) / (executions * steps);
  await store.close();
  return { micros, commitsPerStep };
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
  await memoryMicros(50, 10);

  const rounds = 3;
  const engine: number[] = [];
  const raw: number[] = [];
  const perStep: number[] = [];
  const memory: number[] = [];
  for (let r = 0; r < rounds; r++) {
    memory.push(await memoryMicros(200, 10));
    raw.push(await rawInsertMicros(2000));
    const result = await engineMicros(200, 10, stats);
    engine.push(result.micros);
    perStep.push(result.commitsPerStep);
  }
  const e = median(engine);
  const b = median(raw);
  console.log('case                              engine µs/step   raw INSERT µs/step   ratio   commits/step');
  console.log(
    `${'W(200 x 10) sync'.padEnd(33)} ${e.toFixed(1).padStart(14)} ${b.toFixed(1).padStart(20)} ${(e / b).toFixed(2).padStart(7)}x ${median(perStep).toFixed(2).padStart(14)}`,
  );
  const m = median(memory);
  console.log(`engine alone (memory store): ${m.toFixed(1)} µs/step; the database adds ${(e - m).toFixed(1)} µs/step = ${((e - m) / b).toFixed(2)}x the raw INSERT`);
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

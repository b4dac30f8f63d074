/**
 * Durable step cost on the SQLite store, against the floor of a raw
 * better-sqlite3 INSERT per step (same pragmas, one commit per step),
 * measured in the same run:
 *
 * - W(200 x 10) and W(1 x 1000) in 'sync' mode: µs per step and ratio to the floor,
 *   and the least a durable step of this design costs (the spawn floor with
 *   the INSERT after each step, in one loop);
 * - 50 concurrent executions x 20 steps in 'batched' mode (group commit).
 *
 * Run: npm run bench:sqlite
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import Database from 'better-sqlite3';
import { createComprehensiveExecutionManager, type DurabilityMode } from '../src/index.js';
import { createSqliteStore } from '../src/stores/index.js';
import { floorMicros } from './spawn-floor.js';

const dir = mkdtempSync(join(tmpdir(), 'bench-sqlite-'));
let fileCounter = 0;
const freshFile = (): string => join(dir, `bench-${fileCounter++}.db`);
const output = { ok: true, rows: 10 };

/** A fresh database (same pragmas as the store) and an INSERT of one step's outcome, committed alone. */
function rawInserter(): { insert: (execution: number, step: number) => void; close: () => void } {
  const db = new Database(freshFile());
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.exec('CREATE TABLE journal (execution_id TEXT, seq INTEGER, kind TEXT, payload TEXT, at TEXT, PRIMARY KEY (execution_id, seq))');
  const statement = db.prepare('INSERT INTO journal VALUES (?, ?, ?, ?, ?)');
  return {
    insert: (execution, step) => {
      statement.run(`raw-${execution}`, step, 'step_finished', JSON.stringify({ stepId: `s${step}`, output }), new Date().toISOString());
    },
    close: () => db.close(),
  };
}

/** The floor: one INSERT (a step's outcome as JSON) committed per step, in a tight loop. */
function rawInsertMicros(steps: number): number {
  const raw = rawInserter();
  const start = performance.now();
  for (let i = 0; i < steps; i++) raw.insert(0, i);
  const micros = ((performance.now() - start) * 1000) / steps;
  raw.close();
  return micros;
}

/** The least a durable step of this design costs in sync mode: the spawn floor with the raw INSERT after each step, in one loop. */
async function leastSyncMicros(executions: number, steps: number): Promise<number> {
  const raw = rawInserter();
  const micros = await floorMicros(executions, steps, (execution, step) => {
    raw.insert(execution, step);
    return Promise.resolve();
  });
  raw.close();
  return micros;
}

async function engineMicros(executions: number, steps: number, durability: DurabilityMode, concurrent: boolean): Promise<number> {
  const store = createSqliteStore({ filename: freshFile() });
  const runOne = async (e: number): Promise<void> => {
    const manager = createComprehensiveExecutionManager({ executionId: `bench-${e}`, pipelineId: 'bench', store, durability });
    manager.startExecution(steps);
    for (let s = 0; s < steps; s++) await manager.executeStepWithRecovery(`step-${s}`, `Step ${s}`, () => output);
    manager.completeExecution(true);
    await manager.shutdown();
  };
  const start = performance.now();
  if (concurrent) await Promise.all(Array.from({ length: executions }, (_, e) => runOne(e)));
  else for (let e = 0; e < executions; e++) await runOne(e);
  const micros = ((performance.now() - start) * 1000) / (executions * steps);
  await store.close();
  return micros;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
}

const rounds = 5;
await engineMicros(20, 10, 'sync', false);
rawInsertMicros(2000);
await floorMicros(20, 100);

const cases: { name: string; executions: number; steps: number; durability: DurabilityMode; concurrent: boolean }[] = [
  { name: 'W(200 x 10) sync', executions: 200, steps: 10, durability: 'sync', concurrent: false },
  { name: 'W(1 x 1000) sync', executions: 1, steps: 1000, durability: 'sync', concurrent: false },
  { name: 'W(50 x 20) batched, concurrent', executions: 50, steps: 20, durability: 'batched', concurrent: true },
];
console.log(`µs per step (median of ${rounds} interleaved rounds)`);
console.log('  raw INSERT  = one better-sqlite3 INSERT committed per step (same pragmas): the issue\'s floor');
console.log('  spawn floor = an execution actor spawning one step actor per step, in memory, nothing else (bench/spawn-floor.ts)');
console.log('  least       = spawn floor with a raw INSERT after each step, in one loop, in sync mode (a commit per step); spawn floor alone when batched (commits shared)');
console.log('case                              engine  raw INSERT  spawn floor  engine/raw  least/raw');
for (const c of cases) {
  const engine: number[] = [];
  const raw: number[] = [];
  const floor: number[] = [];
  const leastSync: number[] = [];
  for (let r = 0; r < rounds; r++) {
    raw.push(rawInsertMicros(c.executions * c.steps));
    floor.push(await floorMicros(c.executions, c.steps));
    if (c.durability === 'sync') leastSync.push(await leastSyncMicros(c.executions, c.steps));
    engine.push(await engineMicros(c.executions, c.steps, c.durability, c.concurrent));
  }
  const e = median(engine);
  const b = median(raw);
  const f = median(floor);
  const least = c.durability === 'sync' ? median(leastSync) : f;
  console.log(
    [
      c.name.padEnd(32),
      e.toFixed(1).padStart(7),
      b.toFixed(1).padStart(11),
      f.toFixed(1).padStart(12),
      `${(e / b).toFixed(2)}x`.padStart(11),
      `${(least / b).toFixed(2)}x`.padStart(10),
    ].join(' '),
  );
}

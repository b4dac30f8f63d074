/**
 * Step overhead: N executions x S no-op steps through executeStepWithRecovery,
 * in memory, as µs per step and as a ratio to a bare XState step actor
 * (create, start, resolve a promise actor, stop) measured in the same run.
 *
 * Run: npm run bench:steps   (or: npx tsx bench/step-overhead.ts)
 */
import { performance } from 'node:perf_hooks';
import { createActor, fromPromise, toPromise } from 'xstate';
import { createComprehensiveExecutionManager } from '../src/services/manager.js';

const noop = (): Promise<null> => Promise.resolve(null);

/** Baseline: one bare promise actor per step. */
async function bareActorMicros(steps: number): Promise<number> {
  const logic = fromPromise(noop);
  const start = performance.now();
  for (let i = 0; i < steps; i++) {
    const actor = createActor(logic);
    actor.start();
    await toPromise(actor);
    actor.stop();
  }
  return ((performance.now() - start) * 1000) / steps;
}

async function engineMicros(executions: number, stepsPerExecution: number): Promise<number> {
  const start = performance.now();
  for (let e = 0; e < executions; e++) {
    const manager = createComprehensiveExecutionManager({ executionId: `bench-${e}`, pipelineId: 'bench' });
    manager.startExecution(stepsPerExecution);
    for (let s = 0; s < stepsPerExecution; s++) {
      await manager.executeStepWithRecovery(`step-${s}`, `Step ${s}`, noop);
    }
    manager.completeExecution(true);
    await manager.shutdown();
  }
  return ((performance.now() - start) * 1000) / (executions * stepsPerExecution);
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
}

const shapes: [number, number][] = [
  [100, 10],
  [10, 100],
  [1, 1000],
];
const rounds = 5;
// Warm up the JIT on both paths before measuring.
await bareActorMicros(2000);
await engineMicros(20, 50);

console.log('shape (N x S)   engine µs/step   bare actor µs/step   ratio');
for (const [executions, steps] of shapes) {
  const engine: number[] = [];
  const bare: number[] = [];
  for (let r = 0; r < rounds; r++) {
    bare.push(await bareActorMicros(executions * steps));
    engine.push(await engineMicros(executions, steps));
  }
  const e = median(engine);
  const b = median(bare);
  console.log(`${`${executions} x ${steps}`.padEnd(15)} ${e.toFixed(1).padStart(14)} ${b.toFixed(1).padStart(20)} ${(e / b).toFixed(2).padStart(7)}x`);
}

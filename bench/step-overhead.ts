/**
 * Step overhead: N executions x S no-op steps through executeStepWithRecovery,
 * in memory, as µs per step and as a ratio to a bare XState step actor
 * (create, start, resolve a promise actor, stop) measured in the same run.
 *
 * Run: npm run bench:steps   (or: npx tsx bench/step-overhead.ts)
 */
import { performance } from 'node:perf_hooks';
import { createActor, fromPromise, setup, toPromise } from 'xstate';
import { floorMicros } from './spawn-floor.js';
import { createExecutionLogic } from '../src/actors/step-logic.js';
import { systemClock } from '../src/clock.js';
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

/** The actor layer alone: the execution actor spawning one step actor per step (no services). */
async function actorLayerMicros(executions: number, stepsPerExecution: number): Promise<number> {
  const logic = createExecutionLogic({
    clock: systemClock,
    execute: noop,
    executeAlternatives: noop,
    planFailure: () => {
      throw new Error('no failures in this benchmark');
    },
  });
  const start = performance.now();
  for (let e = 0; e < executions; e++) {
    const actor = createActor(logic, { input: { executionId: `bench-${e}`, pipelineId: 'bench' } });
    const waiters = new Map<string, () => void>();
    actor.on('step.finished', (event) => waiters.get(event.record.stepId)?.());
    actor.start();
    actor.send({ type: 'EXECUTION.START', totalSteps: stepsPerExecution });
    for (let s = 0; s < stepsPerExecution; s++) {
      const finished = new Promise<void>((resolve) => waiters.set(`step-${s}`, resolve));
      actor.send({ type: 'STEP.START', stepId: `step-${s}`, stepName: `Step ${s}`, mode: 'executor' });
      await finished;
    }
    actor.stop();
  }
  return ((performance.now() - start) * 1000) / (executions * stepsPerExecution);
}

/**
 * Baseline 2: a bare step *machine* (pending -> running, which invokes a
 * promise actor -> done), created, started, run and stopped per step: the
 * least a step can cost when it is an XState machine actor.
 */
const bareStepMachine = setup({ actors: { work: fromPromise(noop) } }).createMachine({
  initial: 'pending',
  states: {
    pending: { on: { RUN: 'running' } },
    running: { invoke: { src: 'work', onDone: 'done' } },
    done: { type: 'final' },
  },
});

async function bareStepMachineMicros(steps: number): Promise<number> {
  const start = performance.now();
  for (let i = 0; i < steps; i++) {
    const actor = createActor(bareStepMachine);
    actor.start();
    actor.send({ type: 'RUN' });
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
const rounds = 7;
// Warm up the JIT on every path before measuring.
await bareActorMicros(2000);
await bareStepMachineMicros(2000);
await floorMicros(20, 100);
await actorLayerMicros(20, 100);
await engineMicros(20, 50);

console.log(`µs per step (median of ${rounds} interleaved rounds); ratios to baselines measured in the same run`);
console.log('  bare promise  = create, start, resolve and stop a fromPromise actor');
console.log('  bare step     = a 3-state step machine invoking a promise actor: the issue\'s baseline');
console.log('  spawn floor   = a parent spawning one such step actor per step and taking its output: the least the design can cost');
console.log('  actor layer   = our execution + step machines with the step runtime, no services');
console.log(
  'N x S        engine  actor layer  spawn floor  bare step  bare promise  engine/bare step  engine/spawn floor  actor layer/spawn floor',
);
for (const [executions, steps] of shapes) {
  const figures = { engine: [] as number[], actors: [] as number[], floor: [] as number[], bareStep: [] as number[], bare: [] as number[] };
  for (let r = 0; r < rounds; r++) {
    figures.bare.push(await bareActorMicros(executions * steps));
    figures.bareStep.push(await bareStepMachineMicros(executions * steps));
    figures.floor.push(await floorMicros(executions, steps));
    figures.actors.push(await actorLayerMicros(executions, steps));
    figures.engine.push(await engineMicros(executions, steps));
  }
  const e = median(figures.engine);
  const a = median(figures.actors);
  const f = median(figures.floor);
  const m = median(figures.bareStep);
  const b = median(figures.bare);
  console.log(
    [
      `${executions} x ${steps}`.padEnd(10),
      e.toFixed(1).padStart(8),
      a.toFixed(1).padStart(12),
      f.toFixed(1).padStart(12),
      m.toFixed(1).padStart(10),
      b.toFixed(1).padStart(13),
      `${(e / m).toFixed(2)}x`.padStart(17),
      `${(e / f).toFixed(2)}x`.padStart(19),
      `${(a / f).toFixed(2)}x`.padStart(24),
    ].join(' '),
  );
}

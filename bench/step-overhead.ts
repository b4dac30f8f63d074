/**
 * Step overhead: N executions x S no-op steps through executeStepWithRecovery,
 * in memory, as µs per step and as a ratio to a bare XState step actor
 * (create, start, resolve a promise actor, stop) measured in the same run.
 *
 * Run: npm run bench:steps   (or: npx tsx bench/step-overhead.ts)
 */
import { performance } from 'node:perf_hooks';
import { createActor, fromPromise, setup, toPromise } from 'xstate';
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
const rounds = 5;
// Warm up the JIT on both paths before measuring.
await bareActorMicros(2000);
await bareStepMachineMicros(2000);
await engineMicros(20, 50);

console.log('µs per step (median of 5 rounds); ratios to the two baselines measured in the same run');
console.log('shape (N x S)  engine  actor layer  bare promise actor  bare step machine  engine/promise  engine/step machine');
for (const [executions, steps] of shapes) {
  const engine: number[] = [];
  const actors: number[] = [];
  const bare: number[] = [];
  const bareMachine: number[] = [];
  for (let r = 0; r < rounds; r++) {
    bare.push(await bareActorMicros(executions * steps));
    bareMachine.push(await bareStepMachineMicros(executions * steps));
    actors.push(await actorLayerMicros(executions, steps));
    engine.push(await engineMicros(executions, steps));
  }
  const e = median(engine);
  const a = median(actors);
  const b = median(bare);
  const m = median(bareMachine);
  console.log(
    [
      `${executions} x ${steps}`.padEnd(13),
      e.toFixed(1).padStart(7),
      a.toFixed(1).padStart(12),
      b.toFixed(1).padStart(19),
      m.toFixed(1).padStart(18),
      `${(e / b).toFixed(2)}x`.padStart(15),
      `${(e / m).toFixed(2)}x`.padStart(20),
    ].join(' '),
  );
}

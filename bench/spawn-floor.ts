/**
 * The floor of the design, shared by the benchmarks: what "the execution and
 * each step are spawned XState actors" costs per step with nothing of the
 * engine in it. Measured in the same run as the engine, it shows how much of
 * a step's cost is XState's own.
 *
 * @module
 */
import { performance } from 'node:perf_hooks';
import { createActor, enqueueActions, fromPromise, setup, stopChild } from 'xstate';

const noop = (): Promise<null> => Promise.resolve(null);

/**
 * Floor of the design: what the architecture costs with nothing of
 * ours in it. A parent actor spawns one step actor per step (with its id);
 * the step invokes a promise actor and ends in a final state whose output
 * reaches the parent, which stops the child and emits the result. Any engine
 * where "the execution and each step are spawned actors" pays at least this.
 */
const floorStep = setup({
  types: { input: {} as { stepId: string }, context: {} as { stepId: string } },
  actors: { work: fromPromise(noop) },
}).createMachine({
  context: ({ input }) => ({ stepId: input.stepId }),
  initial: 'running',
  states: { running: { invoke: { src: 'work', onDone: 'done' } }, done: { type: 'final' } },
  output: ({ context }) => context.stepId,
});
const floorExecution = setup({
  types: {
    context: {} as { active: Record<string, true> },
    events: {} as { type: 'START'; stepId: string } | { type: `xstate.done.actor.${string}`; output: string },
    emitted: {} as { type: 'finished'; stepId: string },
  },
  actors: { step: floorStep },
}).createMachine({
  context: { active: {} },
  on: {
    START: {
      actions: enqueueActions(({ enqueue, event, context }) => {
        enqueue.assign({ active: { ...context.active, [event.stepId]: true } });
        enqueue.spawnChild('step', { id: event.stepId, input: { stepId: event.stepId } });
      }),
    },
    'xstate.done.actor.*': {
      actions: enqueueActions(({ enqueue, event, context }) => {
        const { [event.output]: _finished, ...active } = context.active;
        enqueue(stopChild(event.output));
        enqueue.assign({ active });
        enqueue.emit({ type: 'finished', stepId: event.output });
      }),
    },
  },
});

/**
 * µs per step of N executions x S steps on the floor machines. With
 * `commit`, each step's outcome is also committed (awaited) before the next
 * step starts, as in 'sync' mode: the least a durable step of this design
 * costs, measured as one loop rather than a sum, because a commit that
 * follows CPU work costs more than one in a tight loop (the database
 * process and the CPU caches have gone cold in between).
 */
export async function floorMicros(
  executions: number,
  stepsPerExecution: number,
  commit?: (execution: number, step: number) => Promise<unknown>,
): Promise<number> {
  const start = performance.now();
  for (let e = 0; e < executions; e++) {
    const actor = createActor(floorExecution);
    let wake: () => void = () => undefined;
    actor.on('finished', () => {
      wake();
    });
    actor.start();
    for (let s = 0; s < stepsPerExecution; s++) {
      const finished = new Promise<void>((resolve) => (wake = resolve));
      actor.send({ type: 'START', stepId: `step-${s}` });
      await finished;
      if (commit !== undefined) await commit(e, s);
    }
    actor.stop();
  }
  return ((performance.now() - start) * 1000) / (executions * stepsPerExecution);
}


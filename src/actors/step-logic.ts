/**
 * The actor logic that does I/O, plugged into the pure machines by name:
 * running an executor, waiting out a backoff on the injected clock, running
 * alternatives. `createExecutionLogic` is what the manager spawns.
 *
 * @module
 */
import { fromPromise, type ActorSystem } from 'xstate';
import type { Clock } from '../clock.js';
import { toError } from '../errors.js';
import { executionMachine } from '../machines/execution.machine.js';
import type {
  AlternativeInput,
  BackoffInput,
  ExecutorInput,
  ExecutorOutcome,
  StepFailure,
} from '../machines/machine-types.js';
import { stepMachine } from '../machines/step.machine.js';

/** What the step actors need from their host (the manager). */
export interface StepRuntime {
  /** Time for timeouts and backoff waits. */
  clock: Clock;
  /** Runs one attempt of the step's executor; resolves its output or rejects with its error. */
  execute(input: ExecutorInput, signal: AbortSignal): Promise<unknown>;
  /** Runs the step's alternative path; resolves the first alternative's output that succeeds. */
  executeAlternatives(input: AlternativeInput, signal: AbortSignal): Promise<unknown>;
  /** Classifies a failure and turns its recovery plan into machine data. */
  planFailure(input: { stepId: string; stepName: string; attempt: number }, error: unknown): StepFailure;
}

async function settleOutcome(
  runtime: StepRuntime,
  input: { stepId: string; stepName: string; attempt: number },
  work: Promise<unknown>,
  signal: AbortSignal,
): Promise<ExecutorOutcome> {
  try {
    return { ok: true, output: await work };
  } catch (error) {
    // Aborted because the step's actor stopped (cancel, skip, restore, end of
    // the execution): not a failure to plan. XState ignores what a stopped
    // promise actor settles with.
    if (signal.aborted) throw toError(error);
    // Resolve, never reject: the machine decides what a failure means, so no
    // user error can reach the root actor unhandled.
    return { ok: false, failure: runtime.planFailure(input, error) };
  }
}

/** Waits until `deadline` on the clock; a restored wait only waits what is left. */
function waitUntil(clock: Clock, deadline: number, signal: AbortSignal): Promise<null> {
  return new Promise((resolve) => {
    const handle = clock.setTimeout(() => {
      resolve(null);
    }, Math.max(0, deadline - clock.now()));
    signal.addEventListener(
      'abort',
      () => {
        clock.clearTimeout(handle);
      },
      { once: true },
    );
  });
}

// xstate exports ActorSystem but not its `any` alias.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AnyActorSystem = ActorSystem<any>;

/** Finds the runtime a step actor runs on, from its actor system. */
type RuntimeLookup = (system: AnyActorSystem) => StepRuntime;

function provideStepActors(runtimeOf: RuntimeLookup): typeof stepMachine {
  return stepMachine.provide({
    actors: {
      stepExecutor: fromPromise<ExecutorOutcome, ExecutorInput>(({ input, signal, system }) => {
        const runtime = runtimeOf(system);
        return settleOutcome(runtime, input, runtime.execute(input, signal), signal);
      }),
      backoffTimer: fromPromise<null, BackoffInput>(({ input, signal, system }) =>
        waitUntil(runtimeOf(system).clock, input.deadline, signal),
      ),
      alternativeRunner: fromPromise<ExecutorOutcome, AlternativeInput>(({ input, signal, system }) => {
        const runtime = runtimeOf(system);
        return settleOutcome(runtime, input, runtime.executeAlternatives(input, signal), signal);
      }),
    },
  });
}

/** The step machine with its I/O actors provided, running on `runtime`. */
export function createStepLogic(runtime: StepRuntime): typeof stepMachine {
  return provideStepActors(() => runtime);
}

/**
 * The execution machine whose step children run on `runtime`. Persisted
 * snapshots restore with it because the step logic stays registered under the
 * same name (`step`).
 */
export function createExecutionLogic(runtime: StepRuntime): typeof executionMachine {
  return executionMachine.provide({ actors: { step: createStepLogic(runtime) } });
}

const boundRuntimes = new WeakMap<AnyActorSystem, StepRuntime>();

function boundRuntime(system: AnyActorSystem): StepRuntime {
  const runtime = boundRuntimes.get(system);
  if (runtime === undefined) {
    throw new Error('No step runtime is bound to this actor system; call bindStepRuntime(actor, runtime) before actor.start()');
  }
  return runtime;
}

/**
 * One execution logic for every manager of the process: `provide()` rebuilds
 * the machines (about a third of a millisecond), too much to pay per
 * execution. Each actor finds its runtime through its actor system, bound
 * with {@link bindStepRuntime} before the actor starts.
 */
export const sharedExecutionLogic: typeof executionMachine = executionMachine.provide({
  actors: { step: provideStepActors(boundRuntime) },
});

/** Binds the runtime the step actors of `actor` (a {@link sharedExecutionLogic} actor) run on. */
export function bindStepRuntime(actor: { system: AnyActorSystem }, runtime: StepRuntime): void {
  boundRuntimes.set(actor.system, runtime);
}

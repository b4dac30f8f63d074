/**
 * The execution machine as a model for `@xstate/graph`. Its events are what
 * a test can do to a running execution: send it an event, or make a step's
 * executor, backoff timer or alternative settle. Each is computed purely by
 * composing `executionMachine.transition` with `stepMachine.transition` for
 * its children, delivering their messages in the order the actor runtime
 * does (first in, first out), so a path is a path through both machines and
 * every step of it can be realised on real actors.
 *
 * @module
 */
import type { EventObject, SnapshotFrom } from 'xstate';
import type { StepRecord } from '../../src/machines/machine-types.js';
import { executionMachine, type ExecutionEvent, type ExecutionMachineInput } from '../../src/machines/execution.machine.js';
import { stepMachine, type StepEvent } from '../../src/machines/step.machine.js';
import { FAILURES, type FailureName } from './fixtures.js';
import { createModelScope, PARENT, type ScopeOf } from './model-scope.js';
import type { Model } from './paths.js';
import { ALTERNATIVE_OUTPUT, EXECUTOR_OUTPUT, type StepScope, type StepSnapshot } from './step-model.js';

/** An execution actor's snapshot. */
export type ExecutionSnapshot = SnapshotFrom<typeof executionMachine>;

type ExecutionScope = ScopeOf<typeof executionMachine>;

/** Label of the execution actor in traces. */
export const EXECUTION = 'execution';

/** The execution actor and its live step actors. */
export interface SystemState {
  status: 'active';
  output: undefined;
  error: undefined;
  execution: ExecutionSnapshot;
  steps: Readonly<Record<string, StepSnapshot>>;
}

/** How a step's executor settles: its output, a named failure, or a failure that breaks the step actor. */
export type ExecutorSettlement = 'ok' | 'poison' | FailureName;

/** How an alternative path settles. */
export type AlternativeSettlement = 'ok' | 'failed' | 'poison';

/** Events of the execution model. */
export type ExecutionModelEvent =
  | Exclude<ExecutionEvent, { type: `xstate.${string}` } | { type: 'STEP.STATUS' }>
  | { type: 'EXECUTOR.SETTLE'; stepId: string; outcome: ExecutorSettlement }
  | { type: 'BACKOFF.ELAPSE'; stepId: string }
  | { type: 'ALTERNATIVE.SETTLE'; stepId: string; outcome: AlternativeSettlement };

/** What one execution-model edge does. */
export interface SystemTrace {
  /** All declared transitions taken, in order. */
  transitions: string[];
  /** The same, per actor label (`execution` or the step id). */
  byActor: Record<string, string[]>;
  /** Events the execution actor emitted. */
  emitted: EventObject[];
  /** Invoked actors each step started (`executor`, `alternative`, `backoff`), by step id. */
  invoked: Record<string, string[]>;
}

/**
 * A failure whose every field throws: the step's guards throw on it, so the
 * step actor errors (a bug in a step, as the execution machine sees it).
 */
export const POISON = new Proxy(
  {},
  {
    get(_target, property) {
      if (property === 'then' || typeof property === 'symbol') return undefined;
      throw new Error(`poisoned ${property}`);
    },
  },
) as typeof FAILURES.retry;

/** Execution actor input of the model. */
export const EXECUTION_INPUT: ExecutionMachineInput = { executionId: 'exec-1', pipelineId: 'etl' };

/** The steps a path may start: `a` and `c` run executors, `b` is manual. */
export const MODEL_STEPS = [
  { stepId: 'a', stepName: 'Extract', mode: 'executor' },
  { stepId: 'b', stepName: 'Review', mode: 'manual' },
  { stepId: 'c', stepName: 'Load', mode: 'executor' },
] as const;

/** A record handed in for a step that never ran here (e.g. restored from elsewhere). */
export const OUTSIDE_RECORD: StepRecord = {
  stepId: 'r',
  stepName: 'Restored',
  status: 'completed',
  attempts: 1,
  retries: 0,
  recoveredBy: null,
  error: null,
  reason: null,
  rollbackCheckpointId: null,
};

/** What an execution model offers, kept small so the model stays finite. */
export interface ExecutionModelConfig {
  name: string;
  /** Ids of the {@link MODEL_STEPS} a path may start. */
  steps: readonly string[];
  /** How each executor step's executor may settle. */
  settlements: Readonly<Record<string, readonly ExecutorSettlement[]>>;
  /** How an alternative path may settle. */
  alternatives: readonly AlternativeSettlement[];
  /** Steps started (or recorded) at most. */
  maxStarted: number;
  /** A retry plan is offered only below this attempt. */
  maxRetryAttempt: number;
  /** Whether STEP.RECORD is offered. */
  record: boolean;
  /** Whether STEP.PROGRESS is offered. */
  progress: boolean;
  /** Whether simple paths are generated (small models only: their number explodes). */
  simple: boolean;
}

function without<T>(record: Readonly<Record<string, T>>, key: string): Record<string, T> {
  return Object.fromEntries(Object.entries(record).filter(([id]) => id !== key));
}

/** The event a child-side model event delivers to its step, or null for events sent to the execution. */
export function stepEvent(event: ExecutionModelEvent): { stepId: string; event: EventObject } | null {
  switch (event.type) {
    case 'EXECUTOR.SETTLE': {
      const failure = event.outcome === 'ok' ? null : event.outcome === 'poison' ? POISON : FAILURES[event.outcome];
      const output = failure === null ? { ok: true, output: EXECUTOR_OUTPUT } : { ok: false, failure };
      return { stepId: event.stepId, event: { type: 'xstate.done.actor.executor', output } as EventObject };
    }
    case 'BACKOFF.ELAPSE':
      return { stepId: event.stepId, event: { type: 'xstate.done.actor.backoff', output: null } as EventObject };
    case 'ALTERNATIVE.SETTLE': {
      const output =
        event.outcome === 'ok'
          ? { ok: true, output: ALTERNATIVE_OUTPUT }
          : { ok: false, failure: event.outcome === 'poison' ? POISON : FAILURES.alternativeFailed };
      return { stepId: event.stepId, event: { type: 'xstate.done.actor.alternative', output } as EventObject };
    }
    default:
      return null;
  }
}

/** Events offered in `state`: only those a test can realise there. */
function eventsFor(state: SystemState, config: ExecutionModelConfig): ExecutionModelEvent[] {
  const { context } = state.execution;
  const events: ExecutionModelEvent[] = [
    { type: 'EXECUTION.START', totalSteps: 3 },
    { type: 'EXECUTION.PAUSE' },
    { type: 'EXECUTION.RESUME' },
    { type: 'EXECUTION.CANCEL', reason: 'stopped by the user' },
    { type: 'EXECUTION.COMPLETE', success: true },
    { type: 'EXECUTION.COMPLETE', success: false },
  ];
  // The default cancel reason only once, from `pending`: it differs from the above by one string.
  if (state.execution.matches('pending')) events.push({ type: 'EXECUTION.CANCEL' });
  const canStart = context.counts.started < config.maxStarted;
  for (const { stepId, stepName, mode } of MODEL_STEPS) {
    if (!config.steps.includes(stepId)) continue;
    const step = state.steps[stepId];
    if (step === undefined) {
      if (canStart) events.push({ type: 'STEP.START', stepId, stepName, mode });
      continue;
    }
    // Starting a step that is still running must be refused.
    if (canStart) events.push({ type: 'STEP.START', stepId, stepName, mode });
    if (config.progress) events.push({ type: 'STEP.PROGRESS', stepId, percentage: 50 });
    events.push(
      { type: 'STEP.COMPLETE', stepId, output: 'done by hand' },
      { type: 'STEP.FAIL', stepId, error: { name: 'Error', message: 'failed by hand' } },
      { type: 'STEP.SKIP', stepId, reason: 'not needed' },
      { type: 'STEP.CANCEL', stepId, reason: null },
    );
    if (step.matches({ running: 'executing' })) {
      for (const outcome of config.settlements[stepId] ?? []) {
        if (outcome === 'retry' && step.context.attempt >= config.maxRetryAttempt) continue;
        events.push({ type: 'EXECUTOR.SETTLE', stepId, outcome });
      }
    }
    if (step.matches({ recovering: 'waitingToRetry' })) events.push({ type: 'BACKOFF.ELAPSE', stepId });
    if (step.matches({ recovering: 'alternativePath' })) {
      for (const outcome of config.alternatives) events.push({ type: 'ALTERNATIVE.SETTLE', stepId, outcome });
    }
  }
  if (config.record && canStart) events.push({ type: 'STEP.RECORD', record: OUTSIDE_RECORD, output: 'restored output' });
  return events;
}

/** The execution machine with its step children as a {@link Model}. */
export function createExecutionModel(config: ExecutionModelConfig): Model<SystemState, ExecutionModelEvent, SystemTrace> {
  function step(state: SystemState, event: ExecutionModelEvent): { next: SystemState; trace: SystemTrace } {
    const trace: SystemTrace = { transitions: [], byActor: {}, emitted: [], invoked: {} };
    const executionScope = createModelScope();
    const stepScope = createModelScope();
    const took = (actor: string, keys: readonly string[]): void => {
      if (keys.length === 0) return;
      trace.transitions.push(...keys);
      trace.byActor[actor] = [...(trace.byActor[actor] ?? []), ...keys];
    };
    let execution = state.execution;
    let steps: Readonly<Record<string, StepSnapshot>> = state.steps;
    const child = stepEvent(event);
    const queue: { to: string; event: EventObject }[] = [
      child === null ? { to: EXECUTION, event } : { to: child.stepId, event: child.event },
    ];
    for (let message = queue.shift(); message !== undefined; message = queue.shift()) {
      if (message.to === EXECUTION) {
        if (execution.status !== 'active') continue;
        executionScope.take();
        execution = executionMachine.transition(execution, message.event as ExecutionEvent, executionScope.scope as ExecutionScope);
        const done = executionScope.take();
        took(EXECUTION, done.transitions);
        for (const action of done.actions) {
          if (action.kind === 'spawn') {
            // The step runs as it is created (autoRun): its first transition and its executor start here.
            stepScope.take();
            steps = { ...steps, [action.id]: stepMachine.getInitialSnapshot(stepScope.scope as StepScope, action.input as never) };
            const created = stepScope.take();
            took(action.id, created.transitions);
            for (const spawned of created.actions) {
              if (spawned.kind === 'spawn') trace.invoked[action.id] = [...(trace.invoked[action.id] ?? []), spawned.id];
            }
          } else if (action.kind === 'send') {
            queue.push({ to: action.to, event: action.event });
          } else if (action.kind === 'stop') {
            steps = without(steps, action.id);
          } else {
            trace.emitted.push(action.event);
          }
        }
        // A final execution stops every child with it.
        if (execution.status !== 'active') steps = {};
        continue;
      }
      const current = steps[message.to];
      if (current?.status !== 'active') continue;
      stepScope.take();
      let next: StepSnapshot;
      try {
        next = stepMachine.transition(current, message.event as StepEvent, stepScope.scope as StepScope);
      } catch (error) {
        // The runtime puts the child in `error` and tells its parent.
        stepScope.take();
        queue.push({ to: EXECUTION, event: { type: `xstate.error.actor.${message.to}`, error } as EventObject });
        continue;
      }
      const done = stepScope.take();
      took(message.to, done.transitions);
      steps = { ...steps, [message.to]: next };
      for (const action of done.actions) {
        if (action.kind === 'send' && action.to === PARENT) queue.push({ to: EXECUTION, event: action.event });
        if (action.kind === 'spawn') trace.invoked[message.to] = [...(trace.invoked[message.to] ?? []), action.id];
      }
      // A step that reached a final state: the runtime sends its parent the
      // done event with the machine's output, after the step's own messages.
      if (next.status === 'done') {
        queue.push({ to: EXECUTION, event: { type: `xstate.done.actor.${message.to}`, output: next.output } as EventObject });
      }
    }
    return { next: { status: 'active', output: undefined, error: undefined, execution, steps }, trace };
  }

  const initial: SystemState = {
    status: 'active',
    output: undefined,
    error: undefined,
    execution: executionMachine.getInitialSnapshot(createModelScope().scope as ExecutionScope, EXECUTION_INPUT),
    steps: {},
  };
  return {
    name: config.name,
    initial,
    events: (state) => eventsFor(state, config),
    serialize: (state) =>
      JSON.stringify({
        value: state.execution.value,
        context: state.execution.context,
        steps: Object.entries(state.steps).map(([id, child]) => [id, child.value, child.context]),
      }),
    step,
  };
}

/**
 * The execution models. `pair`: an executor step with every plan and a manual
 * step. `recovery`: two executor steps recovering at once (only `a` retries,
 * so two backoff timers never race on the clock). `single`: small enough for
 * simple paths.
 */
export const EXECUTION_MODELS: readonly ExecutionModelConfig[] = [
  {
    name: 'execution:pair',
    steps: ['a', 'b'],
    settlements: { a: ['ok', 'failFast', 'retry', 'skip', 'rollback', 'alternative', 'poison'] },
    alternatives: ['ok', 'failed', 'poison'],
    maxStarted: 2,
    maxRetryAttempt: 2,
    record: true,
    progress: true,
    simple: false,
  },
  {
    name: 'execution:recovery',
    steps: ['a', 'c'],
    settlements: { a: ['ok', 'retry', 'alternative'], c: ['ok', 'alternative', 'poison'] },
    alternatives: ['ok', 'poison'],
    maxStarted: 2,
    maxRetryAttempt: 2,
    record: false,
    progress: false,
    simple: false,
  },
  {
    name: 'execution:single',
    steps: ['a'],
    settlements: { a: ['ok', 'retry'] },
    alternatives: [],
    maxStarted: 1,
    maxRetryAttempt: 2,
    record: false,
    progress: false,
    simple: true,
  },
];

/**
 * The step machine as a model for `@xstate/graph`: the pure `stepMachine`
 * with every event it can see, the invoke done/error events included with
 * outputs that exercise each guard.
 *
 * @module
 */
import type { EventObject, SnapshotFrom } from 'xstate';
import type { ExecutorOutcome, StepInput } from '../../src/machines/machine-types.js';
import { stepMachine, type StepEvent } from '../../src/machines/step.machine.js';
import { FAILURES, type FailureName } from './fixtures.js';
import { createModelScope, PARENT, type ScopeOf, type Trace } from './model-scope.js';
import type { Model } from './paths.js';
import { DONE } from './step-oracle.js';

/** The scope the step machine's `transition` takes. */
export type StepScope = ScopeOf<typeof stepMachine>;

/** A step actor's snapshot. */
export type StepSnapshot = SnapshotFrom<typeof stepMachine>;

/** Events of the step model: the machine's own and the done/error events of its invoked actors. */
export type StepModelEvent =
  | StepEvent
  | { type: 'xstate.done.actor.executor'; output: ExecutorOutcome }
  | { type: 'xstate.error.actor.executor'; error: Error }
  | { type: 'xstate.done.actor.backoff'; output: null }
  | { type: 'xstate.error.actor.backoff'; error: Error }
  | { type: 'xstate.done.actor.alternative'; output: ExecutorOutcome }
  | { type: 'xstate.error.actor.alternative'; error: Error };

/** Output of every successful executor in the model. */
export const EXECUTOR_OUTPUT = { rows: 3 };
/** Output of every successful alternative in the model. */
export const ALTERNATIVE_OUTPUT = 'from the alternative';
/** Error the step runtime's planner throws to make an invoked actor reject. */
export const PLANNER_CRASH = 'planner crashed';
/** Error the clock throws to make the backoff timer reject. */
export const CLOCK_FAULT = 'clock unavailable';

function failedWith(name: FailureName): StepModelEvent {
  return { type: 'xstate.done.actor.executor', output: { ok: false, failure: FAILURES[name] } };
}

const RECOVERY_EVENTS: StepModelEvent[] = [
  { type: 'xstate.done.actor.executor', output: { ok: true, output: EXECUTOR_OUTPUT } },
  ...(Object.keys(FAILURES) as FailureName[]).filter((name) => name !== 'alternativeFailed').map(failedWith),
  { type: 'xstate.error.actor.executor', error: new Error(PLANNER_CRASH) },
  { type: 'xstate.done.actor.backoff', output: null },
  { type: 'xstate.error.actor.backoff', error: new Error(CLOCK_FAULT) },
  { type: 'xstate.done.actor.alternative', output: { ok: true, output: ALTERNATIVE_OUTPUT } },
  { type: 'xstate.done.actor.alternative', output: { ok: false, failure: FAILURES.alternativeFailed } },
  { type: 'xstate.error.actor.alternative', error: new Error(PLANNER_CRASH) },
];

const OUTSIDE_EVENTS: StepModelEvent[] = [
  { type: 'STEP.RUN' },
  { type: 'STEP.PROGRESS', percentage: 40, message: 'loading' },
  { type: 'STEP.COMPLETE', output: { rows: 7 } },
  { type: 'STEP.FAIL', error: { name: 'Error', message: 'failed by hand' } },
  { type: 'STEP.SKIP', reason: 'not needed' },
  { type: 'STEP.CANCEL', reason: null },
];

/** A step model: the input of the step and the events offered. */
export interface StepModelConfig {
  name: string;
  input: StepInput;
  events: readonly StepModelEvent[];
  /** States at this attempt are reached but not explored further (retries loop). */
  stopAtAttempt: number;
  /** The same bound for simple paths, whose number grows faster. */
  simpleStopAtAttempt: number;
  /** How the driver makes the executor fail: reject, or let its timeout elapse. */
  failBy: 'reject' | 'timeout';
}

/** The step models: executor mode with every recovery, manual mode with progress, a resumed step with a timeout. */
export const STEP_MODELS: readonly StepModelConfig[] = [
  {
    name: 'step:executor',
    input: { stepId: 'load', stepName: 'Load', mode: 'executor' },
    events: [...OUTSIDE_EVENTS, ...RECOVERY_EVENTS],
    stopAtAttempt: 3,
    simpleStopAtAttempt: 2,
    failBy: 'reject',
  },
  {
    name: 'step:manual',
    input: { stepId: 'review', stepName: 'Review', mode: 'manual' },
    events: [
      ...OUTSIDE_EVENTS,
      { type: 'STEP.PROGRESS', percentage: 150 },
      { type: 'STEP.PROGRESS', percentage: -10, message: null },
      { type: 'STEP.COMPLETE', output: 'approved', percentage: 60 },
      { type: 'STEP.SKIP' },
      { type: 'STEP.CANCEL', reason: 'user' },
      ...RECOVERY_EVENTS,
    ],
    stopAtAttempt: 2,
    simpleStopAtAttempt: 2,
    failBy: 'reject',
  },
  {
    // Spawned by the execution actor, like every resumed step: it runs at once (autoRun).
    name: 'step:resumed-timeout',
    input: { stepId: 'fetch', stepName: 'Fetch', mode: 'executor', attempt: 2, resumed: true, timeoutMs: 500, autoRun: true },
    events: [
      { type: 'STEP.RUN' },
      { type: 'STEP.CANCEL', reason: 'shutdown' },
      { type: 'xstate.done.actor.executor', output: { ok: true, output: EXECUTOR_OUTPUT } },
      failedWith('backoff'),
      failedWith('failFast'),
      failedWith('alternative'),
      { type: 'xstate.done.actor.backoff', output: null },
      { type: 'xstate.done.actor.alternative', output: { ok: true, output: ALTERNATIVE_OUTPUT } },
    ],
    stopAtAttempt: 4,
    simpleStopAtAttempt: 4,
    failBy: 'timeout',
  },
  {
    name: 'step:manual-autorun',
    input: { stepId: 'approve', stepName: 'Approve', mode: 'manual', autoRun: true },
    events: [
      { type: 'STEP.RUN' },
      { type: 'STEP.PROGRESS', percentage: 30, message: 'half way' },
      { type: 'STEP.COMPLETE', output: 'approved' },
      { type: 'STEP.FAIL', error: { name: 'Error', message: 'rejected' } },
      { type: 'xstate.done.actor.executor', output: { ok: true, output: EXECUTOR_OUTPUT } },
    ],
    stopAtAttempt: 2,
    simpleStopAtAttempt: 2,
    failBy: 'reject',
  },
];

/**
 * What one step-model edge does; `reports` is what the parent receives: the
 * machine's sends to it, then, when the step finishes, its done event with
 * the machine's output (type {@link DONE}: its real type names the child).
 */
export type StepTrace = Trace & { reports: EventObject[] };

function stepTrace(trace: Trace, next: StepSnapshot): StepTrace {
  const reports = trace.actions.flatMap((action) => (action.kind === 'send' && action.to === PARENT ? [action.event] : []));
  if (next.status === 'done') reports.push({ type: DONE, output: next.output } as EventObject);
  return { ...trace, reports };
}

function initialState(config: StepModelConfig): { initial: StepSnapshot; trace: StepTrace } {
  const { scope, take } = createModelScope();
  const initial = stepMachine.getInitialSnapshot(scope as StepScope, config.input);
  return { initial, trace: stepTrace(take(), initial) };
}

/** What creating the step does (a step that runs at once takes `pending`'s eventless transition and starts its executor). */
export function initialStepTrace(config: StepModelConfig): StepTrace {
  return initialState(config).trace;
}

/** The step machine as a {@link Model}. */
export function createStepModel(config: StepModelConfig): Model<StepSnapshot, StepModelEvent, StepTrace> {
  return {
    name: config.name,
    initial: initialState(config).initial,
    events: config.events,
    serialize: (state) => JSON.stringify({ value: state.value, context: state.context }),
    stopWhen: (state) => state.context.attempt >= config.stopAtAttempt,
    step: (state, event) => {
      // A finished actor ignores every event; the pure transition() would still
      // take the root-level STEP.CANCEL / STEP.SKIP handlers from a final state.
      if (state.status !== 'active') return { next: state, trace: { transitions: [], actions: [], reports: [] } };
      const { scope, take } = createModelScope();
      // Invoke done/error events are not in StepEvent, but the machine handles them by type.
      const next = stepMachine.transition(state, event as StepEvent, scope as StepScope);
      return { next, trace: stepTrace(take(), next) };
    },
  };
}

/**
 * The execution machine: one actor per execution, parent of one step actor
 * per step in flight. Pure: it spawns the step logic registered under the
 * name `step` and tells the outside world about finished steps through
 * emitted events; the manager does the I/O.
 *
 * @module
 */
import { assign, enqueueActions, setup, stopChild } from 'xstate';
import { StepStatus } from '../constants.js';
import { serializeError, type SerializedError } from '../errors.js';
import type { StepFailure, StepFinished, StepMode, StepRecord } from './machine-types.js';
import { stepMachine, type StepEvent, type StepParentEvent } from './step.machine.js';

/** A step whose actor is alive. */
export interface ActiveStep {
  stepName: string;
  mode: StepMode;
  /**
   * The attempt running now, kept from the step's reports so that a record
   * the execution builds itself (a step cut short by the end of the
   * execution, or a crashed step actor) tells how far the step got without
   * reading the child's snapshot. Optional because a snapshot persisted
   * before it existed has none; read as 0 then.
   */
  attempt?: number;
  /** Retries made in this run (each `running` report is one); optional and read as 0 like {@link ActiveStep.attempt}. */
  retries?: number;
}

/** Step tallies of this execution actor's life (a re-run step counts again). */
export interface StepCounts {
  started: number;
  completed: number;
  failed: number;
  skipped: number;
  cancelled: number;
}

/** JSON context of an execution actor. */
export interface ExecutionMachineContext {
  executionId: string;
  pipelineId: string;
  totalSteps: number;
  /** Steps in flight, by id; bounded by concurrency, never by history. */
  active: Record<string, ActiveStep>;
  /** Ids of the active steps whose actor is in `recovering`. */
  recovering: string[];
  counts: StepCounts;
  currentStepId: string | null;
  /** Why the execution was cancelled, once it is. */
  cancelReason: string | null;
}

/** Input of an execution actor. */
export interface ExecutionMachineInput {
  executionId: string;
  pipelineId: string;
}

/** Start options of a step, as sent to the execution actor. */
export interface StepStartOptions {
  stepId: string;
  stepName: string;
  mode: StepMode;
  attempt?: number;
  resumed?: boolean;
  timeoutMs?: number | null;
}

/** Events an execution actor accepts. */
export type ExecutionEvent =
  | { type: 'EXECUTION.START'; totalSteps: number }
  | { type: 'EXECUTION.PAUSE' }
  | { type: 'EXECUTION.RESUME' }
  | { type: 'EXECUTION.CANCEL'; reason?: string | null }
  | { type: 'EXECUTION.COMPLETE'; success: boolean }
  | ({ type: 'STEP.START' } & StepStartOptions)
  | { type: 'STEP.PROGRESS'; stepId: string; percentage: number; message?: string | null }
  | { type: 'STEP.COMPLETE'; stepId: string; output?: unknown; percentage?: number }
  | { type: 'STEP.FAIL'; stepId: string; error: SerializedError }
  | { type: 'STEP.SKIP'; stepId: string; reason?: string | null }
  | { type: 'STEP.CANCEL'; stepId: string; reason?: string | null }
  | { type: 'STEP.RECORD'; record: StepRecord; output?: unknown }
  | StepParentEvent
  // A step actor reached a final state; its output is what it hands over.
  | { type: `xstate.done.actor.${string}`; output: StepFinished | null }
  | { type: `xstate.error.actor.${string}`; error: unknown };

/** Events an execution actor emits (`actor.on(type, handler)`). */
export type ExecutionEmitted =
  | { type: 'step.finished'; record: StepRecord; output: unknown }
  | { type: 'step.status'; stepId: string; status: StepStatus; attempt: number; failure: StepFailure | null };

function without<T>(record: Record<string, T>, key: string): Record<string, T> {
  const { [key]: _removed, ...rest } = record;
  return rest;
}

function tally(counts: StepCounts, status: StepRecord['status']): StepCounts {
  return { ...counts, [status]: counts[status] + 1 };
}

function cancelledRecord(stepId: string, step: ActiveStep, reason: string | null): StepRecord {
  return {
    stepId,
    stepName: step.stepName,
    status: 'cancelled',
    attempts: step.attempt ?? 0,
    retries: step.retries ?? 0,
    recoveredBy: null,
    error: null,
    reason,
    rollbackCheckpointId: null,
  };
}

/** Step events that are handled the same way while running or paused. */
const stepEventHandlers = {
  'STEP.PROGRESS': { guard: 'isActiveStep', actions: 'forwardToStep' },
  'STEP.COMPLETE': { guard: 'isActiveStep', actions: 'forwardToStep' },
  'STEP.FAIL': { guard: 'isActiveStep', actions: 'forwardToStep' },
  'STEP.SKIP': { guard: 'isActiveStep', actions: 'forwardToStep' },
  'STEP.CANCEL': { guard: 'isActiveStep', actions: 'forwardToStep' },
  'STEP.RECORD': { guard: 'isInactiveRecord', actions: 'recordFinished' },
  'STEP.STATUS': { actions: 'trackStatus' },
  'xstate.done.actor.*': { guard: 'isFinishedStep', actions: 'recordFinished' },
  'xstate.error.actor.*': { actions: 'recordCrashedStep' },
} as const;

/** The step-level event an execution-level step event becomes, or null. */
function toStepEvent(event: ExecutionEvent): StepEvent | null {
  switch (event.type) {
    case 'STEP.PROGRESS':
      return { type: 'STEP.PROGRESS', percentage: event.percentage, message: event.message ?? null };
    case 'STEP.COMPLETE':
      return {
        type: 'STEP.COMPLETE',
        output: event.output,
        ...(event.percentage === undefined ? {} : { percentage: event.percentage }),
      };
    case 'STEP.FAIL':
      return { type: 'STEP.FAIL', error: event.error };
    case 'STEP.SKIP':
      return { type: 'STEP.SKIP', reason: event.reason ?? null };
    case 'STEP.CANCEL':
      return { type: 'STEP.CANCEL', reason: event.reason ?? null };
    default:
      return null;
  }
}

const CHILD_ERROR_PREFIX = 'xstate.error.actor.';
const CHILD_DONE_PREFIX = 'xstate.done.actor.';

/**
 * The step id and hand-over of a step actor's done event, when it comes from
 * an active step (null otherwise: a done event for any other id is ignored).
 */
function finishedStep(
  context: ExecutionMachineContext,
  event: ExecutionEvent,
): { stepId: string; finished: StepFinished } | null {
  if (!event.type.startsWith(CHILD_DONE_PREFIX)) return null;
  const stepId = event.type.slice(CHILD_DONE_PREFIX.length);
  const finished = (event as { output?: StepFinished | null }).output;
  // Every transition into a final state of the step machine sets its output.
  if (!(stepId in context.active) || finished === undefined || finished === null) return null;
  return { stepId, finished };
}

/**
 * The execution machine. States `pending`, `running` (with `steady` and
 * `recovering` inside, so recovery is visible), `paused`, and the final
 * `completed`, `failed`, `cancelled`.
 *
 * @example
 * const actor = createActor(createExecutionLogic({ clock, executors }), {
 *   input: { executionId: 'run-1', pipelineId: 'etl' },
 * });
 */
export const executionMachine = setup({
  types: {
    context: {} as ExecutionMachineContext,
    events: {} as ExecutionEvent,
    input: {} as ExecutionMachineInput,
    emitted: {} as ExecutionEmitted,
  },
  actors: { step: stepMachine },
  guards: {
    canStartStep: ({ context, event }) => event.type === 'STEP.START' && !(event.stepId in context.active),
    isActiveStep: ({ context, event }) => 'stepId' in event && event.stepId in context.active,
    isInactiveRecord: ({ context, event }) => event.type === 'STEP.RECORD' && !(event.record.stepId in context.active),
    succeeded: ({ event }) => event.type === 'EXECUTION.COMPLETE' && event.success,
    hasRecoveringSteps: ({ context }) => context.recovering.length > 0,
    statusStartsRecovery: ({ context, event }) =>
      event.type === 'STEP.STATUS' && event.stepId in context.active && event.status === StepStatus.RECOVERING,
    statusEndsLastRecovery: ({ context, event }) =>
      event.type === 'STEP.STATUS' &&
      event.status !== StepStatus.RECOVERING &&
      context.recovering.length === 1 &&
      context.recovering[0] === event.stepId,
    crashEndsLastRecovery: ({ context, event }) =>
      context.recovering.length === 1 && event.type === `${CHILD_ERROR_PREFIX}${context.recovering[0] ?? ''}`,
    isFinishedStep: ({ context, event }) => finishedStep(context, event) !== null,
    finishEndsLastRecovery: ({ context, event }) =>
      context.recovering.length === 1 && context.recovering[0] === finishedStep(context, event)?.stepId,
  },
  actions: {
    forwardToStep: enqueueActions(({ enqueue, event }) => {
      const stepEvent = toStepEvent(event);
      if (stepEvent !== null && 'stepId' in event) enqueue.sendTo(event.stepId, stepEvent);
    }),
    setTotalSteps: assign(({ event }) => (event.type === 'EXECUTION.START' ? { totalSteps: event.totalSteps } : {})),
    startStep: enqueueActions(({ enqueue, event, context }) => {
      if (event.type !== 'STEP.START') return;
      enqueue.assign({
        active: {
          ...context.active,
          [event.stepId]: { stepName: event.stepName, mode: event.mode, attempt: event.attempt ?? 1, retries: 0 },
        },
        counts: { ...context.counts, started: context.counts.started + 1 },
        currentStepId: event.stepId,
      });
      // Always spawn with the step id: an id-less child is filed under
      // "undefined" and a reused live id orphans the old actor. autoRun: the
      // step starts running as it is created (no STEP.RUN event).
      enqueue.spawnChild('step', {
        id: event.stepId,
        input: {
          stepId: event.stepId,
          stepName: event.stepName,
          mode: event.mode,
          attempt: event.attempt ?? 1,
          resumed: event.resumed ?? false,
          timeoutMs: event.timeoutMs ?? null,
          autoRun: true,
        },
      });
    }),
    trackStatus: enqueueActions(({ enqueue, event, context }) => {
      const step = event.type === 'STEP.STATUS' ? context.active[event.stepId] : undefined;
      if (event.type !== 'STEP.STATUS' || step === undefined) return;
      const others = context.recovering.filter((id) => id !== event.stepId);
      // A step reports `running` only when it begins a retry.
      const retried = event.status === StepStatus.RUNNING ? 1 : 0;
      enqueue.assign({
        recovering: event.status === StepStatus.RECOVERING ? [...others, event.stepId] : others,
        active: {
          ...context.active,
          [event.stepId]: { ...step, attempt: event.attempt, retries: (step.retries ?? 0) + retried },
        },
      });
      enqueue.emit({
        type: 'step.status',
        stepId: event.stepId,
        status: event.status,
        attempt: event.attempt,
        failure: event.failure,
      });
    }),
    // A step's done event (the step actor finished) or a STEP.RECORD (a step
    // that finished elsewhere).
    recordFinished: enqueueActions(({ enqueue, event, context }) => {
      const isRecord = event.type === 'STEP.RECORD';
      const finished = isRecord ? { record: event.record, output: event.output } : finishedStep(context, event)?.finished;
      if (finished === undefined) return;
      const { record, output } = finished;
      const counts = tally(
        isRecord ? { ...context.counts, started: context.counts.started + 1 } : context.counts,
        record.status,
      );
      // A finished step's actor is stopped at once and only its record lives
      // on (outside the actor), so snapshots and stop() stay cheap. One action
      // (one assign) for all of it: this runs once per step.
      if (!isRecord) enqueue(stopChild(record.stepId));
      enqueue.assign({
        counts,
        recovering: context.recovering.includes(record.stepId)
          ? context.recovering.filter((id) => id !== record.stepId)
          : context.recovering,
        ...(isRecord ? { currentStepId: record.stepId } : { active: without(context.active, record.stepId) }),
      });
      enqueue.emit({ type: 'step.finished', record, output });
    }),
    // The execution ends while steps are in flight: their actors stop with
    // the parent, so their records are handed out here, as cancelled.
    finishActiveSteps: enqueueActions(({ enqueue, context, event }) => {
      const reason =
        event.type === 'EXECUTION.CANCEL' ? (event.reason ?? 'Execution cancelled') : 'Execution ended while the step was running';
      for (const [stepId, step] of Object.entries(context.active)) {
        enqueue.emit({ type: 'step.finished', record: cancelledRecord(stepId, step, reason), output: undefined });
      }
      enqueue.assign({
        counts: { ...context.counts, cancelled: context.counts.cancelled + Object.keys(context.active).length },
        active: {},
        recovering: [],
        cancelReason: event.type === 'EXECUTION.CANCEL' ? reason : context.cancelReason,
      });
    }),
    // A step actor that throws (a bug, never a user error: executors are
    // caught in the executor actor) must not take the execution down.
    recordCrashedStep: enqueueActions(({ enqueue, event, context }) => {
      if (!event.type.startsWith(CHILD_ERROR_PREFIX)) return;
      const stepId = event.type.slice(CHILD_ERROR_PREFIX.length);
      const step = context.active[stepId];
      if (step === undefined) return;
      const error = serializeError((event as { error?: unknown }).error);
      const record: StepRecord = { ...cancelledRecord(stepId, step, null), status: 'failed', error };
      enqueue(stopChild(stepId));
      enqueue.assign({
        active: without(context.active, stepId),
        recovering: context.recovering.filter((id) => id !== stepId),
        counts: tally(context.counts, 'failed'),
      });
      enqueue.emit({ type: 'step.finished', record, output: undefined });
    }),
  },
}).createMachine({
  id: 'execution',
  context: ({ input }) => ({
    executionId: input.executionId,
    pipelineId: input.pipelineId,
    totalSteps: 0,
    active: {},
    recovering: [],
    counts: { started: 0, completed: 0, failed: 0, skipped: 0, cancelled: 0 },
    currentStepId: null,
    cancelReason: null,
  }),
  initial: 'pending',
  states: {
    pending: {
      on: {
        'EXECUTION.START': { target: 'running', actions: 'setTotalSteps' },
        'EXECUTION.CANCEL': { target: 'cancelled', actions: 'finishActiveSteps' },
      },
    },
    running: {
      // `recovering` while any step actor is in `recovering`. Explicit
      // transitions rather than `always`: eventless transitions are evaluated
      // after every event, which is a cost on the per-step hot path.
      initial: 'steady',
      states: { steady: {}, recovering: {} },
      on: {
        ...stepEventHandlers,
        'STEP.STATUS': [
          { guard: 'statusStartsRecovery', target: '.recovering', actions: 'trackStatus' },
          { guard: 'statusEndsLastRecovery', target: '.steady', actions: 'trackStatus' },
          { actions: 'trackStatus' },
        ],
        'xstate.done.actor.*': [
          { guard: 'finishEndsLastRecovery', target: '.steady', actions: 'recordFinished' },
          { guard: 'isFinishedStep', actions: 'recordFinished' },
        ],
        'xstate.error.actor.*': [
          { guard: 'crashEndsLastRecovery', target: '.steady', actions: 'recordCrashedStep' },
          { actions: 'recordCrashedStep' },
        ],
        'STEP.START': { guard: 'canStartStep', actions: 'startStep' },
        'EXECUTION.PAUSE': { target: 'paused' },
        'EXECUTION.COMPLETE': [
          { guard: 'succeeded', target: 'completed', actions: 'finishActiveSteps' },
          { target: 'failed', actions: 'finishActiveSteps' },
        ],
        'EXECUTION.CANCEL': { target: 'cancelled', actions: 'finishActiveSteps' },
      },
    },
    paused: {
      // Steps in flight finish while paused; no new step starts.
      on: {
        ...stepEventHandlers,
        'EXECUTION.RESUME': [
          { guard: 'hasRecoveringSteps', target: 'running.recovering' },
          { target: 'running.steady' },
        ],
        'EXECUTION.COMPLETE': [
          { guard: 'succeeded', target: 'completed', actions: 'finishActiveSteps' },
          { target: 'failed', actions: 'finishActiveSteps' },
        ],
        'EXECUTION.CANCEL': { target: 'cancelled', actions: 'finishActiveSteps' },
      },
    },
    completed: { type: 'final' },
    failed: { type: 'final' },
    cancelled: { type: 'final' },
  },
});

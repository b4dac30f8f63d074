/**
 * The step machine: one actor per started step. Pure (no I/O, no clock): the
 * executor, the backoff timer and the alternative path are actors registered
 * by name and provided by `src/actors`, and every fact about time arrives in
 * events.
 *
 * @module
 */
import { assign, enqueueActions, fromPromise, setup } from 'xstate';
import { RecoveryStrategy, StepStatus } from '../constants.js';
import type { SerializedError } from '../errors.js';
import type {
  AlternativeInput,
  BackoffInput,
  ExecutorInput,
  ExecutorOutcome,
  RecoveredBy,
  StepFailure,
  StepFinished,
  StepInput,
  StepMode,
  StepRecord,
} from './machine-types.js';

/** JSON context of a step actor. */
export interface StepContext {
  stepId: string;
  stepName: string;
  mode: StepMode;
  /** The attempt running now (or that ran last), 1-based. */
  attempt: number;
  /** Retries made in this run. */
  retries: number;
  resumed: boolean;
  timeoutMs: number | null;
  /** Latest reported progress, 0..100. */
  progress: number;
  /** Latest progress message. */
  message: string | null;
  /** The failure being recovered from, or that ended the step. */
  failure: StepFailure | null;
  /** Absolute deadline of the pending retry (injected clock, ms). */
  retryAt: number | null;
  /** Leave `pending` without waiting for `STEP.RUN` (see {@link StepInput.autoRun}). */
  autoRun: boolean;
  /**
   * The step's record and output, the machine's `output` (XState hands it to
   * the parent in `xstate.done.actor.<stepId>`). Null in every live state: it
   * is set only on the transition into a final state, so a live step's
   * persisted snapshot never holds the user's output (which need not be
   * JSON). The execution actor stops a finished step in the same synchronous
   * flush, so a final step is never persisted either.
   */
  finished: StepFinished | null;
}

/** Events a step actor accepts from its parent. */
export type StepEvent =
  | { type: 'STEP.RUN' }
  | { type: 'STEP.PROGRESS'; percentage: number; message?: string | null }
  | { type: 'STEP.COMPLETE'; output?: unknown; percentage?: number }
  | { type: 'STEP.FAIL'; error: SerializedError }
  | { type: 'STEP.SKIP'; reason?: string | null }
  | { type: 'STEP.CANCEL'; reason?: string | null };

/**
 * Events a step actor sends to its parent. A finished step sends nothing of
 * its own: XState sends `xstate.done.actor.<stepId>` with the machine's
 * output, a {@link StepFinished}.
 */
export type StepParentEvent = {
  type: 'STEP.STATUS';
  stepId: string;
  status: StepStatus;
  attempt: number;
  failure: StepFailure | null;
};

const notProvided = (name: string) =>
  fromPromise<never, unknown>(() =>
    Promise.reject(new Error(`The "${name}" actor is not provided; use createStepLogic() from src/actors`)),
  );

/** How a step finishes: its final status and what its record and output say beyond the context. */
export interface FinishParams {
  status: StepRecord['status'];
  output?: unknown;
  recoveredBy?: RecoveredBy;
  reason?: string | null;
  error?: SerializedError | null;
}

function record(context: StepContext, status: StepRecord['status'], extra: Omit<FinishParams, 'status' | 'output'> = {}): StepRecord {
  return {
    stepId: context.stepId,
    stepName: context.stepName,
    status,
    attempts: context.attempt,
    retries: context.retries,
    recoveredBy: extra.recoveredBy ?? null,
    error: extra.error !== undefined ? extra.error : (context.failure?.error ?? null),
    reason: extra.reason ?? null,
    rollbackCheckpointId: extra.recoveredBy === 'rollback' ? (context.failure?.rollbackCheckpointId ?? null) : null,
  };
}

function isRetryStrategy(failure: StepFailure): boolean {
  return failure.strategy === RecoveryStrategy.RETRY || failure.strategy === RecoveryStrategy.RETRY_WITH_BACKOFF;
}

/** The failure carried by an executor outcome, when it is one. */
function outcomeFailure(outcome: ExecutorOutcome): StepFailure | null {
  return outcome.ok ? null : outcome.failure;
}

/** Guards of the recovery plan, one per way out of `recovering`. */
const recoveryGuards = {
  /** RETRY / RETRY_WITH_BACKOFF and the retry policy allows another attempt. */
  planRetries: (failure: StepFailure | null): boolean =>
    failure !== null && failure.automated && isRetryStrategy(failure) && failure.retryAllowed,
  planSkips: (failure: StepFailure | null): boolean =>
    failure !== null && failure.automated && failure.strategy === RecoveryStrategy.SKIP,
  planRollsBack: (failure: StepFailure | null): boolean =>
    failure !== null &&
    failure.automated &&
    failure.strategy === RecoveryStrategy.ROLLBACK &&
    failure.rollbackCheckpointId !== null,
  planTakesAlternative: (failure: StepFailure | null): boolean =>
    failure !== null &&
    failure.automated &&
    failure.strategy === RecoveryStrategy.ALTERNATIVE_PATH &&
    failure.alternativeCount > 0,
};

/** True when a plan leads somewhere other than `failed`. */
export function planRecovers(failure: StepFailure | null): boolean {
  return (
    recoveryGuards.planRetries(failure) ||
    recoveryGuards.planSkips(failure) ||
    recoveryGuards.planRollsBack(failure) ||
    recoveryGuards.planTakesAlternative(failure)
  );
}

/**
 * A cancel or skip from outside wins in every live state (final states take
 * no events); leaving a state stops its invoked executor, which aborts the
 * executor's signal.
 */
const cancelOrSkip = {
  'STEP.CANCEL': { target: '#step.cancelled', actions: 'finishCancelled' },
  'STEP.SKIP': { target: '#step.skipped', actions: 'finishSkipped' },
} as const;

/**
 * The executor and alternative actors never reject; an error from one is a
 * bug in the actor layer, caught so that no step error reaches the root.
 */
const crashToFailed = {
  target: '#step.failed',
  actions: ['recordCrash', { type: 'finish', params: { status: 'failed' } }],
} as const;

/**
 * The step machine. States: `pending`, `running`, `recovering`, and the final
 * `completed`, `failed`, `skipped`, `cancelled`. The recovery plan decides
 * through guards whether a failure goes to `recovering` and where it leads.
 *
 * @example
 * const logic = createStepLogic({ clock, executors }); // src/actors
 * const step = createActor(logic, { input: { stepId: 'load', stepName: 'Load', mode: 'executor' } });
 */
export const stepMachine = setup({
  types: {
    context: {} as StepContext,
    events: {} as StepEvent,
    input: {} as StepInput,
    output: {} as StepFinished | null,
  },
  actors: {
    stepExecutor: notProvided('stepExecutor') as unknown as ReturnType<
      typeof fromPromise<ExecutorOutcome, ExecutorInput>
    >,
    backoffTimer: notProvided('backoffTimer') as unknown as ReturnType<typeof fromPromise<null, BackoffInput>>,
    alternativeRunner: notProvided('alternativeRunner') as unknown as ReturnType<
      typeof fromPromise<ExecutorOutcome, AlternativeInput>
    >,
  },
  guards: {
    isExecutorMode: ({ context }) => context.mode === 'executor',
    isManualMode: ({ context }) => context.mode === 'manual',
    autoRunsExecutor: ({ context }) => context.autoRun && context.mode === 'executor',
    autoRuns: ({ context }) => context.autoRun,
    outcomeSucceeded: (_, outcome: ExecutorOutcome) => outcome.ok,
    outcomeRecovers: (_, outcome: ExecutorOutcome) => planRecovers(outcomeFailure(outcome)),
    planRetries: ({ context }) => recoveryGuards.planRetries(context.failure),
    planSkips: ({ context }) => recoveryGuards.planSkips(context.failure),
    planRollsBack: ({ context }) => recoveryGuards.planRollsBack(context.failure),
    planTakesAlternative: ({ context }) => recoveryGuards.planTakesAlternative(context.failure),
  },
  actions: {
    recordFailure: assign((_, outcome: ExecutorOutcome) => {
      const failure = outcomeFailure(outcome);
      return failure === null ? {} : { failure };
    }),
    // Invoke error events are not in StepEvent; read their `error` defensively.
    recordCrash: assign(({ event }) => ({ failure: crashFailure((event as { error?: unknown }).error) })),
    scheduleRetry: assign(({ context }) => ({
      retryAt: context.failure === null ? null : context.failure.failedAt + context.failure.retryDelayMs,
    })),
    beginRetry: assign(({ context }) => ({
      attempt: context.attempt + 1,
      retries: context.retries + 1,
      retryAt: null,
      resumed: false,
    })),
    setProgress: assign((_, params: { percentage: number; message?: string | null | undefined }) => ({
      progress: Math.min(100, Math.max(0, params.percentage)),
      ...(params.message === undefined ? {} : { message: params.message }),
    })),
    // A step reports to its parent when it has one; standalone (graph tools,
    // a test driving one step) it runs without reporting.
    reportStatus: enqueueActions(({ context, self, enqueue }, params: { status: StepStatus }) => {
      if (self._parent === undefined) return;
      enqueue.sendParent({
        type: 'STEP.STATUS',
        stepId: context.stepId,
        status: params.status,
        attempt: context.attempt,
        failure: context.failure,
      } satisfies StepParentEvent);
    }),
    // A finished step reports through its output (see StepContext.finished),
    // not with a message of its own: that costs the parent one event less.
    finishCancelled: assign(({ context, event }) =>
      event.type === 'STEP.CANCEL' ? { finished: finishedWith(context, { status: 'cancelled', reason: event.reason ?? null }) } : {},
    ),
    finishSkipped: assign(({ context, event }) =>
      event.type === 'STEP.SKIP' ? { finished: finishedWith(context, { status: 'skipped', reason: event.reason ?? null }) } : {},
    ),
    finish: assign(({ context }, params: FinishParams) => ({ finished: finishedWith(context, params) })),
  },
}).createMachine({
  id: 'step',
  context: ({ input }) => ({
    stepId: input.stepId,
    stepName: input.stepName,
    mode: input.mode,
    attempt: input.attempt ?? 1,
    retries: 0,
    resumed: input.resumed ?? false,
    timeoutMs: input.timeoutMs ?? null,
    progress: 0,
    message: null,
    failure: null,
    retryAt: null,
    autoRun: input.autoRun ?? false,
    finished: null,
  }),
  output: ({ context }) => context.finished,
  initial: 'pending',
  states: {
    pending: {
      // Spawned by the execution actor: run at once, without a STEP.RUN event.
      always: [
        { guard: 'autoRunsExecutor', target: 'running.executing' },
        { guard: 'autoRuns', target: 'running.awaitingResult' },
      ],
      on: {
        ...cancelOrSkip,
        'STEP.RUN': [
          { guard: 'isExecutorMode', target: 'running.executing' },
          { target: 'running.awaitingResult' },
        ],
      },
    },
    running: {
      // A retry re-enters `executing`; manual steps reach `awaitingResult` from `pending`.
      initial: 'executing',
      on: {
        ...cancelOrSkip,
        'STEP.PROGRESS': {
          actions: { type: 'setProgress', params: ({ event }) => ({ percentage: event.percentage, message: event.message }) },
        },
      },
      states: {
        executing: {
          invoke: {
            id: 'executor',
            src: 'stepExecutor',
            input: ({ context }) => ({
              stepId: context.stepId,
              stepName: context.stepName,
              attempt: context.attempt,
              resumed: context.resumed,
              timeoutMs: context.timeoutMs,
            }),
            onDone: [
              {
                guard: { type: 'outcomeSucceeded', params: ({ event }) => event.output },
                target: '#step.completed',
                actions: [
                  { type: 'setProgress', params: { percentage: 100 } },
                  {
                    type: 'finish',
                    params: ({ context, event }) => ({
                      status: 'completed',
                      output: event.output.ok ? event.output.output : undefined,
                      recoveredBy: context.retries > 0 ? 'retry' : null,
                      error: null,
                    }),
                  },
                ],
              },
              {
                guard: { type: 'outcomeRecovers', params: ({ event }) => event.output },
                target: '#step.recovering',
                actions: { type: 'recordFailure', params: ({ event }) => event.output },
              },
              {
                target: '#step.failed',
                actions: [
                  { type: 'recordFailure', params: ({ event }) => event.output },
                  { type: 'finish', params: { status: 'failed' } },
                ],
              },
            ],
            onError: crashToFailed,
          },
        },
        awaitingResult: {
          on: {
            'STEP.COMPLETE': {
              guard: 'isManualMode',
              target: '#step.completed',
              actions: [
                { type: 'setProgress', params: ({ event }) => ({ percentage: event.percentage ?? 100 }) },
                {
                  type: 'finish',
                  params: ({ event }) => ({ status: 'completed', output: event.output, error: null }),
                },
              ],
            },
            'STEP.FAIL': {
              guard: 'isManualMode',
              target: '#step.failed',
              actions: { type: 'finish', params: ({ event }) => ({ status: 'failed', error: event.error }) },
            },
          },
        },
      },
    },
    recovering: {
      initial: 'deciding',
      on: cancelOrSkip,
      entry: { type: 'reportStatus', params: { status: StepStatus.RECOVERING } },
      states: {
        deciding: {
          always: [
            { guard: 'planRetries', target: 'waitingToRetry', actions: 'scheduleRetry' },
            { guard: 'planTakesAlternative', target: 'alternativePath' },
            {
              guard: 'planSkips',
              target: '#step.skipped',
              actions: {
                type: 'finish',
                params: ({ context }) => ({ status: 'skipped', recoveredBy: 'skip', reason: context.failure?.planDescription ?? null }),
              },
            },
            {
              guard: 'planRollsBack',
              target: '#step.completed',
              actions: [
                { type: 'setProgress', params: { percentage: 100 } },
                { type: 'finish', params: { status: 'completed', recoveredBy: 'rollback' } },
              ],
            },
            // Unreachable while the guards agree with planRecovers(); kept so a
            // disagreement ends in `failed` instead of a stuck step.
            { target: '#step.failed', actions: { type: 'finish', params: { status: 'failed' } } },
          ],
        },
        waitingToRetry: {
          // The wait is an invoked timer with an absolute deadline rather than
          // an `after` transition: delayed transitions are lost on restore
          // (statelyai/xstate#5331), an invoked actor is re-run.
          invoke: {
            id: 'backoff',
            src: 'backoffTimer',
            input: ({ context }) => ({ stepId: context.stepId, deadline: context.retryAt ?? 0 }),
            // Only a retry reports `running` to the parent: a first start needs
            // no message, which keeps the per-step cost down.
            onDone: {
              target: '#step.running.executing',
              actions: ['beginRetry', { type: 'reportStatus', params: { status: StepStatus.RUNNING } }],
            },
            onError: {
              target: '#step.running.executing',
              actions: ['beginRetry', { type: 'reportStatus', params: { status: StepStatus.RUNNING } }],
            },
          },
        },
        alternativePath: {
          invoke: {
            id: 'alternative',
            src: 'alternativeRunner',
            input: ({ context }) => ({
              stepId: context.stepId,
              stepName: context.stepName,
              attempt: context.attempt,
              timeoutMs: context.timeoutMs,
            }),
            onDone: [
              {
                guard: { type: 'outcomeSucceeded', params: ({ event }) => event.output },
                target: '#step.completed',
                actions: [
                  { type: 'setProgress', params: { percentage: 100 } },
                  {
                    type: 'finish',
                    params: ({ event }) => ({
                      status: 'completed',
                      recoveredBy: 'alternative_path',
                      output: event.output.ok ? event.output.output : undefined,
                    }),
                  },
                ],
              },
              {
                target: '#step.failed',
                actions: [
                  { type: 'recordFailure', params: ({ event }) => event.output },
                  { type: 'finish', params: { status: 'failed' } },
                ],
              },
            ],
            onError: crashToFailed,
          },
        },
      },
    },
    completed: { type: 'final' },
    failed: { type: 'final' },
    skipped: { type: 'final' },
    cancelled: { type: 'final' },
  },
});

function finishedWith(context: StepContext, params: FinishParams): StepFinished {
  return { record: record(context, params.status, params), output: params.output };
}

function crashFailure(error: unknown): StepFailure {
  const message = error instanceof Error ? error.message : String(error);
  const name = error instanceof Error ? error.name : 'Error';
  return {
    error: { name, message },
    category: 'system',
    severity: 'critical',
    strategy: RecoveryStrategy.FAIL_FAST,
    automated: true,
    retryAllowed: false,
    retryDelayMs: 0,
    rollbackCheckpointId: null,
    alternativeCount: 0,
    planDescription: 'The step runner crashed; failing fast',
    manualInstructions: null,
    failedAt: 0,
  };
}

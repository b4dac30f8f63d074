/**
 * What a step should do, written from SPEC and the machine types, not from
 * the machine: the model tests generate their paths from the machine itself,
 * so only an independent oracle catches a wrong guard or a missing
 * transition. It is checked on every edge the models explore.
 *
 * @module
 */
import type { StateValue } from 'xstate';
import { RecoveryStrategy, StepStatus } from '../../src/constants.js';
import type { SerializedError } from '../../src/errors.js';
import type {
  ExecutorOutcome,
  RecoveredBy,
  StepFailure,
  StepFinished,
  StepInput,
  StepRecord,
} from '../../src/machines/machine-types.js';
import type { StepContext } from '../../src/machines/step.machine.js';

/** A step as the oracle sees it: dotted state, status, JSON context. */
export interface OracleStep {
  value: string;
  status: 'active' | 'done' | 'error';
  context: StepContext;
}

/** Type of the report of a finished step: the done event XState sends its parent (`xstate.done.actor.<child id>`). */
export const DONE = 'done';

/** What a step tells its parent: status changes, and its record and output once it is finished. */
export type OracleReport =
  | { type: 'STEP.STATUS'; stepId: string; status: StepStatus; attempt: number; failure: StepFailure | null }
  | { type: typeof DONE; output: StepFinished };

/** An event a step sees, from its parent or from its invoked actors. */
export interface OracleStepEvent {
  type: string;
  [key: string]: unknown;
}

/** The oracle's answer to one event. `crash` is set when the step actor itself must error. */
export interface OracleStepResult {
  next: OracleStep;
  reports: OracleReport[];
  crash?: true;
}

/** `{ running: 'executing' }` → `running.executing`. */
export function dotted(value: StateValue): string {
  if (typeof value === 'string') return value;
  return Object.entries(value)
    .map(([key, inner]) => (inner === undefined ? key : `${key}.${dotted(inner)}`))
    .join(',');
}

/** A step as just created from its input: `pending`, or already running when it runs at once (autoRun). */
export function initialStep(input: StepInput): OracleStep {
  const autoRun = input.autoRun ?? false;
  return {
    value: autoRun ? (input.mode === 'executor' ? 'running.executing' : 'running.awaitingResult') : 'pending',
    status: 'active',
    context: {
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
      autoRun,
      finished: null,
    },
  };
}

const clamp = (percentage: number): number => Math.min(100, Math.max(0, percentage));

/** Where a failure's plan leads (SPEC: the guard says whether the plan is automated and allows recovery). */
export function planOutcome(failure: StepFailure): 'retry' | 'alternative' | 'skip' | 'rollback' | 'fail' {
  if (!failure.automated) return 'fail';
  switch (failure.strategy) {
    case RecoveryStrategy.RETRY:
    case RecoveryStrategy.RETRY_WITH_BACKOFF:
      return failure.retryAllowed ? 'retry' : 'fail';
    case RecoveryStrategy.ALTERNATIVE_PATH:
      return failure.alternativeCount > 0 ? 'alternative' : 'fail';
    case RecoveryStrategy.SKIP:
      return 'skip';
    case RecoveryStrategy.ROLLBACK:
      return failure.rollbackCheckpointId === null ? 'fail' : 'rollback';
    default:
      return 'fail';
  }
}

/** Thrown by the oracle where the machine is expected to throw (a guard reading a broken failure). */
function readsFailure(failure: StepFailure): void {
  planOutcome(failure);
}

function finished(
  context: StepContext,
  status: StepRecord['status'],
  extra: { recoveredBy?: RecoveredBy; reason?: string | null; error?: SerializedError | null; output?: unknown } = {},
): StepFinished {
  const recoveredBy = extra.recoveredBy ?? null;
  return {
    record: {
      stepId: context.stepId,
      stepName: context.stepName,
      status,
      attempts: context.attempt,
      retries: context.retries,
      recoveredBy,
      error: extra.error !== undefined ? extra.error : (context.failure?.error ?? null),
      reason: extra.reason ?? null,
      rollbackCheckpointId: recoveredBy === 'rollback' ? (context.failure?.rollbackCheckpointId ?? null) : null,
    },
    output: extra.output,
  };
}

function statusReport(context: StepContext, status: StepStatus): OracleReport {
  return { type: 'STEP.STATUS', stepId: context.stepId, status, attempt: context.attempt, failure: context.failure };
}

/** The failure recorded when an invoked actor rejects (the runtime's planner threw). */
export function crashFailure(error: unknown): StepFailure {
  return {
    error: error instanceof Error ? { name: error.name, message: error.message } : { name: 'Error', message: String(error) },
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

/**
 * The step finishes: it keeps its record and output (only ever in a final
 * state), and its parent gets them after the status reports made on the way.
 */
function end(value: string, context: StepContext, done: StepFinished, reports: OracleReport[] = []): OracleStepResult {
  return { next: { value, status: 'done', context: { ...context, finished: done } }, reports: [...reports, { type: DONE, output: done }] };
}

function stay(value: string, context: StepContext, reports: OracleReport[] = []): OracleStepResult {
  return { next: { value, status: 'active', context }, reports };
}

function afterExecutorFailure(step: OracleStep, failure: StepFailure): OracleStepResult {
  readsFailure(failure);
  const context = { ...step.context, failure };
  const plan = planOutcome(failure);
  if (plan === 'fail') return end('failed', context, finished(context, 'failed'));
  const recovering = statusReport(context, StepStatus.RECOVERING);
  switch (plan) {
    case 'retry':
      return stay('recovering.waitingToRetry', { ...context, retryAt: failure.failedAt + failure.retryDelayMs }, [recovering]);
    case 'alternative':
      return stay('recovering.alternativePath', context, [recovering]);
    case 'skip':
      return end('skipped', context, finished(context, 'skipped', { recoveredBy: 'skip', reason: failure.planDescription }), [recovering]);
    case 'rollback':
      // Completed by rollback: like every way to `completed`, progress is 100.
      return end('completed', { ...context, progress: 100 }, finished(context, 'completed', { recoveredBy: 'rollback' }), [recovering]);
  }
}

/**
 * The step after `event`, with what it reports; null when the step ignores
 * the event. Throws where the step actor must error.
 */
export function expectedStep(step: OracleStep, event: OracleStepEvent): OracleStepResult | null {
  if (step.status !== 'active') return null;
  const { context } = step;
  const running = step.value.startsWith('running.');
  switch (event.type) {
    case 'STEP.CANCEL':
    case 'STEP.SKIP': {
      const status = event.type === 'STEP.CANCEL' ? 'cancelled' : 'skipped';
      return end(status, context, finished(context, status, { reason: (event.reason as string | null | undefined) ?? null }));
    }
    case 'STEP.RUN':
      if (step.value !== 'pending') return null;
      return stay(context.mode === 'executor' ? 'running.executing' : 'running.awaitingResult', context);
    case 'STEP.PROGRESS': {
      if (!running) return null;
      const message = event.message as string | null | undefined;
      return stay(step.value, {
        ...context,
        progress: clamp(event.percentage as number),
        ...(message === undefined ? {} : { message }),
      });
    }
    case 'STEP.COMPLETE': {
      if (step.value !== 'running.awaitingResult') return null;
      const done = { ...context, progress: clamp((event.percentage as number | undefined) ?? 100) };
      return end('completed', done, finished(done, 'completed', { output: event.output, error: null }));
    }
    case 'STEP.FAIL':
      if (step.value !== 'running.awaitingResult') return null;
      return end('failed', context, finished(context, 'failed', { error: event.error as SerializedError }));
    case 'xstate.done.actor.executor': {
      if (step.value !== 'running.executing') return null;
      const outcome = event.output as ExecutorOutcome;
      if (!outcome.ok) return afterExecutorFailure(step, outcome.failure);
      const done = { ...context, progress: 100 };
      const recoveredBy = context.retries > 0 ? 'retry' : null;
      return end('completed', done, finished(done, 'completed', { output: outcome.output, recoveredBy, error: null }));
    }
    case 'xstate.error.actor.executor':
    case 'xstate.error.actor.alternative': {
      const invoked = event.type === 'xstate.error.actor.executor' ? 'running.executing' : 'recovering.alternativePath';
      if (step.value !== invoked) return null;
      const failed = { ...context, failure: crashFailure(event.error) };
      return end('failed', failed, finished(failed, 'failed'));
    }
    case 'xstate.done.actor.backoff':
    case 'xstate.error.actor.backoff': {
      // A failing timer must not leave the step waiting for ever: it retries at once.
      if (step.value !== 'recovering.waitingToRetry') return null;
      const retry = { ...context, attempt: context.attempt + 1, retries: context.retries + 1, retryAt: null, resumed: false };
      return stay('running.executing', retry, [statusReport(retry, StepStatus.RUNNING)]);
    }
    case 'xstate.done.actor.alternative': {
      if (step.value !== 'recovering.alternativePath') return null;
      const outcome = event.output as ExecutorOutcome;
      if (outcome.ok) {
        const done = { ...context, progress: 100 };
        return end('completed', done, finished(done, 'completed', { recoveredBy: 'alternative_path', output: outcome.output }));
      }
      const failed = { ...context, failure: outcome.failure };
      // Reporting reads the failure; a broken one makes the step actor error.
      readsFailure(outcome.failure);
      return end('failed', failed, finished(failed, 'failed'));
    }
    default:
      return null;
  }
}

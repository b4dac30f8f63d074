/**
 * Bringing a fresh execution actor, the context and the tracker to a state
 * recorded elsewhere: a stored journal (resume) or a checkpoint's status.
 *
 * @module
 */
import type { Actor } from 'xstate';
import { ExecutionStatus, ProgressEventType } from '../../constants.js';
import type { executionMachine } from '../../machines/execution.machine.js';
import type { ExecutionContext } from '../context/index.js';
import type { ProgressTracker } from '../progress/index.js';
import type { JournalSummary } from './resume.js';

type ExecutionActor = Actor<typeof executionMachine>;

/** What a replay drives. */
export interface ReplayTarget {
  actor: ExecutionActor;
  executionId: string;
  executionContext: ExecutionContext;
  progressTracker: ProgressTracker;
}

/**
 * Brings a fresh actor, the context and the tracker to a journal's steps and
 * `status`. The tracker announces none of it: those events were delivered
 * in the run where the steps happened.
 */
export function replayJournal(target: ReplayTarget, summary: JournalSummary, status: ExecutionStatus): void {
  if (status === ExecutionStatus.PENDING) return;
  target.progressTracker.replay(() => {
    replaySteps(target, summary, status);
  });
}

function replaySteps(target: ReplayTarget, summary: JournalSummary, status: ExecutionStatus): void {
  const { actor, executionId, executionContext, progressTracker } = target;
  actor.send({ type: 'EXECUTION.START', totalSteps: summary.totalSteps });
  executionContext.start(summary.totalSteps);
  progressTracker.startExecution(executionId, summary.totalSteps);
  for (const record of summary.records.values()) {
    actor.send({ type: 'STEP.RECORD', record, output: summary.outputs.get(record.stepId) });
  }
  applyFinalStatus(target, status);
}

/**
 * A resumed execution starts running again in this process: announced once
 * (the replay announced nothing), with the progress earlier runs left and
 * `data.resumed: true`.
 */
export function announceResumedStart(progressTracker: ProgressTracker, executionId: string, totalSteps: number): void {
  const progress = progressTracker.getExecutionProgress(executionId);
  progressTracker.emitEvent(executionId, ProgressEventType.EXECUTION_STARTED, {
    data: { totalSteps, progressPercentage: progress?.progressPercentage ?? 0, resumed: true },
  });
}

/** Ends a replay in `status` (nothing to do while running). */
export function applyFinalStatus(target: ReplayTarget, status: ExecutionStatus): void {
  const { actor, executionId, executionContext, progressTracker } = target;
  switch (status) {
    case ExecutionStatus.PAUSED:
      actor.send({ type: 'EXECUTION.PAUSE' });
      executionContext.pauseExecution();
      break;
    case ExecutionStatus.COMPLETED:
    case ExecutionStatus.FAILED:
      actor.send({ type: 'EXECUTION.COMPLETE', success: status === ExecutionStatus.COMPLETED });
      executionContext.complete(status === ExecutionStatus.COMPLETED);
      progressTracker.completeExecution(executionId, status === ExecutionStatus.COMPLETED);
      break;
    case ExecutionStatus.CANCELLED:
      actor.send({ type: 'EXECUTION.CANCEL', reason: 'Cancelled before the resume' });
      executionContext.cancelExecution();
      break;
    default:
      break;
  }
}

/** The replay ran now; the execution's times become those the journal recorded. */
export function restoreJournalTimes(executionContext: ExecutionContext, summary: JournalSummary): void {
  if (summary.startedAt === null) return;
  const state = executionContext.exportState();
  const ended = summary.endedAt ?? state.metrics.endTime;
  const duration = ended === null ? null : Math.max(0, (Date.parse(ended) - Date.parse(summary.startedAt)) / 1000);
  executionContext.importState({
    ...state,
    metrics: { ...state.metrics, startTime: summary.startedAt, endTime: ended, duration },
  });
}

/**
 * The replay ran now; the finished steps' times in the tracker become those
 * the journal recorded, so a resumed (or merely opened) execution reports
 * the durations its steps really took, not zero. With `execution`, the
 * execution's own start and end times too (a resume; a cancelled run
 * started again keeps the new start).
 */
export function restoreStepTimes(target: ReplayTarget, summary: JournalSummary, options: { execution: boolean }): void {
  const { progressTracker, executionId } = target;
  if (summary.records.size === 0 && !options.execution) return;
  const state = progressTracker.exportProgress(executionId);
  const steps = state.steps.map((step) => {
    const times = summary.times.get(step.stepId);
    const stepName = summary.records.get(step.stepId)?.stepName ?? step.stepName;
    if (times === undefined) return { ...step, stepName };
    // A step skipped without starting has no start, and so no duration.
    return { ...step, stepName, startTime: times.startedAt, endTime: times.endedAt };
  });
  const execution = options.execution && summary.startedAt !== null ? { startTime: summary.startedAt, endTime: summary.endedAt ?? state.endTime } : {};
  progressTracker.importProgress({ ...state, ...execution, steps });
}

/** Brings a fresh actor to the status of a checkpoint that carries no snapshot. */
export function replayStatus(actor: ExecutionActor, status: ExecutionStatus, totalSteps: number): void {
  if (status === ExecutionStatus.PENDING) return;
  if (status === ExecutionStatus.CANCELLED) {
    actor.send({ type: 'EXECUTION.CANCEL', reason: 'Restored as cancelled' });
    return;
  }
  actor.send({ type: 'EXECUTION.START', totalSteps });
  if (status === ExecutionStatus.PAUSED) actor.send({ type: 'EXECUTION.PAUSE' });
  if (status === ExecutionStatus.COMPLETED || status === ExecutionStatus.FAILED) {
    actor.send({ type: 'EXECUTION.COMPLETE', success: status === ExecutionStatus.COMPLETED });
  }
}

/**
 * What `orchestrator worker` prints while it works: one line when it starts
 * an execution, one per step outcome (and per recovery), one when the
 * execution is finished. Progress updates are left out: a worker runs many
 * executions at once, and their lines interleave.
 *
 * @module
 */
import { ProgressEventType } from '../constants.js';
import type { PipelineRun } from '../runner/types.js';
import type { ProgressEvent } from '../services/progress/index.js';

/** A started execution, as the worker's `onStarted` option reports it. */
export interface StartedExecution {
  executionId: string;
  pipelineId: string;
  attempt: number;
  run: PipelineRun;
}

function seconds(event: ProgressEvent): string {
  const duration = event.data.duration;
  return typeof duration === 'number' ? ` in ${duration.toFixed(1)} s` : '';
}

/** The line of a step event, or null for events the worker does not print. */
export function stepLine(executionId: string, event: ProgressEvent): string | null {
  const step = `worker: ${executionId} ${event.stepId ?? ''}`;
  const why = event.message === undefined ? '' : `: ${event.message}`;
  switch (event.eventType) {
    case ProgressEventType.STEP_COMPLETED:
      return `${step} completed${seconds(event)}`;
    case ProgressEventType.STEP_FAILED:
      return `${step} failed${why}`;
    case ProgressEventType.STEP_RECOVERING:
      return `${step} recovering${why}`;
    case ProgressEventType.STEP_SKIPPED:
      return `${step} skipped${why}`;
    default:
      return null;
  }
}

/** Prints the start of `started` and then its step outcomes through `log`. */
export function logExecution(started: StartedExecution, log: (line: string) => void): void {
  const { executionId, pipelineId, attempt, run } = started;
  log(
    attempt === 1
      ? `worker: ${executionId} started (${pipelineId})`
      : `worker: ${executionId} resumed (${pipelineId}, claim ${attempt}: completed steps are not run again)`,
  );
  run.on('*', (event) => {
    const line = stepLine(executionId, event);
    if (line !== null) log(line);
  });
}

/**
 * Live progress of a run: one line per {@link ProgressEvent}, with a small
 * text bar for progress updates (redrawn in place on a TTY).
 *
 * @module
 */
import { ProgressEventType, type ProgressEvent, type ProgressTracker } from '../../src/index.js';
import type { ExampleOutput } from './output.js';

const BAR_WIDTH = 10;

/** `[#####.....]` for 50 (percent, clamped to 0..100). */
export function progressBar(percentage: number, width = BAR_WIDTH): string {
  const clamped = Math.min(100, Math.max(0, percentage));
  // Floor, so that the bar is full only at 100%.
  const filled = Math.floor((clamped / 100) * width);
  return `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}]`;
}

function numberField(event: ProgressEvent, key: string): number | null {
  const value = event.data[key];
  return typeof value === 'number' ? value : null;
}

function percentText(value: number | null): string {
  return value === null ? '?%' : `${Math.round(value)}%`;
}

function secondsText(value: number | null): string {
  return value === null ? '' : ` in ${value.toFixed(1)} s`;
}

function stepLabel(event: ProgressEvent): string {
  const name = event.stepName !== undefined && event.stepName !== event.stepId ? ` (${event.stepName})` : '';
  return `${event.stepId ?? '?'}${name}`;
}

/** The line printed for one event. */
export function formatProgressEvent(event: ProgressEvent): string {
  const overall = `overall ${percentText(numberField(event, 'executionPercentage'))}`;
  switch (event.eventType) {
    case ProgressEventType.EXECUTION_STARTED:
    {
      const total = numberField(event, 'totalSteps');
      return `>> execution ${event.executionId} started, ${total ?? '?'} ${total === 1 ? 'step' : 'steps'}`;
    }
    case ProgressEventType.EXECUTION_COMPLETED:
    case ProgressEventType.EXECUTION_FAILED: {
      const verb = event.eventType === ProgressEventType.EXECUTION_COMPLETED ? 'completed' : 'failed';
      const counts = `${numberField(event, 'completedSteps') ?? 0} completed, ${numberField(event, 'failedSteps') ?? 0} failed`;
      return `<< execution ${verb} at ${percentText(numberField(event, 'progressPercentage'))} (${counts})${secondsText(numberField(event, 'duration'))}`;
    }
    case ProgressEventType.STEP_STARTED:
      return `-> ${stepLabel(event)} started`;
    case ProgressEventType.STEP_COMPLETED:
      return `ok ${stepLabel(event)} completed${secondsText(numberField(event, 'duration'))}, ${overall}`;
    case ProgressEventType.STEP_FAILED:
      return `!! ${stepLabel(event)} failed: ${event.message ?? 'no message'}, ${overall}`;
    case ProgressEventType.STEP_SKIPPED:
      return `-- ${stepLabel(event)} skipped${event.message === undefined ? '' : `: ${event.message}`}`;
    case ProgressEventType.STEP_RECOVERING:
      return `.. ${stepLabel(event)} recovering${event.message === undefined ? '' : `: ${event.message}`}`;
    case ProgressEventType.PROGRESS_UPDATE: {
      const pct = numberField(event, 'progressPercentage') ?? 0;
      const message = event.message === undefined ? '' : ` ${event.message}`;
      return `   ${event.stepId ?? '?'} ${progressBar(pct)} ${percentText(pct)}${message}`;
    }
    case ProgressEventType.CHECKPOINT_CREATED:
    case ProgressEventType.CHECKPOINT_RESTORED: {
      const verb = event.eventType === ProgressEventType.CHECKPOINT_CREATED ? 'created' : 'restored';
      const id = event.data.checkpointId;
      return `## checkpoint ${verb}: ${event.message ?? '(no description)'}${typeof id === 'string' ? ` [${id}]` : ''}`;
    }
    case ProgressEventType.CUSTOM_EVENT:
      return `   ${event.message ?? 'custom event'}`;
  }
}

/**
 * Prints every event of `executionId` to `output`; progress updates of one
 * step share a line on a TTY. Returns the unsubscribe function.
 */
export function attachLiveProgress(tracker: ProgressTracker, executionId: string, output: ExampleOutput): () => void {
  return tracker.addEventHandler((event) => {
    if (event.executionId !== executionId) return;
    const text = formatProgressEvent(event);
    if (event.eventType === ProgressEventType.PROGRESS_UPDATE) output.redraw(`progress:${event.stepId ?? ''}`, text);
    else output.line(text);
  });
}

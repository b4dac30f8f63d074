/**
 * What the live view shows, kept up to date from the run's progress events:
 * each step's status, bar, message and retries, and the overall percentage
 * with an ETA.
 *
 * @module
 */
import { ProgressEventType, StepStatus } from '../../constants.js';
import type { RunStart } from '../../runner/index.js';
import type { ProgressEvent } from '../../services/progress/index.js';

/** One step's line. */
export interface StepView {
  id: string;
  name: string;
  status: StepStatus;
  percentage: number;
  message: string | null;
  retries: number;
  durationSeconds: number | null;
}

function numberIn(event: ProgressEvent, key: string): number | null {
  const value = event.data[key];
  return typeof value === 'number' && Number.isFinite(value) ? value : null;
}

/** The run as the live view sees it. */
export class RunModel {
  readonly steps = new Map<string, StepView>();
  /** Overall percentage (finished steps plus running fractions). */
  overall = 0;
  readonly #startedAtMs: number;
  /** Overall percentage when this process started watching (a resumed run starts above 0). */
  readonly #baseline: number;
  readonly #now: () => number;

  constructor(start: RunStart, now: () => number) {
    this.#now = now;
    this.#startedAtMs = now();
    for (const step of start.steps) {
      const finished = step.status === StepStatus.COMPLETED || step.status === StepStatus.SKIPPED;
      this.steps.set(step.id, {
        id: step.id,
        name: step.name,
        // Anything not finished (cancelled earlier, never started) runs now.
        status: finished ? step.status : StepStatus.PENDING,
        percentage: step.status === StepStatus.COMPLETED ? 100 : 0,
        message: finished ? 'done earlier' : null,
        retries: 0,
        durationSeconds: step.durationSeconds,
      });
    }
    const total = start.steps.length;
    const done = start.steps.filter((step) => step.status === StepStatus.COMPLETED || step.status === StepStatus.SKIPPED).length;
    this.overall = total === 0 ? 0 : (done / total) * 100;
    this.#baseline = this.overall;
  }

  /** Applies one event; returns the step it changed, if any. */
  apply(event: ProgressEvent): StepView | undefined {
    const overall = numberIn(event, 'executionPercentage') ?? numberIn(event, 'progressPercentage');
    if (event.stepId === undefined) {
      if (event.eventType === ProgressEventType.EXECUTION_COMPLETED && overall !== null) this.overall = overall;
      return undefined;
    }
    if (overall !== null) this.overall = overall;
    const step = this.steps.get(event.stepId);
    if (step === undefined) return undefined;
    const pct = numberIn(event, 'progressPercentage');
    switch (event.eventType) {
      case ProgressEventType.STEP_STARTED:
        step.status = StepStatus.RUNNING;
        step.percentage = pct ?? 0;
        break;
      case ProgressEventType.STEP_RECOVERING:
        step.status = StepStatus.RECOVERING;
        step.retries += 1;
        step.message = event.message ?? null;
        break;
      case ProgressEventType.PROGRESS_UPDATE:
        step.percentage = pct ?? step.percentage;
        step.message = event.message ?? step.message;
        break;
      case ProgressEventType.STEP_COMPLETED:
        step.status = StepStatus.COMPLETED;
        step.percentage = 100;
        step.message = null;
        step.durationSeconds = numberIn(event, 'duration');
        break;
      case ProgressEventType.STEP_FAILED: {
        const cancelled = event.message?.startsWith('Cancelled') === true;
        step.status = cancelled ? StepStatus.CANCELLED : StepStatus.FAILED;
        step.message = event.message ?? null;
        step.durationSeconds = numberIn(event, 'duration');
        break;
      }
      case ProgressEventType.STEP_SKIPPED:
        step.status = StepStatus.SKIPPED;
        step.message = event.message ?? null;
        break;
      default:
        return undefined;
    }
    return step;
  }

  /** Seconds since this process started the run. */
  get elapsedSeconds(): number {
    return (this.#now() - this.#startedAtMs) / 1000;
  }

  /** Seconds left at the pace seen so far, or null before there is a pace. */
  get etaSeconds(): number | null {
    const gained = this.overall - this.#baseline;
    if (gained <= 0 || this.overall >= 100) return null;
    return (this.elapsedSeconds * (100 - this.overall)) / gained;
  }

  /** Counts by status. */
  count(status: StepStatus): number {
    let n = 0;
    for (const step of this.steps.values()) if (step.status === status) n += 1;
    return n;
  }
}

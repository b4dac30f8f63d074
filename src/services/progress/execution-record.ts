/**
 * Internal bookkeeping of one execution: its steps plus running counters, so
 * that the percentage and the ETA cost O(1) whatever the number of steps.
 * Every change to a step goes through {@link ExecutionRecord.mutate}, which
 * takes the step's contribution out of the counters and puts it back after
 * the change; that single path keeps the counters exact.
 *
 * @module
 * @internal
 */
import { ExecutionStatus, StepStatus } from '../../constants.js';
import { PROGRESS_STATE_FORMAT_VERSION, type ParsedProgressState, type ProgressState } from './progress-schema.js';
import type { ExecutionPerformance, ExecutionProgress, StepProgress } from './progress-types.js';

/** Mutable state of one step. */
export interface StepRecord {
  readonly stepId: string;
  stepName: string;
  status: StepStatus;
  percentage: number;
  errorMessage: string | null;
  startMs: number | null;
  endMs: number | null;
  lastMessage: string | undefined;
  skipReason: string | undefined;
}

function isFinished(status: StepStatus): boolean {
  return status === StepStatus.COMPLETED || status === StepStatus.FAILED || status === StepStatus.SKIPPED;
}

/** Whether the step counts as running work (its partial percentage counts). */
export function isActive(status: StepStatus): boolean {
  return status === StepStatus.RUNNING || status === StepStatus.RECOVERING;
}

// Imported times may be out of order; a negative duration would skew the ETA.
function stepDurationMs(startMs: number, endMs: number): number {
  return Math.max(0, endMs - startMs);
}

function iso(ms: number | null): string | null {
  return ms === null ? null : new Date(ms).toISOString();
}

function parseMs(time: string | null): number | null {
  return time === null ? null : Date.parse(time);
}

/** One tracked execution. */
export class ExecutionRecord {
  status: ExecutionStatus = ExecutionStatus.RUNNING;
  startMs: number | null;
  endMs: number | null = null;
  /** Progress updates received (direct and through variables). */
  progressUpdates = 0;
  readonly steps = new Map<string, StepRecord>();

  private completed = 0;
  private failed = 0;
  private skipped = 0;
  private running = 0;
  /** Σ percentage of active steps. */
  private runningSum = 0;
  private measured = 0;
  private durationSumMs = 0;

  constructor(
    readonly executionId: string,
    public totalSteps: number,
    startMs: number | null,
    /** Start order among executions (variables resolve to the latest). */
    readonly sequence: number,
  ) {
    this.startMs = startMs;
  }

  /** Adds a new step and counts it. */
  addStep(step: StepRecord): void {
    this.steps.set(step.stepId, step);
    this.count(step, 1);
  }

  /** Applies `change` to `step` with its counter contribution kept exact. */
  mutate(step: StepRecord, change: (s: StepRecord) => void): void {
    this.count(step, -1);
    change(step);
    this.count(step, 1);
  }

  private count(step: StepRecord, sign: 1 | -1): void {
    switch (step.status) {
      case StepStatus.COMPLETED:
        this.completed += sign;
        break;
      case StepStatus.FAILED:
        this.failed += sign;
        break;
      case StepStatus.SKIPPED:
        this.skipped += sign;
        break;
      case StepStatus.RUNNING:
      case StepStatus.RECOVERING:
        this.running += sign;
        // Reset at zero so float drift from many +/- cannot accumulate.
        this.runningSum = this.running === 0 ? 0 : this.runningSum + sign * step.percentage;
        break;
      default:
        break;
    }
    if (isFinished(step.status) && step.startMs !== null && step.endMs !== null) {
      this.measured += sign;
      this.durationSumMs = this.measured === 0 ? 0 : this.durationSumMs + sign * stepDurationMs(step.startMs, step.endMs);
    }
  }

  get finishedSteps(): number {
    return this.completed + this.failed + this.skipped;
  }

  /** See {@link ExecutionProgress.progressPercentage}. */
  percentage(): number {
    if (this.totalSteps === 0) return this.status === ExecutionStatus.COMPLETED ? 100 : 0;
    const done = this.finishedSteps + this.runningSum / 100;
    const pct = (done / this.totalSteps) * 100;
    return pct <= 0 ? 0 : pct > 100 ? 100 : pct;
  }

  private isEnded(): boolean {
    const status = this.status;
    const final = status === ExecutionStatus.COMPLETED || status === ExecutionStatus.FAILED || status === ExecutionStatus.CANCELLED;
    return final && this.endMs !== null;
  }

  /** See {@link ExecutionProgress.estimatedCompletion}. */
  estimatedCompletionMs(nowMs: number): number | null {
    if (this.isEnded()) return this.endMs;
    if (this.measured === 0) return null;
    const average = this.durationSumMs / this.measured;
    const remaining = Math.max(0, this.totalSteps - this.finishedSteps - this.runningSum / 100);
    return Math.round(nowMs + average * remaining);
  }

  toProgress(nowMs: number): ExecutionProgress {
    return {
      executionId: this.executionId,
      status: this.status,
      totalSteps: this.totalSteps,
      completedSteps: this.completed,
      failedSteps: this.failed,
      skippedSteps: this.skipped,
      runningSteps: this.running,
      progressPercentage: this.percentage(),
      startTime: iso(this.startMs),
      endTime: iso(this.endMs),
      estimatedCompletion: iso(this.estimatedCompletionMs(nowMs)),
    };
  }

  toPerformance(nowMs: number): ExecutionPerformance {
    const end = this.isEnded() ? this.endMs : nowMs;
    return {
      status: this.status,
      totalSteps: this.totalSteps,
      finishedSteps: this.finishedSteps,
      measuredSteps: this.measured,
      totalStepDuration: this.durationSumMs / 1000,
      averageStepDuration: this.measured === 0 ? null : this.durationSumMs / this.measured / 1000,
      elapsed: this.startMs === null || end === null ? null : Math.max(0, end - this.startMs) / 1000,
      progressUpdates: this.progressUpdates,
    };
  }

  /** The JSON export (see `ProgressTracker.exportProgress`). */
  toState(): ProgressState {
    return {
      formatVersion: PROGRESS_STATE_FORMAT_VERSION,
      executionId: this.executionId,
      status: this.status,
      totalSteps: this.totalSteps,
      startTime: iso(this.startMs),
      endTime: iso(this.endMs),
      steps: Array.from(this.steps.values(), toStepProgress),
    };
  }

  /** Rebuilds a record from an imported state; counters are derived from the steps. */
  static fromState(state: ParsedProgressState, sequence: number): ExecutionRecord {
    const record = new ExecutionRecord(state.executionId, state.totalSteps, parseMs(state.startTime), sequence);
    record.status = state.status;
    record.endMs = parseMs(state.endTime);
    for (const step of state.steps) {
      record.addStep({
        stepId: step.stepId,
        stepName: step.stepName,
        status: step.status,
        percentage: step.progressPercentage,
        errorMessage: step.errorMessage,
        startMs: parseMs(step.startTime),
        endMs: parseMs(step.endTime),
        lastMessage: step.metadata.lastMessage,
        skipReason: step.metadata.skipReason,
      });
    }
    return record;
  }
}

/** A copy of a step as the public {@link StepProgress}. */
export function toStepProgress(step: StepRecord): StepProgress {
  const metadata: StepProgress['metadata'] = {};
  if (step.lastMessage !== undefined) metadata.lastMessage = step.lastMessage;
  if (step.skipReason !== undefined) metadata.skipReason = step.skipReason;
  return {
    stepId: step.stepId,
    stepName: step.stepName,
    status: step.status,
    progressPercentage: step.percentage,
    errorMessage: step.errorMessage,
    startTime: iso(step.startMs),
    endTime: iso(step.endMs),
    duration: stepDurationSeconds(step),
    metadata,
  };
}

/** A finished step's duration in seconds (null while it runs or when it never started). */
export function stepDurationSeconds(step: StepRecord): number | null {
  return isFinished(step.status) && step.startMs !== null && step.endMs !== null ? stepDurationMs(step.startMs, step.endMs) / 1000 : null;
}

/** A new step record at 0 %. */
export function createStep(stepId: string, stepName: string, status: StepStatus, startMs: number | null): StepRecord {
  return { stepId, stepName, status, percentage: 0, errorMessage: null, startMs, endMs: null, lastMessage: undefined, skipReason: undefined };
}

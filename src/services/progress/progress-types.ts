/**
 * Public shapes of the progress tracker: what it returns, what it emits and
 * what it accepts. The persisted form ({@link ProgressState}) lives in
 * `progress-schema.ts` next to its zod schema.
 *
 * @module
 */
import type { Clock } from '../../clock.js';
import type { ExecutionStatus, ProgressEventType, StepStatus } from '../../constants.js';
import type { VariableManager } from '../variables/variable-manager.js';

/** A snapshot of one execution's progress (a copy; changing it changes nothing). */
export interface ExecutionProgress {
  executionId: string;
  status: ExecutionStatus;
  totalSteps: number;
  completedSteps: number;
  failedSteps: number;
  skippedSteps: number;
  /** Steps that are `running` or `recovering` (both are active work). */
  runningSteps: number;
  /**
   * (completed + failed + skipped + Σ running steps' percentage / 100) / totalSteps × 100,
   * clamped to 0..100. With `totalSteps` 0 it is 100 once the execution completed
   * successfully, else 0 (never NaN).
   */
  progressPercentage: number;
  startTime: string | null;
  endTime: string | null;
  /**
   * Estimated completion time (ISO): now + average duration of the finished steps
   * that ran × the work left (`totalSteps` − finished − running fractions). `null`
   * until a step that had started has finished; the `endTime` once the execution ended.
   */
  estimatedCompletion: string | null;
}

/** Free-form notes kept with a step. */
export interface StepProgressMetadata {
  /** The last message given to `updateStepProgress` / `markStepRecovering`. */
  lastMessage?: string;
  /** Why the step was skipped (`skipStep(..., reason)`). */
  skipReason?: string;
}

/** A snapshot of one step's progress (a copy). */
export interface StepProgress {
  stepId: string;
  stepName: string;
  status: StepStatus;
  /** 0..100. */
  progressPercentage: number;
  errorMessage: string | null;
  startTime: string | null;
  endTime: string | null;
  /** Seconds from start to end; `null` until the step finished (or when it never started). */
  duration: number | null;
  metadata: StepProgressMetadata;
}

/**
 * One progress notification. `data` always holds the numbers that changed:
 * `progressPercentage` (the step's for step events, the execution's for
 * execution events) and `executionPercentage` for step events.
 */
export interface ProgressEvent {
  eventType: ProgressEventType;
  /** ISO time from the tracker's clock. */
  timestamp: string;
  executionId: string;
  stepId?: string;
  stepName?: string;
  message?: string;
  data: Record<string, unknown>;
}

/** Receives every {@link ProgressEvent}. Whatever it throws is caught and counted. */
export type ProgressEventHandler = (event: ProgressEvent) => void;

/** Restricts `events()` to one execution. */
export interface ProgressEventFilter {
  /** Only events of this execution. */
  executionId?: string;
}

/** Options of `completeStep`. */
export interface CompleteStepOptions {
  /**
   * `false` marks the step failed.
   * @default true
   */
  success?: boolean;
  /** Kept as the step's `errorMessage` when it failed. */
  errorMessage?: string;
  /**
   * Final percentage (clamped to 0..100).
   * @default 100 on success; a failed step keeps its current percentage
   */
  progressPercentage?: number;
}

/** Options of `emitEvent`. */
export interface EmitEventOptions {
  stepId?: string;
  stepName?: string;
  message?: string;
  /** Extra data; copied into the event. */
  data?: Record<string, unknown>;
}

/** The variable manager methods the tracker listens to (a `VariableManager` fits). */
export type ProgressVariableSource = Pick<VariableManager, 'onVariableCreated' | 'onVariableChanged'>;

/** Options of `new ProgressTracker(...)`. */
export interface ProgressTrackerOptions {
  /**
   * The execution that progress variables refer to. Without it a variable
   * `progress.<stepId>.*` refers to the most recently started execution that
   * has that step.
   */
  executionContext?: { readonly executionId: string };
  /** When given, `progress.<stepId>.percentage` / `.status` variables drive the steps. */
  variableManager?: ProgressVariableSource;
  /**
   * Source of every timestamp, duration and ETA.
   * @default systemClock
   */
  clock?: Clock;
}

/** Per-execution figures of {@link ProgressPerformanceMetrics}. */
export interface ExecutionPerformance {
  status: ExecutionStatus;
  totalSteps: number;
  /** Completed + failed + skipped. */
  finishedSteps: number;
  /** Finished steps that had started (so have a duration). */
  measuredSteps: number;
  /** Sum of the measured steps' durations, seconds. */
  totalStepDuration: number;
  /** Average measured step duration, seconds; `null` before any. */
  averageStepDuration: number | null;
  /** Seconds since the execution started (to its end once ended); `null` before start. */
  elapsed: number | null;
  /** Progress updates received for this execution (direct and through variables). */
  progressUpdates: number;
}

/** What `getPerformanceMetrics()` reports. */
export interface ProgressPerformanceMetrics {
  /** Events emitted since construction (all executions). */
  eventsEmitted: number;
  /** Events emitted by type. */
  eventsByType: Partial<Record<ProgressEventType, number>>;
  /** Handler calls that threw. */
  handlerErrors: number;
  /** Message of the last error a handler threw. */
  lastHandlerError: string | null;
  /** Registered handlers, async iterators included. */
  eventHandlers: number;
  /** Open async iterators (`events()`). */
  activeStreams: number;
  /** Executions currently tracked. */
  trackedExecutions: number;
  /** `progress.*` variable writes that changed a step. */
  variableUpdatesApplied: number;
  /** `progress.*` variable writes that could not be applied (no such execution, bad value). */
  variableUpdatesIgnored: number;
  /** Figures per tracked execution id. */
  executions: Record<string, ExecutionPerformance>;
}

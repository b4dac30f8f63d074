/**
 * The small structural types the recovery service depends on and hands out,
 * so it never imports the classes of the services around it.
 *
 * @module
 */
import type { RecoveryStrategy } from '../../constants.js';
import type { ErrorInfo } from './error-info.js';
import type { RecoveryPlan } from './recovery-plan.js';

/** What ROLLBACK needs: an `ExecutionContext`, or the manager standing in for one. */
export interface RollbackTarget {
  /** Execution id, also used for progress reports. */
  executionId: string;
  /** Checkpoints, oldest first; the last one is "the latest". */
  readonly checkpoints: readonly { id: string }[];
  /** Restores a checkpoint; false for an unknown id. */
  restoreCheckpoint(id: string): boolean;
}

/** The one progress call recovery makes (a `ProgressTracker` fits). */
export interface RecoveryProgressSink {
  /** Marks the step RECOVERING and emits STEP_RECOVERING. */
  markStepRecovering(executionId: string, stepId: string, message?: string): void;
}

/** What an executor receives on every call. */
export interface StepRunContext {
  /** Aborted when the attempt times out (`plan.timeoutMs`) or the caller cancels. */
  signal: AbortSignal;
  /** 1 for the first call, 2 for the first retry... (1 for each alternative). */
  attempt: number;
}

/** A step's work; may be sync or async. */
export type StepExecutor<T = unknown> = (context: StepRunContext) => T | Promise<T>;

/** Alternatives for ALTERNATIVE_PATH: a list, or named executors picked by `plan.alternativeSteps`. */
export type AlternativeExecutors<T = unknown> =
  | readonly StepExecutor<T>[]
  | Readonly<Record<string, StepExecutor<T>>>;

/** Options of `RecoveryManager.executeRecovery`. */
export interface ExecuteRecoveryOptions<T = unknown> {
  /** Cancels the run: the current attempt's signal aborts and no retry follows. */
  signal?: AbortSignal;
  /** Executors for ALTERNATIVE_PATH. */
  alternatives?: AlternativeExecutors<T>;
  /**
   * Bound of each attempt in ms when the plan has no `timeoutMs` (the first
   * call uses the step's own plan's `timeoutMs` when one is set).
   * @default none
   */
  timeoutMs?: number;
  /**
   * Waits between retries; must reject when `signal` aborts.
   * @default a timer on the manager's clock
   */
  sleep?: (ms: number, signal: AbortSignal) => Promise<void>;
  /** Extra context recorded with every error of this run. */
  context?: Record<string, unknown>;
}

/** How a recovery run ended. */
export interface RecoveryOutcome<T = unknown> {
  /** The step may count as done (also after SKIP, ROLLBACK, ALTERNATIVE_PATH). */
  success: boolean;
  /** Calls of the main executor (the first call is attempt 1). */
  attempts: number;
  /** Retries made (`attempts - 1` unless cancelled). */
  retries: number;
  /** Strategy used; null when the first call succeeded or the run was cancelled before any failure. */
  strategy: RecoveryStrategy | null;
  /** Plan used; null when no call failed. */
  plan: RecoveryPlan | null;
  /** The executor's (or the winning alternative's) resolved value. */
  output?: T;
  /** Last error when `success` is false. */
  error?: Error;
  /** Classification of the last recorded error. */
  errorInfo?: ErrorInfo;
  /** Ended by SKIP. */
  skipped: boolean;
  /** Ended because the caller's signal aborted (or the manager shut down). */
  cancelled: boolean;
  /** Checkpoint restored by ROLLBACK. */
  rolledBackTo?: string;
  /** Name (or list index) of the alternative that succeeded. */
  alternative?: string;
  /** For MANUAL_INTERVENTION: what a human should do. */
  manualInstructions?: string;
}

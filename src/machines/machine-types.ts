/**
 * JSON shapes shared by the pure machines and the actor layer. Everything
 * here is plain data so a persisted snapshot round-trips through JSON.
 *
 * @module
 */
import type { ErrorCategory, ErrorSeverity, RecoveryStrategy, StepStatus } from '../constants.js';
import type { SerializedError } from '../errors.js';

/** How a step is driven: by an executor the step actor invokes, or by manager calls. */
export type StepMode = 'executor' | 'manual';

/**
 * What the step machine needs to know about a failure to choose its next
 * state. The actor layer builds it from `classifyError` and the recovery plan
 * (which may hold functions, so it never enters the machine itself).
 */
export interface StepFailure {
  /** The error, serialised. */
  error: SerializedError;
  /** Category from classification. */
  category: ErrorCategory;
  /** Severity from classification. */
  severity: ErrorSeverity;
  /** The plan's strategy. */
  strategy: RecoveryStrategy;
  /** Whether the plan may run without a person (false for MANUAL_INTERVENTION). */
  automated: boolean;
  /**
   * Whether the plan's retry policy allows one more attempt after the failed
   * one (maxAttempts, retryable categories, retryCondition), decided once in
   * the recovery policy. Only read for RETRY and RETRY_WITH_BACKOFF.
   */
  retryAllowed: boolean;
  /** Milliseconds to wait before the retry (backoff and jitter already applied). */
  retryDelayMs: number;
  /** The checkpoint a ROLLBACK restores (the latest one when the plan names none); null when there is none. */
  rollbackCheckpointId: string | null;
  /** How many alternative executors are registered for ALTERNATIVE_PATH. */
  alternativeCount: number;
  /** Readable plan description. */
  planDescription: string;
  /** Instructions for MANUAL_INTERVENTION. */
  manualInstructions: string | null;
  /** Time of the failure on the injected clock (ms since the epoch). */
  failedAt: number;
}

/** Outcome of one executor run, as the executor actor reports it. It never rejects. */
export type ExecutorOutcome =
  | { ok: true; output: unknown }
  | { ok: false; failure: StepFailure };

/** How a finished step got to its final state. */
export type RecoveredBy = 'retry' | 'skip' | 'rollback' | 'alternative_path' | null;

/**
 * A finished step, as plain data. The execution actor stops a step's actor as
 * soon as it finishes and hands this record out, so live actors stay bounded
 * by the steps in flight.
 */
export interface StepRecord {
  stepId: string;
  stepName: string;
  status: Extract<StepStatus, 'completed' | 'failed' | 'skipped' | 'cancelled'>;
  /** Attempts made in the step's latest run (1 for a first-time success). */
  attempts: number;
  /** Retries made in the latest run. */
  retries: number;
  /** How recovery ended it, when it did. */
  recoveredBy: RecoveredBy;
  /** The last error, for failed (and recovered) steps. */
  error: SerializedError | null;
  /** Why it was skipped or cancelled. */
  reason: string | null;
  /** The checkpoint a ROLLBACK asked to restore. */
  rollbackCheckpointId: string | null;
}

/**
 * What a finished step hands its parent: the output of the step machine,
 * which XState delivers in `xstate.done.actor.<stepId>`.
 */
export interface StepFinished {
  record: StepRecord;
  /** The executor's (or `completeStep`'s) output; undefined for other endings. */
  output: unknown;
}

/** Input of a step actor. */
export interface StepInput {
  stepId: string;
  stepName: string;
  mode: StepMode;
  /**
   * The number of the first attempt of this run.
   * @default 1
   */
  attempt?: number;
  /** True when the step is re-run after its process died mid-step. */
  resumed?: boolean;
  /** Per-attempt timeout in ms, enforced through the executor's signal. */
  timeoutMs?: number | null;
  /**
   * Leave `pending` at once, as if `STEP.RUN` had been received. The
   * execution actor spawns its steps this way, which saves one event per
   * step; a standalone step waits for `STEP.RUN`.
   * @default false
   */
  autoRun?: boolean;
}

/** Input of the executor actor (JSON: it is persisted and re-run on restore). */
export interface ExecutorInput {
  stepId: string;
  stepName: string;
  attempt: number;
  resumed: boolean;
  timeoutMs: number | null;
}

/** Input of the alternative-path actor. */
export interface AlternativeInput {
  stepId: string;
  stepName: string;
  attempt: number;
  timeoutMs: number | null;
}

/** Input of the backoff timer: an absolute deadline, so a restored wait only waits what is left. */
export interface BackoffInput {
  stepId: string;
  deadline: number;
}

/**
 * The seed's enums, ported as `as const` objects with the upstream lower-case
 * string values, each with a same-named union type (SPEC "Naming rule").
 *
 * @module
 */

/** Where a variable lives. @example `VariableScope.GLOBAL === 'global'` */
export const VariableScope = {
  GLOBAL: 'global',
  STEP: 'step',
  LOOP: 'loop',
  TEMPORARY: 'temporary',
} as const;
/** One of {@link VariableScope}'s values. */
export type VariableScope = (typeof VariableScope)[keyof typeof VariableScope];

/** What a variable is for. INTERMEDIATE is the default. */
export const VariableType = {
  INPUT: 'input',
  OUTPUT: 'output',
  INTERMEDIATE: 'intermediate',
  CONFIGURATION: 'configuration',
  SYSTEM: 'system',
} as const;
/** One of {@link VariableType}'s values. */
export type VariableType = (typeof VariableType)[keyof typeof VariableType];

/** Lifecycle of a whole execution. */
export const ExecutionStatus = {
  PENDING: 'pending',
  RUNNING: 'running',
  PAUSED: 'paused',
  COMPLETED: 'completed',
  FAILED: 'failed',
  CANCELLED: 'cancelled',
} as const;
/** One of {@link ExecutionStatus}'s values. */
export type ExecutionStatus = (typeof ExecutionStatus)[keyof typeof ExecutionStatus];

/** Lifecycle of one step. */
export const StepStatus = {
  PENDING: 'pending',
  RUNNING: 'running',
  RECOVERING: 'recovering',
  COMPLETED: 'completed',
  FAILED: 'failed',
  SKIPPED: 'skipped',
  CANCELLED: 'cancelled',
} as const;
/** One of {@link StepStatus}'s values. */
export type StepStatus = (typeof StepStatus)[keyof typeof StepStatus];

/** Kinds of {@link ProgressEvent}. */
export const ProgressEventType = {
  EXECUTION_STARTED: 'execution_started',
  EXECUTION_COMPLETED: 'execution_completed',
  EXECUTION_FAILED: 'execution_failed',
  STEP_STARTED: 'step_started',
  STEP_COMPLETED: 'step_completed',
  STEP_FAILED: 'step_failed',
  STEP_SKIPPED: 'step_skipped',
  STEP_RECOVERING: 'step_recovering',
  CHECKPOINT_CREATED: 'checkpoint_created',
  CHECKPOINT_RESTORED: 'checkpoint_restored',
  PROGRESS_UPDATE: 'progress_update',
  CUSTOM_EVENT: 'custom_event',
} as const;
/** One of {@link ProgressEventType}'s values. */
export type ProgressEventType = (typeof ProgressEventType)[keyof typeof ProgressEventType];

/** What to do about a failed step. */
export const RecoveryStrategy = {
  FAIL_FAST: 'fail_fast',
  RETRY: 'retry',
  SKIP: 'skip',
  ROLLBACK: 'rollback',
  RETRY_WITH_BACKOFF: 'retry_with_backoff',
  MANUAL_INTERVENTION: 'manual_intervention',
  ALTERNATIVE_PATH: 'alternative_path',
} as const;
/** One of {@link RecoveryStrategy}'s values. */
export type RecoveryStrategy = (typeof RecoveryStrategy)[keyof typeof RecoveryStrategy];

/** How bad an error is; derived from its category unless the error says CRITICAL. */
export const ErrorSeverity = {
  LOW: 'low',
  MEDIUM: 'medium',
  HIGH: 'high',
  CRITICAL: 'critical',
} as const;
/** One of {@link ErrorSeverity}'s values. */
export type ErrorSeverity = (typeof ErrorSeverity)[keyof typeof ErrorSeverity];

/** What kind of error a step raised (see `classifyError`). */
export const ErrorCategory = {
  VALIDATION: 'validation',
  EXECUTION: 'execution',
  TIMEOUT: 'timeout',
  RESOURCE: 'resource',
  NETWORK: 'network',
  AUTHENTICATION: 'authentication',
  SYSTEM: 'system',
  DEPENDENCY: 'dependency',
  CONFIGURATION: 'configuration',
  USER: 'user',
  UNKNOWN: 'unknown',
} as const;
/** One of {@link ErrorCategory}'s values. */
export type ErrorCategory = (typeof ErrorCategory)[keyof typeof ErrorCategory];

/** File formats of `FileStateManager` (the seed's pickle is deliberately absent). */
export const PersistenceFormat = {
  JSON: 'json',
  COMPRESSED_JSON: 'compressed_json',
} as const;
/** One of {@link PersistenceFormat}'s values. */
export type PersistenceFormat = (typeof PersistenceFormat)[keyof typeof PersistenceFormat];

/**
 * Recovery: error classification, recovery plans, retry policy and the
 * automated recovery loop.
 *
 * @module
 */
export { RecoveryManager } from './recovery-manager.js';
export type { RecoveryManagerOptions, RecoveryStatus } from './recovery-manager.js';
export type { ErrorHistoryFilter } from './error-log.js';
export { RecoveryPlan, describePlan, recoveryPlanDataSchema } from './recovery-plan.js';
export type { RecoveryPlanData, RecoveryPlanInput } from './recovery-plan.js';
export { RetryConfig, retryConfigDataSchema } from './retry-config.js';
export type { RetryConfigData, RetryConfigInput, RetryCondition, JitterMode } from './retry-config.js';
export { classifyError } from './error-info.js';
export type { ErrorInfo, ClassifyErrorOptions } from './error-info.js';
export {
  canRetry,
  classifyErrorCore,
  defaultPlanFor,
  isAutomated,
  isRetryStrategy,
  retryDelayMs,
  severityFor,
  DEFAULT_RETRY_CATEGORIES,
} from './policy.js';
export type { ErrorClassification } from './policy.js';
export { networkErrorHandler, timeoutErrorHandler, criticalErrorHandler } from './handlers.js';
export type { ErrorHandler } from './handlers.js';
export type {
  AlternativeExecutors,
  ExecuteRecoveryOptions,
  RecoveryOutcome,
  RecoveryProgressSink,
  RollbackTarget,
  StepExecutor,
  StepRunContext,
} from './types.js';

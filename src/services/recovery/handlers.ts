/**
 * The built-in handlers every {@link RecoveryManager} starts with (unless
 * `builtInHandlers: false`). They are consulted after the user's handlers of
 * the same kind, so a user's NETWORK handler wins over the built-in one.
 *
 * @module
 */
import { ErrorCategory, ErrorSeverity, RecoveryStrategy } from '../../constants.js';
import type { ErrorInfo } from './error-info.js';
import { RecoveryPlan } from './recovery-plan.js';

/** A handler: return a plan to decide, or null/undefined to pass to the next one. */
export type ErrorHandler = (info: ErrorInfo) => RecoveryPlan | null | undefined;

/**
 * NETWORK -> RETRY_WITH_BACKOFF, 5 attempts, 2 s, x1.5, max 30 s. Passes on
 * CRITICAL errors so the critical handler can fail fast.
 */
export const networkErrorHandler: ErrorHandler = (info) =>
  info.severity === ErrorSeverity.CRITICAL
    ? null
    : new RecoveryPlan({
        strategy: RecoveryStrategy.RETRY_WITH_BACKOFF,
        retryConfig: { maxAttempts: 5, initialDelayMs: 2000, backoffFactor: 1.5, maxDelayMs: 30_000 },
      });

/** TIMEOUT -> RETRY, 3 attempts, 5 s apart. Passes on CRITICAL errors. */
export const timeoutErrorHandler: ErrorHandler = (info) =>
  info.severity === ErrorSeverity.CRITICAL
    ? null
    : new RecoveryPlan({
        strategy: RecoveryStrategy.RETRY,
        retryConfig: { maxAttempts: 3, initialDelayMs: 5000 },
      });

/** Global: CRITICAL -> FAIL_FAST with manual instructions; passes on anything else. */
export const criticalErrorHandler: ErrorHandler = (info) =>
  info.severity !== ErrorSeverity.CRITICAL
    ? null
    : new RecoveryPlan({
        strategy: RecoveryStrategy.FAIL_FAST,
        manualInstructions: `Critical ${info.errorType} in step "${info.stepName}" (${info.message}); fix the cause, then resume or restart the execution.`,
      });

/** Built-in category handlers, in consultation order. */
export const BUILT_IN_CATEGORY_HANDLERS: readonly (readonly [ErrorCategory, ErrorHandler])[] = [
  [ErrorCategory.NETWORK, networkErrorHandler],
  [ErrorCategory.TIMEOUT, timeoutErrorHandler],
];

/** Built-in global handlers, in consultation order. */
export const BUILT_IN_GLOBAL_HANDLERS: readonly ErrorHandler[] = [criticalErrorHandler];

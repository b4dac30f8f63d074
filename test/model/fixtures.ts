/**
 * Data shared by the step and execution models: failures for every recovery
 * strategy and guard outcome, at a fixed time so model states are
 * deterministic.
 *
 * @module
 */
import { ErrorCategory, ErrorSeverity, RecoveryStrategy } from '../../src/constants.js';
import type { StepFailure } from '../../src/machines/machine-types.js';

/** Start time of every simulated clock and `failedAt` of every failure. */
export const T0 = Date.parse('2026-01-01T00:00:00Z');

/** A failure; the defaults describe an automated RETRY that may retry after 100 ms. */
export function failure(overrides: Partial<StepFailure> = {}): StepFailure {
  return {
    error: { name: 'Error', message: 'connection reset' },
    category: ErrorCategory.NETWORK,
    severity: ErrorSeverity.MEDIUM,
    strategy: RecoveryStrategy.RETRY,
    automated: true,
    retryAllowed: true,
    retryDelayMs: 100,
    rollbackCheckpointId: null,
    alternativeCount: 0,
    planDescription: 'retry the step',
    manualInstructions: null,
    failedAt: T0,
    ...overrides,
  };
}

/**
 * One failure per way a plan can go, named. Each guard of the step machine
 * sees both a failure that passes it and one that fails it on each conjunct.
 */
export const FAILURES = {
  retry: failure(),
  retryExhausted: failure({ retryAllowed: false, planDescription: 'retries exhausted' }),
  retryNotAutomated: failure({ automated: false, planDescription: 'retry, but not automated' }),
  backoff: failure({ strategy: RecoveryStrategy.RETRY_WITH_BACKOFF, retryDelayMs: 2_000, planDescription: 'retry with backoff' }),
  backoffExhausted: failure({
    strategy: RecoveryStrategy.RETRY_WITH_BACKOFF,
    retryAllowed: false,
    retryDelayMs: 2_000,
    planDescription: 'backoff exhausted',
  }),
  skip: failure({ strategy: RecoveryStrategy.SKIP, retryAllowed: false, planDescription: 'skip the step' }),
  skipNotAutomated: failure({ strategy: RecoveryStrategy.SKIP, automated: false, planDescription: 'skip, not automated' }),
  rollback: failure({
    strategy: RecoveryStrategy.ROLLBACK,
    rollbackCheckpointId: 'cp-1',
    planDescription: 'roll back to cp-1',
  }),
  rollbackWithoutCheckpoint: failure({ strategy: RecoveryStrategy.ROLLBACK, planDescription: 'roll back, no checkpoint' }),
  alternative: failure({ strategy: RecoveryStrategy.ALTERNATIVE_PATH, alternativeCount: 1, planDescription: 'take the alternative' }),
  noAlternative: failure({ strategy: RecoveryStrategy.ALTERNATIVE_PATH, alternativeCount: 0, planDescription: 'no alternative' }),
  failFast: failure({
    strategy: RecoveryStrategy.FAIL_FAST,
    category: ErrorCategory.VALIDATION,
    severity: ErrorSeverity.HIGH,
    retryAllowed: false,
    planDescription: 'fail fast',
  }),
  manual: failure({
    strategy: RecoveryStrategy.MANUAL_INTERVENTION,
    severity: ErrorSeverity.CRITICAL,
    automated: false,
    retryAllowed: false,
    planDescription: 'needs a person',
    manualInstructions: 'restart the database',
  }),
  alternativeFailed: failure({
    strategy: RecoveryStrategy.FAIL_FAST,
    error: { name: 'Error', message: 'alternative failed too' },
    retryAllowed: false,
    planDescription: 'alternative failed',
  }),
} as const satisfies Record<string, StepFailure>;

/** Name of a {@link FAILURES} entry. */
export type FailureName = keyof typeof FAILURES;

/** Flushes promise reactions (fromPromise settles, executors' awaits). */
export function flush(): Promise<void> {
  return new Promise((resolve) => {
    setImmediate(resolve);
  });
}

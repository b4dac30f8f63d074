/**
 * Pure recovery policy for the XState machines' guards and delays: no I/O, no
 * clock, JSON in and out. The {@link RecoveryManager} uses the same functions,
 * so the machine and the loop decide alike.
 *
 * @module
 */
import { ErrorSeverity, RecoveryStrategy } from '../../constants.js';
import { ValidationFailure } from '../../errors.js';
import { type RecoveryPlanData, describePlan, isRetryStrategy } from './recovery-plan.js';
import {
  applyJitter,
  computeDelayMs,
  isRetryPermitted,
  RetryConfig,
  type RetryConfigData,
  type RetryDecisionInfo,
} from './retry-config.js';

export { classifyErrorCore, severityFor, isErrorCategory, DEFAULT_RETRY_CATEGORIES } from './classify.js';
export type { ErrorClassification } from './classify.js';
export { isRetryStrategy } from './recovery-plan.js';

const DEFAULT_RETRY_CONFIG: Readonly<RetryConfigData> = Object.freeze(new RetryConfig().toJSON());

function configOf(plan: Pick<RecoveryPlanData, 'retryConfig'>): RetryConfigData {
  return plan.retryConfig ?? DEFAULT_RETRY_CONFIG;
}

function withDescription(plan: Omit<RecoveryPlanData, 'description'>): RecoveryPlanData {
  return { ...plan, description: describePlan(plan) };
}

/**
 * The default plan for a severity (used when no step plan or handler
 * answers): LOW -> RETRY, MEDIUM -> RETRY_WITH_BACKOFF (both with the default
 * `RetryConfig`), HIGH -> ROLLBACK to the latest checkpoint, CRITICAL ->
 * FAIL_FAST.
 *
 * @example
 * defaultPlanFor(ErrorSeverity.HIGH).strategy; // 'rollback'
 */
export function defaultPlanFor(severity: ErrorSeverity): RecoveryPlanData {
  switch (severity) {
    case ErrorSeverity.LOW:
      return withDescription({ strategy: RecoveryStrategy.RETRY, retryConfig: new RetryConfig().toJSON() });
    case ErrorSeverity.MEDIUM:
      return withDescription({ strategy: RecoveryStrategy.RETRY_WITH_BACKOFF, retryConfig: new RetryConfig().toJSON() });
    case ErrorSeverity.HIGH:
      return withDescription({ strategy: RecoveryStrategy.ROLLBACK });
    case ErrorSeverity.CRITICAL:
      return withDescription({
        strategy: RecoveryStrategy.FAIL_FAST,
        manualInstructions: 'A critical error stopped the step; inspect the error and fix the cause before resuming.',
      });
  }
}

/** True unless the strategy is MANUAL_INTERVENTION. Accepts a plan's JSON or a strategy. */
export function isAutomated(plan: Pick<RecoveryPlanData, 'strategy'> | RecoveryStrategy): boolean {
  const strategy = typeof plan === 'string' ? plan : plan.strategy;
  return strategy !== RecoveryStrategy.MANUAL_INTERVENTION;
}

/**
 * Whether the plan allows another attempt after `attempt` failed attempts
 * (the first call is attempt 1): only the retry strategies retry, and then
 * per {@link RetryConfig.shouldRetry}. `condition` stands for a
 * `retryCondition` function, which the JSON form cannot carry.
 *
 * @example
 * canRetry(plan.toJSON(), info, 1); // true while 1 < maxAttempts and the category is retryable
 */
export function canRetry(
  plan: Pick<RecoveryPlanData, 'strategy' | 'retryConfig'>,
  info: RetryDecisionInfo,
  attempt: number,
  condition?: (attempt: number) => boolean,
): boolean {
  if (!isRetryStrategy(plan.strategy)) return false;
  return isRetryPermitted(configOf(plan), info, attempt, condition);
}

/**
 * Delay before retry number `retryNumber` (1, 2, ...): `getDelayMs(retryNumber - 1)`
 * for RETRY_WITH_BACKOFF, `initialDelayMs` (capped by `maxDelayMs`) for RETRY;
 * full jitter draws from 0..that value with `random`.
 *
 * @example
 * retryDelayMs(backoffPlan, 1, Math.random); // initialDelayMs
 */
export function retryDelayMs(
  plan: Pick<RecoveryPlanData, 'strategy' | 'retryConfig'>,
  retryNumber: number,
  random: () => number = Math.random,
): number {
  if (typeof retryNumber !== 'number' || !Number.isInteger(retryNumber) || retryNumber < 1) {
    throw new ValidationFailure('retryNumber', `Expected \`retryNumber\` to be an integer >= 1, got ${String(retryNumber)}`);
  }
  const config = configOf(plan);
  const attempt = retryNumber - 1;
  if (plan.strategy === RecoveryStrategy.RETRY_WITH_BACKOFF) return computeDelayMs(config, attempt, random);
  return applyJitter(config.jitter, Math.min(config.initialDelayMs, config.maxDelayMs), random);
}

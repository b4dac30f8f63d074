/**
 * {@link RetryConfig}: how many attempts, how long between them, and which
 * errors are worth another try. The pure helpers at the top work on the JSON
 * form so the step machine can use them without the class.
 *
 * @module
 */
import { z } from 'zod';
import { ErrorCategory } from '../../constants.js';
import { ValidationFailure } from '../../errors.js';
import { parseInput } from '../../validation.js';
import { DEFAULT_RETRY_CATEGORIES } from './classify.js';
import type { ErrorInfo } from './error-info.js';

/** `'none'`: the computed delay; `'full'`: uniformly random in 0..computed delay. */
export type JitterMode = 'none' | 'full';

/** Extra veto on a retry, called after the attempt and category checks pass. */
export type RetryCondition = (info: ErrorInfo, attempt: number) => boolean;

/** The parts of an {@link ErrorInfo} that a retry decision reads. */
export type RetryDecisionInfo = Pick<ErrorInfo, 'category' | 'retryable' | 'fatal'>;

/** JSON form of a {@link RetryConfig} (`retryCondition`, a function, is not part of it). */
export interface RetryConfigData {
  maxAttempts: number;
  initialDelayMs: number;
  maxDelayMs: number;
  backoffFactor: number;
  exponentialBackoff: boolean;
  jitter: JitterMode;
  retryOnCategories: ErrorCategory[];
}

const retryConfigShape = {
  maxAttempts: z.number().int().min(1).default(3),
  initialDelayMs: z.number().min(0).default(1000),
  maxDelayMs: z.number().min(0).default(60_000),
  backoffFactor: z.number().min(1).default(2),
  exponentialBackoff: z.boolean().default(true),
  jitter: z.enum(['none', 'full']).default('none'),
  retryOnCategories: z.array(z.enum(ErrorCategory)).default(() => [...DEFAULT_RETRY_CATEGORIES]),
};

/** Schema of {@link RetryConfigData}; missing fields take the defaults. zod refuses NaN and ±Infinity. */
export const retryConfigDataSchema = z.strictObject(retryConfigShape);

const retryConfigInputSchema = z.strictObject({
  ...retryConfigShape,
  retryCondition: z
    .custom<RetryCondition>((value) => typeof value === 'function', { message: 'Expected a function' })
    .optional(),
});

/** Options of {@link RetryConfig}. */
export interface RetryConfigInput {
  /**
   * Attempts in all, the first call included (integer >= 1).
   * @default 3
   */
  maxAttempts?: number;
  /**
   * Delay before the first retry, in ms (>= 0).
   * @default 1000
   */
  initialDelayMs?: number;
  /**
   * Upper bound of any delay, in ms (>= 0).
   * @default 60000
   */
  maxDelayMs?: number;
  /**
   * Growth factor per retry (>= 1).
   * @default 2
   */
  backoffFactor?: number;
  /**
   * Grow the delay by `backoffFactor` per attempt; else always `initialDelayMs`.
   * @default true
   */
  exponentialBackoff?: boolean;
  /**
   * Randomise delays (`'full'`: uniform in 0..delay).
   * @default 'none'
   */
  jitter?: JitterMode;
  /**
   * Categories retried without the error asking for it.
   * @default [NETWORK, TIMEOUT, RESOURCE]
   */
  retryOnCategories?: readonly ErrorCategory[];
  /** Extra veto, e.g. "only while the service says Retry-After". */
  retryCondition?: RetryCondition;
}

function assertAttempt(attempt: number, field: string): void {
  if (typeof attempt !== 'number' || !Number.isFinite(attempt) || attempt < 0) {
    throw new ValidationFailure(field, `Expected \`${field}\` to be a finite number >= 0, got ${String(attempt)}`);
  }
}

/**
 * `min(initialDelayMs * backoffFactor^attempt, maxDelayMs)`, or
 * `min(initialDelayMs, maxDelayMs)` without exponential backoff; with full
 * jitter a uniform draw in 0..that value (`random` is clamped to 0..1).
 */
export function computeDelayMs(config: RetryConfigData, attempt: number, random: () => number = Math.random): number {
  assertAttempt(attempt, 'attempt');
  const growth = config.exponentialBackoff ? config.backoffFactor ** attempt : 1;
  const base = Math.min(config.initialDelayMs * growth, config.maxDelayMs);
  return applyJitter(config.jitter, base, random);
}

/** Applies the jitter mode to a computed delay. */
export function applyJitter(mode: JitterMode, delayMs: number, random: () => number = Math.random): number {
  if (mode === 'none') return delayMs;
  const draw = random();
  const unit = Number.isFinite(draw) ? Math.min(1, Math.max(0, draw)) : 0;
  return delayMs * unit;
}

/**
 * One retry decision: `attempt` (attempts made so far) below `maxAttempts`,
 * the error not fatal, its category listed or the error itself retryable,
 * and `condition` (if any) agreeing.
 */
export function isRetryPermitted(
  config: RetryConfigData,
  info: RetryDecisionInfo,
  attempt: number,
  condition?: (attempt: number) => boolean,
): boolean {
  assertAttempt(attempt, 'attempt');
  if (info.fatal || attempt >= config.maxAttempts) return false;
  if (!info.retryable && !config.retryOnCategories.includes(info.category)) return false;
  return condition === undefined || condition(attempt);
}

/**
 * Retry settings of a {@link RecoveryPlan}.
 *
 * @example
 * const config = new RetryConfig({ initialDelayMs: 1000, backoffFactor: 2, maxDelayMs: 10_000 });
 * [1, 2, 3, 4].map((a) => config.getDelayMs(a)); // [2000, 4000, 8000, 10000]
 */
export class RetryConfig implements RetryConfigData {
  /** Attempts in all, the first call included. */
  readonly maxAttempts: number;
  /** Delay before the first retry, in ms. */
  readonly initialDelayMs: number;
  /** Upper bound of any delay, in ms. */
  readonly maxDelayMs: number;
  /** Growth factor per retry. */
  readonly backoffFactor: number;
  /** Whether delays grow. */
  readonly exponentialBackoff: boolean;
  /** Jitter mode. */
  readonly jitter: JitterMode;
  /** Categories retried without the error asking for it. */
  readonly retryOnCategories: ErrorCategory[];
  /** Extra veto, if any. */
  readonly retryCondition: RetryCondition | undefined;

  /** @throws ValidationFailure `INVALID_INPUT` naming the field (NaN, negative, Infinity, unknown keys). */
  constructor(options: RetryConfigInput = {}) {
    const parsed = parseInput(retryConfigInputSchema, options, 'RetryConfig');
    this.maxAttempts = parsed.maxAttempts;
    this.initialDelayMs = parsed.initialDelayMs;
    this.maxDelayMs = parsed.maxDelayMs;
    this.backoffFactor = parsed.backoffFactor;
    this.exponentialBackoff = parsed.exponentialBackoff;
    this.jitter = parsed.jitter;
    this.retryOnCategories = [...new Set(parsed.retryOnCategories)];
    this.retryCondition = parsed.retryCondition;
    Object.freeze(this.retryOnCategories);
  }

  /**
   * Whether another attempt may follow `attempt` failed attempts: attempt <
   * maxAttempts, the category is listed or the error itself is retryable,
   * and `retryCondition` agrees. A fatal error (FatalError) never retries.
   */
  shouldRetry(info: ErrorInfo, attempt: number): boolean {
    const condition = this.retryCondition;
    return isRetryPermitted(this, info, attempt, condition && ((n) => condition(info, n)));
  }

  /**
   * `min(initialDelayMs * backoffFactor^attempt, maxDelayMs)` (or
   * `initialDelayMs` without exponential backoff); full jitter draws from
   * 0..that value with `random`. Retry n waits `getDelayMs(n - 1)`.
   */
  getDelayMs(attempt: number, random?: () => number): number {
    return computeDelayMs(this, attempt, random);
  }

  /** JSON form (without `retryCondition`). */
  toJSON(): RetryConfigData {
    return {
      maxAttempts: this.maxAttempts,
      initialDelayMs: this.initialDelayMs,
      maxDelayMs: this.maxDelayMs,
      backoffFactor: this.backoffFactor,
      exponentialBackoff: this.exponentialBackoff,
      jitter: this.jitter,
      retryOnCategories: [...this.retryOnCategories],
    };
  }

  /**
   * Rebuilds a config from its JSON form.
   * @throws ValidationFailure `INVALID_INPUT` naming the field
   */
  static fromJSON(data: unknown): RetryConfig {
    return new RetryConfig(parseInput(retryConfigDataSchema, data, 'RetryConfig JSON'));
  }
}

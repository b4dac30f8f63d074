/**
 * {@link RecoveryPlan}: what to do about one failed step, with a readable
 * description, and its JSON form {@link RecoveryPlanData} (what the step
 * machine keeps in its context and checkpoints persist).
 *
 * @module
 */
import { z } from 'zod';
import { RecoveryStrategy } from '../../constants.js';
import { idSchema, parseInput } from '../../validation.js';
import { RetryConfig, retryConfigDataSchema, type RetryConfigData, type RetryConfigInput } from './retry-config.js';

/** JSON form of a {@link RecoveryPlan}. */
export interface RecoveryPlanData {
  strategy: RecoveryStrategy;
  description: string;
  retryConfig?: RetryConfigData;
  targetCheckpoint?: string;
  alternativeSteps?: string[];
  manualInstructions?: string;
  timeoutMs?: number;
}

/** Options of {@link RecoveryPlan}. */
export interface RecoveryPlanInput {
  /** What to do. */
  strategy: RecoveryStrategy;
  /** Readable sentence; generated from the strategy and its settings when missing. */
  description?: string;
  /**
   * Retry settings (RETRY, RETRY_WITH_BACKOFF).
   * @default new RetryConfig() for the retry strategies, none otherwise
   */
  retryConfig?: RetryConfig | RetryConfigInput;
  /**
   * Checkpoint to restore (ROLLBACK).
   * @default the latest checkpoint
   */
  targetCheckpoint?: string;
  /**
   * Names of the alternative executors to run, in order (ALTERNATIVE_PATH).
   * @default all alternatives given to the loop, in order
   */
  alternativeSteps?: readonly string[];
  /** What a human should do (MANUAL_INTERVENTION, FAIL_FAST). */
  manualInstructions?: string;
  /** Upper bound of each attempt, in ms (> 0), enforced through the executor's `signal`. */
  timeoutMs?: number;
}

const optionalFields = {
  description: z.string().trim().min(1, { message: 'Expected a non-empty string' }).optional(),
  targetCheckpoint: idSchema.optional(),
  alternativeSteps: z.array(idSchema).optional(),
  manualInstructions: z.string().trim().min(1, { message: 'Expected a non-empty string' }).optional(),
  timeoutMs: z.number().positive().optional(),
};

const planInputSchema = z.strictObject({
  strategy: z.enum(RecoveryStrategy),
  retryConfig: z.custom<RetryConfig | RetryConfigInput>((v) => typeof v === 'object' && v !== null).optional(),
  ...optionalFields,
});

/** Schema of {@link RecoveryPlanData} (a missing description is generated on import). */
export const recoveryPlanDataSchema = z.strictObject({
  strategy: z.enum(RecoveryStrategy),
  retryConfig: retryConfigDataSchema.optional(),
  ...optionalFields,
});

const RETRY_STRATEGIES: ReadonlySet<RecoveryStrategy> = new Set([
  RecoveryStrategy.RETRY,
  RecoveryStrategy.RETRY_WITH_BACKOFF,
]);

/** True for RETRY and RETRY_WITH_BACKOFF. */
export function isRetryStrategy(strategy: RecoveryStrategy): boolean {
  return RETRY_STRATEGIES.has(strategy);
}

/** `1500` -> `"1.5s"`, `250` -> `"250ms"`. */
export function formatDurationMs(ms: number): string {
  if (ms < 1000) return `${Number(ms.toFixed(3))}ms`;
  return `${Number((ms / 1000).toFixed(3))}s`;
}

function attemptsText(config: RetryConfigData): string {
  return `up to ${config.maxAttempts} ${config.maxAttempts === 1 ? 'attempt' : 'attempts'} in all`;
}

function retryText(strategy: RecoveryStrategy, config: RetryConfigData): string {
  const jitter = config.jitter === 'full' ? ' and full jitter' : '';
  if (strategy === RecoveryStrategy.RETRY_WITH_BACKOFF && config.exponentialBackoff) {
    const shape = `${formatDurationMs(config.initialDelayMs)}, x${config.backoffFactor}, max ${formatDurationMs(config.maxDelayMs)}`;
    return `Retry with exponential backoff (${shape})${jitter}, ${attemptsText(config)}.`;
  }
  const delay = Math.min(config.initialDelayMs, config.maxDelayMs);
  return `Retry after a fixed ${formatDurationMs(delay)} delay${jitter}, ${attemptsText(config)}.`;
}

/**
 * The generated description of a plan: one readable sentence from the
 * strategy and its settings, e.g. "Retry with exponential backoff (1s, x2,
 * max 10s), up to 3 attempts in all."
 */
export function describePlan(plan: Omit<RecoveryPlanData, 'description'>): string {
  const config = plan.retryConfig ?? new RetryConfig().toJSON();
  let text: string;
  switch (plan.strategy) {
    case RecoveryStrategy.FAIL_FAST:
      text = 'Fail the step at once, without recovery.';
      break;
    case RecoveryStrategy.RETRY:
    case RecoveryStrategy.RETRY_WITH_BACKOFF:
      text = retryText(plan.strategy, config);
      break;
    case RecoveryStrategy.SKIP:
      text = 'Skip the step and continue.';
      break;
    case RecoveryStrategy.ROLLBACK:
      text =
        plan.targetCheckpoint === undefined
          ? 'Roll back to the latest checkpoint.'
          : `Roll back to checkpoint ${plan.targetCheckpoint}.`;
      break;
    case RecoveryStrategy.MANUAL_INTERVENTION:
      text = 'Stop and wait for manual intervention.';
      break;
    case RecoveryStrategy.ALTERNATIVE_PATH:
      text =
        plan.alternativeSteps === undefined || plan.alternativeSteps.length === 0
          ? "Run the step's alternative executors in order until one succeeds."
          : `Run the alternatives ${plan.alternativeSteps.join(', ')} in order until one succeeds.`;
      break;
  }
  if (plan.manualInstructions !== undefined) text += ` Instructions: ${plan.manualInstructions}`;
  if (plan.timeoutMs !== undefined) text += ` Each attempt is limited to ${formatDurationMs(plan.timeoutMs)}.`;
  return text;
}

/**
 * What to do about a failed step.
 *
 * @example
 * const plan = new RecoveryPlan({
 *   strategy: RecoveryStrategy.RETRY_WITH_BACKOFF,
 *   retryConfig: { maxAttempts: 5, initialDelayMs: 2000, backoffFactor: 1.5, maxDelayMs: 30_000 },
 * });
 * plan.description; // "Retry with exponential backoff (2s, x1.5, max 30s), up to 5 attempts in all."
 * plan.isAutomated(); // true
 */
export class RecoveryPlan {
  /** What to do. */
  readonly strategy: RecoveryStrategy;
  /** Readable sentence (given or generated). */
  readonly description: string;
  /** Retry settings; always set for the retry strategies. */
  readonly retryConfig: RetryConfig | undefined;
  /** Checkpoint to restore; the latest when undefined. */
  readonly targetCheckpoint: string | undefined;
  /** Names of the alternative executors to run, in order. */
  readonly alternativeSteps: readonly string[] | undefined;
  /** What a human should do. */
  readonly manualInstructions: string | undefined;
  /** Upper bound of each attempt, in ms. */
  readonly timeoutMs: number | undefined;

  /** @throws ValidationFailure `INVALID_INPUT` naming the field */
  constructor(input: RecoveryPlanInput) {
    const parsed = parseInput(planInputSchema, input, 'RecoveryPlan');
    this.strategy = parsed.strategy;
    const given = parsed.retryConfig;
    this.retryConfig =
      given instanceof RetryConfig
        ? given
        : given !== undefined || isRetryStrategy(parsed.strategy)
          ? new RetryConfig(given)
          : undefined;
    this.targetCheckpoint = parsed.targetCheckpoint;
    this.alternativeSteps = parsed.alternativeSteps === undefined ? undefined : Object.freeze([...parsed.alternativeSteps]);
    this.manualInstructions = parsed.manualInstructions;
    this.timeoutMs = parsed.timeoutMs;
    this.description = parsed.description ?? describePlan(this.dataWithoutDescription());
  }

  /** True unless the strategy is MANUAL_INTERVENTION. */
  isAutomated(): boolean {
    return this.strategy !== RecoveryStrategy.MANUAL_INTERVENTION;
  }

  private dataWithoutDescription(): Omit<RecoveryPlanData, 'description'> {
    const data: Omit<RecoveryPlanData, 'description'> = { strategy: this.strategy };
    if (this.retryConfig !== undefined) data.retryConfig = this.retryConfig.toJSON();
    if (this.targetCheckpoint !== undefined) data.targetCheckpoint = this.targetCheckpoint;
    if (this.alternativeSteps !== undefined) data.alternativeSteps = [...this.alternativeSteps];
    if (this.manualInstructions !== undefined) data.manualInstructions = this.manualInstructions;
    if (this.timeoutMs !== undefined) data.timeoutMs = this.timeoutMs;
    return data;
  }

  /** JSON form (a `retryCondition` function is not part of it). */
  toJSON(): RecoveryPlanData {
    return { ...this.dataWithoutDescription(), description: this.description };
  }

  /**
   * Rebuilds a plan from its JSON form.
   * @throws ValidationFailure `INVALID_INPUT` naming the field
   */
  static fromJSON(data: unknown): RecoveryPlan {
    const parsed = parseInput(recoveryPlanDataSchema, data, 'RecoveryPlan JSON');
    const input: RecoveryPlanInput = { strategy: parsed.strategy };
    if (parsed.description !== undefined) input.description = parsed.description;
    if (parsed.retryConfig !== undefined) input.retryConfig = parsed.retryConfig;
    if (parsed.targetCheckpoint !== undefined) input.targetCheckpoint = parsed.targetCheckpoint;
    if (parsed.alternativeSteps !== undefined) input.alternativeSteps = parsed.alternativeSteps;
    if (parsed.manualInstructions !== undefined) input.manualInstructions = parsed.manualInstructions;
    if (parsed.timeoutMs !== undefined) input.timeoutMs = parsed.timeoutMs;
    return new RecoveryPlan(input);
  }
}

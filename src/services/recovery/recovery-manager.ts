/**
 * {@link RecoveryManager}: classifies step errors, keeps their history,
 * chooses a {@link RecoveryPlan} (step plan > category handlers > global
 * handlers > default by severity) and runs the automated recovery loop.
 *
 * @module
 */
import { z } from 'zod';
import { systemClock, type Clock } from '../../clock.js';
import { ErrorCategory, ErrorSeverity } from '../../constants.js';
import { ErrorCode, ExecutionError, ValidationFailure } from '../../errors.js';
import { countSchema, idSchema, parseInput, requireBoolean, requireId } from '../../validation.js';
import { classifyError, type ErrorInfo } from './error-info.js';
import { runRecoveryLoop, type RecoveryLoopHost } from './executor.js';
import { ErrorLog, type ErrorHistoryFilter } from './error-log.js';
import { HandlerRegistry, toPlan } from './handler-registry.js';
import type { ErrorHandler } from './handlers.js';
import { defaultPlanFor } from './policy.js';
import { RecoveryPlan, type RecoveryPlanInput } from './recovery-plan.js';
import type { ExecuteRecoveryOptions, RecoveryOutcome, RecoveryProgressSink, RollbackTarget, StepExecutor } from './types.js';

/** Options of {@link RecoveryManager}. */
export interface RecoveryManagerOptions {
  /** Where ROLLBACK restores checkpoints (an `ExecutionContext` fits). */
  executionContext?: RollbackTarget;
  /** Receives `markStepRecovering` while the loop recovers (a `ProgressTracker` fits). */
  progressTracker?: RecoveryProgressSink;
  /**
   * Clock for timestamps and backoff timers.
   * @default systemClock
   */
  clock?: Clock;
  /**
   * Source of jitter draws in 0..1.
   * @default Math.random
   */
  random?: () => number;
  /**
   * Execution id for progress reports when there is no `executionContext`.
   * @default executionContext.executionId
   */
  executionId?: string;
  /**
   * Register the built-in handlers (NETWORK, TIMEOUT, critical).
   * @default true
   */
  builtInHandlers?: boolean;
  /**
   * Errors kept in the history (oldest dropped first); counts in `getRecoveryStatus` keep counting.
   * @default 1000
   */
  maxErrorHistory?: number;
}

/** Result of {@link RecoveryManager.getRecoveryStatus}. */
export interface RecoveryStatus {
  /** Errors recorded since the last cleanup. */
  totalErrors: number;
  /** Steps currently recovering. */
  activeRecoveries: number;
  /** Seen categories only. */
  errorCountsByCategory: Record<string, number>;
  /** Seen severities only. */
  errorCountsBySeverity: Record<string, number>;
  /** Steps whose latest run made at least one retry. */
  stepsWithRetries: number;
  /** Built-in handlers included (2 category-specific, 1 global by default). */
  registeredHandlers: { categorySpecific: number; global: number };
}

const objectLike = (what: string) =>
  z.custom<object>((v) => typeof v === 'object' && v !== null, { message: `Expected ${what}` });
const fn = <F>() => z.custom<F>((v) => typeof v === 'function', { message: 'Expected a function' });
// Built once: zod 4 compiles every schema instance on its first parse.
const registerHandlerSchema = z.object({ category: z.enum(ErrorCategory), handler: fn() });
const registerGlobalHandlerSchema = z.object({ handler: fn() });

/** Services are checked by shape only: a deep walk of a live service could trip over its own data. */
const SERVICE_METHODS = {
  executionContext: ['restoreCheckpoint'],
  progressTracker: ['markStepRecovering'],
  clock: ['now', 'setTimeout', 'clearTimeout'],
} as const;

function assertServices(options: RecoveryManagerOptions): void {
  for (const [field, methods] of Object.entries(SERVICE_METHODS)) {
    const service: unknown = options[field as keyof typeof SERVICE_METHODS];
    if (service === undefined) continue;
    const fields = typeof service === 'object' && service !== null ? (service as Record<string, unknown>) : undefined;
    const missing = methods.find((method) => typeof fields?.[method] !== 'function');
    if (missing !== undefined) {
      throw new ValidationFailure(field, `RecoveryManager options: expected \`${field}\` to be an object with ${methods.map((m) => `${m}()`).join(', ')}`);
    }
  }
}

const optionsSchema = z.strictObject({
  random: fn<() => number>().optional(),
  executionId: idSchema.optional(),
  builtInHandlers: z.boolean().optional(),
  maxErrorHistory: z.number().int().min(1).optional(),
});

const historyFilterSchema = z
  .strictObject({
    stepId: idSchema.optional(),
    category: z.enum(ErrorCategory).optional(),
    severity: z.enum(ErrorSeverity).optional(),
    limit: countSchema.optional(),
  })
  .optional();

const infoSchema = z.looseObject({
  stepId: z.string(),
  category: z.enum(ErrorCategory),
  severity: z.enum(ErrorSeverity),
});

const runSchema = z.object({
  stepId: idSchema,
  stepName: z.string(),
  executor: fn<StepExecutor>(),
  options: z
    .strictObject({
      signal: z.custom<AbortSignal>((v) => v instanceof AbortSignal, { message: 'Expected an AbortSignal' }).optional(),
      alternatives: objectLike('an array or record of executors').optional(),
      timeoutMs: z.number().positive().optional(),
      sleep: fn().optional(),
      context: z.record(z.string(), z.unknown()).optional(),
    })
    .optional(),
});

/**
 * Error classification, plan selection and automated recovery for the steps
 * of one execution.
 *
 * @example
 * const recovery = new RecoveryManager({ executionContext, clock });
 * recovery.setRecoveryPlan('load', new RecoveryPlan({ strategy: RecoveryStrategy.SKIP }));
 * const outcome = await recovery.executeRecovery('load', 'Load data', async ({ signal }) => fetchData(signal));
 * if (!outcome.success) console.error(outcome.error);
 */
export class RecoveryManager {
  private readonly clock: Clock;
  private readonly random: () => number;
  private readonly executionContext: RollbackTarget | undefined;
  private readonly progressTracker: RecoveryProgressSink | undefined;
  private readonly executionId: string | undefined;
  private readonly handlers: HandlerRegistry;
  private readonly stepPlans = new Map<string, RecoveryPlan>();
  private readonly errors: ErrorLog;
  private readonly retryCounts = new Map<string, number>();
  private readonly recovering = new Set<string>();
  private readonly activeRuns = new Set<AbortController>();
  private isShutDown = false;
  private readonly loopHost: RecoveryLoopHost;

  constructor(options: RecoveryManagerOptions = {}) {
    const { executionContext: _context, progressTracker: _tracker, clock: _clock, ...plain } = options;
    parseInput(optionsSchema, plain, 'RecoveryManager options');
    assertServices(options);
    this.clock = options.clock ?? systemClock;
    this.random = options.random ?? Math.random;
    this.executionContext = options.executionContext;
    this.progressTracker = options.progressTracker;
    this.executionId = options.executionId;
    this.errors = new ErrorLog(options.maxErrorHistory ?? 1000);
    this.handlers = new HandlerRegistry(options.builtInHandlers ?? true);
    this.loopHost = {
      clock: this.clock,
      random: this.random,
      rollbackTarget: this.executionContext,
      recordError: (stepId, stepName, error, context) => this.record(stepId, stepName, error, context),
      getRecoveryPlan: (info) => this.getRecoveryPlan(info),
      stepPlan: (stepId) => this.stepPlans.get(stepId),
      resetRetryCount: (stepId) => {
        this.retryCounts.set(stepId, 0);
      },
      recordRetry: (stepId) => this.bumpRetry(stepId),
      setStepRecovering: (stepId, recovering) => {
        this.markRecovering(stepId, recovering);
      },
      reportRecovering: (stepId, message) => {
        this.reportRecovering(stepId, message);
      },
    };
  }

  private assertUsable(): void {
    if (this.isShutDown) throw new ExecutionError(ErrorCode.ManagerShutDown, 'RecoveryManager was shut down');
  }

  /**
   * Classifies an error with this manager's clock (see the root `classifyError`).
   * `context.stepId` / `context.stepName` fill the step fields. Nothing is recorded.
   */
  classifyError(error: unknown, context?: Record<string, unknown>): ErrorInfo {
    return classifyError(error, context, { clock: this.clock });
  }

  private record(stepId: string, stepName: string, error: unknown, context?: Record<string, unknown>): ErrorInfo {
    const info = classifyError(error, context, { clock: this.clock, stepId, stepName });
    this.errors.add(info);
    return structuredClone(info);
  }

  /** Classifies an error of a step and records it in the history; returns the info. */
  recordError(stepId: string, stepName: string, error: unknown, context?: Record<string, unknown>): ErrorInfo {
    this.assertUsable();
    requireId(stepId, 'recordError stepId');
    if (typeof stepName !== 'string') requireId(stepName, 'recordError stepName');
    return this.record(stepId, stepName, error, context);
  }

  /**
   * Classifies, records in the history and returns the plan (the seed's
   * `handle_step_error`). Does not make the step recovering.
   */
  handleError(stepId: string, stepName: string, error: unknown, context?: Record<string, unknown>): RecoveryPlan {
    return this.getRecoveryPlan(this.recordError(stepId, stepName, error, context));
  }

  /**
   * Adds a handler for one category; consulted in registration order, before
   * the built-in handler of that category. Returns a function that removes it.
   */
  registerErrorHandler(category: ErrorCategory, handler: ErrorHandler): () => void {
    this.assertUsable();
    parseInput(registerHandlerSchema, { category, handler }, 'registerErrorHandler');
    return this.handlers.addCategoryHandler(category, handler);
  }

  /** Adds a handler for every category, consulted after the category handlers. Returns a remover. */
  registerGlobalErrorHandler(handler: ErrorHandler): () => void {
    this.assertUsable();
    parseInput(registerGlobalHandlerSchema, { handler }, 'registerGlobalErrorHandler');
    return this.handlers.addGlobalHandler(handler);
  }

  /** Sets (or with null removes) the plan of one step; it wins over every handler. */
  setRecoveryPlan(stepId: string, plan: RecoveryPlan | RecoveryPlanInput | null): void {
    this.assertUsable();
    parseInput(idSchema, stepId, 'setRecoveryPlan stepId');
    const resolved = toPlan(plan, 'setRecoveryPlan');
    if (resolved === undefined) this.stepPlans.delete(stepId);
    else this.stepPlans.set(stepId, resolved);
  }

  /** The plan set for a step with {@link setRecoveryPlan}, if any. */
  getStepRecoveryPlan(stepId: string): RecoveryPlan | undefined {
    return this.stepPlans.get(stepId);
  }

  /**
   * The plan for an error: the step's plan, else the first category handler
   * that answers, else the first global handler that answers, else the
   * default by severity (LOW -> RETRY, MEDIUM -> RETRY_WITH_BACKOFF, HIGH ->
   * ROLLBACK to the latest checkpoint, CRITICAL -> FAIL_FAST).
   */
  getRecoveryPlan(info: ErrorInfo): RecoveryPlan {
    parseInput(infoSchema, info, 'getRecoveryPlan info');
    const stepPlan = this.stepPlans.get(info.stepId);
    if (stepPlan !== undefined) return stepPlan;
    return this.handlers.resolve(info) ?? RecoveryPlan.fromJSON(defaultPlanFor(info.severity));
  }

  /**
   * Runs `executor` with automated recovery. The first call is attempt 1; on
   * failure the error is classified and recorded and a plan chosen, then:
   * RETRY / RETRY_WITH_BACKOFF retry while `shouldRetry` allows (retry n
   * waits `retryDelayMs(plan, n)` on the clock); SKIP succeeds as skipped;
   * ROLLBACK restores `targetCheckpoint` or the latest checkpoint;
   * ALTERNATIVE_PATH runs `options.alternatives` in order; FAIL_FAST and
   * MANUAL_INTERVENTION fail at once. Each run starts with a fresh retry count.
   *
   * @example
   * const outcome = await recovery.executeRecovery('fetch', 'Fetch', ({ signal }) => fetch(url, { signal }));
   * outcome.success; outcome.attempts; outcome.strategy;
   */
  async executeRecovery<T>(
    stepId: string,
    stepName: string,
    executor: StepExecutor<T>,
    options: ExecuteRecoveryOptions<T> = {},
  ): Promise<RecoveryOutcome<T>> {
    this.assertUsable();
    parseInput(runSchema, { stepId, stepName, executor, options }, 'executeRecovery');
    const controller = new AbortController();
    const caller = options.signal;
    const forward = (): void => {
      controller.abort(caller?.reason);
    };
    if (caller?.aborted === true) forward();
    caller?.addEventListener('abort', forward, { once: true });
    this.activeRuns.add(controller);
    try {
      return await runRecoveryLoop(this.loopHost, stepId, stepName, executor, options, controller.signal);
    } finally {
      caller?.removeEventListener('abort', forward);
      this.activeRuns.delete(controller);
    }
  }

  /**
   * Error history, oldest first, optionally filtered; `limit` keeps the most
   * recent N. Returns copies.
   */
  getErrorHistory(filter?: ErrorHistoryFilter): ErrorInfo[] {
    const parsed = parseInput(historyFilterSchema, filter, 'getErrorHistory filter') ?? {};
    const query: ErrorHistoryFilter = {};
    if (parsed.stepId !== undefined) query.stepId = parsed.stepId;
    if (parsed.category !== undefined) query.category = parsed.category;
    if (parsed.severity !== undefined) query.severity = parsed.severity;
    if (parsed.limit !== undefined) query.limit = parsed.limit;
    return this.errors.query(query);
  }

  /** Retries made in the step's latest run (0 before any). */
  getRetryCount(stepId: string): number {
    return this.retryCounts.get(stepId) ?? 0;
  }

  /** Sets the step's retry count back to 0 (a new run, a restore). */
  resetRetryCount(stepId: string): void {
    this.retryCounts.delete(stepId);
  }

  private bumpRetry(stepId: string): number {
    const next = this.getRetryCount(stepId) + 1;
    this.retryCounts.set(stepId, next);
    return next;
  }

  /** Counts one retry of the step (for callers that drive retries themselves); returns the new count. */
  recordRetry(stepId: string): number {
    this.assertUsable();
    requireId(stepId, 'recordRetry stepId');
    return this.bumpRetry(stepId);
  }

  /** Whether the step is recovering right now. */
  isStepRecovering(stepId: string): boolean {
    return this.recovering.has(stepId);
  }

  private markRecovering(stepId: string, recovering: boolean): void {
    if (recovering) this.recovering.add(stepId);
    else this.recovering.delete(stepId);
  }

  /**
   * Marks a step recovering or not (for callers that drive recovery
   * themselves). Does not report progress. Clearing stays allowed after shutdown.
   */
  setStepRecovering(stepId: string, recovering: boolean): void {
    if (recovering) this.assertUsable();
    requireId(stepId, 'setStepRecovering stepId');
    requireBoolean(recovering, 'setStepRecovering recovering');
    this.markRecovering(stepId, recovering);
  }

  private reportRecovering(stepId: string, message: string): void {
    const executionId = this.executionContext?.executionId ?? this.executionId;
    if (this.progressTracker === undefined || executionId === undefined) return;
    try {
      this.progressTracker.markStepRecovering(executionId, stepId, message);
    } catch {
      // Progress is best-effort: a tracker that does not know the step must not change the recovery's outcome.
    }
  }

  /** Counts for status reports. */
  getRecoveryStatus(): RecoveryStatus {
    return {
      totalErrors: this.errors.total,
      activeRecoveries: this.recovering.size,
      errorCountsByCategory: this.errors.categoryCounts(),
      errorCountsBySeverity: this.errors.severityCounts(),
      stepsWithRetries: [...this.retryCounts.values()].filter((n) => n > 0).length,
      registeredHandlers: this.handlers.counts(),
    };
  }

  /** Clears the error history, its counts and the retry counts. Handlers and step plans stay. */
  cleanup(): void {
    this.errors.clear();
    this.retryCounts.clear();
  }

  /**
   * Cancels running recovery loops, cleans up, and refuses further changes
   * (`MANAGER_SHUT_DOWN`); reads keep answering. Idempotent.
   */
  shutdown(): void {
    if (this.isShutDown) return;
    this.isShutDown = true;
    // An error (and its stack) only when a run is there to be told.
    if (this.activeRuns.size > 0) {
      const reason = new ExecutionError(ErrorCode.ManagerShutDown, 'RecoveryManager was shut down');
      for (const controller of this.activeRuns) controller.abort(reason);
    }
    this.cleanup();
  }
}

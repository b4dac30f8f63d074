/**
 * The automated recovery loop behind `RecoveryManager.executeRecovery`: run,
 * classify and record each failure, pick a plan once (after the first
 * failure), then retry / skip / roll back / try alternatives / fail.
 *
 * @module
 */
import type { Clock } from '../../clock.js';
import { RecoveryStrategy } from '../../constants.js';
import { ErrorCode, ExecutionError, toError } from '../../errors.js';
import { cancelledError, runAttempt, type AttemptResult } from './attempt.js';
import type { ErrorInfo } from './error-info.js';
import { retryDelayMs } from './policy.js';
import { formatDurationMs, type RecoveryPlan } from './recovery-plan.js';
import { RetryConfig } from './retry-config.js';
import type { AlternativeExecutors, ExecuteRecoveryOptions, RecoveryOutcome, RollbackTarget, StepExecutor } from './types.js';

/** What the loop needs from its manager. */
export interface RecoveryLoopHost {
  readonly clock: Clock;
  readonly random: () => number;
  readonly rollbackTarget: RollbackTarget | undefined;
  recordError(stepId: string, stepName: string, error: unknown, context?: Record<string, unknown>): ErrorInfo;
  getRecoveryPlan(info: ErrorInfo): RecoveryPlan;
  stepPlan(stepId: string): RecoveryPlan | undefined;
  resetRetryCount(stepId: string): void;
  recordRetry(stepId: string): number;
  setStepRecovering(stepId: string, recovering: boolean): void;
  reportRecovering(stepId: string, message: string): void;
}

/** A timer on `clock` that rejects when `signal` aborts. */
export function clockSleep(clock: Clock, ms: number, signal: AbortSignal): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    if (signal.aborted) {
      reject(toError(signal.reason));
      return;
    }
    const onAbort = (): void => {
      clock.clearTimeout(handle);
      reject(toError(signal.reason));
    };
    const handle = clock.setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

interface Run<T> {
  host: RecoveryLoopHost;
  stepId: string;
  stepName: string;
  options: ExecuteRecoveryOptions<T>;
  signal: AbortSignal;
  attempts: number;
  retries: number;
  recovering: boolean;
}

type Outcome<T> = RecoveryOutcome<T>;

function base<T>(run: Run<T>, plan: RecoveryPlan | null): Outcome<T> {
  return {
    success: false,
    attempts: run.attempts,
    retries: run.retries,
    strategy: plan?.strategy ?? null,
    plan,
    skipped: false,
    cancelled: false,
  };
}

function failed<T>(run: Run<T>, plan: RecoveryPlan, error: unknown, info: ErrorInfo | undefined): Outcome<T> {
  const outcome: Outcome<T> = { ...base(run, plan), error: toError(error) };
  if (info !== undefined) outcome.errorInfo = info;
  return outcome;
}

function cancelled<T>(run: Run<T>, plan: RecoveryPlan | null, info: ErrorInfo | undefined): Outcome<T> {
  const outcome: Outcome<T> = { ...base(run, plan), cancelled: true, error: cancelledError(run.stepId, run.signal) };
  if (info !== undefined) outcome.errorInfo = info;
  return outcome;
}

function enterRecovering<T>(run: Run<T>, message: string): void {
  if (!run.recovering) {
    run.recovering = true;
    run.host.setStepRecovering(run.stepId, true);
  }
  run.host.reportRecovering(run.stepId, message);
}

function record<T>(run: Run<T>, error: unknown, extra: Record<string, unknown>): ErrorInfo {
  return run.host.recordError(run.stepId, run.stepName, error, { ...run.options.context, ...extra });
}

async function attemptMain<T>(run: Run<T>, executor: StepExecutor<T>, timeoutMs: number | undefined): Promise<AttemptResult<T>> {
  run.attempts += 1;
  return runAttempt(executor, { stepId: run.stepId, attempt: run.attempts, timeoutMs, signal: run.signal, clock: run.host.clock });
}

async function retryLoop<T>(run: Run<T>, executor: StepExecutor<T>, plan: RecoveryPlan, first: ErrorInfo, firstError: unknown): Promise<Outcome<T>> {
  const config = plan.retryConfig ?? new RetryConfig();
  const planData = plan.toJSON();
  const sleep = run.options.sleep ?? ((ms: number, signal: AbortSignal) => clockSleep(run.host.clock, ms, signal));
  let info = first;
  let lastError = firstError;
  while (config.shouldRetry(info, run.attempts)) {
    run.retries += 1;
    run.host.recordRetry(run.stepId);
    const delay = retryDelayMs(planData, run.retries, run.host.random);
    enterRecovering(run, `Retry ${run.retries} of ${config.maxAttempts - 1} in ${formatDurationMs(delay)}`);
    try {
      await sleep(delay, run.signal);
    } catch {
      return cancelled(run, plan, info);
    }
    if (run.signal.aborted) return cancelled(run, plan, info);
    const result = await attemptMain(run, executor, plan.timeoutMs ?? run.options.timeoutMs);
    if (result.ok) return { ...base(run, plan), success: true, output: result.value };
    if (result.cancelled) return cancelled(run, plan, info);
    lastError = result.error;
    info = record(run, result.error, { attempt: run.attempts, timedOut: result.timedOut });
  }
  return failed(run, plan, lastError, info);
}

function rollback<T>(run: Run<T>, plan: RecoveryPlan, error: unknown, info: ErrorInfo): Outcome<T> {
  const target = run.host.rollbackTarget;
  const checkpointId = plan.targetCheckpoint ?? target?.checkpoints.at(-1)?.id;
  if (target === undefined || checkpointId === undefined) {
    const missing = new ExecutionError(ErrorCode.CheckpointNotFound, `No checkpoint to roll back step "${run.stepId}" to`, { cause: error });
    return failed(run, plan, missing, info);
  }
  enterRecovering(run, `Rolling back to checkpoint ${checkpointId}`);
  let restored: boolean;
  try {
    restored = target.restoreCheckpoint(checkpointId);
  } catch (restoreError) {
    return failed(run, plan, restoreError, info);
  }
  if (!restored) {
    const unknown = new ExecutionError(ErrorCode.CheckpointNotFound, `Checkpoint "${checkpointId}" could not be restored`, {
      cause: error,
      details: { checkpointId },
    });
    return failed(run, plan, unknown, info);
  }
  return { ...base(run, plan), success: true, rolledBackTo: checkpointId };
}

function selectAlternatives<T>(alternatives: AlternativeExecutors<T> | undefined, names: readonly string[] | undefined): [string, StepExecutor<T> | undefined][] {
  if (alternatives === undefined) return [];
  if (Array.isArray(alternatives)) return (alternatives as readonly StepExecutor<T>[]).map((executor, index) => [String(index), executor]);
  const named = alternatives as Readonly<Record<string, StepExecutor<T>>>;
  const keys = names ?? Object.keys(named);
  return keys.map((key) => [key, Object.hasOwn(named, key) ? named[key] : undefined]);
}

async function alternativePath<T>(run: Run<T>, plan: RecoveryPlan, error: unknown, info: ErrorInfo): Promise<Outcome<T>> {
  const candidates = selectAlternatives(run.options.alternatives, plan.alternativeSteps);
  if (candidates.length === 0) {
    const none = new ExecutionError(ErrorCode.InvalidState, `No alternative executors for step "${run.stepId}"`, { cause: error });
    return failed(run, plan, none, info);
  }
  let lastError = error;
  let lastInfo = info;
  for (const [name, executor] of candidates) {
    if (run.signal.aborted) return cancelled(run, plan, lastInfo);
    if (executor === undefined) {
      lastError = new ExecutionError(ErrorCode.InvalidState, `No alternative executor named "${name}" for step "${run.stepId}"`);
      lastInfo = record(run, lastError, { alternative: name });
      continue;
    }
    enterRecovering(run, `Trying alternative ${name}`);
    const result = await runAttempt(executor, {
      stepId: run.stepId,
      attempt: 1,
      timeoutMs: plan.timeoutMs ?? run.options.timeoutMs,
      signal: run.signal,
      clock: run.host.clock,
    });
    if (result.ok) return { ...base(run, plan), success: true, output: result.value, alternative: name };
    if (result.cancelled) return cancelled(run, plan, lastInfo);
    lastError = result.error;
    lastInfo = record(run, result.error, { alternative: name, timedOut: result.timedOut });
  }
  return failed(run, plan, lastError, lastInfo);
}

/**
 * Runs `executor` with recovery. The first call is attempt 1; each run starts
 * with a fresh retry count. Never rejects for the executor's errors (a
 * throwing handler or bad input still throws).
 */
export async function runRecoveryLoop<T>(
  host: RecoveryLoopHost,
  stepId: string,
  stepName: string,
  executor: StepExecutor<T>,
  options: ExecuteRecoveryOptions<T>,
  signal: AbortSignal,
): Promise<RecoveryOutcome<T>> {
  const run: Run<T> = { host, stepId, stepName, options, signal, attempts: 0, retries: 0, recovering: false };
  host.resetRetryCount(stepId);
  const first = await attemptMain(run, executor, host.stepPlan(stepId)?.timeoutMs ?? options.timeoutMs);
  if (first.ok) return { ...base(run, null), success: true, output: first.value };
  if (first.cancelled) return cancelled(run, null, undefined);
  const info = record(run, first.error, { attempt: 1, timedOut: first.timedOut });
  const plan = host.getRecoveryPlan(info);
  try {
    return await dispatch(run, executor, plan, first.error, info);
  } finally {
    if (run.recovering) host.setStepRecovering(stepId, false);
  }
}

async function dispatch<T>(run: Run<T>, executor: StepExecutor<T>, plan: RecoveryPlan, error: unknown, info: ErrorInfo): Promise<Outcome<T>> {
  switch (plan.strategy) {
    case RecoveryStrategy.RETRY:
    case RecoveryStrategy.RETRY_WITH_BACKOFF:
      return retryLoop(run, executor, plan, info, error);
    case RecoveryStrategy.SKIP:
      return { ...base(run, plan), success: true, skipped: true, errorInfo: info };
    case RecoveryStrategy.ROLLBACK:
      return rollback(run, plan, error, info);
    case RecoveryStrategy.ALTERNATIVE_PATH:
      return alternativePath(run, plan, error, info);
    case RecoveryStrategy.MANUAL_INTERVENTION:
      return { ...failed(run, plan, error, info), manualInstructions: plan.manualInstructions ?? plan.description };
    case RecoveryStrategy.FAIL_FAST:
      return failed(run, plan, error, info);
  }
}

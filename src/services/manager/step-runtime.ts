/**
 * The manager's side of the step actors: the registry of user executors and
 * the translation of a thrown error into the machine's {@link StepFailure}
 * (classification and plan from the RecoveryManager, one retry decision).
 *
 * @module
 */
import type { StepRuntime } from '../../actors/step-logic.js';
import { runWithTimeout } from '../../actors/run-with-timeout.js';
import type { Clock } from '../../clock.js';
import { RecoveryStrategy } from '../../constants.js';
import { ErrorCode, ExecutionError, toError } from '../../errors.js';
import type { AlternativeInput, ExecutorInput, StepFailure } from '../../machines/machine-types.js';
import type { ExecutionContext } from '../context/index.js';
import { isRetryStrategy, retryDelayMs } from '../recovery/policy.js';
import type { RecoveryManager } from '../recovery/recovery-manager.js';
import { RetryConfig } from '../recovery/retry-config.js';
import { assertStorableOutput, keepCheckedOutput } from './engine-checkpoint.js';

/** What an executor receives for each attempt. */
export interface StepExecutorArgs {
  /** Aborted on timeout, cancellation, restore and shutdown. */
  signal: AbortSignal;
  /** 1 for the first call, +1 per retry. */
  attempt: number;
  /** True when the step is run again after its process died mid-step. */
  resumed: boolean;
  /** Reports partial progress (0..100) of this step. */
  reportProgress: (percentage: number, message?: string) => void;
}

/** A step's work: sync or async; its resolved value is the step's output. */
export type StepExecutor<T = unknown> = (args: StepExecutorArgs) => T | Promise<T>;

interface RegisteredStep {
  executor: StepExecutor;
  alternatives: readonly StepExecutor[];
}

/** Dependencies of {@link ManagerStepRuntime}. */
export interface ManagerStepRuntimeOptions {
  clock: Clock;
  random: () => number;
  recoveryManager: RecoveryManager;
  executionContext: ExecutionContext;
  reportProgress: (stepId: string, percentage: number, message?: string) => void;
  /** True when a store keeps the outputs: the check's JSON text is then kept for the commit to reuse. */
  durable?: boolean;
}

/** {@link StepRuntime} backed by the manager's executor registry and RecoveryManager. */
export class ManagerStepRuntime implements StepRuntime {
  readonly clock: Clock;
  readonly #options: ManagerStepRuntimeOptions;
  readonly #steps = new Map<string, RegisteredStep>();
  /** `timeoutMs` of the latest plan per step: it bounds each retry. */
  readonly #planTimeouts = new Map<string, number>();

  constructor(options: ManagerStepRuntimeOptions) {
    this.clock = options.clock;
    this.#options = options;
  }

  /** Steps whose restored actor is waiting for its executor to be registered again. */
  readonly #awaitingRegistration = new Map<string, (() => void)[]>();

  /** Registers (or replaces) the executor and alternatives a step runs with. */
  register(stepId: string, executor: StepExecutor, alternatives: readonly StepExecutor[]): void {
    this.#steps.set(stepId, { executor, alternatives });
    this.#planTimeouts.delete(stepId);
    const waiting = this.#awaitingRegistration.get(stepId);
    if (waiting !== undefined) {
      this.#awaitingRegistration.delete(stepId);
      for (const wake of waiting) wake();
    }
  }

  /** Whether the step has an executor registered. */
  has(stepId: string): boolean {
    return this.#steps.has(stepId);
  }

  /** Forgets the executors of every step not in `stepIds` (cleanup keeps steps in flight). */
  retain(stepIds: readonly string[]): void {
    const keep = new Set(stepIds);
    for (const stepId of [...this.#steps.keys()]) {
      if (keep.has(stepId)) continue;
      this.#steps.delete(stepId);
      this.#planTimeouts.delete(stepId);
    }
  }

  async execute(input: ExecutorInput, signal: AbortSignal): Promise<unknown> {
    // A step restored in flight (from a checkpoint or after a crash) re-runs
    // its executor actor before the caller has registered the executor again:
    // it waits for the registration instead of failing.
    if (!this.#steps.has(input.stepId)) await this.#registration(input.stepId, signal);
    const { executor } = this.#registered(input.stepId);
    const timeoutMs = input.attempt > 1 ? (this.#planTimeouts.get(input.stepId) ?? input.timeoutMs) : input.timeoutMs;
    const output = await runWithTimeout((attemptSignal) => executor(this.#args(input, attemptSignal)), {
      clock: this.clock,
      stepId: input.stepId,
      timeoutMs,
      signal,
    });
    // An output that cannot be kept fails the attempt, as a validation error the recovery plan sees.
    this.#checked(input.stepId, output);
    return output;
  }

  async executeAlternatives(input: AlternativeInput, signal: AbortSignal): Promise<unknown> {
    if (!this.#steps.has(input.stepId)) await this.#registration(input.stepId, signal);
    const { alternatives } = this.#registered(input.stepId);
    const timeoutMs = this.#planTimeouts.get(input.stepId) ?? input.timeoutMs;
    let lastError: unknown = new ExecutionError(ErrorCode.InvalidState, `Step "${input.stepId}" has no alternatives`);
    for (const alternative of alternatives) {
      try {
        const output = await runWithTimeout(
          (attemptSignal) => alternative(this.#args({ ...input, resumed: false }, attemptSignal)),
          { clock: this.clock, stepId: input.stepId, timeoutMs, signal },
        );
        this.#checked(input.stepId, output);
        return output;
      } catch (error) {
        if (signal.aborted) throw error;
        lastError = error;
      }
    }
    throw lastError;
  }

  /** Checks that `output` can be stored; with a store, keeps the JSON text for the step's commit. */
  #checked(stepId: string, output: unknown): void {
    const text = assertStorableOutput(stepId, output);
    if (this.#options.durable === true) keepCheckedOutput(output, text);
  }

  planFailure(input: { stepId: string; stepName: string; attempt: number }, error: unknown): StepFailure {
    const { recoveryManager, executionContext, random } = this.#options;
    const info = recoveryManager.recordError(input.stepId, input.stepName, error, { attempt: input.attempt });
    const plan = recoveryManager.getRecoveryPlan(info);
    if (plan.timeoutMs !== undefined) this.#planTimeouts.set(input.stepId, plan.timeoutMs);
    const retryConfig = plan.retryConfig ?? new RetryConfig();
    const retryAllowed = isRetryStrategy(plan.strategy) && retryConfig.shouldRetry(info, input.attempt);
    // Retry n (after attempt n failed) waits getDelayMs(n - 1): the policy
    // takes the retry number and applies backoff and jitter.
    const delay = retryAllowed ? retryDelayMs({ strategy: plan.strategy, retryConfig: retryConfig.toJSON() }, input.attempt, random) : 0;
    return {
      error: info.error,
      category: info.category,
      severity: info.severity,
      strategy: plan.strategy,
      automated: plan.isAutomated(),
      retryAllowed,
      retryDelayMs: delay,
      rollbackCheckpointId: plan.strategy === RecoveryStrategy.ROLLBACK ? this.#rollbackTarget(plan.targetCheckpoint, executionContext) : null,
      alternativeCount: this.#steps.get(input.stepId)?.alternatives.length ?? 0,
      planDescription: plan.description,
      manualInstructions: plan.manualInstructions ?? null,
      failedAt: this.clock.now(),
    };
  }

  #registration(stepId: string, signal: AbortSignal): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const wake = (): void => {
        signal.removeEventListener('abort', onAbort);
        resolve();
      };
      const onAbort = (): void => {
        const list = this.#awaitingRegistration.get(stepId)?.filter((fn) => fn !== wake) ?? [];
        if (list.length === 0) this.#awaitingRegistration.delete(stepId);
        else this.#awaitingRegistration.set(stepId, list);
        reject(toError(signal.reason));
      };
      if (signal.aborted) {
        reject(toError(signal.reason));
        return;
      }
      signal.addEventListener('abort', onAbort, { once: true });
      this.#awaitingRegistration.set(stepId, [...(this.#awaitingRegistration.get(stepId) ?? []), wake]);
    });
  }

  /** Ids of steps whose restored actor waits for an executor. */
  get stepsAwaitingExecutor(): string[] {
    return [...this.#awaitingRegistration.keys()];
  }

  #rollbackTarget(target: string | undefined, context: ExecutionContext): string | null {
    if (target !== undefined) return context.getCheckpoint(target) === undefined ? null : target;
    return context.checkpoints.at(-1)?.id ?? null;
  }

  #registered(stepId: string): RegisteredStep {
    const step = this.#steps.get(stepId);
    if (step === undefined) {
      throw new ExecutionError(
        ErrorCode.InvalidState,
        `No executor is registered for step "${stepId}"; run it with executeStepWithRecovery()`,
      );
    }
    return step;
  }

  #args(input: { stepId: string; attempt: number; resumed: boolean }, signal: AbortSignal): StepExecutorArgs {
    return {
      signal,
      attempt: input.attempt,
      resumed: input.resumed,
      reportProgress: (percentage, message) => {
        this.#options.reportProgress(input.stepId, percentage, message);
      },
    };
  }
}

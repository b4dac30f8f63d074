/**
 * `ComprehensiveExecutionManager`: the seed's whole API, driving one
 * execution actor (and its step children) plus the services: variables,
 * progress, recovery and the execution context.
 *
 * @module
 */
import { systemClock, type Clock } from '../clock.js';
import type { StoredExecution } from '../stores/types.js';
import {
  ExecutionStatus,
  ProgressEventType,
  VariableScope,
  VariableType,
} from '../constants.js';
import { ErrorCode, ExecutionError, serializeError } from '../errors.js';
import type { StepRecord } from '../machines/machine-types.js';
import { idSchema, parseInput, requireFinite, requireId } from '../validation.js';
import { ExecutionContext, type Checkpoint } from './context/index.js';
import { assertStorableOutput, captureEngineCheckpoint, readEngineCheckpoint } from './manager/engine-checkpoint.js';
import {
  completeStepOptionsSchema,
  managerOptionsSchema,
  stepRunOptionsSchema,
  totalStepsSchema,
  type CompleteStepOptions,
  type ComprehensiveExecutionManagerOptions,
  type PreloadedExecution,
  type StepRunOptions,
} from './manager/options.js';
import { wireComponents } from './manager/components.js';
import { buildStatusReport, type ExecutionStatusReport } from './manager/status-report.js';
import { ManagerStepRuntime, type StepExecutor } from './manager/step-runtime.js';
import { ProgressTracker, progressVariableName } from './progress/index.js';
import type { RecoveryPlan } from './recovery/recovery-plan.js';
import { RecoveryManager } from './recovery/recovery-manager.js';
import { VariableManager } from './variables/index.js';
import { DurableLog } from './manager/durable-log.js';
import { clampPercentage, emptyRecord, isEmpty, statusOf } from './manager/actor-status.js';
import { announceResumedStart } from './manager/replay.js';
import { openDurableLog, ResumeState, type ResumeTarget } from './manager/resume-state.js';
import { StepOutcomes } from './manager/step-outcomes.js';
import { ExecutionActorHost, type ExecutionActor } from './manager/actor-host.js';

export type {
  CompleteStepOptions,
  ComprehensiveExecutionManagerOptions,
  InspectOption,
  PreloadedExecution,
  StepRunOptions,
} from './manager/options.js';

const TERMINAL_STATUSES: ReadonlySet<ExecutionStatus> = new Set([
  ExecutionStatus.COMPLETED,
  ExecutionStatus.FAILED,
  ExecutionStatus.CANCELLED,
]);

/**
 * Runs one execution: the execution actor and its step actors, with variables,
 * progress, recovery and checkpoints kept in step.
 *
 * @example
 * const manager = createComprehensiveExecutionManager({ executionId: 'run-1', pipelineId: 'etl' });
 * manager.startExecution(2);
 * await manager.executeStepWithRecovery('load', 'Load data', async () => ({ rows: 10 }));
 * manager.completeExecution(true);
 * console.log(manager.getExecutionStatus().status); // 'completed'
 */
export class ComprehensiveExecutionManager {
  readonly executionId: string;
  readonly pipelineId: string;
  readonly executionContext: ExecutionContext;
  readonly variableManager: VariableManager;
  readonly progressTracker: ProgressTracker;
  readonly recoveryManager: RecoveryManager;
  readonly clock: Clock;

  readonly #runtime: ManagerStepRuntime;
  #host: ExecutionActorHost;
  readonly #steps: StepOutcomes;
  readonly #log: DurableLog | undefined;
  readonly #past = new ResumeState();
  readonly #unsubscribers: (() => void)[] = [];
  #shutDown = false;
  #finalReport: ExecutionStatusReport | null = null;

  constructor(options: ComprehensiveExecutionManagerOptions, preloaded?: PreloadedExecution) {
    const parsed = parseInput(managerOptionsSchema, options, 'ComprehensiveExecutionManager options');
    this.executionId = parsed.executionId;
    this.pipelineId = parsed.pipelineId;
    this.clock = options.clock ?? systemClock;
    const components = wireComponents(options, {
      executionId: this.executionId,
      pipelineId: this.pipelineId,
      clock: this.clock,
      maxCheckpoints: parsed.maxCheckpoints,
    });
    this.variableManager = components.variableManager;
    this.executionContext = components.executionContext;
    this.progressTracker = components.progressTracker;
    this.recoveryManager = components.recoveryManager;
    this.#runtime = new ManagerStepRuntime({
      clock: this.clock,
      random: options.random ?? Math.random,
      recoveryManager: this.recoveryManager,
      executionContext: this.executionContext,
      reportProgress: (stepId, percentage, message) => {
        this.updateStepProgress(stepId, percentage, message);
      },
      durable: options.store !== undefined,
    });
    let stored: StoredExecution | null = null;
    if (options.store !== undefined) {
      const opened = openDurableLog({
        store: options.store,
        durability: options.durability,
        executionId: this.executionId,
        pipelineId: this.pipelineId,
        clock: this.clock,
        keepCheckpoints: this.executionContext.maxCheckpoints,
        metadata: options.metadata,
        preloaded: preloaded?.stored,
      });
      this.#log = opened.log;
      stored = opened.stored;
      this.#unsubscribers.push(...this.#log.followVariables(this.variableManager));
    }
    this.#steps = new StepOutcomes({
      executionId: this.executionId,
      executionContext: this.executionContext,
      progressTracker: this.progressTracker,
      recoveryManager: this.recoveryManager,
      log: this.#log,
    });
    this.#host = new ExecutionActorHost({
      executionId: this.executionId,
      pipelineId: this.pipelineId,
      clock: this.clock,
      inspect: options.inspect,
      runtime: this.#runtime,
      steps: this.#steps,
      log: this.#log,
      executionContext: this.executionContext,
      progressTracker: this.progressTracker,
      recoveryManager: this.recoveryManager,
      restoreCheckpoint: (checkpointId) => this.restoreCheckpoint(checkpointId),
    });
    if (stored !== null && this.#log !== undefined) this.#past.load(this.#resumeTarget(), this.#log, stored, this.pipelineId);
    // A restore through the context (ours, or a RecoveryManager ROLLBACK)
    // rebuilds the actors from the checkpoint's snapshot.
    this.#unsubscribers.push(
      this.executionContext.onCheckpointRestored((checkpoint) => {
        this.#host.rebuildFrom(checkpoint);
      }),
    );
  }

  // ---- lifecycle -----------------------------------------------------------

  /** Starts the execution: RUNNING, progress total set, EXECUTION_STARTED, checkpoint "execution_started". */
  startExecution(totalSteps = 1): void {
    this.#assertLive();
    const total = parseInput(totalStepsSchema, totalSteps, 'startExecution totalSteps');
    const current = this.#host.status;
    // Re-running the script of a resumed execution that already ended (the
    // process died after it ended): nothing left to start.
    if (this.#past.resumed && current === ExecutionStatus.CANCELLED && this.#past.canReopen) {
      this.#reopenCancelled(total);
      return;
    }
    if (this.#past.resumed && TERMINAL_STATUSES.has(current)) return;
    if (this.#past.resumed && current === ExecutionStatus.RUNNING) {
      // Re-running the same script after a crash: the execution goes on.
      this.executionContext.start(total);
      this.progressTracker.setTotalSteps(this.executionId, total);
      this.#logStatus(ExecutionStatus.RUNNING, total);
      announceResumedStart(this.progressTracker, this.executionId, total);
      return;
    }
    this.#host.send({ type: 'EXECUTION.START', totalSteps: total }, 'startExecution');
    this.executionContext.start(total);
    this.progressTracker.startExecution(this.executionId, total);
    this.#logStatus(ExecutionStatus.RUNNING, total, { withNextCommit: true });
    this.createCheckpoint('execution_started');
  }

  /** Ends the execution COMPLETED or FAILED, fixes its duration, emits the event and takes a final checkpoint. */
  completeExecution(success = true): void {
    this.#assertLive();
    const current = this.#host.status;
    // Idempotent for a resumed execution that already ended the same way.
    if (this.#past.resumed && current === (success ? ExecutionStatus.COMPLETED : ExecutionStatus.FAILED)) return;
    this.#host.send({ type: 'EXECUTION.COMPLETE', success }, 'completeExecution');
    this.executionContext.complete(success);
    this.progressTracker.completeExecution(this.executionId, success);
    this.#logStatus(success ? ExecutionStatus.COMPLETED : ExecutionStatus.FAILED, undefined, { withNextCommit: true });
    this.createCheckpoint(success ? 'execution_completed' : 'execution_failed');
  }

  /** Pauses: steps in flight finish, no new step starts. False when not running. */
  pauseExecution(): boolean {
    this.#assertLive();
    if (!this.#host.actor.getSnapshot().can({ type: 'EXECUTION.PAUSE' })) return false;
    this.#host.actor.send({ type: 'EXECUTION.PAUSE' });
    this.#logStatus(ExecutionStatus.PAUSED);
    return this.executionContext.pauseExecution();
  }

  /** Resumes a paused execution. False when not paused. */
  resumeExecution(): boolean {
    this.#assertLive();
    if (!this.#host.actor.getSnapshot().can({ type: 'EXECUTION.RESUME' })) return false;
    this.#host.actor.send({ type: 'EXECUTION.RESUME' });
    this.#logStatus(ExecutionStatus.RUNNING);
    return this.executionContext.resumeExecution();
  }

  /** Cancels: running steps are aborted through their signal and recorded as cancelled. */
  cancelExecution(reason?: string): boolean {
    this.#assertLive();
    if (!this.#host.actor.getSnapshot().can({ type: 'EXECUTION.CANCEL' })) return false;
    this.#host.actor.send({ type: 'EXECUTION.CANCEL', reason: reason ?? null });
    const cancelled = this.executionContext.cancelExecution();
    this.#logStatus(ExecutionStatus.CANCELLED);
    this.#log?.throwPendingError();
    return cancelled;
  }

  // ---- steps ---------------------------------------------------------------

  /** Starts a step driven by manager calls (spawns its actor; STEP_STARTED). */
  startStep(stepId: string, stepName: string): void {
    this.#assertLive();
    const id = requireId(stepId, 'startStep stepId');
    const name = requireId(stepName, 'startStep stepName');
    this.#host.startStep({ stepId: id, stepName: name, mode: 'manual' });
  }

  /**
   * Completes a step (COMPLETED, or FAILED with the error's message). A step
   * never started (or unknown after a restore) is started and finished in one go.
   */
  completeStep(stepId: string, options: CompleteStepOptions = {}): void {
    this.#assertLive();
    const id = requireId(stepId, 'completeStep stepId');
    const parsed = isEmpty(options) ? {} : parseInput(completeStepOptionsSchema, options, 'completeStep options');
    assertStorableOutput(id, options.output);
    const success = parsed.success ?? true;
    const percentage = clampPercentage(parsed.progressPercentage ?? (success ? 100 : undefined));
    const error = success ? null : serializeError(options.error ?? new Error(`Step "${id}" failed`));
    const active = this.#host.actor.getSnapshot().context.active[id];
    if (active !== undefined) {
      if (active.mode !== 'manual') {
        throw new ExecutionError(ErrorCode.InvalidState, `Step "${id}" is run by an executor; it completes when the executor settles`);
      }
      if (percentage !== undefined) this.#steps.setFinalPercentage(id, percentage);
      if (success) this.#host.send({ type: 'STEP.COMPLETE', stepId: id, output: options.output, ...(percentage === undefined ? {} : { percentage }) }, 'completeStep');
      else if (error !== null) this.#host.send({ type: 'STEP.FAIL', stepId: id, error }, 'completeStep');
      this.#log?.throwPendingError();
      return;
    }
    if (percentage !== undefined) this.#steps.setFinalPercentage(id, percentage);
    const stepName = this.progressTracker.getStepProgress(this.executionId, id)?.stepName ?? id;
    // Never started (or unknown after a restore): started and finished in one go.
    this.#host.assertRunning('completeStep');
    this.executionContext.startStep(id);
    this.progressTracker.startStep(this.executionId, id, stepName);
    const record: StepRecord = { ...emptyRecord(id), stepName, status: success ? 'completed' : 'failed', attempts: 1, error };
    this.#host.send({ type: 'STEP.RECORD', record, output: options.output }, 'completeStep');
    this.#log?.throwPendingError();
  }

  /** Skips a step (SKIPPED with the reason); a running manual step's actor ends skipped. */
  skipStep(stepId: string, reason?: string): void {
    this.#assertLive();
    const id = requireId(stepId, 'skipStep stepId');
    if (id in this.#host.actor.getSnapshot().context.active) {
      this.#host.send({ type: 'STEP.SKIP', stepId: id, reason: reason ?? null }, 'skipStep');
      this.#log?.throwPendingError();
      return;
    }
    const record: StepRecord = { ...emptyRecord(id), status: 'skipped', reason: reason ?? null };
    this.#host.send({ type: 'STEP.RECORD', record }, 'skipStep');
    this.#log?.throwPendingError();
  }

  /**
   * Sets a running step's progress (clamped to 0..100): one PROGRESS_UPDATE,
   * and the variable `progress.<stepId>.percentage` (SYSTEM, STEP scope).
   */
  updateStepProgress(stepId: string, progressPercentage: number, message?: string): void {
    this.#assertLive();
    const id = requireId(stepId, 'updateStepProgress stepId');
    const pct = clampPercentage(requireFinite(progressPercentage, 'updateStepProgress progressPercentage')) ?? 0;
    if (!(id in this.#host.actor.getSnapshot().context.active)) {
      // Progress of a step that is not running would invent a phantom step.
      throw new ExecutionError(ErrorCode.InvalidState, `updateStepProgress: step "${id}" is not running`, {
        details: { stepId: id },
      });
    }
    this.progressTracker.updateStepProgress(this.executionId, id, pct, message);
    this.#host.actor.send({ type: 'STEP.PROGRESS', stepId: id, percentage: pct, message: message ?? null });
    this.variableManager.setVariable(progressVariableName(id, 'percentage'), pct, {
      scope: VariableScope.STEP,
      varType: VariableType.SYSTEM,
      sourceStep: id,
    });
  }

  /**
   * Runs `executor` in the step's actor; on error the recovery plan decides,
   * through the actor's states, whether to retry (after its backoff), skip,
   * roll back, take the alternative path or fail. True when the step ends
   * completed or skipped. A step already completed in this execution is not
   * run again.
   */
  async executeStepWithRecovery(
    stepId: string,
    stepName: string,
    executor: StepExecutor,
    options: StepRunOptions = {},
  ): Promise<boolean> {
    this.#assertLive();
    const id = requireId(stepId, 'executeStepWithRecovery stepId');
    const name = requireId(stepName, 'executeStepWithRecovery stepName');
    if (typeof executor !== 'function') {
      throw new ExecutionError(ErrorCode.InvalidInput, 'executeStepWithRecovery: expected `executor` to be a function', {
        details: { field: 'executor' },
      });
    }
    // An empty options bag (the common case) skips zod on the hot path.
    const parsed = isEmpty(options) ? {} : parseInput(stepRunOptionsSchema, options, 'executeStepWithRecovery options');
    const previous = this.#steps.records.get(id);
    if (previous !== undefined && (previous.status === 'completed' || previous.status === 'skipped')) return true;
    const active = this.#host.actor.getSnapshot().context.active[id];
    if (active !== undefined && (active.mode !== 'executor' || this.#steps.isAwaited(id))) {
      throw new ExecutionError(ErrorCode.InvalidState, `executeStepWithRecovery: step "${id}" is already running`, {
        details: { stepId: id },
      });
    }
    if (parsed.recoveryPlan !== undefined) this.recoveryManager.setRecoveryPlan(id, parsed.recoveryPlan);
    const finished = this.#steps.waitFor(id);
    // A step restored in flight (its actor waits for an executor) is joined:
    // registering wakes it. Otherwise a new run starts, with fresh attempts.
    this.#runtime.register(id, executor, options.alternatives ?? []);
    if (active === undefined) {
      this.recoveryManager.resetRetryCount(id);
      try {
        const interrupted = this.#past.takeInterrupted(id);
        // A step that was running when its process died runs again, told so.
        this.#host.startStep({
          stepId: id,
          stepName: name,
          mode: 'executor',
          timeoutMs: parsed.timeoutMs ?? null,
          ...(interrupted === undefined ? {} : { attempt: interrupted.attempt + 1, resumed: true }),
        });
      } catch (error) {
        this.#steps.abandon(id);
        throw error;
      }
    }
    const record = await finished;
    const commit = this.#log?.takeStepCommit(id);
    if (commit !== undefined) await commit;
    return record.status === 'completed' || record.status === 'skipped';
  }

  /** The output a finished step resolved with (undefined when none). */
  getStepOutput(stepId: string): unknown {
    return this.#steps.outputs.get(stepId);
  }

  /** The record of a finished step (status, attempts, error...). */
  getStepRecord(stepId: string): StepRecord | undefined {
    return this.#steps.records.get(stepId);
  }

  /** Classifies the error, records it in the history and returns the recovery plan. */
  handleStepError(stepId: string, stepName: string, error: unknown, context?: Record<string, unknown>): RecoveryPlan {
    this.#assertLive();
    return this.recoveryManager.handleError(stepId, stepName, error, context);
  }

  /** Whether the step's actor is in `recovering`. */
  isStepRecovering(stepId: string): boolean {
    return this.#host.actor.getSnapshot().context.recovering.includes(stepId);
  }

  // ---- checkpoints ---------------------------------------------------------

  /**
   * Captures the execution actor's persisted snapshot (step children
   * included) with variables, metrics and progress, in one versioned JSON record.
   */
  createCheckpoint(description?: string): Checkpoint {
    this.#assertLive();
    const engine = captureEngineCheckpoint(this.#host.actor, this.#steps, this.progressTracker.exportProgress(this.executionId));
    const checkpoint = this.executionContext.createCheckpoint(description, { engine });
    this.#log?.checkpoint(checkpoint);
    this.#log?.throwPendingError();
    this.progressTracker.emitEvent(this.executionId, ProgressEventType.CHECKPOINT_CREATED, {
      message: checkpoint.description ?? 'Checkpoint created',
      data: { checkpointId: checkpoint.id },
    });
    return checkpoint;
  }

  /**
   * Rebuilds the actors from a checkpoint and puts variables, metrics and
   * progress back; retry counts reset. False for an unknown id. Steps that
   * were in flight at the checkpoint run again.
   */
  restoreCheckpoint(checkpointId: string): boolean {
    this.#assertLive();
    const id = parseInput(idSchema, checkpointId, 'restoreCheckpoint checkpointId');
    const checkpoint = this.executionContext.getCheckpoint(id);
    if (checkpoint === undefined) return false;
    // Validate before anything changes: a bad record must leave the execution as it was.
    readEngineCheckpoint(checkpoint.extensions);
    return this.executionContext.restoreCheckpoint(id);
  }

  // ---- durability ----------------------------------------------------------

  /** Resolves when every write so far is durable in the store (at once without a store). */
  async flush(): Promise<void> {
    await this.#log?.flush();
  }

  /** True when this manager picked up an execution an earlier process left in the store. */
  get resumed(): boolean {
    return this.#past.resumed;
  }

  /** Steps that were running when an earlier process died; they run again with `resumed: true`. */
  get interruptedSteps(): string[] {
    return this.#past.interruptedSteps;
  }

  // ---- status --------------------------------------------------------------

  /** The status report (SPEC's `ExecutionStatusReport`). Answers after shutdown too. */
  getExecutionStatus(): ExecutionStatusReport {
    if (this.#finalReport !== null) return structuredClone(this.#finalReport);
    const snapshot = this.#host.actor.getSnapshot();
    return buildStatusReport({
      status: statusOf(snapshot.value),
      activeRecoveries: snapshot.context.recovering.length,
      executionContext: this.executionContext,
      progressTracker: this.progressTracker,
      recoveryManager: this.recoveryManager,
    });
  }

  /** The live execution actor (for inspection and tests). */
  get actor(): ExecutionActor {
    return this.#host.actor;
  }

  // ---- resources -----------------------------------------------------------

  /** Clears this execution's error history and retry counts and registered executors; status stays readable. */
  cleanup(): void {
    if (this.#shutDown) return;
    this.recoveryManager.cleanup();
    // Steps in flight keep their executors: a pending retry must still find it.
    this.#runtime.retain(Object.keys(this.#host.actor.getSnapshot().context.active));
    this.#steps.clearFinalPercentages();
  }

  /** Stops every actor and the subsystems; idempotent. Reads still answer, writes throw MANAGER_SHUT_DOWN. */
  async shutdown(): Promise<void> {
    if (this.#shutDown) return;
    this.#finalReport = this.getExecutionStatus();
    this.#shutDown = true;
    this.#host.stop();
    for (const unsubscribe of this.#unsubscribers.splice(0)) unsubscribe();
    const awaited = this.#steps.awaitedSteps().length > 0;
    const cancelled = awaited ? serializeError(new ExecutionError(ErrorCode.ManagerShutDown, 'The manager was shut down')) : null;
    this.#steps.releaseAll((stepId) => ({ ...emptyRecord(stepId), error: cancelled, reason: 'The manager was shut down' }));
    this.recoveryManager.shutdown();
    this.progressTracker.shutdown();
    await this.#log?.flush();
  }

  // ---- internals -----------------------------------------------------------

  #assertLive(): void {
    if (this.#shutDown) {
      throw new ExecutionError(ErrorCode.ManagerShutDown, `The manager of execution "${this.executionId}" was shut down`);
    }
  }

  /** Journals a status change; `withNextCommit` when the caller's checkpoint commits it in the same call. */
  #logStatus(status: ExecutionStatus, totalSteps?: number, options: { withNextCommit?: boolean } = {}): void {
    this.#log?.status(status, {
      totalSteps: totalSteps ?? this.executionContext.totalSteps,
      startTime: this.executionContext.metrics.startTime,
      ...options,
    });
  }

  /**
   * A cancelled execution is resumable: started again, it goes on from its
   * journal (completed steps stay done, cancelled ones run again).
   */
  #reopenCancelled(totalSteps: number): void {
    const log = this.#log;
    if (log === undefined) return;
    log.muted = true;
    try {
      this.#host.restart();
      this.#steps.replace({}, {});
    } finally {
      log.muted = false;
    }
    this.#past.reopen(this.#resumeTarget(), log, totalSteps);
    this.#logStatus(ExecutionStatus.RUNNING, totalSteps);
    log.throwPendingError();
  }

  #resumeTarget(): ResumeTarget {
    return {
      actor: this.#host.actor,
      executionId: this.executionId,
      executionContext: this.executionContext,
      progressTracker: this.progressTracker,
      variableManager: this.variableManager,
    };
  }
}

/**
 * Creates a manager with its subsystems wired together (the recommended way).
 *
 * @example
 * const manager = createComprehensiveExecutionManager({ executionId: 'customer_analytics_001', pipelineId: 'customer_analytics' });
 */
export function createComprehensiveExecutionManager(
  options: ComprehensiveExecutionManagerOptions,
): ComprehensiveExecutionManager {
  return new ComprehensiveExecutionManager(options);
}

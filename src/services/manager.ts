/**
 * `ComprehensiveExecutionManager`: the seed's whole API, driving one
 * execution actor (and its step children) plus the services: variables,
 * progress, recovery and the execution context.
 *
 * @module
 */
import { createActor, type Actor } from 'xstate';
import { bindStepRuntime, sharedExecutionLogic } from '../actors/step-logic.js';
import { systemClock, type Clock } from '../clock.js';
import type { StoredExecution } from '../stores/types.js';
import {
  ExecutionStatus,
  ProgressEventType,
  VariableScope,
  VariableType,
} from '../constants.js';
import { ErrorCode, ExecutionError, serializeError, toError } from '../errors.js';
import type { executionMachine, ExecutionEmitted } from '../machines/execution.machine.js';
import type { StepRecord } from '../machines/machine-types.js';
import { idSchema, parseInput, requireFinite, requireId } from '../validation.js';
import { ExecutionContext, type Checkpoint } from './context/index.js';
import {
  readEngineCheckpoint,
  toJsonValue,
  ENGINE_CHECKPOINT_FORMAT_VERSION,
  type EngineCheckpointData,
} from './manager/engine-checkpoint.js';
import {
  completeStepOptionsSchema,
  managerOptionsSchema,
  stepRunOptionsSchema,
  totalStepsSchema,
  type CompleteStepOptions,
  type ComprehensiveExecutionManagerOptions,
  type InspectOption,
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
import { replayStatus } from './manager/replay.js';
import { openDurableLog, ResumeState, type ResumeTarget } from './manager/resume-state.js';
import { StepOutcomes } from './manager/step-outcomes.js';

export type {
  CompleteStepOptions,
  ComprehensiveExecutionManagerOptions,
  InspectOption,
  PreloadedExecution,
  StepRunOptions,
} from './manager/options.js';

type ExecutionActor = Actor<typeof executionMachine>;

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

  readonly #inspect: InspectOption | undefined;
  readonly #runtime: ManagerStepRuntime;
  #actor: ExecutionActor;
  readonly #steps: StepOutcomes;
  readonly #log: DurableLog | undefined;
  readonly #past = new ResumeState();
  readonly #unsubscribers: (() => void)[] = [];
  /** The step whose ROLLBACK is restoring right now: its waiter survives the restore. */
  #rollingBackStepId: string | null = null;
  /** True while #finishRollback replays the step's record into the restored actor. */
  #replayingRollback = false;
  #actorError: unknown = null;
  #shutDown = false;
  #finalReport: ExecutionStatusReport | null = null;

  constructor(options: ComprehensiveExecutionManagerOptions, preloaded?: PreloadedExecution) {
    const parsed = parseInput(managerOptionsSchema, options, 'ComprehensiveExecutionManager options');
    this.executionId = parsed.executionId;
    this.pipelineId = parsed.pipelineId;
    this.clock = options.clock ?? systemClock;
    this.#inspect = options.inspect;
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
    this.#actor = this.#startActor(undefined);
    if (stored !== null && this.#log !== undefined) this.#past.load(this.#resumeTarget(), this.#log, stored, this.pipelineId);
    // A restore through the context (ours, or a RecoveryManager ROLLBACK)
    // rebuilds the actors from the checkpoint's snapshot.
    this.#unsubscribers.push(
      this.executionContext.onCheckpointRestored((checkpoint) => {
        this.#rebuildFrom(checkpoint);
      }),
    );
  }

  // ---- lifecycle -----------------------------------------------------------

  /** Starts the execution: RUNNING, progress total set, EXECUTION_STARTED, checkpoint "execution_started". */
  startExecution(totalSteps = 1): void {
    this.#assertLive();
    const total = parseInput(totalStepsSchema, totalSteps, 'startExecution totalSteps');
    const current = statusOf(this.#actor.getSnapshot().value);
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
      return;
    }
    this.#send({ type: 'EXECUTION.START', totalSteps: total }, 'startExecution');
    this.executionContext.start(total);
    this.progressTracker.startExecution(this.executionId, total);
    this.#logStatus(ExecutionStatus.RUNNING, total, { withNextCommit: true });
    this.createCheckpoint('execution_started');
  }

  /** Ends the execution COMPLETED or FAILED, fixes its duration, emits the event and takes a final checkpoint. */
  completeExecution(success = true): void {
    this.#assertLive();
    const current = statusOf(this.#actor.getSnapshot().value);
    // Idempotent for a resumed execution that already ended the same way.
    if (this.#past.resumed && current === (success ? ExecutionStatus.COMPLETED : ExecutionStatus.FAILED)) return;
    this.#send({ type: 'EXECUTION.COMPLETE', success }, 'completeExecution');
    this.executionContext.complete(success);
    this.progressTracker.completeExecution(this.executionId, success);
    this.#logStatus(success ? ExecutionStatus.COMPLETED : ExecutionStatus.FAILED, undefined, { withNextCommit: true });
    this.createCheckpoint(success ? 'execution_completed' : 'execution_failed');
  }

  /** Pauses: steps in flight finish, no new step starts. False when not running. */
  pauseExecution(): boolean {
    this.#assertLive();
    if (!this.#actor.getSnapshot().can({ type: 'EXECUTION.PAUSE' })) return false;
    this.#actor.send({ type: 'EXECUTION.PAUSE' });
    this.#logStatus(ExecutionStatus.PAUSED);
    return this.executionContext.pauseExecution();
  }

  /** Resumes a paused execution. False when not paused. */
  resumeExecution(): boolean {
    this.#assertLive();
    if (!this.#actor.getSnapshot().can({ type: 'EXECUTION.RESUME' })) return false;
    this.#actor.send({ type: 'EXECUTION.RESUME' });
    this.#logStatus(ExecutionStatus.RUNNING);
    return this.executionContext.resumeExecution();
  }

  /** Cancels: running steps are aborted through their signal and recorded as cancelled. */
  cancelExecution(reason?: string): boolean {
    this.#assertLive();
    if (!this.#actor.getSnapshot().can({ type: 'EXECUTION.CANCEL' })) return false;
    this.#actor.send({ type: 'EXECUTION.CANCEL', reason: reason ?? null });
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
    this.#startStepActor({ stepId: id, stepName: name, mode: 'manual' });
  }

  /**
   * Completes a step (COMPLETED, or FAILED with the error's message). A step
   * never started (or unknown after a restore) is started and finished in one go.
   */
  completeStep(stepId: string, options: CompleteStepOptions = {}): void {
    this.#assertLive();
    const id = requireId(stepId, 'completeStep stepId');
    const parsed = isEmpty(options) ? {} : parseInput(completeStepOptionsSchema, options, 'completeStep options');
    const success = parsed.success ?? true;
    const percentage = clampPercentage(parsed.progressPercentage ?? (success ? 100 : undefined));
    const error = success ? null : serializeError(options.error ?? new Error(`Step "${id}" failed`));
    const active = this.#actor.getSnapshot().context.active[id];
    if (active !== undefined) {
      if (active.mode !== 'manual') {
        throw new ExecutionError(ErrorCode.InvalidState, `Step "${id}" is run by an executor; it completes when the executor settles`);
      }
      if (percentage !== undefined) this.#steps.setFinalPercentage(id, percentage);
      if (success) this.#send({ type: 'STEP.COMPLETE', stepId: id, output: options.output, ...(percentage === undefined ? {} : { percentage }) }, 'completeStep');
      else if (error !== null) this.#send({ type: 'STEP.FAIL', stepId: id, error }, 'completeStep');
      this.#log?.throwPendingError();
      return;
    }
    if (percentage !== undefined) this.#steps.setFinalPercentage(id, percentage);
    const stepName = this.progressTracker.getStepProgress(this.executionId, id)?.stepName ?? id;
    // Never started (or unknown after a restore): started and finished in one go.
    this.#assertRunning('completeStep');
    this.executionContext.startStep(id);
    this.progressTracker.startStep(this.executionId, id, stepName);
    const record: StepRecord = {
      stepId: id,
      stepName,
      status: success ? 'completed' : 'failed',
      attempts: 1,
      retries: 0,
      recoveredBy: null,
      error,
      reason: null,
      rollbackCheckpointId: null,
    };
    this.#send({ type: 'STEP.RECORD', record, output: options.output }, 'completeStep');
    this.#log?.throwPendingError();
  }

  /** Skips a step (SKIPPED with the reason); a running manual step's actor ends skipped. */
  skipStep(stepId: string, reason?: string): void {
    this.#assertLive();
    const id = requireId(stepId, 'skipStep stepId');
    if (id in this.#actor.getSnapshot().context.active) {
      this.#send({ type: 'STEP.SKIP', stepId: id, reason: reason ?? null }, 'skipStep');
      this.#log?.throwPendingError();
      return;
    }
    const record: StepRecord = {
      stepId: id,
      stepName: id,
      status: 'skipped',
      attempts: 0,
      retries: 0,
      recoveredBy: null,
      error: null,
      reason: reason ?? null,
      rollbackCheckpointId: null,
    };
    this.#send({ type: 'STEP.RECORD', record }, 'skipStep');
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
    if (!(id in this.#actor.getSnapshot().context.active)) {
      // Progress of a step that is not running would invent a phantom step.
      throw new ExecutionError(ErrorCode.InvalidState, `updateStepProgress: step "${id}" is not running`, {
        details: { stepId: id },
      });
    }
    this.progressTracker.updateStepProgress(this.executionId, id, pct, message);
    this.#actor.send({ type: 'STEP.PROGRESS', stepId: id, percentage: pct, message: message ?? null });
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
    const active = this.#actor.getSnapshot().context.active[id];
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
        this.#startStepActor({
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
    return this.#actor.getSnapshot().context.recovering.includes(stepId);
  }

  // ---- checkpoints ---------------------------------------------------------

  /**
   * Captures the execution actor's persisted snapshot (step children
   * included) with variables, metrics and progress, in one versioned JSON record.
   */
  createCheckpoint(description?: string): Checkpoint {
    this.#assertLive();
    const engine: EngineCheckpointData = {
      formatVersion: ENGINE_CHECKPOINT_FORMAT_VERSION,
      // The context copies and validates extensions in one walk (undefined
      // fields dropped), so the snapshot and progress go in as they are.
      actor: this.#actor.getPersistedSnapshot() as unknown as EngineCheckpointData['actor'],
      steps: Object.fromEntries(this.#steps.records),
      outputs: Object.fromEntries([...this.#steps.outputs].map(([id, output]) => [id, toJsonValue(output)])),
      progress: this.progressTracker.exportProgress(this.executionId),
    };
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
    const snapshot = this.#actor.getSnapshot();
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
    return this.#actor;
  }

  // ---- resources -----------------------------------------------------------

  /** Clears this execution's error history and retry counts and registered executors; status stays readable. */
  cleanup(): void {
    if (this.#shutDown) return;
    this.recoveryManager.cleanup();
    // Steps in flight keep their executors: a pending retry must still find it.
    this.#runtime.retain(Object.keys(this.#actor.getSnapshot().context.active));
    this.#steps.clearFinalPercentages();
  }

  /** Stops every actor and the subsystems; idempotent. Reads still answer, writes throw MANAGER_SHUT_DOWN. */
  async shutdown(): Promise<void> {
    if (this.#shutDown) return;
    this.#finalReport = this.getExecutionStatus();
    this.#shutDown = true;
    this.#actor.stop();
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

  #send(event: Parameters<ExecutionActor['send']>[0], operation: string): void {
    const snapshot = this.#actor.getSnapshot();
    if (!snapshot.can(event)) {
      throw new ExecutionError(
        ErrorCode.InvalidState,
        `${operation}: not allowed while the execution is ${statusOf(snapshot.value)}`,
        { details: { operation, status: statusOf(snapshot.value) } },
      );
    }
    this.#actor.send(event);
    if (this.#actorError !== null) {
      const error = this.#actorError;
      this.#actorError = null;
      throw new ExecutionError(ErrorCode.InvalidState, `${operation}: the execution actor failed`, { cause: error });
    }
  }

  /** A status check instead of snapshot.can(): steps start on the per-step hot path. */
  #assertRunning(operation: string): void {
    const status = statusOf(this.#actor.getSnapshot().value);
    if (status !== ExecutionStatus.RUNNING) {
      throw new ExecutionError(ErrorCode.InvalidState, `${operation}: not allowed while the execution is ${status}`, {
        details: { operation, status },
      });
    }
  }

  #startStepActor(start: {
    stepId: string;
    stepName: string;
    mode: 'manual' | 'executor';
    timeoutMs?: number | null;
    attempt?: number;
    resumed?: boolean;
  }): void {
    const snapshot = this.#actor.getSnapshot();
    if (start.stepId in snapshot.context.active) {
      throw new ExecutionError(ErrorCode.InvalidState, `startStep: step "${start.stepId}" is already running`, {
        details: { stepId: start.stepId },
      });
    }
    this.#assertRunning('startStep');
    // Record the start first: the actor runs the executor's synchronous part
    // inside send(), and its reportProgress must land on a started step.
    this.#steps.forget(start.stepId);
    this.executionContext.startStep(start.stepId);
    this.progressTracker.startStep(this.executionId, start.stepId, start.stepName);
    this.#actor.send({ type: 'STEP.START', ...start });
    if (!(start.stepId in this.#actor.getSnapshot().context.active) && !this.#steps.records.has(start.stepId)) {
      // A progress handler stopped the execution between the checks above
      // and the actor's turn: the step never started; its caller must not wait.
      this.#steps.release(start.stepId, {
        ...emptyRecord(start.stepId),
        stepName: start.stepName,
        reason: 'The execution stopped before the step started',
      });
    }
    // Needs no commit of its own: it rides with the step's outcome, or is
    // committed on the next tick when the step takes longer than that.
    this.#log?.stepStarted(start.stepId, start.stepName, start.attempt ?? 1);
  }

  #startActor(snapshot: EngineCheckpointData['actor'] | undefined): ExecutionActor {
    const actor = createActor(sharedExecutionLogic, {
      input: { executionId: this.executionId, pipelineId: this.pipelineId },
      clock: this.clock,
      ...(snapshot === undefined ? {} : { snapshot: snapshot as never }),
      ...(this.#inspect === undefined ? {} : { inspect: this.#inspect }),
    });
    // No error may reach the root unobserved: XState would exit the process.
    actor.subscribe({
      error: (error) => {
        this.#actorError = error;
      },
    });
    actor.on('step.finished', (event) => {
      this.#onStepFinished(event);
    });
    actor.on('step.status', (event) => {
      this.#steps.applyStatus(event, this.#actor.getSnapshot().context.active[event.stepId]?.stepName ?? event.stepId);
    });
    bindStepRuntime(actor, this.#runtime);
    actor.start();
    return actor;
  }

  #onStepFinished(event: Extract<ExecutionEmitted, { type: 'step.finished' }>): void {
    const { record } = event;
    if (record.recoveredBy === 'rollback' && record.status === 'completed' && !this.#replayingRollback) {
      // The restore replaces the actor that is emitting right now: run it
      // once this event has been processed.
      queueMicrotask(() => {
        this.#finishRollback(record, event.output);
      });
      return;
    }
    this.#steps.apply(record, event.output);
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
      this.#actor.stop();
      this.#actor = this.#startActor(undefined);
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
      actor: this.#actor,
      executionId: this.executionId,
      executionContext: this.executionContext,
      progressTracker: this.progressTracker,
      variableManager: this.variableManager,
    };
  }

  #finishRollback(record: StepRecord, output: unknown): void {
    if (this.#shutDown) return;
    let restored = false;
    this.#rollingBackStepId = record.stepId;
    try {
      restored = record.rollbackCheckpointId !== null && this.restoreCheckpoint(record.rollbackCheckpointId);
    } catch (error) {
      record = { ...record, status: 'failed', error: serializeError(toError(error)) };
    } finally {
      this.#rollingBackStepId = null;
    }
    const final: StepRecord = restored ? record : { ...record, status: 'failed', recoveredBy: null };
    // Record the step into the restored actor, so counts and progress agree.
    if (this.#actor.getSnapshot().can({ type: 'STEP.RECORD', record: final })) {
      // The replayed record comes back as 'step.finished': apply it, do not roll back again.
      this.#replayingRollback = true;
      try {
        this.#actor.send({ type: 'STEP.RECORD', record: final, output });
      } finally {
        this.#replayingRollback = false;
      }
    } else {
      this.#steps.apply(final, output);
    }
  }

  #rebuildFrom(checkpoint: Checkpoint): void {
    const engine = readEngineCheckpoint(checkpoint.extensions);
    // A restore resets the retry counts of every step known before it, not only those it keeps.
    const knownBefore = [...this.#steps.records.keys(), ...Object.keys(this.#actor.getSnapshot().context.active)];
    this.#actor.stop();
    this.#steps.replace(engine?.steps ?? {}, engine?.outputs ?? {});
    if (engine === undefined) {
      this.#actor = this.#startActor(undefined);
      replayStatus(this.#actor, checkpoint.status, checkpoint.metrics.stepsTotal);
    } else {
      this.progressTracker.importProgress(engine.progress);
      this.#actor = this.#startActor(engine.actor);
    }
    const active = this.#actor.getSnapshot().context.active;
    for (const stepId of this.#steps.awaitedSteps()) {
      this.recoveryManager.resetRetryCount(stepId);
      if (stepId in active || stepId === this.#rollingBackStepId) continue;
      // The step's run was rolled back past its start: its caller learns it did not complete.
      this.#steps.release(stepId, { ...emptyRecord(stepId), reason: 'Rolled back by a checkpoint restore' });
    }
    for (const stepId of this.#steps.records.keys()) this.recoveryManager.resetRetryCount(stepId);
    for (const stepId of knownBefore) this.recoveryManager.resetRetryCount(stepId);
    // "Recovering" follows the restored actors.
    for (const stepId of knownBefore) this.recoveryManager.setStepRecovering(stepId, false);
    for (const stepId of this.#actor.getSnapshot().context.recovering) this.recoveryManager.setStepRecovering(stepId, true);
    this.#log?.restored(checkpoint.id);
    this.progressTracker.emitEvent(this.executionId, ProgressEventType.CHECKPOINT_RESTORED, {
      message: checkpoint.description ?? 'Checkpoint restored',
      data: { checkpointId: checkpoint.id },
    });
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

/**
 * The manager's side of its execution actor: starting it (with the step
 * runtime bound, its errors caught, its events handed to the step outcomes),
 * sending it events as checked calls, starting steps, finishing a ROLLBACK
 * recovery, and rebuilding it from a checkpoint.
 *
 * @module
 */
import { createActor, type Actor } from 'xstate';
import { bindStepRuntime, sharedExecutionLogic } from '../../actors/step-logic.js';
import { isoNow, type Clock } from '../../clock.js';
import { ExecutionStatus, ProgressEventType } from '../../constants.js';
import { ErrorCode, ExecutionError, serializeError, toError } from '../../errors.js';
import type { executionMachine, ExecutionEmitted, StepStartOptions } from '../../machines/execution.machine.js';
import type { StepRecord } from '../../machines/machine-types.js';
import type { Checkpoint, ExecutionContext } from '../context/index.js';
import type { ProgressTracker } from '../progress/index.js';
import type { RecoveryManager } from '../recovery/recovery-manager.js';
import { emptyRecord, statusOf } from './actor-status.js';
import type { DurableLog } from './durable-log.js';
import { readEngineCheckpoint, type EngineCheckpointData } from './engine-checkpoint.js';
import type { InspectOption } from './options.js';
import { replayStatus } from './replay.js';
import type { ManagerStepRuntime } from './step-runtime.js';
import type { StepOutcomes } from './step-outcomes.js';

/** The execution actor a manager drives. */
export type ExecutionActor = Actor<typeof executionMachine>;

/** What the host needs from its manager. */
export interface ActorHostOptions {
  executionId: string;
  pipelineId: string;
  clock: Clock;
  inspect: InspectOption | undefined;
  runtime: ManagerStepRuntime;
  steps: StepOutcomes;
  log: DurableLog | undefined;
  executionContext: ExecutionContext;
  progressTracker: ProgressTracker;
  recoveryManager: RecoveryManager;
  /** Restores a checkpoint the way the manager's public call does (validated first); a ROLLBACK recovery uses it. */
  restoreCheckpoint: (checkpointId: string) => boolean;
}

/** Owns the execution actor of one manager (replaced on every restore). */
export class ExecutionActorHost {
  readonly #options: ActorHostOptions;
  #actor: ExecutionActor;
  #actorError: unknown = null;
  /** The step whose ROLLBACK is restoring right now: its waiter survives the restore. */
  #rollingBackStepId: string | null = null;
  /** True while a rollback replays the step's record into the restored actor. */
  #replayingRollback = false;
  #stopped = false;

  constructor(options: ActorHostOptions) {
    this.#options = options;
    this.#actor = this.#start(undefined);
  }

  /** The live execution actor. */
  get actor(): ExecutionActor {
    return this.#actor;
  }

  /** The execution status the actor's state stands for. */
  get status(): ExecutionStatus {
    return statusOf(this.#actor.getSnapshot().value);
  }

  /**
   * Sends an event the actor must accept in its state.
   *
   * @throws ExecutionError INVALID_STATE when the state refuses it, or when the actor failed on it.
   */
  send(event: Parameters<ExecutionActor['send']>[0], operation: string): void {
    const snapshot = this.#actor.getSnapshot();
    if (!snapshot.can(event)) {
      throw new ExecutionError(ErrorCode.InvalidState, `${operation}: not allowed while the execution is ${statusOf(snapshot.value)}`, {
        details: { operation, status: statusOf(snapshot.value) },
      });
    }
    this.#actor.send(event);
    if (this.#actorError !== null) {
      const error = this.#actorError;
      this.#actorError = null;
      throw new ExecutionError(ErrorCode.InvalidState, `${operation}: the execution actor failed`, { cause: error });
    }
  }

  /**
   * A status check instead of snapshot.can(): steps start on the per-step hot path.
   *
   * @throws ExecutionError INVALID_STATE unless the execution is running.
   */
  assertRunning(operation: string): void {
    const status = this.status;
    if (status !== ExecutionStatus.RUNNING) {
      throw new ExecutionError(ErrorCode.InvalidState, `${operation}: not allowed while the execution is ${status}`, {
        details: { operation, status },
      });
    }
  }

  /**
   * Spawns a step's actor, after telling the context and the tracker.
   *
   * @throws ExecutionError INVALID_STATE when the step is running already or the execution is not.
   */
  startStep(start: StepStartOptions): void {
    const { steps, executionContext, progressTracker, executionId, log, clock } = this.#options;
    if (start.stepId in this.#actor.getSnapshot().context.active) {
      throw new ExecutionError(ErrorCode.InvalidState, `startStep: step "${start.stepId}" is already running`, {
        details: { stepId: start.stepId },
      });
    }
    this.assertRunning('startStep');
    // Record the start first: the actor runs the executor's synchronous part
    // inside send(), and its reportProgress must land on a started step.
    steps.forget(start.stepId);
    // Taken now: a synchronous executor has run by the time send() returns.
    const startedAt = isoNow(clock);
    executionContext.startStep(start.stepId);
    progressTracker.startStep(executionId, start.stepId, start.stepName);
    this.#actor.send({ type: 'STEP.START', ...start });
    if (!(start.stepId in this.#actor.getSnapshot().context.active) && !steps.records.has(start.stepId)) {
      // A progress handler stopped the execution between the checks above
      // and the actor's turn: the step never started; its caller must not wait.
      steps.release(start.stepId, {
        ...emptyRecord(start.stepId),
        stepName: start.stepName,
        reason: 'The execution stopped before the step started',
      });
    }
    // Needs no commit of its own: it rides with the step's outcome, or is
    // committed on the next tick when the step takes longer than that.
    log?.stepStarted(start.stepId, start.stepName, start.attempt ?? 1, startedAt);
  }

  /** Replaces the actor with a fresh one (a cancelled execution reopening). */
  restart(): void {
    this.#actor.stop();
    this.#actor = this.#start(undefined);
  }

  /** Stops the actor for good (the manager shuts down). */
  stop(): void {
    this.#stopped = true;
    this.#actor.stop();
  }

  /**
   * Rebuilds the actors from a checkpoint (a restore through the context):
   * records, outputs and progress come back, retry counts reset, callers of
   * steps the restore undid learn that they did not complete.
   */
  rebuildFrom(checkpoint: Checkpoint): void {
    const { steps, recoveryManager, progressTracker, executionId, log } = this.#options;
    const engine = readEngineCheckpoint(checkpoint.extensions);
    // A restore resets the retry counts of every step known before it, not only those it keeps.
    const knownBefore = [...steps.records.keys(), ...Object.keys(this.#actor.getSnapshot().context.active)];
    this.#actor.stop();
    steps.replace(engine?.steps ?? {}, engine?.outputs ?? {});
    if (engine === undefined) {
      this.#actor = this.#start(undefined);
      replayStatus(this.#actor, checkpoint.status, checkpoint.metrics.stepsTotal);
    } else {
      progressTracker.importProgress(engine.progress);
      this.#actor = this.#start(engine.actor);
    }
    const active = this.#actor.getSnapshot().context.active;
    for (const stepId of steps.awaitedSteps()) {
      recoveryManager.resetRetryCount(stepId);
      if (stepId in active || stepId === this.#rollingBackStepId) continue;
      // The step's run was rolled back past its start: its caller learns it did not complete.
      steps.release(stepId, { ...emptyRecord(stepId), reason: 'Rolled back by a checkpoint restore' });
    }
    for (const stepId of steps.records.keys()) recoveryManager.resetRetryCount(stepId);
    for (const stepId of knownBefore) recoveryManager.resetRetryCount(stepId);
    // "Recovering" follows the restored actors.
    for (const stepId of knownBefore) recoveryManager.setStepRecovering(stepId, false);
    for (const stepId of this.#actor.getSnapshot().context.recovering) recoveryManager.setStepRecovering(stepId, true);
    log?.restored(checkpoint.id);
    progressTracker.emitEvent(executionId, ProgressEventType.CHECKPOINT_RESTORED, {
      message: checkpoint.description ?? 'Checkpoint restored',
      data: { checkpointId: checkpoint.id },
    });
  }

  #start(snapshot: EngineCheckpointData['actor'] | undefined): ExecutionActor {
    const { executionId, pipelineId, clock, inspect, runtime, steps } = this.#options;
    const actor = createActor(sharedExecutionLogic, {
      input: { executionId, pipelineId },
      clock,
      ...(snapshot === undefined ? {} : { snapshot: snapshot as never }),
      ...(inspect === undefined ? {} : { inspect }),
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
      steps.applyStatus(event, this.#actor.getSnapshot().context.active[event.stepId]?.stepName ?? event.stepId);
    });
    bindStepRuntime(actor, runtime);
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
    this.#options.steps.apply(record, event.output);
  }

  #finishRollback(record: StepRecord, output: unknown): void {
    if (this.#stopped) return;
    let restored = false;
    this.#rollingBackStepId = record.stepId;
    try {
      restored = record.rollbackCheckpointId !== null && this.#options.restoreCheckpoint(record.rollbackCheckpointId);
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
      this.#options.steps.apply(final, output);
    }
  }
}

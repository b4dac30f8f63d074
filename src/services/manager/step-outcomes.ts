/**
 * What the manager keeps of its steps outside the actors: the record and
 * output of every finished step, the callers waiting for a step to finish,
 * and how a finished (or recovering) step is told to the services.
 *
 * @module
 */
import { StepStatus } from '../../constants.js';
import type { ExecutionEmitted } from '../../machines/execution.machine.js';
import type { StepRecord } from '../../machines/machine-types.js';
import type { ExecutionContext } from '../context/index.js';
import type { ProgressTracker } from '../progress/index.js';
import type { RecoveryManager } from '../recovery/recovery-manager.js';
import type { DurableLog } from './durable-log.js';

/** The services a step's outcome is told to. */
export interface StepOutcomeServices {
  executionId: string;
  executionContext: ExecutionContext;
  progressTracker: ProgressTracker;
  recoveryManager: RecoveryManager;
  log: DurableLog | undefined;
}

/** Records, outputs and waiters of one execution's steps. */
export class StepOutcomes {
  /** Finished steps' records (plain data: a finished step's actor is stopped). */
  readonly records = new Map<string, StepRecord>();
  /** Outputs of completed steps. */
  readonly outputs = new Map<string, unknown>();
  readonly #waiters = new Map<string, (record: StepRecord) => void>();
  /** Final percentage a manual completeStep asked for. */
  readonly #finalPercentages = new Map<string, number>();
  readonly #services: StepOutcomeServices;

  constructor(services: StepOutcomeServices) {
    this.#services = services;
  }

  /** Resolves with the step's record when it finishes (or is given up). */
  waitFor(stepId: string): Promise<StepRecord> {
    return new Promise<StepRecord>((resolve) => {
      this.#waiters.set(stepId, resolve);
    });
  }

  /** Whether a caller waits for the step. */
  isAwaited(stepId: string): boolean {
    return this.#waiters.has(stepId);
  }

  /** Steps callers wait for. */
  awaitedSteps(): string[] {
    return [...this.#waiters.keys()];
  }

  /** Hands `record` to the step's waiting caller, if any (without telling the services). */
  release(stepId: string, record: StepRecord): void {
    const resolve = this.#waiters.get(stepId);
    this.#waiters.delete(stepId);
    resolve?.(record);
  }

  /** Forgets the step's waiting caller without answering it (its start failed and threw). */
  abandon(stepId: string): void {
    this.#waiters.delete(stepId);
  }

  /** Answers every waiting caller with `recordOf(stepId)`. */
  releaseAll(recordOf: (stepId: string) => StepRecord): void {
    for (const [stepId, resolve] of [...this.#waiters]) {
      this.#waiters.delete(stepId);
      resolve(recordOf(stepId));
    }
  }

  /** The percentage a manual completion asked for, applied when the step's record arrives. */
  setFinalPercentage(stepId: string, percentage: number): void {
    this.#finalPercentages.set(stepId, percentage);
  }

  clearFinalPercentages(): void {
    this.#finalPercentages.clear();
  }

  /** A step starts (again): its earlier record and output no longer hold. */
  forget(stepId: string): void {
    this.records.delete(stepId);
    this.outputs.delete(stepId);
  }

  /** Replaces every record and output (a restore). */
  replace(records: Record<string, StepRecord>, outputs: Record<string, unknown>): void {
    this.records.clear();
    this.outputs.clear();
    this.#finalPercentages.clear();
    for (const [id, record] of Object.entries(records)) this.records.set(id, record);
    for (const [id, output] of Object.entries(outputs)) this.outputs.set(id, output);
  }

  /**
   * A step finished: keeps its record and output, tells the context, the
   * tracker, the recovery manager and the durable log, then answers its
   * waiting caller.
   */
  apply(record: StepRecord, output: unknown): void {
    const { executionId, executionContext, progressTracker, recoveryManager, log } = this.#services;
    const id = record.stepId;
    this.records.set(id, record);
    if (record.status === 'completed') this.outputs.set(id, output);
    recoveryManager.setStepRecovering(id, false);
    const percentage = this.#finalPercentages.get(id);
    this.#finalPercentages.delete(id);
    switch (record.status) {
      case 'completed':
        executionContext.completeStep(id, true);
        progressTracker.completeStep(executionId, id, { success: true, progressPercentage: percentage ?? 100 });
        break;
      case 'failed':
      case 'cancelled':
        executionContext.completeStep(id, false);
        progressTracker.completeStep(executionId, id, {
          success: false,
          errorMessage:
            record.status === 'cancelled' ? `Cancelled: ${record.reason ?? 'no reason given'}` : (record.error?.message ?? 'Step failed'),
          ...(percentage === undefined ? {} : { progressPercentage: percentage }),
        });
        break;
      case 'skipped':
        executionContext.skipStep(id);
        progressTracker.skipStep(executionId, id, record.reason ?? undefined);
        break;
    }
    const resolve = this.#waiters.get(id);
    log?.stepFinished(record, output, resolve !== undefined);
    if (resolve !== undefined) {
      this.#waiters.delete(id);
      resolve(record);
    }
  }

  /** A step's actor entered or left `recovering`; `stepName` is its name while active. */
  applyStatus(event: Extract<ExecutionEmitted, { type: 'step.status' }>, stepName: string): void {
    const { executionId, progressTracker, recoveryManager } = this.#services;
    if (event.status === StepStatus.RECOVERING) {
      recoveryManager.setStepRecovering(event.stepId, true);
      progressTracker.markStepRecovering(
        executionId,
        event.stepId,
        event.failure === null ? undefined : `${event.failure.error.message}: ${event.failure.planDescription}`,
      );
    } else if (event.status === StepStatus.RUNNING) {
      recoveryManager.setStepRecovering(event.stepId, false);
      recoveryManager.recordRetry(event.stepId);
      progressTracker.startStep(executionId, event.stepId, stepName);
    }
  }
}

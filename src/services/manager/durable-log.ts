/**
 * The manager's durable log: what it writes to a store and when (see
 * {@link ExecutionJournal} for the durability modes), and how a store failure
 * that happens inside an actor event reaches the call that caused it.
 *
 * @module
 */
import { isoNow, type Clock } from '../../clock.js';
import { ExecutionStatus } from '../../constants.js';
import { toError } from '../../errors.js';
import type { StepRecord } from '../../machines/machine-types.js';
import type { CheckpointStore, DurabilityMode, ExecutionSummary, JournalEntry } from '../../stores/types.js';
import type { JsonValue } from '../../validation.js';
import type { Checkpoint } from '../context/index.js';
import type { VariableDeletedEvent, VariableEvent, VariableManager } from '../variables/index.js';
import { takeJsonValue } from './engine-checkpoint.js';
import { ExecutionJournal } from './journal.js';

/** Options of {@link DurableLog}. */
export interface DurableLogOptions {
  store: CheckpointStore;
  durability: DurabilityMode;
  executionId: string;
  pipelineId: string;
  clock: Clock;
  keepCheckpoints: number;
  metadata: Record<string, JsonValue>;
  /** True when the store already holds the execution (a resume). */
  stored: boolean;
}

/** One execution's writes to its store. */
export class DurableLog {
  readonly journal: ExecutionJournal;
  readonly #options: DurableLogOptions;
  /** Durable commits of step outcomes that `executeStepWithRecovery` awaits. */
  readonly #stepCommits = new Map<string, Promise<void>>();
  /** A store error raised inside an actor event; rethrown by the call that caused it. */
  #storeError: Error | null = null;
  /** When each running step's run began: its outcome carries it, so a resume knows the step's duration. */
  readonly #startedAt = new Map<string, string>();

  constructor(options: DurableLogOptions) {
    this.#options = options;
    this.journal = new ExecutionJournal({
      store: options.store,
      executionId: options.executionId,
      durability: options.durability,
      keepCheckpoints: options.keepCheckpoints,
      stored: options.stored,
      initialSummary: () => {
        const now = isoNow(options.clock);
        return {
          executionId: options.executionId,
          pipelineId: options.pipelineId,
          status: ExecutionStatus.PENDING,
          createdAt: now,
          updatedAt: now,
          definitionHash: null,
          metadata: { ...options.metadata },
        };
      },
    });
  }

  /** While true (rebuilding from the store), nothing is written. */
  get muted(): boolean {
    return this.journal.muted;
  }

  set muted(value: boolean) {
    this.journal.muted = value;
  }

  /** A step started at `at` (ISO): committed with the step's outcome, or on the next tick. */
  stepStarted(stepId: string, stepName: string, attempt: number, at: string): void {
    if (this.journal.muted) return;
    this.#startedAt.set(stepId, at);
    this.journal.defer({ kind: 'step_started', stepId, stepName, attempt, at });
  }

  /**
   * Commits a step's outcome as the durability mode says. It runs inside an
   * actor event, where a throw would be lost: a failure is handed to the call
   * that finished the step, awaited by executeStepWithRecovery (`awaited`)
   * or rethrown by {@link throwPendingError} after a manual call.
   */
  stepFinished(record: StepRecord, output: unknown, awaited: boolean): void {
    if (this.journal.muted) return;
    const startedAt = this.#startedAt.get(record.stepId);
    this.#startedAt.delete(record.stepId);
    let commit: Promise<void> | undefined;
    try {
      commit = this.journal.commit({
        kind: 'step_finished',
        record,
        output: record.status === 'completed' ? takeJsonValue(output) : null,
        at: isoNow(this.#options.clock),
        ...(startedAt === undefined ? {} : { startedAt }),
      });
    } catch (error) {
      if (awaited) {
        const failed = Promise.reject(toError(error));
        failed.catch(() => undefined);
        this.#stepCommits.set(record.stepId, failed);
      } else {
        this.#storeError = toError(error);
      }
      return;
    }
    if (commit !== undefined && awaited) this.#stepCommits.set(record.stepId, commit);
  }

  /** The commit `executeStepWithRecovery` must await for this step, once. */
  takeStepCommit(stepId: string): Promise<void> | undefined {
    const commit = this.#stepCommits.get(stepId);
    this.#stepCommits.delete(stepId);
    return commit;
  }

  /**
   * Commits a status change with the summary row. With `withNextCommit` the
   * caller commits right after, in the same call (a status change followed by
   * its checkpoint): both then land in one transaction instead of two.
   */
  status(status: ExecutionStatus, details: { totalSteps: number; startTime: string | null; withNextCommit?: boolean }): void {
    if (this.journal.muted) return;
    const now = isoNow(this.#options.clock);
    const entry: JournalEntry = { kind: 'status', status, at: now };
    const summary: ExecutionSummary = {
      executionId: this.#options.executionId,
      pipelineId: this.#options.pipelineId,
      status,
      createdAt: details.startTime ?? now,
      updatedAt: now,
      definitionHash: null,
      metadata: { ...this.#options.metadata, totalSteps: details.totalSteps },
    };
    if (details.withNextCommit === true) {
      this.journal.defer(entry, { summary });
      return;
    }
    try {
      this.journal.commit(entry, { summary })?.catch(() => undefined);
    } catch (error) {
      this.#storeError = toError(error);
    }
  }

  /** Commits a restore, so that a resume after it starts from the checkpoint too. */
  restored(checkpointId: string): void {
    if (this.journal.muted) return;
    try {
      this.journal
        .commit({ kind: 'checkpoint_restored', checkpointId, at: isoNow(this.#options.clock) })
        ?.catch(() => undefined);
    } catch (error) {
      this.#storeError = toError(error);
    }
  }

  /** Commits a checkpoint (durable when createCheckpoint returns, in sync mode). */
  checkpoint(checkpoint: Checkpoint): void {
    if (this.journal.muted) return;
    try {
      this.journal.commit(undefined, { checkpoint })?.catch(() => undefined);
    } catch (error) {
      this.#storeError = toError(error);
    }
  }

  /** Journals every variable write, so a resumed run sees the values its steps left. Returns the unsubscribers. */
  followVariables(variableManager: VariableManager): (() => void)[] {
    const onWrite = (event: VariableEvent): void => {
      this.journal.defer({
        kind: 'variable_set',
        name: event.name,
        value: event.value as JsonValue,
        metadata: event.metadata,
        contextId: event.contextId,
        at: event.metadata.updatedAt,
      });
    };
    const onDelete = (event: VariableDeletedEvent): void => {
      this.journal.defer({ kind: 'variable_deleted', name: event.name, contextId: event.contextId, at: isoNow(this.#options.clock) });
    };
    return [
      variableManager.onVariableCreated(onWrite),
      variableManager.onVariableChanged(onWrite),
      variableManager.onVariableDeleted(onDelete),
    ];
  }

  /** Rethrows a store failure raised during the last call's actor events. */
  throwPendingError(): void {
    if (this.#storeError === null) return;
    const error = this.#storeError;
    this.#storeError = null;
    throw error;
  }

  /** Resolves when every write so far is durable. */
  flush(): Promise<void> {
    return this.journal.flush();
  }
}

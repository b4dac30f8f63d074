/**
 * What a manager knows of its execution's stored past: how it opens its
 * durable log, whether it picked up an execution an earlier process left,
 * which steps that process left running, and how a resumed execution is
 * loaded (or reopened after a cancel).
 *
 * @module
 */
import type { Clock } from '../../clock.js';
import { ExecutionStatus } from '../../constants.js';
import { ErrorCode, ExecutionError } from '../../errors.js';
import type { CheckpointStore, DurabilityMode, StoredExecution } from '../../stores/types.js';
import type { JsonValue } from '../../validation.js';
import type { VariableManager } from '../variables/index.js';
import { DurableLog } from './durable-log.js';
import { announceResumedStart, replayJournal, restoreJournalTimes, restoreStepTimes, type ReplayTarget } from './replay.js';
import { summarizeJournal, type InterruptedStep, type JournalSummary } from './resume.js';

/** How a manager opens its durable log. */
export interface DurableLogSetup {
  store: CheckpointStore;
  durability: DurabilityMode | undefined;
  executionId: string;
  pipelineId: string;
  clock: Clock;
  keepCheckpoints: number;
  metadata: Record<string, JsonValue> | undefined;
  /** The stored execution, already loaded by `openExecution` (an async store). */
  preloaded: StoredExecution | null | undefined;
}

/**
 * Loads the execution from the store (or takes what `openExecution` loaded)
 * and opens the log that writes it.
 *
 * @throws ExecutionError INVALID_INPUT for an asynchronous store without a preloaded execution.
 */
export function openDurableLog(setup: DurableLogSetup): { log: DurableLog; stored: StoredExecution | null } {
  const { store } = setup;
  let stored: StoredExecution | null;
  if (setup.preloaded !== undefined) stored = setup.preloaded;
  else if (store.sync !== undefined) stored = store.sync.loadExecution(setup.executionId);
  else {
    throw new ExecutionError(
      ErrorCode.InvalidInput,
      `ComprehensiveExecutionManager options: the ${store.kind} store is asynchronous; use \`await openExecution(options)\``,
      { details: { field: 'store' } },
    );
  }
  const log = new DurableLog({
    store,
    durability: setup.durability ?? 'sync',
    executionId: setup.executionId,
    pipelineId: setup.pipelineId,
    clock: setup.clock,
    keepCheckpoints: setup.keepCheckpoints,
    metadata: setup.metadata ?? {},
    stored: stored !== null,
  });
  return { log, stored };
}

/** What loading a stored execution drives, beyond a replay. */
export interface ResumeTarget extends ReplayTarget {
  variableManager: VariableManager;
}

/** A manager's resume: whether it made one, and what the earlier process left behind. */
export class ResumeState {
  #resumed = false;
  readonly #interrupted = new Map<string, InterruptedStep>();
  /** The journal as loaded, kept until the resumed execution moves on (a cancelled one reopens from it). */
  #loaded: JournalSummary | null = null;

  /** True when the manager picked up an execution an earlier process left in the store. */
  get resumed(): boolean {
    return this.#resumed;
  }

  /** Steps that were running when an earlier process died; they run again with `resumed: true`. */
  get interruptedSteps(): string[] {
    return [...this.#interrupted.keys()];
  }

  /** The step's interrupted run, once: the next run of the step is told about it. */
  takeInterrupted(stepId: string): InterruptedStep | undefined {
    const step = this.#interrupted.get(stepId);
    this.#interrupted.delete(stepId);
    return step;
  }

  /** True while the journal a resume loaded is kept: a resumed execution found cancelled reopens from it. */
  get canReopen(): boolean {
    return this.#loaded !== null;
  }

  /** Brings the fresh actor and the services to what an earlier process left in the store; nothing is journaled again. */
  load(target: ResumeTarget, log: DurableLog, stored: StoredExecution, pipelineId: string): void {
    const summary = summarizeJournal(stored, pipelineId);
    log.muted = true;
    try {
      // Checkpoints first: importing the context state replaces everything.
      const contextState = target.executionContext.exportState();
      target.executionContext.importState({ ...contextState, checkpoints: stored.checkpoints.map((entry) => entry.checkpoint) });
      target.variableManager.importState(summary.variables);
      replayJournal(target, summary, summary.status);
      restoreJournalTimes(target.executionContext, summary);
      if (summary.status !== ExecutionStatus.PENDING) restoreStepTimes(target, summary, { execution: true });
      for (const [stepId, step] of summary.interrupted) this.#interrupted.set(stepId, step);
      this.#loaded = summary;
      this.#resumed = true;
    } finally {
      log.muted = false;
    }
  }

  /**
   * A cancelled execution is resumable: started again, it goes on from its
   * journal (completed steps stay done, cancelled ones run again). `target`
   * has a fresh actor; the context is reset here before the replay.
   */
  reopen(target: ResumeTarget, log: DurableLog, totalSteps: number): void {
    const summary = this.#loaded;
    if (summary === null) return;
    log.muted = true;
    try {
      const state = target.executionContext.exportState();
      target.executionContext.importState({
        ...state,
        status: ExecutionStatus.PENDING,
        currentStepId: null,
        completedSteps: [],
        failedSteps: [],
        skippedSteps: [],
        metrics: { ...state.metrics, startTime: null, endTime: null, duration: null, stepsCompleted: 0, stepsFailed: 0, stepsSkipped: 0 },
      });
      replayJournal(target, { ...summary, totalSteps }, ExecutionStatus.RUNNING);
      restoreStepTimes(target, summary, { execution: false });
    } finally {
      log.muted = false;
    }
    this.#loaded = null;
    announceResumedStart(target.progressTracker, target.executionId, totalSteps);
  }
}

/**
 * {@link StepLedger}: which steps are running and which outcome each finished
 * step has, so that the counters can never disagree with the lists.
 *
 * @module
 */
import type { ContextStepEvent } from './context-options.js';

/** How a step finished. */
export type StepOutcome = Exclude<ContextStepEvent, 'started'>;

/** The persisted part of a {@link StepLedger}. */
export interface StepRecord {
  currentStepId: string | null;
  completedSteps: string[];
  failedSteps: string[];
  skippedSteps: string[];
}

/**
 * Step bookkeeping of one execution. A step has at most one outcome, its
 * latest: finishing it again with another outcome moves it between lists.
 */
export class StepLedger {
  // Ordered sets: membership, removal and append are O(1), so recording a
  // step costs the same after 10 steps or 100,000.
  #lists: Record<StepOutcome, Set<string>> = { completed: new Set(), failed: new Set(), skipped: new Set() };
  #outcomes = new Map<string, StepOutcome>();
  // Started and not finished since; insertion order gives the fallback current step.
  #running = new Set<string>();
  #current: string | null = null;

  /** The most recently started step that has not finished, or null. */
  get current(): string | null {
    return this.#current;
  }

  /** A copy of the steps whose latest outcome is `outcome`, in order. */
  list(outcome: StepOutcome): string[] {
    return [...this.#lists[outcome]];
  }

  /** Number of steps whose latest outcome is `outcome`. */
  count(outcome: StepOutcome): number {
    return this.#lists[outcome].size;
  }

  /** Marks a step running and current. */
  start(id: string): void {
    this.#running.delete(id);
    this.#running.add(id);
    this.#current = id;
  }

  /**
   * Records an outcome. Returns false when nothing happened: the step already
   * had this outcome and was not started again since (a repeated call).
   */
  finish(id: string, outcome: StepOutcome): boolean {
    const wasRunning = this.#running.delete(id);
    if (this.#current === id) this.#current = [...this.#running].at(-1) ?? null;
    const previous = this.#outcomes.get(id);
    if (previous === outcome) return wasRunning;
    if (previous !== undefined) this.#lists[previous].delete(id);
    this.#lists[outcome].add(id);
    this.#outcomes.set(id, outcome);
    return true;
  }

  /** The persisted form. */
  toRecord(): StepRecord {
    return {
      currentStepId: this.#current,
      completedSteps: this.list('completed'),
      failedSteps: this.list('failed'),
      skippedSteps: this.list('skipped'),
    };
  }

  /** Replaces everything with a (validated) record; only the current step counts as running. */
  load(record: StepRecord): void {
    this.#lists = {
      completed: new Set(record.completedSteps),
      failed: new Set(record.failedSteps),
      skipped: new Set(record.skippedSteps),
    };
    this.#outcomes = new Map();
    for (const outcome of ['completed', 'failed', 'skipped'] as const) {
      for (const id of this.#lists[outcome]) this.#outcomes.set(id, outcome);
    }
    this.#current = record.currentStepId;
    this.#running = new Set(record.currentStepId === null ? [] : [record.currentStepId]);
  }
}

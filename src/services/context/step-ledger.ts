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
  #lists: Record<StepOutcome, string[]> = { completed: [], failed: [], skipped: [] };
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
    return this.#lists[outcome].length;
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
    if (this.#lists[outcome].includes(id)) return wasRunning;
    for (const list of Object.values(this.#lists)) {
      const index = list.indexOf(id);
      if (index >= 0) list.splice(index, 1);
    }
    this.#lists[outcome].push(id);
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
      completed: [...record.completedSteps],
      failed: [...record.failedSteps],
      skipped: [...record.skippedSteps],
    };
    this.#current = record.currentStepId;
    this.#running = new Set(record.currentStepId === null ? [] : [record.currentStepId]);
  }
}

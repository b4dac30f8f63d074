/**
 * Task bookkeeping of the legacy state: pending, running, executed and
 * failed tasks, each task in at most one of them.
 *
 * @module
 */
import type { PipelineState } from './schemas.js';

/** Where a task is. */
export type TaskSet = 'pending' | 'running' | 'executed';

function errorMessage(error: unknown): string {
  if (error instanceof Error) return error.message;
  if (typeof error === 'string') return error;
  // JSON.stringify returns undefined for undefined, functions and symbols.
  const text = JSON.stringify(error) as string | undefined;
  return text ?? String(error);
}

/**
 * The four task sets. A move takes the task out of every other set first, so
 * a retry or a late result never leaves a task counted twice.
 */
export class TaskSets {
  readonly #sets: Record<TaskSet, Set<string>>;
  readonly #failed: Map<string, string>;

  constructor(tasks: PipelineState['tasks'] = { executed: [], pending: [], running: [], failed: {} }) {
    this.#sets = { pending: new Set(tasks.pending), running: new Set(tasks.running), executed: new Set(tasks.executed) };
    this.#failed = new Map(Object.entries(tasks.failed));
  }

  /** Puts the task in `target` (and nowhere else). */
  move(taskId: string, target: TaskSet): void {
    this.#remove(taskId);
    this.#sets[target].add(taskId);
  }

  /** Marks the task failed with the error's message. */
  fail(taskId: string, error: unknown): void {
    this.#remove(taskId);
    this.#failed.set(taskId, errorMessage(error));
  }

  /** Ids in a set, in the order they entered it. */
  list(set: TaskSet | 'failed'): string[] {
    return set === 'failed' ? [...this.#failed.keys()] : [...this.#sets[set]];
  }

  /** Message a failed task was marked with. */
  errorOf(taskId: string): string | undefined {
    return this.#failed.get(taskId);
  }

  /** JSON form, as in the exported state. */
  toJSON(): PipelineState['tasks'] {
    return {
      executed: this.list('executed'),
      pending: this.list('pending'),
      running: this.list('running'),
      failed: Object.fromEntries(this.#failed),
    };
  }

  #remove(taskId: string): void {
    for (const set of Object.values(this.#sets)) set.delete(taskId);
    this.#failed.delete(taskId);
  }
}

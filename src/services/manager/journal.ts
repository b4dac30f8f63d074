/**
 * The manager's write path to a store: journal entries, summary rows and
 * checkpoints, committed according to the durability mode.
 *
 * - `sync`: a durable write (a step's outcome, a status change, a checkpoint)
 *   is committed before the call that made it returns; entries that need no
 *   durability of their own (a step started, a variable written) ride along
 *   with the next commit, or are committed on the next tick.
 * - `batched`: writes of every execution sharing the store are grouped into
 *   one transaction per tick (group commit); callers await that commit.
 * - `none`: like batched, but nobody waits for it.
 *
 * @module
 */
import { ErrorCode, ExecutionError, toError } from '../../errors.js';
import type { Checkpoint } from '../context/index.js';
import type {
  CheckpointStore,
  DurabilityMode,
  ExecutionSummary,
  JournalEntry,
  StoreBatch,
} from '../../stores/types.js';

interface PendingCommit {
  batches: StoreBatch[];
  waiters: { resolve: () => void; reject: (error: unknown) => void }[];
  scheduled: boolean;
}

/** One group commit per store and tick, shared by every manager on that store. */
const groupCommits = new WeakMap<CheckpointStore, PendingCommit>();

function pendingFor(store: CheckpointStore): PendingCommit {
  let pending = groupCommits.get(store);
  if (pending === undefined) {
    pending = { batches: [], waiters: [], scheduled: false };
    groupCommits.set(store, pending);
  }
  return pending;
}

function scheduleGroupCommit(store: CheckpointStore, pending: PendingCommit): void {
  if (pending.scheduled) return;
  pending.scheduled = true;
  setImmediate(() => {
    pending.scheduled = false;
    const batches = pending.batches.splice(0);
    const waiters = pending.waiters.splice(0);
    if (batches.length === 0) {
      for (const waiter of waiters) waiter.resolve();
      return;
    }
    store.write(batches).then(
      () => {
        for (const waiter of waiters) waiter.resolve();
      },
      (error: unknown) => {
        for (const waiter of waiters) waiter.reject(error);
      },
    );
  });
}

/** Options of {@link ExecutionJournal}. */
export interface ExecutionJournalOptions {
  store: CheckpointStore;
  executionId: string;
  durability: DurabilityMode;
  /** Checkpoints kept per execution in the store. */
  keepCheckpoints: number;
  /**
   * The summary a store needs with an execution's first write, when that
   * write carries none (a variable set before the execution started).
   */
  initialSummary: () => ExecutionSummary;
  /** True when the store already holds the execution. */
  stored: boolean;
}

/** Buffers and commits one execution's writes. */
export class ExecutionJournal {
  readonly store: CheckpointStore;
  readonly durability: DurabilityMode;
  readonly #executionId: string;
  readonly #keepCheckpoints: number;
  readonly #initialSummary: () => ExecutionSummary;
  /** Whether a summary row has been written (or was there already). */
  #summarySent: boolean;
  #buffer: JournalEntry[] = [];
  #summary: ExecutionSummary | undefined;
  #checkpoints: Checkpoint[] = [];
  #tickScheduled = false;
  /** Commits in flight (async stores, batched, none): flush() waits for them. */
  readonly #inFlight = new Set<Promise<void>>();
  #lastError: Error | null = null;
  /** While true (rebuilding from the store), nothing is journaled again. */
  muted = false;

  constructor(options: ExecutionJournalOptions) {
    this.store = options.store;
    this.durability = options.durability;
    this.#executionId = options.executionId;
    this.#keepCheckpoints = options.keepCheckpoints;
    this.#initialSummary = options.initialSummary;
    this.#summarySent = options.stored;
  }

  /**
   * Queues an entry that needs no durability of its own (or whose commit the
   * caller makes next, in the same call); it is committed with the next
   * commit or on the next tick.
   */
  defer(entry: JournalEntry, extra: { summary?: ExecutionSummary } = {}): void {
    if (this.muted) return;
    this.#buffer.push(entry);
    if (extra.summary !== undefined) this.#summary = extra.summary;
    this.#scheduleTick();
  }

  /**
   * Commits `entry` (and everything queued before it) as the durability mode
   * says. In `sync` mode on an embedded store the commit has happened when
   * this returns; otherwise the returned promise settles with the commit.
   *
   * @throws ExecutionError STORE_ERROR when a synchronous commit fails; the
   *   entries stay queued so a later commit writes them.
   */
  commit(entry?: JournalEntry, extra: { summary?: ExecutionSummary; checkpoint?: Checkpoint } = {}): Promise<void> | undefined {
    if (this.muted) return undefined;
    if (entry !== undefined) this.#buffer.push(entry);
    if (extra.summary !== undefined) this.#summary = extra.summary;
    if (extra.checkpoint !== undefined) this.#checkpoints.push(extra.checkpoint);
    if (this.durability === 'sync') return this.#commitNow();
    const promise = this.#enqueueGroupCommit();
    return this.durability === 'batched' ? promise : undefined;
  }

  /** Resolves when everything written so far is durable. */
  async flush(): Promise<void> {
    if (this.#hasQueued()) {
      const commit = this.durability === 'sync' ? this.#commitNow() : this.#enqueueGroupCommit();
      if (commit !== undefined) await commit;
    }
    while (this.#inFlight.size > 0) await Promise.all([...this.#inFlight]);
    if (this.#lastError !== null) {
      const error = this.#lastError;
      this.#lastError = null;
      throw error;
    }
  }

  #hasQueued(): boolean {
    return this.#buffer.length > 0 || this.#summary !== undefined || this.#checkpoints.length > 0;
  }

  #takeBatch(): StoreBatch {
    const batch: StoreBatch = { executionId: this.#executionId };
    if (this.#summary !== undefined) batch.summary = this.#summary;
    else if (!this.#summarySent) batch.summary = this.#initialSummary();
    if (batch.summary !== undefined) this.#summarySent = true;
    if (this.#buffer.length > 0) batch.journal = withoutSettledStarts(this.#buffer);
    if (this.#checkpoints.length > 0) {
      batch.checkpoints = this.#checkpoints;
      batch.keepCheckpoints = this.#keepCheckpoints;
    }
    return batch;
  }

  #requeue(batch: StoreBatch): void {
    // A failed commit keeps its entries, ahead of anything queued since.
    this.#buffer = [...(batch.journal ?? []), ...this.#buffer];
    if (batch.summary !== undefined) this.#summarySent = false;
    this.#checkpoints = [...(batch.checkpoints ?? []), ...this.#checkpoints];
    if (this.#summary === undefined && batch.summary !== undefined) this.#summary = batch.summary;
  }

  #clearQueue(): void {
    this.#buffer = [];
    this.#summary = undefined;
    this.#checkpoints = [];
  }

  #commitNow(): Promise<void> | undefined {
    if (!this.#hasQueued()) return undefined;
    const batch = this.#takeBatch();
    this.#clearQueue();
    const sync = this.store.sync;
    if (sync !== undefined) {
      try {
        sync.write([batch]);
      } catch (error) {
        this.#requeue(batch);
        throw asStoreError(error);
      }
      this.#lastError = null;
      return undefined;
    }
    const promise = this.store.write([batch]).catch((error: unknown) => {
      this.#requeue(batch);
      throw asStoreError(error);
    });
    return this.#track(promise);
  }

  #enqueueGroupCommit(): Promise<void> {
    const pending = pendingFor(this.store);
    if (this.#hasQueued()) {
      pending.batches.push(this.#takeBatch());
      this.#clearQueue();
    }
    const promise = new Promise<void>((resolve, reject) => {
      pending.waiters.push({
        resolve,
        reject: (error) => {
          reject(asStoreError(error));
        },
      });
    });
    scheduleGroupCommit(this.store, pending);
    return this.#track(promise);
  }

  #track(promise: Promise<void>): Promise<void> {
    const tracked = promise.then(
      () => {
        this.#inFlight.delete(tracked);
      },
      (error: unknown) => {
        this.#inFlight.delete(tracked);
        this.#lastError = toError(error);
        throw error;
      },
    );
    // Nobody may await a `none` commit: keep its rejection from going unhandled.
    tracked.catch(() => undefined);
    this.#inFlight.add(tracked);
    return tracked;
  }

  #scheduleTick(): void {
    if (this.#tickScheduled) return;
    this.#tickScheduled = true;
    setImmediate(() => {
      this.#tickScheduled = false;
      if (!this.#hasQueued()) return;
      try {
        const commit = this.durability === 'sync' ? this.#commitNow() : this.#enqueueGroupCommit();
        commit?.catch(() => undefined);
      } catch (error) {
        // Kept queued; the next durable commit (or flush) reports it.
        this.#lastError = toError(error);
      }
    });
  }
}

/**
 * The entries without the starts of steps whose outcome follows in the same
 * commit. Such a start tells a resume nothing: it only marks a step that was
 * running when the process died, and the outcome committed with it says the
 * step finished (its record carries the name and the attempts). A step that
 * finishes within a tick of starting (most of them) then costs one journal
 * row instead of two. A start committed before its outcome stays.
 */
export function withoutSettledStarts(entries: JournalEntry[]): JournalEntry[] {
  let settled: Set<string> | undefined;
  let kept: JournalEntry[] | undefined;
  for (let i = entries.length - 1; i >= 0; i--) {
    const entry = entries[i] as JournalEntry;
    if (entry.kind === 'step_finished') (settled ??= new Set()).add(entry.record.stepId);
    else if (entry.kind === 'step_started' && settled?.has(entry.stepId) === true) {
      kept ??= entries.slice(i + 1).reverse();
      continue;
    }
    kept?.push(entry);
  }
  return kept === undefined ? entries : kept.reverse();
}

function asStoreError(error: unknown): ExecutionError {
  if (error instanceof ExecutionError) return error;
  return new ExecutionError(ErrorCode.StoreError, `The store could not write: ${error instanceof Error ? error.message : String(error)}`, {
    cause: error,
  });
}

/**
 * The one place that decides what a write means: journal numbering,
 * the kept `createdAt`, each checkpoint's journal position and which
 * checkpoints `keepCheckpoints` prunes. Every store plans with it (SQLite
 * inside its transaction) and then only applies the plan, so all stores
 * number, keep and prune alike.
 *
 * @module
 */
import { ValidationFailure } from '../errors.js';
import type { Checkpoint } from '../services/context/index.js';
import type { ValidBatch } from './records.js';
import type { ExecutionSummary, StoredJournalEntry } from './types.js';

/** What a store holds about one execution before a write. */
export interface ExecutionHead {
  /** `createdAt` of the stored summary; null when the execution is not stored. */
  createdAt: string | null;
  /** Highest journal seq so far (0 when the journal is empty). */
  lastSeq: number;
  /** Stored checkpoint ids, oldest first. Called only when a batch needs them. */
  checkpointIds(): string[];
}

/** How {@link planWrite} reads the store. */
export interface PlanReader {
  head(executionId: string): ExecutionHead;
  /**
   * Whether a checkpoint id is stored already (under any execution). When
   * absent, ids are checked against the batch's execution only.
   */
  checkpointTaken?(checkpointId: string): boolean;
}

/** A checkpoint to store, with the journal position after its batch's entries. */
export interface PlannedCheckpoint {
  checkpoint: Checkpoint;
  journalSeq: number;
}

/** One batch as it will be applied. */
export interface PlannedBatch {
  executionId: string;
  /** The summary to store (with the stored `createdAt` kept), or null to leave it. */
  summary: ExecutionSummary | null;
  /** New journal entries, numbered. */
  entries: StoredJournalEntry[];
  checkpoints: PlannedCheckpoint[];
  /** Checkpoint ids to delete after this batch, oldest first (may include this batch's own). */
  pruned: string[];
}

interface Tracked {
  createdAt: string | null;
  lastSeq: number;
  load: () => string[];
  /** Stored ids plus this call's, once loaded. */
  ids: string[] | null;
  /** Ids this call added, kept until the stored ones are loaded. */
  added: string[];
}

function refuse(field: string, message: string): ValidationFailure {
  return new ValidationFailure(field, `CheckpointStore.write: invalid value at "${field}": ${message}`);
}

/**
 * Plans one `write` call. Batches of the same execution follow each other:
 * the second continues the first's numbering.
 *
 * @throws ValidationFailure `INVALID_INPUT` when an execution that is not
 *   stored comes without a summary, or a checkpoint id is already stored.
 */
export function planWrite(batches: readonly ValidBatch[], reader: PlanReader): PlannedBatch[] {
  const tracked = new Map<string, Tracked>();
  const track = (executionId: string): Tracked => {
    let state = tracked.get(executionId);
    if (state === undefined) {
      const head = reader.head(executionId);
      state = { createdAt: head.createdAt, lastSeq: head.lastSeq, load: () => head.checkpointIds(), ids: null, added: [] };
      tracked.set(executionId, state);
    }
    return state;
  };
  const idsOf = (state: Tracked): string[] => (state.ids ??= [...state.load(), ...state.added]);

  return batches.map((batch, index): PlannedBatch => {
    const at = `batches[${index}]`;
    const state = track(batch.executionId);
    let summary: ExecutionSummary | null = null;
    if (batch.summary !== null) {
      state.createdAt ??= batch.summary.createdAt;
      summary = { ...batch.summary, createdAt: state.createdAt };
    } else if (state.createdAt === null) {
      throw refuse(
        `${at}.summary`,
        `Expected a summary: execution "${batch.executionId}" is not stored yet, and its first write must carry one`,
      );
    }
    const entries = batch.journal.map((entry) => ({ ...entry, seq: ++state.lastSeq }));
    const checkpoints = batch.checkpoints.map((checkpoint, position) => {
      const taken = reader.checkpointTaken?.(checkpoint.id) ?? idsOf(state).includes(checkpoint.id);
      if (taken) throw refuse(`${at}.checkpoints[${position}].id`, `Checkpoint "${checkpoint.id}" is already stored`);
      state.added.push(checkpoint.id);
      state.ids?.push(checkpoint.id);
      return { checkpoint, journalSeq: state.lastSeq };
    });
    let pruned: string[] = [];
    if (batch.keepCheckpoints !== null) {
      const ids = idsOf(state);
      pruned = ids.splice(0, Math.max(0, ids.length - batch.keepCheckpoints));
    }
    return { executionId: batch.executionId, summary, entries, checkpoints, pruned };
  });
}

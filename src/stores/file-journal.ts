/**
 * The file store's journal: `journal.jsonl`, one JSON line per committed
 * batch. The line is the batch's commit record: its journal entries, the
 * summary it stored, the checkpoint files it added and the ones it pruned.
 * A batch is committed when its whole line, newline included, is on disk; a
 * torn last line (a crash mid-append) is not part of the journal and is
 * ignored on read and cut off by the next append.
 *
 * @module
 */
import { z } from 'zod';
import { ErrorCode, ExecutionError } from '../errors.js';
import { countSchema, idSchema, isoTimestampSchema, parseInput } from '../validation.js';
import type { PlannedBatch } from './batch-plan.js';
import { executionSummarySchema, journalEntrySchema } from './records.js';
import { corruptRecord, parseJsonText, readStored } from './store-errors.js';
import type { CheckpointSummary, ExecutionSummary, JournalEntry, StoredJournalEntry } from './types.js';

/** The journal line format this release writes and the newest it reads. */
export const JOURNAL_LINE_VERSION = 1;

/** A checkpoint as a journal line records it; the record itself is in `checkpoints/<file>`. */
export interface CheckpointRef {
  id: string;
  /** File name inside the execution's `checkpoints/` directory. */
  file: string;
  createdAt: string;
  description: string | null;
  journalSeq: number;
}

/** One journal line. */
interface JournalLine {
  v: typeof JOURNAL_LINE_VERSION;
  /** Seq of the line's first entry (the next seq when it has none). */
  seq: number;
  summary?: ExecutionSummary;
  entries?: JournalEntry[];
  checkpoints?: CheckpointRef[];
  pruned?: string[];
}

// A name inside checkpoints/, never a path: a tampered line cannot point elsewhere.
const checkpointFileSchema = z.string().regex(/^cp-[A-Za-z0-9%._~-]+\.json(\.gz)?$/, { message: 'Expected a checkpoint file name' });

const lineSchema = z.strictObject({
  v: z.literal(JOURNAL_LINE_VERSION),
  seq: z.number().int().min(1),
  summary: executionSummarySchema.optional(),
  entries: z.array(journalEntrySchema).optional(),
  checkpoints: z
    .array(
      z.strictObject({
        id: idSchema,
        file: checkpointFileSchema,
        createdAt: isoTimestampSchema,
        description: z.string().nullable(),
        journalSeq: countSchema,
      }),
    )
    .optional(),
  pruned: z.array(idSchema).optional(),
});

/** What the journal says about one execution. */
export interface JournalState {
  /** The latest summary; null when no committed line has one. */
  summary: ExecutionSummary | null;
  /** Entries, numbered (only when replayed with entries). */
  entries: StoredJournalEntry[];
  lastSeq: number;
  /** Checkpoints not pruned, oldest first. */
  checkpoints: CheckpointRef[];
  /** Bytes of complete lines: where the next append starts. */
  committedBytes: number;
  /** Size of the file as read (larger than committedBytes after a torn append). */
  fileBytes: number;
}

/** The state of an execution with no journal yet. */
export function emptyJournalState(): JournalState {
  return { summary: null, entries: [], lastSeq: 0, checkpoints: [], committedBytes: 0, fileBytes: 0 };
}

/**
 * Reads a journal. Complete lines are validated (`STORE_CORRUPT` naming the
 * file and line; `STORE_INCOMPATIBLE` for a line of a newer format); bytes
 * after the last newline are a torn append and are ignored.
 */
export function replayJournal(bytes: Buffer, executionId: string, label: string, withEntries: boolean): JournalState {
  const committedBytes = bytes.lastIndexOf(0x0a) + 1;
  const state: JournalState = { ...emptyJournalState(), committedBytes, fileBytes: bytes.length };
  const lines = bytes.subarray(0, committedBytes).toString('utf8').split('\n');
  lines.forEach((text, index) => {
    if (text === '') return;
    const where = `file ${label}, line ${index + 1}`;
    const raw = readStored(executionId, where, () => parseJsonText(text));
    const version = (raw as { v?: unknown } | null)?.v;
    if (typeof version === 'number' && version > JOURNAL_LINE_VERSION) {
      throw new ExecutionError(
        ErrorCode.StoreIncompatible,
        `Stored data of execution "${executionId}" at ${where} has line format ${version}; this release reads up to ${JOURNAL_LINE_VERSION}`,
        { details: { executionId, where, version, supported: JOURNAL_LINE_VERSION } },
      );
    }
    const line = readStored(executionId, where, () => parseInput(lineSchema, raw, where));
    if (line.seq !== state.lastSeq + 1) throw corruptRecord(executionId, where, `seq ${line.seq} follows seq ${state.lastSeq}`);
    if (line.summary !== undefined) {
      if (line.summary.executionId !== executionId) throw corruptRecord(executionId, where, `the summary is of "${line.summary.executionId}"`);
      state.summary = line.summary;
    }
    for (const entry of line.entries ?? []) {
      state.lastSeq += 1;
      if (withEntries) state.entries.push({ ...(entry as JournalEntry), seq: state.lastSeq });
    }
    state.checkpoints.push(...(line.checkpoints ?? []));
    if (line.pruned !== undefined) {
      const pruned = new Set(line.pruned);
      state.checkpoints = state.checkpoints.filter((ref) => !pruned.has(ref.id));
    }
  });
  return state;
}

/** The journal line of one planned batch. `firstSeq` is its first entry's seq (or the next seq). */
export function encodeLine(batch: PlannedBatch, firstSeq: number, refs: readonly CheckpointRef[]): string {
  const line: JournalLine = { v: JOURNAL_LINE_VERSION, seq: firstSeq };
  if (batch.summary !== null) line.summary = batch.summary;
  if (batch.entries.length > 0) line.entries = batch.entries.map(({ seq: _seq, ...entry }) => entry);
  if (refs.length > 0) line.checkpoints = [...refs];
  if (batch.pruned.length > 0) line.pruned = batch.pruned;
  return `${JSON.stringify(line)}\n`;
}

/** Applies a planned batch to a cached state (after its line is committed). */
export function advanceState(state: JournalState, batch: PlannedBatch, refs: readonly CheckpointRef[]): void {
  if (batch.summary !== null) state.summary = batch.summary;
  state.lastSeq += batch.entries.length;
  state.checkpoints.push(...refs);
  if (batch.pruned.length > 0) {
    const pruned = new Set(batch.pruned);
    state.checkpoints = state.checkpoints.filter((ref) => !pruned.has(ref.id));
  }
}

/** A checkpoint's listing entry from its reference. */
export function summarizeRef(ref: CheckpointRef, executionId: string): CheckpointSummary {
  return { id: ref.id, executionId, createdAt: ref.createdAt, description: ref.description, journalSeq: ref.journalSeq };
}

/**
 * Reading the PostgreSQL store's rows back into records. Every value is
 * checked: a row that does not parse is `STORE_CORRUPT`, naming the table and
 * the row.
 *
 * @module
 */
import { parseStoredCheckpoint, parseStoredEntry, parseStoredSummary } from './records.js';
import { corruptRecord, parseJsonText, readStored } from './store-errors.js';
import type { CheckpointSummary, ExecutionSummary, StoredCheckpoint, StoredExecution, StoredJournalEntry } from './types.js';

/** A row as `pg` hands it over. */
export type Row = Record<string, unknown>;

/** A JSON column's value; anything but JSON text is corruption. */
function jsonColumn(value: unknown): unknown {
  if (typeof value !== 'string') throw new Error(`expected JSON text, found ${value === null ? 'NULL' : typeof value}`);
  return parseJsonText(value);
}

/** An aggregated column: an array, or NULL for no rows. */
function arrayColumn(value: unknown, executionId: string, where: string): unknown[] {
  if (value === null || value === undefined) return [];
  if (!Array.isArray(value)) throw corruptRecord(executionId, where, 'expected an array');
  return value as unknown[];
}

/** An `executions` row as a summary. */
export function summaryOf(row: Row): ExecutionSummary {
  const executionId = String(row.execution_id);
  const where = `table executions, row "${executionId}"`;
  const raw = readStored(executionId, where, () => ({
    executionId: row.execution_id,
    pipelineId: row.pipeline_id,
    status: row.status,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    definitionHash: row.definition_hash,
    metadata: jsonColumn(row.metadata),
  }));
  return parseStoredSummary(raw, executionId, where);
}

/** One checkpoint from its id, journal position and record text. */
export function checkpointOf(id: unknown, journalSeq: unknown, record: unknown, executionId: string): StoredCheckpoint {
  const where = `table checkpoints, row "${String(id)}"`;
  const raw = readStored(executionId, where, () => jsonColumn(record));
  const checkpoint = parseStoredCheckpoint(raw, executionId, where);
  if (checkpoint.id !== id) throw corruptRecord(executionId, where, `the record has id "${checkpoint.id}"`);
  if (typeof journalSeq !== 'number') throw corruptRecord(executionId, where, 'journal_seq is not a number');
  return { checkpoint, journalSeq };
}

function journalOf(row: Row, executionId: string): StoredJournalEntry[] {
  const seqs = arrayColumn(row.seqs, executionId, 'table journal');
  const kinds = arrayColumn(row.kinds, executionId, 'table journal');
  const payloads = arrayColumn(row.payloads, executionId, 'table journal');
  return seqs.map((seq, index) => {
    const where = `table journal, row seq ${String(seq)}`;
    if (typeof seq !== 'number') throw corruptRecord(executionId, where, 'seq is not a number');
    const raw = readStored(executionId, where, () => jsonColumn(payloads[index]));
    const entry = parseStoredEntry(raw, seq, executionId, where);
    if (entry.kind !== kinds[index]) throw corruptRecord(executionId, where, `kind column says "${String(kinds[index])}", payload "${entry.kind}"`);
    return entry;
  });
}

/** The row of `selectExecution` (summary plus aggregated journal and checkpoints). */
export function executionOf(row: Row): StoredExecution {
  const summary = summaryOf(row);
  const executionId = summary.executionId;
  const ids = arrayColumn(row.ids, executionId, 'table checkpoints');
  const seqs = arrayColumn(row.journal_seqs, executionId, 'table checkpoints');
  const records = arrayColumn(row.records, executionId, 'table checkpoints');
  return {
    summary,
    journal: journalOf(row, executionId),
    checkpoints: ids.map((id, index) => checkpointOf(id, seqs[index], records[index], executionId)),
  };
}

/** A `listCheckpoints` row. */
export function checkpointSummaryOf(row: Row, executionId: string): CheckpointSummary {
  const where = `table checkpoints, row "${String(row.id)}"`;
  const { id, created_at: createdAt, description, journal_seq: journalSeq } = row;
  if (typeof id !== 'string' || typeof createdAt !== 'string' || typeof journalSeq !== 'number' || (description !== null && typeof description !== 'string')) {
    throw corruptRecord(executionId, where, 'unexpected column types');
  }
  return { id, executionId, createdAt, description, journalSeq };
}

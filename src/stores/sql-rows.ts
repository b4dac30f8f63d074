/**
 * Reading SQL rows back into records, shared by the SQL stores: every value
 * is checked, and a row that does not parse is `STORE_CORRUPT` naming the
 * execution, the table and the row.
 *
 * @module
 */
import { parseStoredCheckpoint, parseStoredEntry, parseStoredSummary } from './records.js';
import { corruptRecord, parseJsonText, readStored } from './store-errors.js';
import type { ExecutionSummary, StoredCheckpoint, StoredJournalEntry } from './types.js';

/** A row as the driver hands it over. */
export type Row = Record<string, unknown>;

/** A JSON column's value; anything but JSON text is corruption. */
export function jsonColumn(value: unknown): unknown {
  if (typeof value !== 'string') throw new Error(`expected JSON text, found ${value === null ? 'NULL' : typeof value}`);
  return parseJsonText(value);
}

/** An `executions` row (snake_case columns) as a summary. */
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

/** One journal entry from its seq, kind column and payload text. */
export function journalEntryOf(seq: unknown, kind: unknown, payload: unknown, executionId: string): StoredJournalEntry {
  const where = `table journal, row seq ${String(seq)}`;
  if (typeof seq !== 'number') throw corruptRecord(executionId, where, 'seq is not a number');
  const raw = readStored(executionId, where, () => jsonColumn(payload));
  const entry = parseStoredEntry(raw, seq, executionId, where);
  if (entry.kind !== kind) throw corruptRecord(executionId, where, `kind column says "${String(kind)}", payload "${entry.kind}"`);
  return entry;
}

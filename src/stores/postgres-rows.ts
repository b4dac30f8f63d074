/**
 * Reading the PostgreSQL store's aggregated rows back into records (the
 * per-row checks are the SQL stores' shared ones in `sql-rows.ts`): a row
 * that does not parse is `STORE_CORRUPT`, naming the table and the row.
 *
 * @module
 */
import { checkpointOf, journalEntryOf, summaryOf } from './sql-rows.js';
import type { Row } from './sql-rows.js';
import { corruptRecord } from './store-errors.js';
import type { CheckpointSummary, StoredExecution } from './types.js';

/** An aggregated column: an array, or NULL for no rows. */
function arrayColumn(value: unknown, executionId: string, where: string): unknown[] {
  if (value === null || value === undefined) return [];
  if (!Array.isArray(value)) throw corruptRecord(executionId, where, 'expected an array');
  return value as unknown[];
}

/** The row of `selectExecution`: the summary with the journal and checkpoints aggregated in arrays. */
export function executionOf(row: Row): StoredExecution {
  const summary = summaryOf(row);
  const executionId = summary.executionId;
  const seqs = arrayColumn(row.seqs, executionId, 'table journal');
  const kinds = arrayColumn(row.kinds, executionId, 'table journal');
  const payloads = arrayColumn(row.payloads, executionId, 'table journal');
  const ids = arrayColumn(row.ids, executionId, 'table checkpoints');
  const journalSeqs = arrayColumn(row.journal_seqs, executionId, 'table checkpoints');
  const records = arrayColumn(row.records, executionId, 'table checkpoints');
  return {
    summary,
    journal: seqs.map((seq, index) => journalEntryOf(seq, kinds[index], payloads[index], executionId)),
    checkpoints: ids.map((id, index) => checkpointOf(id, journalSeqs[index], records[index], executionId)),
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

/**
 * The write path of the PostgreSQL store: one `write` (or several, grouped)
 * as one READ COMMITTED transaction of four statements: per-execution
 * advisory locks, the heads read under them, the whole plan applied in one
 * statement, COMMIT. Planning is {@link planWrite}, as in every store.
 *
 * @module
 */
import type { PoolClient } from 'pg';
import { ErrorCode, ExecutionError } from '../errors.js';
import { planWrite } from './batch-plan.js';
import type { PlannedBatch } from './batch-plan.js';
import type { PostgresSql } from './postgres-sql.js';
import type { ValidBatch } from './records.js';
import { stepIdOf } from './records.js';
import type { ExecutionSummary } from './types.js';

/**
 * A lease a write must still hold: the execution's queue row must be owned
 * by `owner` at claim number `attempt`, or the write is refused. A worker
 * whose lease was taken over can then no longer write that execution.
 */
export interface WriteFence {
  executionId: string;
  owner: string;
  attempt: number;
}

/** A row of this transaction that proves, after an unclear COMMIT, that it landed. */
export interface CommitProof {
  executionId: string | null;
  seq: number | null;
  payload: string | null;
  checkpointId: string | null;
}

/** Where a transaction failed: before COMMIT was sent (surely rolled back) or during it (unclear). */
export class TransactionFailure extends Error {
  override name = 'TransactionFailure';
  constructor(
    readonly phase: 'before-commit' | 'commit',
    readonly original: unknown,
    readonly proof: CommitProof | null,
  ) {
    super(original instanceof Error ? original.message : String(original), { cause: original });
  }
}

interface HeadRow {
  execution_id: string;
  created_at: string | null;
  last_seq: number;
  checkpoint_ids: string[];
  taken: string[];
  fenced: string[];
}

/** The apply statement's parameters, column by column. */
interface Columns {
  summaries: string[][];
  journal: (string | number | null)[][];
  checkpoints: (string | number | null)[][];
  pruned: string[];
  proof: CommitProof | null;
}

function leaseLost(fence: WriteFence): ExecutionError {
  return new ExecutionError(
    ErrorCode.InvalidState,
    `Execution "${fence.executionId}" is no longer leased by worker "${fence.owner}" (claim ${fence.attempt}): another worker took it over, so this write was refused`,
    { details: { executionId: fence.executionId, owner: fence.owner, attempt: fence.attempt, reason: 'lease_lost' } },
  );
}

function summaryColumns(summary: ExecutionSummary): string[] {
  return [
    summary.executionId,
    summary.pipelineId,
    summary.status,
    summary.createdAt,
    summary.updatedAt,
    summary.definitionHash as string,
    JSON.stringify(summary.metadata),
  ];
}

/** Turns a plan into the apply statement's columns. */
function toColumns(plan: readonly PlannedBatch[]): Columns {
  // An upsert may touch a row once per statement: the last summary of an execution wins (it is the state after the call).
  const summaries = new Map<string, ExecutionSummary>();
  const inserted = new Set<string>();
  const prunedIds = new Set<string>();
  for (const batch of plan) {
    if (batch.summary !== null) summaries.set(batch.executionId, batch.summary);
    for (const { checkpoint } of batch.checkpoints) inserted.add(checkpoint.id);
    for (const id of batch.pruned) prunedIds.add(id);
  }
  const summaryRows = [...summaries.values()].map(summaryColumns);
  const journal: (string | number | null)[][] = [];
  const checkpoints: (string | number | null)[][] = [];
  let proof: CommitProof | null = null;
  for (const batch of plan) {
    for (const { seq, ...entry } of batch.entries) {
      const payload = JSON.stringify(entry);
      journal.push([batch.executionId, seq, entry.kind, stepIdOf(entry), payload, entry.at]);
      proof ??= { executionId: batch.executionId, seq, payload, checkpointId: null };
    }
    for (const { checkpoint, journalSeq } of batch.checkpoints) {
      // A checkpoint pruned within the same call is never written.
      if (prunedIds.has(checkpoint.id)) continue;
      checkpoints.push([checkpoint.id, batch.executionId, checkpoint.createdAt, checkpoint.description, journalSeq, JSON.stringify(checkpoint)]);
      proof ??= { executionId: null, seq: null, payload: null, checkpointId: checkpoint.id };
    }
  }
  const pruned = [...prunedIds].filter((id) => !inserted.has(id));
  return { summaries: summaryRows, journal, checkpoints, pruned, proof };
}

/** Transposes rows into one array per column (for `unnest`). */
function transpose<T>(rows: readonly T[][], width: number): T[][] {
  const columns: T[][] = Array.from({ length: width }, () => []);
  for (const row of rows) row.forEach((value, index) => columns[index]?.push(value));
  return columns;
}

/**
 * Runs the batches as one transaction on `client`.
 *
 * @throws TransactionFailure wrapping what failed, with the phase; the
 *   original is an ExecutionError for a planning refusal (`INVALID_INPUT`) or
 *   a lost lease (`INVALID_STATE`), a `pg` error otherwise.
 */
export async function writeTransaction(
  client: PoolClient,
  sql: PostgresSql,
  schemaName: string,
  batches: readonly ValidBatch[],
  fences: readonly WriteFence[],
): Promise<void> {
  const ids = [...new Set([...batches.map((b) => b.executionId), ...fences.map((f) => f.executionId)])];
  const checkpointIds = batches.flatMap((b) => b.checkpoints.map((c) => c.id));
  let columns: Columns;
  try {
    await client.query('BEGIN');
    await client.query({ name: `${sql.prefix}lock`, text: sql.lockExecutions, values: [`orchestrator.execution:${schemaName}`, ids] });
    const heads = await client.query<HeadRow>({
      name: `${sql.prefix}heads`,
      text: sql.heads,
      values: [ids, checkpointIds, fences.map((f) => f.executionId), fences.map((f) => f.owner), fences.map((f) => f.attempt)],
    });
    const byId = new Map(heads.rows.map((row) => [row.execution_id, row]));
    const fenced = new Set(heads.rows[0]?.fenced ?? []);
    const lost = fences.find((fence) => !fenced.has(fence.executionId));
    if (lost !== undefined) throw leaseLost(lost);
    const taken = new Set(heads.rows[0]?.taken ?? []);
    const plan = planWrite(batches, {
      head: (executionId) => {
        const row = byId.get(executionId);
        return {
          createdAt: row?.created_at ?? null,
          lastSeq: row?.last_seq ?? 0,
          checkpointIds: () => [...(row?.checkpoint_ids ?? [])],
        };
      },
      checkpointTaken: (id) => taken.has(id),
    });
    columns = toColumns(plan);
    await client.query({
      name: `${sql.prefix}apply`,
      text: sql.apply,
      values: [
        ...transpose(columns.summaries, 7),
        ...transpose(columns.journal, 6),
        ...transpose(columns.checkpoints, 6),
        columns.pruned,
      ],
    });
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw new TransactionFailure('before-commit', error, null);
  }
  try {
    await client.query('COMMIT');
  } catch (error) {
    throw new TransactionFailure('commit', error, columns.proof);
  }
}

/** Whether the transaction that `proof` belongs to has committed. */
export async function hasLanded(client: PoolClient, sql: PostgresSql, proof: CommitProof): Promise<boolean> {
  const result = await client.query<{ landed: boolean }>({
    name: `${sql.prefix}committed`,
    text: sql.committed,
    values: [proof.executionId, proof.seq, proof.payload, proof.checkpointId],
  });
  return result.rows[0]?.landed === true;
}

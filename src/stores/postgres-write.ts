/**
 * The write path of the PostgreSQL store. Planning is {@link planWrite}, as
 * in every store; only where the heads come from differs:
 *
 * - optimistic ({@link fastWrite}): from what this store last saw of each
 *   execution (its version, journal length, checkpoints). The plan is
 *   applied in ONE autocommit statement that only lands if every execution
 *   is still at the version seen (or still absent) and every fence holds;
 *   otherwise it aborts whole. One round trip per commit, as a bare INSERT.
 *   A step's write (one execution, a few rows) goes as scalar parameters
 *   (`soloApplyText`); any other as one array per column.
 * - locking ({@link lockedWrite}): one READ COMMITTED transaction: advisory
 *   and row locks on the executions, the heads read under them, the plan
 *   applied in one statement, COMMIT. Used when the heads are unknown or
 *   stale, and to name the offending field of a refused write.
 *
 * @module
 */
import type { PoolClient } from 'pg';
import { ErrorCode, ExecutionError } from '../errors.js';
import { planWrite } from './batch-plan.js';
import type { ExecutionHead, PlannedBatch } from './batch-plan.js';
import { FAST_GROUP_SIZES, SOLO_LIMITS } from './postgres-fast-sql.js';
import type { FastShape, SoloShape } from './postgres-fast-sql.js';
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

/** A row of a write that proves, after an unanswered commit, that it landed. */
export interface CommitProof {
  executionId: string | null;
  seq: number | null;
  payload: string | null;
  checkpointId: string | null;
}

/** Where a write failed: before its commit was sent (surely not applied) or during it (unclear). */
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

/** What this store last saw of an execution. `version: null` means it was not stored. */
export interface KnownHead {
  version: number | null;
  createdAt: string | null;
  lastSeq: number;
  checkpointIds: readonly string[];
}

/** The heads this store saw last, per execution (bounded: the oldest are forgotten). */
export class KnownHeads {
  readonly #heads = new Map<string, KnownHead>();
  constructor(private readonly capacity = 10_000) {}

  get(executionId: string): KnownHead | undefined {
    return this.#heads.get(executionId);
  }

  set(executionId: string, head: KnownHead): void {
    this.#heads.delete(executionId);
    this.#heads.set(executionId, head);
    if (this.#heads.size > this.capacity) {
      const oldest = this.#heads.keys().next();
      if (oldest.done !== true) this.#heads.delete(oldest.value);
    }
  }

  forget(executionIds: Iterable<string>): void {
    for (const id of executionIds) this.#heads.delete(id);
  }
}

interface HeadRow {
  execution_id: string;
  created_at: string | null;
  version: number | null;
  last_seq: number;
  checkpoint_ids: string[];
  taken: string[];
  fenced: string[];
}

function leaseLost(fence: WriteFence): ExecutionError {
  return new ExecutionError(
    ErrorCode.LeaseLost,
    `Execution "${fence.executionId}" is no longer leased by worker "${fence.owner}" (claim ${fence.attempt}): another worker took it over, so this write was refused`,
    { details: { executionId: fence.executionId, owner: fence.owner, attempt: fence.attempt, reason: 'lease_lost' } },
  );
}

/** Transposes rows into one array per column (for `unnest`). */
function transpose<T>(rows: readonly T[][], width: number): T[][] {
  const columns: T[][] = Array.from({ length: width }, () => []);
  for (const row of rows) row.forEach((value, index) => columns[index]?.push(value));
  return columns;
}

/** A plan as statement parameters, plus what the store knows after it lands. */
interface Applied {
  /** Last summary per execution in the call (an upsert may touch a row once per statement). */
  summaries: Map<string, ExecutionSummary>;
  /** Rows of the data parts: journal entries, checkpoints, and the stored checkpoints to delete. */
  data: { journal: (string | number | null)[][]; checkpoints: (string | number | null)[][]; pruned: string[] };
  /** Heads after the write, versions still to be filled in. */
  after: Map<string, KnownHead>;
  proof: CommitProof | null;
}

function summaryColumns(summary: ExecutionSummary): string[] {
  const { executionId, pipelineId, status, createdAt, updatedAt, definitionHash, metadata } = summary;
  return [executionId, pipelineId, status, createdAt, updatedAt, definitionHash as string, JSON.stringify(metadata)];
}

function toApplied(batches: readonly ValidBatch[], plan: readonly PlannedBatch[], head: (executionId: string) => ExecutionHead): Applied {
  const summaries = new Map<string, ExecutionSummary>();
  const after = new Map<string, KnownHead>();
  const prunedIds = new Set<string>();
  for (const batch of plan) for (const id of batch.pruned) prunedIds.add(id);
  const inserted = new Set<string>();
  const journal: (string | number | null)[][] = [];
  const checkpoints: (string | number | null)[][] = [];
  let proof: CommitProof | null = null;
  plan.forEach((batch, index) => {
    const id = batch.executionId;
    const known = after.get(id) ?? { version: null, ...headOf(head(id)) };
    if (batch.summary !== null) summaries.set(id, batch.summary);
    // The planned entries are the given ones plus `seq`: the payload is the given one, not copied again.
    const given = batches[index]?.journal ?? [];
    batch.entries.forEach(({ seq }, position) => {
      const entry = given[position];
      if (entry === undefined) return;
      const payload = JSON.stringify(entry);
      journal.push([id, seq, entry.kind, stepIdOf(entry), payload, entry.at]);
      proof ??= { executionId: id, seq, payload, checkpointId: null };
    });
    let ids = known.checkpointIds;
    if (batch.checkpoints.length > 0 || batch.pruned.length > 0) {
      const kept = [...ids];
      for (const { checkpoint, journalSeq } of batch.checkpoints) {
        kept.push(checkpoint.id);
        inserted.add(checkpoint.id);
        // A checkpoint pruned within the same call is never written.
        if (prunedIds.has(checkpoint.id)) continue;
        checkpoints.push([checkpoint.id, id, checkpoint.createdAt, checkpoint.description, journalSeq, JSON.stringify(checkpoint)]);
        proof ??= { executionId: null, seq: null, payload: null, checkpointId: checkpoint.id };
      }
      ids = kept.filter((cp) => !batch.pruned.includes(cp));
    }
    after.set(id, {
      version: null,
      createdAt: batch.summary?.createdAt ?? known.createdAt,
      lastSeq: batch.entries.at(-1)?.seq ?? known.lastSeq,
      checkpointIds: ids,
    });
  });
  const pruned = [...prunedIds].filter((cp) => !inserted.has(cp));
  return { summaries, data: { journal, checkpoints, pruned }, after, proof };
}

function headOf(head: ExecutionHead): Omit<KnownHead, 'version'> {
  return { createdAt: head.createdAt, lastSeq: head.lastSeq, checkpointIds: head.checkpointIds() };
}

/**
 * The locking path: one transaction on `client`. Refreshes `heads` for
 * every execution it wrote.
 *
 * @throws TransactionFailure wrapping what failed, with the phase; the
 *   original is an ExecutionError for a planning refusal (`INVALID_INPUT`) or
 *   a lost lease (`LEASE_LOST`), a `pg` error otherwise.
 */
export async function lockedWrite(
  client: PoolClient,
  sql: PostgresSql,
  schemaName: string,
  batches: readonly ValidBatch[],
  fences: readonly WriteFence[],
  heads: KnownHeads,
): Promise<void> {
  const ids = [...new Set([...batches.map((b) => b.executionId), ...fences.map((f) => f.executionId)])];
  const checkpointIds = batches.flatMap((b) => b.checkpoints.map((c) => c.id));
  let applied: Applied;
  let versions: Map<string, number>;
  try {
    await client.query('BEGIN');
    await client.query({ name: `${sql.prefix}lock`, text: sql.lockExecutions, values: [`orchestrator.execution:${schemaName}`, ids] });
    const result = await client.query<HeadRow>({
      name: `${sql.prefix}heads`,
      text: sql.heads,
      values: [ids, checkpointIds, fences.map((f) => f.executionId), fences.map((f) => f.owner), fences.map((f) => f.attempt)],
    });
    const byId = new Map(result.rows.map((row) => [row.execution_id, row]));
    const fenced = new Set(result.rows[0]?.fenced ?? []);
    const lost = fences.find((fence) => !fenced.has(fence.executionId));
    if (lost !== undefined) throw leaseLost(lost);
    const taken = new Set(result.rows[0]?.taken ?? []);
    const head = (executionId: string): ExecutionHead => {
      const row = byId.get(executionId);
      return { createdAt: row?.created_at ?? null, lastSeq: row?.last_seq ?? 0, checkpointIds: () => [...(row?.checkpoint_ids ?? [])] };
    };
    applied = toApplied(batches, planWrite(batches, { head, checkpointTaken: (id) => taken.has(id) }), head);
    // Every execution written gets its upsert; '' marks "no summary: keep the stored one".
    const rows = [...applied.after.keys()].map((id) => {
      const summary = applied.summaries.get(id);
      return summary === undefined ? [id, '', '', '', '', null, ''] : summaryColumns(summary);
    });
    const upserted = await client.query<{ execution_id: string; version: number }>({
      name: `${sql.prefix}apply`,
      text: sql.apply,
      values: [
        ...transpose<string | null>(rows, 7),
        ...transpose(applied.data.journal, FAST_GROUP_SIZES.journal),
        ...transpose(applied.data.checkpoints, FAST_GROUP_SIZES.checkpoints),
        applied.data.pruned,
      ],
    });
    versions = new Map(upserted.rows.map((row) => [row.execution_id, row.version]));
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw new TransactionFailure('before-commit', error, null);
  }
  try {
    await client.query('COMMIT');
  } catch (error) {
    heads.forget(applied.after.keys());
    throw new TransactionFailure('commit', error, applied.proof);
  }
  for (const [id, head] of applied.after) heads.set(id, { ...head, version: versions.get(id) ?? null });
}

/** A statement ready to send: its prepared name, text and parameters. */
interface Statement {
  name: string;
  text: string;
  values: unknown[];
}

/**
 * The common write as scalar parameters: one execution, at most one fence
 * (its own), a few journal rows and checkpoints. Null when the write is not
 * of that kind.
 */
function soloStatement(sql: PostgresSql, applied: Applied, known: ReadonlyMap<string, KnownHead>, fences: readonly WriteFence[]): Statement | null {
  const { journal, checkpoints, pruned } = applied.data;
  if (known.size !== 1 || fences.length > 1 || journal.length > SOLO_LIMITS.journal || checkpoints.length > SOLO_LIMITS.checkpoints) return null;
  const [id, seen] = [...known][0] ?? [];
  if (id === undefined || seen === undefined) return null;
  const fence = fences[0];
  if (fence !== undefined && fence.executionId !== id) return null;
  const summary = applied.summaries.get(id);
  const values: unknown[] = [id];
  let execution: SoloShape['execution'];
  if (seen.version === null) {
    if (summary === undefined) return null;
    execution = 'create';
    values.push(...summaryColumns(summary).slice(1));
  } else if (summary === undefined) {
    execution = 'bump';
    values.push(seen.version);
  } else {
    execution = 'bump-summary';
    values.push(seen.version, ...summaryColumns(summary).filter((_, i) => i !== 0 && i !== 3));
  }
  if (fence !== undefined) values.push(fence.owner, fence.attempt);
  for (const row of journal) values.push(...row.slice(1));
  for (const row of checkpoints) values.push(row[0], ...row.slice(2));
  if (pruned.length > 0) values.push(pruned);
  const shape: SoloShape = { execution, fence: fence !== undefined, journal: journal.length, checkpoints: checkpoints.length, pruned: pruned.length > 0 };
  return { ...sql.soloApply(shape), values };
}

/** Any optimistic write, as one array per column. Null when it cannot be written optimistically. */
function arrayStatement(sql: PostgresSql, applied: Applied, known: ReadonlyMap<string, KnownHead>, fences: readonly WriteFence[]): Statement | null {
  const created: (string | null)[][] = [];
  const bumped: (string | number | boolean | null)[][] = [];
  for (const [id, seen] of known) {
    const summary = applied.summaries.get(id);
    if (seen.version === null) {
      if (summary === undefined) return null;
      created.push(summaryColumns(summary));
    } else {
      const columns = summary === undefined ? [null, null, null, null, null] : summaryColumns(summary).filter((_, i) => i !== 0 && i !== 3);
      bumped.push([id, seen.version, summary !== undefined, ...columns]);
    }
  }
  const { journal, checkpoints, pruned } = applied.data;
  const shape: FastShape = {
    bumped: bumped.length > 0,
    created: created.length > 0,
    fence: fences.length > 0,
    journal: journal.length > 0,
    checkpoints: checkpoints.length > 0,
    pruned: pruned.length > 0,
  };
  // In the order of the shape's parameter groups.
  const values: unknown[] = [
    ...(shape.bumped ? transpose(bumped, FAST_GROUP_SIZES.bumped) : []),
    ...(shape.created ? transpose(created, FAST_GROUP_SIZES.created) : []),
    ...(shape.fence ? [fences.map((f) => f.executionId), fences.map((f) => f.owner), fences.map((f) => f.attempt)] : []),
    ...(shape.journal ? transpose(journal, FAST_GROUP_SIZES.journal) : []),
    ...(shape.checkpoints ? transpose(checkpoints, FAST_GROUP_SIZES.checkpoints) : []),
    ...(shape.pruned ? [pruned] : []),
  ];
  return { ...sql.fastApply(shape), values };
}

/** How an optimistic write went: as a {@link SoloShape} statement, as arrays, or not at all. */
export type FastOutcome = 'solo' | 'arrays' | null;

/**
 * The optimistic path, when `heads` knows every execution of the call.
 *
 * @returns null when it did not apply (heads unknown or stale, or a
 *   refusal the locking path must name): nothing was written. Otherwise
 *   which statement wrote it.
 * @throws TransactionFailure (phase `commit`) when the connection failed:
 *   the statement may or may not have landed.
 */
export async function fastWrite(
  client: PoolClient,
  sql: PostgresSql,
  batches: readonly ValidBatch[],
  fences: readonly WriteFence[],
  heads: KnownHeads,
  isConnectionError: (error: unknown) => boolean,
): Promise<FastOutcome> {
  const known = new Map<string, KnownHead>();
  for (const { executionId } of batches) {
    const head = heads.get(executionId);
    if (head === undefined) return null;
    known.set(executionId, head);
  }
  if (fences.some((fence) => !known.has(fence.executionId))) return null;
  const head = (executionId: string): ExecutionHead => {
    const seen = known.get(executionId);
    return { createdAt: seen?.createdAt ?? null, lastSeq: seen?.lastSeq ?? 0, checkpointIds: () => [...(seen?.checkpointIds ?? [])] };
  };
  let applied: Applied;
  try {
    applied = toApplied(batches, planWrite(batches, { head }), head);
  } catch {
    return null;
  }
  const solo = soloStatement(sql, applied, known, fences);
  const statement = solo ?? arrayStatement(sql, applied, known, fences);
  if (statement === null) return null;
  try {
    await client.query(statement);
  } catch (error) {
    heads.forget(known.keys());
    if (isConnectionError(error)) throw new TransactionFailure('commit', error, applied.proof);
    // Stale heads, a taken checkpoint id, a lost lease: the locking path decides and names it.
    return null;
  }
  for (const [id, after] of applied.after) {
    const version = known.get(id)?.version;
    heads.set(id, { ...after, version: version === null || version === undefined ? 1 : version + 1 });
  }
  return solo === null ? 'arrays' : 'solo';
}

/** Whether the write that `proof` belongs to has committed. */
export async function hasLanded(client: PoolClient, sql: PostgresSql, proof: CommitProof): Promise<boolean> {
  const result = await client.query<{ landed: boolean }>({
    name: `${sql.prefix}committed`,
    text: sql.committed,
    values: [proof.executionId, proof.seq, proof.payload, proof.checkpointId],
  });
  return result.rows[0]?.landed === true;
}

/**
 * The work queue of a PostgreSQL store: {@link enqueue} submits an
 * execution, workers claim, heartbeat, finish and release rows. One row per
 * execution id, so an execution is queued (and run to the end) once.
 *
 * @module
 */
import { customAlphabet } from 'nanoid';
import type { PoolClient } from 'pg';
import { z } from 'zod';
import { ErrorCode, ExecutionError, ValidationFailure } from '../errors.js';
import type { SerializedError } from '../errors.js';
import type { PostgresCheckpointStore } from '../stores/postgres-store.js';
import { idSchema, jsonValueSchema, parseInput } from '../validation.js';
import type { JsonValue } from '../validation.js';
import { queueSql } from './queue-sql.js';
import type { QueueSql } from './queue-sql.js';

/** Status of a queued execution. */
export const QueueStatus = {
  QUEUED: 'queued',
  RUNNING: 'running',
  COMPLETED: 'completed',
  FAILED: 'failed',
  CANCELLED: 'cancelled',
} as const;
/** One of {@link QueueStatus}'s values. */
export type QueueStatus = (typeof QueueStatus)[keyof typeof QueueStatus];

/** A queue row as {@link getQueueEntry} returns it. */
export interface QueueEntry {
  executionId: string;
  pipelineId: string;
  input: JsonValue;
  metadata: Record<string, JsonValue>;
  status: QueueStatus;
  /** The worker that holds (or last held) it. */
  owner: string | null;
  /** How many times a worker claimed it. */
  attempts: number;
  /** ISO timestamps (database time). */
  leaseExpiresAt: string | null;
  enqueuedAt: string;
  finishedAt: string | null;
  /** Why a failed execution failed. */
  error: SerializedError | null;
}

/** Options of {@link enqueue}. */
export interface EnqueueOptions {
  /**
   * The execution id; submitting the same id again does nothing.
   * @default `<pipelineId>-<random>`
   */
  executionId?: string;
  /** JSON kept with the execution (the CLI records the pipeline module's path). */
  metadata?: Record<string, JsonValue>;
}

/** What {@link enqueue} did. */
export interface EnqueueResult {
  executionId: string;
  /** False when the id was queued before (this call changed nothing). */
  created: boolean;
}

/** A claimed row, as a worker runs it. */
export interface ClaimedExecution {
  executionId: string;
  pipelineId: string;
  input: JsonValue;
  metadata: Record<string, JsonValue>;
  /** The claim number: with the owner, the fence of this worker's writes. */
  attempt: number;
}

const randomSuffix = customAlphabet('0123456789abcdefghijklmnopqrstuvwxyz', 12);
const enqueueSchema = z.strictObject({
  pipelineId: idSchema,
  input: jsonValueSchema,
  executionId: idSchema.optional(),
  metadata: z.record(z.string(), jsonValueSchema).optional(),
});
const sqlByStore = new WeakMap<PostgresCheckpointStore, QueueSql>();

/** Refuses anything but a PostgreSQL store (`INVALID_INPUT` naming `store`). */
export function requirePostgresStore(store: unknown, what: string): PostgresCheckpointStore {
  const candidate = store as Partial<PostgresCheckpointStore> | null;
  if (typeof candidate !== 'object' || candidate === null || candidate.kind !== 'postgres' || typeof candidate.withClient !== 'function') {
    throw new ValidationFailure('store', `${what}: expected \`store\` to be a PostgreSQL store (createPostgresStore)`);
  }
  return candidate as PostgresCheckpointStore;
}

/** Runs `fn` with a connection and the queue SQL of `store`. */
export function withQueue<T>(store: PostgresCheckpointStore, doing: string, fn: (client: PoolClient, sql: QueueSql) => Promise<T>): Promise<T> {
  return store.withClient(doing, (client, storeSql) => {
    let sql = sqlByStore.get(store);
    if (sql === undefined) {
      sql = queueSql(store.schema, storeSql.prefix);
      sqlByStore.set(store, sql);
    }
    return fn(client, sql);
  });
}

function jsonText(value: unknown, executionId: string, column: string): unknown {
  try {
    return JSON.parse(String(value)) as unknown;
  } catch (error) {
    throw new ExecutionError(ErrorCode.StoreCorrupt, `Queue row "${executionId}" has a ${column} that is not JSON`, {
      cause: error,
      details: { executionId, column },
    });
  }
}

/**
 * Submits an execution of `pipelineId` with `input` for the workers of this
 * store. The execution id is unique: a second submission of the same id
 * does nothing (and says so with `created: false`), so it never runs twice.
 *
 * @throws ValidationFailure `INVALID_INPUT` for a bad id or non-JSON input.
 *
 * @example
 * const { executionId, created } = await enqueue(store, 'nightly-etl', { day: '2026-03-01' }, { executionId: 'etl-2026-03-01' });
 */
export async function enqueue(
  store: PostgresCheckpointStore,
  pipelineId: string,
  input: unknown = null,
  options: EnqueueOptions = {},
): Promise<EnqueueResult> {
  const pg = requirePostgresStore(store, 'enqueue');
  const parsed = parseInput(enqueueSchema, { pipelineId, input: input ?? null, ...options }, 'enqueue');
  const executionId = parsed.executionId ?? `${parsed.pipelineId}-${randomSuffix()}`;
  const result = await withQueue(pg, 'enqueue an execution', (client, sql) =>
    client.query({
      name: `${sql.prefix}enqueue`,
      text: sql.enqueue,
      values: [executionId, parsed.pipelineId, JSON.stringify(parsed.input), JSON.stringify(parsed.metadata ?? {})],
    }),
  );
  return { executionId, created: result.rowCount === 1 };
}

type QueueRow = Record<string, unknown>;

const textOrNull = (value: unknown): string | null => (typeof value === 'string' ? value : null);

/** The queue row of an execution, or null when it was never queued. */
export async function getQueueEntry(store: PostgresCheckpointStore, executionId: string): Promise<QueueEntry | null> {
  const pg = requirePostgresStore(store, 'getQueueEntry');
  const id = parseInput(idSchema, executionId, 'getQueueEntry executionId');
  const result = await withQueue(pg, 'read the queue', (client, sql) =>
    client.query<QueueRow>({ name: `${sql.prefix}entry`, text: sql.entry, values: [id] }),
  );
  const row = result.rows[0];
  if (row === undefined) return null;
  return {
    executionId: String(row.execution_id),
    pipelineId: String(row.pipeline_id),
    input: jsonText(row.input, id, 'input') as JsonValue,
    metadata: jsonText(row.metadata, id, 'metadata') as Record<string, JsonValue>,
    status: row.status as QueueStatus,
    owner: textOrNull(row.owner),
    attempts: Number(row.attempts),
    leaseExpiresAt: textOrNull(row.lease_expires_at),
    enqueuedAt: String(row.enqueued_at),
    finishedAt: textOrNull(row.finished_at),
    error: row.error === null ? null : (jsonText(row.error, id, 'error') as SerializedError),
  };
}

/** How many executions the queue holds in each status. */
export async function queueCounts(store: PostgresCheckpointStore): Promise<Record<QueueStatus, number>> {
  const pg = requirePostgresStore(store, 'queueCounts');
  const result = await withQueue(pg, 'count the queue', (client, sql) =>
    client.query<{ status: QueueStatus; count: number }>({ name: `${sql.prefix}counts`, text: sql.counts }),
  );
  const counts: Record<QueueStatus, number> = { queued: 0, running: 0, completed: 0, failed: 0, cancelled: 0 };
  for (const row of result.rows) counts[row.status] = row.count;
  return counts;
}

/** Claims up to `limit` executions of the given pipelines (queued, or leased by someone whose lease expired), never one of `running`. */
export async function claim(
  store: PostgresCheckpointStore,
  request: { owner: string; leaseMs: number; pipelineIds: readonly string[]; maxAttempts: number; limit: number; running: readonly string[] },
): Promise<ClaimedExecution[]> {
  const result = await withQueue(store, 'claim executions', (client, sql) =>
    client.query<QueueRow>({
      name: `${sql.prefix}claim`,
      text: sql.claim,
      values: [request.owner, request.leaseMs, request.pipelineIds, request.maxAttempts, request.limit, request.running],
    }),
  );
  return result.rows
    .filter((row) => row.status === 'running')
    .map((row) => {
      const executionId = String(row.execution_id);
      return {
        executionId,
        pipelineId: String(row.pipeline_id),
        input: jsonText(row.input, executionId, 'input') as JsonValue,
        metadata: jsonText(row.metadata, executionId, 'metadata') as Record<string, JsonValue>,
        attempt: Number(row.attempts),
      };
    });
}

/** Extends the leases `owner` still holds; returns the ids it still holds. */
export async function heartbeat(
  store: PostgresCheckpointStore,
  owner: string,
  leaseMs: number,
  held: readonly { executionId: string; attempt: number }[],
): Promise<Set<string>> {
  if (held.length === 0) return new Set();
  const result = await withQueue(store, 'extend leases', (client, sql) =>
    client.query<{ execution_id: string }>({
      name: `${sql.prefix}heartbeat`,
      text: sql.heartbeat,
      values: [owner, leaseMs, held.map((h) => h.executionId), held.map((h) => h.attempt)],
    }),
  );
  return new Set(result.rows.map((row) => row.execution_id));
}

/** Marks a claimed execution finished; false when the claim was lost meanwhile. */
export async function finish(
  store: PostgresCheckpointStore,
  claimed: { executionId: string; owner: string; attempt: number },
  status: 'completed' | 'failed' | 'cancelled',
  error: SerializedError | null,
): Promise<boolean> {
  const result = await withQueue(store, 'finish an execution', (client, sql) =>
    client.query({
      name: `${sql.prefix}finish`,
      text: sql.finish,
      values: [claimed.executionId, claimed.owner, claimed.attempt, status, error === null ? null : JSON.stringify(error)],
    }),
  );
  return result.rowCount === 1;
}

/** Puts a claimed execution back in the queue; false when the claim was lost meanwhile. */
export async function release(store: PostgresCheckpointStore, claimed: { executionId: string; owner: string; attempt: number }): Promise<boolean> {
  const result = await withQueue(store, 'release an execution', (client, sql) =>
    client.query({
      name: `${sql.prefix}release`,
      text: sql.release,
      values: [claimed.executionId, claimed.owner, claimed.attempt],
    }),
  );
  return result.rowCount === 1;
}

/**
 * {@link createPostgresStore}: executions in one PostgreSQL schema, written
 * through a `pg` pool. Several processes (and machines) may share it: every
 * `write` is one transaction, serialised with the other writers of the same
 * execution by its row version (one statement) or by advisory and row locks.
 *
 * @module
 */
import pg from 'pg';
import type { Pool, PoolClient } from 'pg';
import { z } from 'zod';
import { systemClock } from '../clock.js';
import type { Clock } from '../clock.js';
import { parseInput, requireId } from '../validation.js';
import { PostgresEngine } from './postgres-engine.js';
import type { PostgresStoreStats } from './postgres-engine.js';
import type { PostgresSql } from './postgres-sql.js';
import type { WriteFence } from './postgres-write.js';
import { parseFilter, validateBatches } from './records.js';
import { closedStoreError } from './store-errors.js';
import type { CheckpointStore, StoreBatch } from './types.js';

export type { PostgresStoreStats } from './postgres-engine.js';
export type { WriteFence } from './postgres-write.js';

/** Options of {@link createPostgresStore}. */
export interface PostgresStoreOptions {
  /** `postgres://user@host:port/db`. Required unless `pool` is given. */
  connectionString?: string;
  /**
   * The schema holding this store's tables (created on first use). Any name
   * of 1 to 63 bytes; it is always quoted.
   * @default 'orchestrator'
   */
  schema?: string;
  /**
   * A pool to use instead of one made from `connectionString`. The store
   * does not end it on `close()`, and does not listen to its `error` events
   * (a pool you pass needs its own listener, or an idle connection dropped
   * by the server ends the process).
   */
  pool?: Pool;
  /**
   * Connections of the pool the store makes. The write queue keeps one of
   * them from a write to the next while writes keep coming, and gives it
   * back as soon as it is idle or another caller waits for the pool.
   * @default 10
   */
  maxConnections?: number;
  /**
   * How long a call keeps retrying while the server is unreachable
   * (restarting, failing over) before it fails with a retryable
   * `STORE_ERROR`. Only transactions that surely did not commit are run
   * again; after a connection lost during COMMIT the store first checks
   * whether it landed. 0 disables retrying.
   * @default 10000
   */
  retryWindowMs?: number;
  /**
   * Time of `schema_version` rows and of retry waits.
   * @default systemClock
   */
  clock?: Clock;
}

/** The PostgreSQL store: a {@link CheckpointStore} (async only, no `sync` face) with a few extras. */
export interface PostgresCheckpointStore extends CheckpointStore {
  readonly kind: 'postgres';
  /** The schema name as given (unquoted). */
  readonly schema: string;
  /** The pool the store queries through (the workers' queue uses it too). */
  readonly pool: Pool;
  /** Resolves once the schema exists and is migrated; rejects with `STORE_INCOMPATIBLE` for a newer one. */
  ready(): Promise<void>;
  /**
   * `write`, refused with `LEASE_LOST` (details `reason: 'lease_lost'`)
   * unless every fence still holds: used by workers, so that a worker whose
   * lease was taken over cannot write the execution any more.
   */
  writeFenced(batches: readonly StoreBatch[], fences: readonly WriteFence[]): Promise<void>;
  /** Transactions so far, by path (a copy). */
  stats(): PostgresStoreStats;
  /** Runs `fn` with a pooled connection once the schema is ready, retrying on connection loss like every call. */
  withClient<T>(doing: string, fn: (client: PoolClient, sql: PostgresSql) => Promise<T>): Promise<T>;
}

const optionsSchema = z
  .strictObject({
    connectionString: z.string().min(1, { message: 'Expected a non-empty connection string' }).optional(),
    schema: z
      .string()
      .min(1, { message: 'Expected a non-empty schema name' })
      .refine((name) => Buffer.byteLength(name) <= 63, { message: 'Expected at most 63 bytes (the PostgreSQL identifier limit)' })
      .refine((name) => !name.includes('\0'), { message: 'Expected no NUL character' })
      .optional(),
    pool: z
      .custom<Pool>((value) => value instanceof pg.Pool, { message: 'Expected a pg Pool' })
      .optional(),
    maxConnections: z.number().int().min(1).max(10_000).optional(),
    retryWindowMs: z.number().int().min(0).max(2_147_483_647).optional(),
    clock: z
      .custom<Clock>((value) => typeof value === 'object' && value !== null && typeof (value as Clock).now === 'function', {
        message: 'Expected a Clock',
      })
      .optional(),
  })
  .refine((options) => options.connectionString !== undefined || options.pool !== undefined, {
    message: 'Expected a connectionString or a pool',
    path: ['connectionString'],
  });

/**
 * A store in a PostgreSQL schema, for executions shared by several worker
 * processes or machines. The schema is created and migrated on first use
 * (ordered migrations under an advisory lock). Every `write` is one
 * transaction; writes made in the same tick are committed together. Async
 * only: use it with {@link openExecution} or the workers.
 *
 * @throws ValidationFailure `INVALID_INPUT` for bad options. Calls reject
 *   with `STORE_INCOMPATIBLE` when the schema has a newer version,
 *   `STORE_CORRUPT` for a row that does not parse, and `STORE_ERROR` (with
 *   the `pg` error as `cause`, retryable for connection failures) otherwise.
 *
 * @example
 * const store = createPostgresStore({ connectionString: 'postgres://localhost/app', schema: 'orchestrator' });
 * const manager = await openExecution({ executionId: 'etl-1', pipelineId: 'etl', store });
 * // ...
 * await store.close();
 */
export function createPostgresStore(options: PostgresStoreOptions): PostgresCheckpointStore {
  const parsed = parseInput(optionsSchema, options, 'createPostgresStore options');
  const schema = parsed.schema ?? 'orchestrator';
  const clock = parsed.clock ?? systemClock;
  const owned = parsed.pool === undefined;
  const pool = parsed.pool ?? new pg.Pool({ connectionString: parsed.connectionString, max: parsed.maxConnections ?? 10 });
  // An idle connection the server drops (restart, failover) is reported here;
  // without a listener it would end the process. The pool replaces it.
  if (owned) pool.on('error', () => undefined);
  const engine = new PostgresEngine(pool, schema, clock, parsed.retryWindowMs ?? 10_000);
  let closed = false;
  let closing: Promise<void> | null = null;

  const guard = async <T>(run: () => Promise<T>): Promise<T> => {
    if (closed) throw closedStoreError('postgres');
    return run();
  };
  const writeWith = (batches: readonly StoreBatch[], fences: readonly WriteFence[]): Promise<void> =>
    guard(async () => {
      const valid = validateBatches(batches);
      if (valid.length > 0) await engine.write(valid, fences);
    });

  return {
    kind: 'postgres',
    schema,
    pool,
    ready: () => guard(() => engine.ready()),
    write: (batches) => writeWith(batches, []),
    writeFenced: (batches, fences) => writeWith(batches, fences),
    withClient: (doing, fn) => guard(() => engine.withClient(doing, fn)),
    stats: () => ({ ...engine.stats }),
    loadExecution: (executionId) => guard(() => engine.loadExecution(requireId(executionId, 'executionId'))),
    getCheckpoint: (executionId, checkpointId) =>
      guard(() => engine.getCheckpoint(requireId(executionId, 'executionId'), requireId(checkpointId, 'checkpointId'))),
    listCheckpoints: (executionId) => guard(() => engine.listCheckpoints(requireId(executionId, 'executionId'))),
    listExecutions: (filter) => guard(() => engine.listExecutions(parseFilter(filter))),
    close: () => {
      closed = true;
      // Writes already accepted are committed first; only then the pool ends.
      closing ??= engine.settled().then(async () => {
        if (owned) await pool.end();
      });
      return closing;
    },
  };
}

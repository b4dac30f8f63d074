/**
 * Turns a store engine (the few storage-specific operations) into a
 * {@link CheckpointStore} with both faces. Arguments are validated here, once
 * for every store, before the engine sees them; a closed store refuses every
 * call; the async face is the sync one answered through promises.
 *
 * @module
 */
import { requireId } from '../validation.js';
import type { ValidBatch } from './records.js';
import { parseFilter, validateBatches } from './records.js';
import { closedStoreError, toStoreError } from './store-errors.js';
import type {
  CheckpointStore,
  CheckpointSummary,
  ExecutionFilter,
  ExecutionSummary,
  StoreBatch,
  StoredCheckpoint,
  StoredExecution,
  SyncStoreApi,
} from './types.js';

/** A store with the synchronous face (memory, file, SQLite). */
export type EmbeddedCheckpointStore = CheckpointStore & { readonly sync: SyncStoreApi };

/** The storage-specific part of an embedded store; it gets validated arguments only. */
export interface StoreEngine {
  /** Commits validated batches, all or nothing. */
  write(batches: readonly ValidBatch[]): void;
  loadExecution(executionId: string): StoredExecution | null;
  getCheckpoint(executionId: string, checkpointId: string): StoredCheckpoint | null;
  listCheckpoints(executionId: string): CheckpointSummary[];
  listExecutions(filter: ExecutionFilter): ExecutionSummary[];
  /** Releases resources; called once. */
  close(): void;
}

/**
 * Runs `run` now (so the async face sees and makes the same state as the sync
 * one at the moment of the call) and reports its outcome as a promise.
 */
function settle<T>(run: () => T): Promise<T> {
  try {
    return Promise.resolve(run());
  } catch (error) {
    return Promise.reject(error instanceof Error ? error : new Error(String(error)));
  }
}

/** Runs a store operation: refused when closed, storage throws turned into store errors. */
export type StoreGuard = <T>(doing: string, run: () => T) => T;

/**
 * Builds the store object around an engine.
 *
 * @param details - where the store lives, added to its errors' details (`{ filename }`).
 * @param extra - more members of the returned object (e.g. `integrityCheck`), run through the guard.
 */
export function embeddedStore<Extra extends object>(
  kind: CheckpointStore['kind'],
  engine: StoreEngine,
  details: Record<string, unknown>,
  extra: (guard: StoreGuard) => Extra,
): EmbeddedCheckpointStore & Extra {
  let closed = false;
  const guard: StoreGuard = (doing, run) => {
    if (closed) throw closedStoreError(kind);
    try {
      return run();
    } catch (error) {
      throw toStoreError(error, doing, details);
    }
  };
  const sync: SyncStoreApi = {
    write(batches: readonly StoreBatch[]): void {
      guard('write', () => {
        const valid = validateBatches(batches);
        if (valid.length > 0) engine.write(valid);
      });
    },
    loadExecution: (executionId) =>
      guard('load an execution', () => engine.loadExecution(requireId(executionId, 'executionId'))),
    getCheckpoint: (executionId, checkpointId) =>
      guard('read a checkpoint', () =>
        engine.getCheckpoint(requireId(executionId, 'executionId'), requireId(checkpointId, 'checkpointId')),
      ),
    listCheckpoints: (executionId) =>
      guard('list checkpoints', () => engine.listCheckpoints(requireId(executionId, 'executionId'))),
    listExecutions: (filter?: ExecutionFilter) => guard('list executions', () => engine.listExecutions(parseFilter(filter))),
  };
  const store: EmbeddedCheckpointStore = {
    kind,
    sync,
    write: (batches) => settle(() => {
      sync.write(batches);
    }),
    loadExecution: (executionId) => settle(() => sync.loadExecution(executionId)),
    getCheckpoint: (executionId, checkpointId) => settle(() => sync.getCheckpoint(executionId, checkpointId)),
    listCheckpoints: (executionId) => settle(() => sync.listCheckpoints(executionId)),
    listExecutions: (filter) => settle(() => sync.listExecutions(filter)),
    close: () =>
      settle(() => {
        if (closed) return;
        closed = true;
        try {
          engine.close();
        } catch (error) {
          throw toStoreError(error, 'close', details);
        }
      }),
  };
  return Object.assign(store, extra(guard));
}

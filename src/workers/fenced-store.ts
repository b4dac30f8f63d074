/**
 * The store a worker hands to the runner for one claimed execution: the
 * PostgreSQL store, with every write fenced by the claim. Once another
 * worker has taken the execution over (or this one released it), the old
 * run's writes are refused instead of interleaving with the new owner's.
 *
 * @module
 */
import type { PostgresCheckpointStore, WriteFence } from '../stores/postgres-store.js';
import type { CheckpointStore } from '../stores/types.js';

/** `store` with its writes fenced by `fence`. Closing it leaves the store open. */
export function fencedStore(store: PostgresCheckpointStore, fence: WriteFence): CheckpointStore {
  const fences = [fence];
  return {
    kind: 'postgres',
    write: (batches) => store.writeFenced(batches, fences),
    loadExecution: (executionId) => store.loadExecution(executionId),
    getCheckpoint: (executionId, checkpointId) => store.getCheckpoint(executionId, checkpointId),
    listCheckpoints: (executionId) => store.listCheckpoints(executionId),
    listExecutions: (filter) => store.listExecutions(filter),
    close: () => Promise.resolve(),
  };
}

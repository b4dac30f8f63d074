/**
 * The queue bound to its store, for code that submits work: `enqueue(pipelineId,
 * input, { executionId })` without passing the store each time.
 *
 * @module
 */
import type { PostgresCheckpointStore } from '../stores/postgres-store.js';
import { enqueue, getQueueEntry, queueCounts, requirePostgresStore } from './queue.js';
import type { EnqueueOptions, EnqueueResult, QueueEntry, QueueStatus } from './queue.js';

/** The queue of a PostgreSQL store: what {@link createQueue} returns. */
export interface Queue {
  /**
   * Submits an execution of `pipelineId` with `input`. The execution id is
   * unique: a second submission of the same id does nothing and says so
   * with `created: false`, so it never runs twice.
   */
  enqueue(pipelineId: string, input?: unknown, options?: EnqueueOptions): Promise<EnqueueResult>;
  /** The queue row of an execution, or null when it was never queued. */
  get(executionId: string): Promise<QueueEntry | null>;
  /** How many executions the queue holds in each status. */
  counts(): Promise<Record<QueueStatus, number>>;
}

/**
 * The queue of `store`'s schema, which the workers on that store drain.
 *
 * @throws ValidationFailure `INVALID_INPUT` when `store` is not a PostgreSQL store.
 *
 * @example
 * const queue = createQueue(createPostgresStore({ connectionString: process.env.DATABASE_URL! }));
 * await queue.enqueue('nightly-etl', { day: '2026-11-26' }, { executionId: 'etl-2026-11-26' });
 */
export function createQueue(store: PostgresCheckpointStore): Queue {
  const pg = requirePostgresStore(store, 'createQueue');
  return {
    enqueue: (pipelineId, input, options) => enqueue(pg, pipelineId, input, options),
    get: (executionId) => getQueueEntry(pg, executionId),
    counts: () => queueCounts(pg),
  };
}

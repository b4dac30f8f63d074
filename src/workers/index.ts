/**
 * Scale-out on PostgreSQL: a queue of executions in the store's schema and
 * workers, in any number of processes and machines, sharing it.
 *
 * @module
 */
export { createWorker, type Worker, type WorkerOptions, type WorkerStats, type WorkerStopOptions } from './worker.js';
export type { StartedExecution } from './worker-log.js';
export { createQueue, type Queue } from './queue-client.js';
export {
  QueueStatus,
  enqueue,
  getQueueEntry,
  queueCounts,
  type EnqueueOptions,
  type EnqueueResult,
  type QueueEntry,
} from './queue.js';
export {
  enqueueCommand,
  loadPipelineModule,
  runWorkerCommand,
  type EnqueueCommandOptions,
  type EnqueueCommandResult,
  type QueueLocation,
  type WorkerCommandOptions,
} from './cli-commands.js';

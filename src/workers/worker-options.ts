/**
 * The options and public types of {@link createWorker}, and their checks.
 *
 * @module
 */
import { z } from 'zod';
import type { Clock } from '../clock.js';
import { ValidationFailure } from '../errors.js';
import type { SerializedError } from '../errors.js';
import { isPipeline } from '../runner/define.js';
import type { Pipeline, PipelineResult } from '../runner/types.js';
import type { PostgresCheckpointStore } from '../stores/postgres-store.js';
import type { DurabilityMode } from '../stores/types.js';
import { idSchema } from '../validation.js';
import type { StartedExecution } from './worker-log.js';

/** Options of {@link createWorker}. */
export interface WorkerOptions {
  /** The PostgreSQL store whose queue and executions the worker shares. */
  store: PostgresCheckpointStore;
  /** The pipelines this worker runs (it claims only executions of these). */
  pipelines: readonly Pipeline<never>[] | Readonly<Record<string, Pipeline<never>>>;
  /**
   * Executions run at the same time.
   * @default 4
   */
  concurrency?: number;
  /**
   * Steps run at the same time within one execution (the runner's `concurrency`).
   * @default 4
   */
  stepConcurrency?: number;
  /**
   * This worker's id (the queue rows' `owner`); unique per worker.
   * @default `<hostname>-<pid>-<random>`
   */
  workerId?: string;
  /**
   * How long a claim holds without a heartbeat. A worker that dies loses
   * its executions to the others this long after its last heartbeat.
   * @default 30000
   */
  leaseMs?: number;
  /**
   * Interval of the heartbeat that extends every lease the worker holds
   * (one UPDATE per interval, whatever the number of leases).
   * @default leaseMs / 3
   */
  heartbeatMs?: number;
  /**
   * Wait between claims while the queue is empty.
   * @default 1000
   */
  pollMs?: number;
  /**
   * Claims of one execution after which it is failed instead of handed out
   * again (an execution that keeps killing its workers).
   * @default 5
   */
  maxAttempts?: number;
  /**
   * Durability of the runs' writes.
   * @default 'sync'
   */
  durability?: DurabilityMode;
  /**
   * Timers (poll, heartbeat, backoff) and the runs' clock.
   * @default systemClock
   */
  clock?: Clock;
  /** Told about failures the worker survives (database unreachable, a run that could not finish). */
  onError?: (error: Error, executionId: string | null) => void;
  /**
   * Told when the worker starts running a claimed execution (attempt 2 and
   * later resume what an earlier claim left). `run` is its `PipelineRun`:
   * subscribe with `run.on(...)` for its progress.
   */
  onStarted?: (event: StartedExecution) => void;
  /** Told when the worker has finished an execution (the queue row is marked). */
  onFinished?: (event: { executionId: string; status: PipelineResult['status']; attempt: number }) => void;
}

/** Counters of a worker's life so far. */
export interface WorkerStats {
  claimed: number;
  completed: number;
  failed: number;
  cancelled: number;
  /** Given back to the queue (stop, or a run that could not finish). */
  released: number;
  /** Taken over by another worker while this one ran it. */
  lost: number;
  errors: number;
}

/** Options of {@link Worker.stop}. */
export interface WorkerStopOptions {
  /**
   * Let the running executions finish before stopping (no new claims meanwhile).
   * Without it, they are cancelled (resumable) and put back in the queue.
   * @default false
   */
  drain?: boolean;
  /**
   * With `drain`, how long to wait before cancelling what is still running.
   * @default 30000
   */
  timeoutMs?: number;
}

/** A running worker. */
export interface Worker {
  readonly workerId: string;
  /** Execution ids in flight. */
  readonly active: readonly string[];
  stats(): WorkerStats;
  /** Stops claiming, settles or gives back what it holds; resolves when nothing runs any more. Idempotent. */
  stop(options?: WorkerStopOptions): Promise<void>;
}

const positiveInt = z.number().int().min(1).max(2_147_483_647);
/** Schema of the plain options (the store and pipelines are checked on their own). */
export const optionsSchema = z.looseObject({
  concurrency: positiveInt.optional(),
  stepConcurrency: positiveInt.optional(),
  workerId: idSchema.optional(),
  leaseMs: positiveInt.optional(),
  heartbeatMs: positiveInt.optional(),
  pollMs: positiveInt.optional(),
  maxAttempts: positiveInt.optional(),
  durability: z.enum(['sync', 'batched', 'none']).optional(),
});

/** The pipelines by id; refuses anything not made by definePipeline(). */
export function pipelineMap(pipelines: WorkerOptions['pipelines']): Map<string, Pipeline<never>> {
  const list = Array.isArray(pipelines) ? (pipelines as readonly unknown[]) : Object.values(pipelines as Record<string, unknown>);
  const map = new Map<string, Pipeline<never>>();
  list.forEach((pipeline, index) => {
    if (!isPipeline(pipeline)) throw new ValidationFailure(`pipelines[${index}]`, 'createWorker: expected pipelines made by definePipeline()');
    map.set(pipeline.id, pipeline);
  });
  if (map.size === 0) throw new ValidationFailure('pipelines', 'createWorker: expected at least one pipeline');
  return map;
}

/** What a queue row records about a run that did not complete. */
export function firstError(result: PipelineResult): SerializedError | null {
  if (result.status === 'completed') return null;
  const step = result.steps.find((s) => s.status === 'failed' || s.status === 'cancelled');
  return { name: 'ExecutionError', message: step === undefined ? `Execution ${result.status}` : `Step "${step.id}" ${step.status}: ${step.error ?? step.reason ?? ''}`.trim() };
}


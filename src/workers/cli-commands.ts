/**
 * The scale-out commands behind `orchestrator worker` and `orchestrator
 * enqueue`, as functions of already-parsed options: the CLI maps argv onto
 * them, prints, and turns a thrown `INVALID_INPUT` into exit code 2.
 *
 * @module
 */
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ValidationFailure } from '../errors.js';
import { isPipeline } from '../runner/define.js';
import type { Pipeline } from '../runner/types.js';
import { createPostgresStore } from '../stores/postgres-store.js';
import type { JsonValue } from '../validation.js';
import { enqueue } from './queue.js';
import type { EnqueueResult } from './queue.js';
import { logExecution } from './worker-log.js';
import { createWorker } from './worker.js';
import type { WorkerStats } from './worker.js';

/** Where the queue lives: `--store postgres://...` and an optional `--schema`. */
export interface QueueLocation {
  /** `postgres://` or `postgresql://` connection string. */
  store: string;
  /**
   * @default 'orchestrator'
   */
  schema?: string;
}

/** Options of {@link runWorkerCommand} (`orchestrator worker`). */
export interface WorkerCommandOptions extends QueueLocation {
  /** Pipeline modules (each with `export default definePipeline(...)`) this worker runs. */
  pipelines: readonly string[];
  /** @default 4 */
  concurrency?: number;
  workerId?: string;
  /** @default 30000 */
  leaseMs?: number;
  /** @default 1000 */
  pollMs?: number;
  /** Stops the worker when aborted (the CLI aborts it on SIGINT/SIGTERM): running executions are given back. */
  signal?: AbortSignal;
  /** Where progress lines go (the CLI passes a stderr writer). */
  log?: (line: string) => void;
}

/** Options of {@link enqueueCommand} (`orchestrator enqueue <file>`). */
export interface EnqueueCommandOptions extends QueueLocation {
  /** The pipeline module; its path is recorded with the execution. */
  file: string;
  executionId?: string;
  /** The run's input (JSON). */
  input?: JsonValue;
}

/** What {@link enqueueCommand} returns (the CLI prints it as JSON). */
export interface EnqueueCommandResult extends EnqueueResult {
  pipelineId: string;
}

function requirePostgresUrl(url: string): void {
  if (typeof url !== 'string' || !/^postgres(ql)?:\/\//.test(url)) {
    throw new ValidationFailure('store', `Expected --store to be a postgres:// connection string, got ${JSON.stringify(url)}`);
  }
}

/** Imports a pipeline module and returns its default export (`INVALID_INPUT` naming the file otherwise). */
export async function loadPipelineModule(file: string): Promise<{ pipeline: Pipeline<never>; path: string }> {
  const path = resolve(file);
  let loaded: { default?: unknown };
  try {
    loaded = (await import(pathToFileURL(path).href)) as { default?: unknown };
  } catch (error) {
    throw new ValidationFailure('file', `Cannot load pipeline module ${path}: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
  }
  if (!isPipeline(loaded.default)) {
    throw new ValidationFailure('file', `Expected ${path} to have \`export default definePipeline(...)\``);
  }
  return { pipeline: loaded.default, path };
}

/**
 * `orchestrator worker --store postgres://... <pipeline files>`: runs a
 * worker until `signal` aborts, then gives back what it holds.
 *
 * @returns the worker's counters when it has stopped.
 * @throws ValidationFailure `INVALID_INPUT` for a bad URL or module.
 *
 * @example
 * const controller = new AbortController();
 * process.once('SIGTERM', () => controller.abort());
 * await runWorkerCommand({ store: 'postgres://localhost/app', pipelines: ['./etl.js'], signal: controller.signal });
 */
export async function runWorkerCommand(options: WorkerCommandOptions): Promise<WorkerStats> {
  requirePostgresUrl(options.store);
  if (options.pipelines.length === 0) throw new ValidationFailure('pipelines', 'Expected at least one pipeline module for the worker');
  const pipelines = (await Promise.all(options.pipelines.map(loadPipelineModule))).map((m) => m.pipeline);
  const log = options.log ?? (() => undefined);
  const store = createPostgresStore({ connectionString: options.store, ...(options.schema === undefined ? {} : { schema: options.schema }) });
  try {
    await store.ready();
    const worker = createWorker({
      store,
      pipelines,
      ...(options.concurrency === undefined ? {} : { concurrency: options.concurrency }),
      ...(options.workerId === undefined ? {} : { workerId: options.workerId }),
      ...(options.leaseMs === undefined ? {} : { leaseMs: options.leaseMs }),
      ...(options.pollMs === undefined ? {} : { pollMs: options.pollMs }),
      onError: (error, executionId) => {
        log(`worker: ${executionId === null ? '' : `${executionId}: `}${error.message}`);
      },
      onStarted: (started) => {
        logExecution(started, log);
      },
      onFinished: ({ executionId, status }) => {
        log(`worker: ${executionId} ${status}`);
      },
    });
    log(`worker ${worker.workerId} running ${pipelines.map((p) => p.id).join(', ')}`);
    await new Promise<void>((done) => {
      if (options.signal === undefined) return;
      if (options.signal.aborted) done();
      else options.signal.addEventListener('abort', () => {
        done();
      }, { once: true });
    });
    await worker.stop();
    log(`worker ${worker.workerId} stopped`);
    return worker.stats();
  } finally {
    await store.close();
  }
}

/**
 * `orchestrator enqueue <file> [--execution-id ID]`: queues an execution of
 * the module's pipeline; the same id twice queues it once.
 *
 * @throws ValidationFailure `INVALID_INPUT` for a bad URL, module or id.
 *
 * @example
 * const { executionId, created } = await enqueueCommand({ store: 'postgres://localhost/app', file: './etl.js', executionId: 'etl-42' });
 */
export async function enqueueCommand(options: EnqueueCommandOptions): Promise<EnqueueCommandResult> {
  requirePostgresUrl(options.store);
  const { pipeline, path } = await loadPipelineModule(options.file);
  const store = createPostgresStore({ connectionString: options.store, ...(options.schema === undefined ? {} : { schema: options.schema }) });
  try {
    const result = await enqueue(store, pipeline.id, options.input ?? null, {
      metadata: { module: path },
      ...(options.executionId === undefined ? {} : { executionId: options.executionId }),
    });
    return { ...result, pipelineId: pipeline.id };
  } finally {
    await store.close();
  }
}

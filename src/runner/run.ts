/**
 * {@link runPipeline}: opens (or resumes) the execution on a
 * ComprehensiveExecutionManager and drives it with the {@link Scheduler};
 * the handle gives the result, the progress events and the controls.
 *
 * @module
 */
import { customAlphabet } from 'nanoid';
import { z } from 'zod';
import { ExecutionStatus, type ProgressEventType } from '../constants.js';
import { ErrorCode, ExecutionError, ValidationFailure } from '../errors.js';
import {
  ComprehensiveExecutionManager,
  type ComprehensiveExecutionManagerOptions,
} from '../services/manager.js';
import type { ProgressEvent } from '../services/progress/index.js';
import type { CheckpointStore, StoredExecution } from '../stores/types.js';
import { idSchema, jsonValueSchema, parseInput, type JsonValue } from '../validation.js';
import { isPipeline } from './define.js';
import { EventHub } from './event-hub.js';
import { Scheduler } from './scheduler.js';
import { registerPipelineRecovery } from './step-recovery.js';
import type { Pipeline, PipelineEventHandler, PipelineResult, PipelineRun, RunPipelineOptions, StepResult } from './types.js';

/** Where a run stands once its execution was opened (see {@link PipelineRunHandle.started}). */
export interface RunStart {
  /** True when the store already held this execution. */
  resumed: boolean;
  /** The execution's status after it was (re)started; terminal when the stored run had already ended. */
  status: ExecutionStatus;
  /** Every step as the run starts (`completed`/`skipped` ones will not run again). */
  steps: StepResult[];
}

/** The handle of {@link runPipeline}: {@link PipelineRun} plus `started`. */
export interface PipelineRunHandle extends PipelineRun {
  /**
   * Resolves once the execution is open and started, before any step starts
   * (rejects like `done`).
   */
  readonly started: Promise<RunStart>;
}

const optionsSchema = z.strictObject({
  executionId: idSchema.optional(),
  concurrency: z.number().int().min(1).optional(),
  durability: z.enum(['sync', 'batched', 'none']).optional(),
  metadata: z.record(z.string(), jsonValueSchema).optional(),
});

const randomSuffix = customAlphabet('0123456789abcdefghijklmnopqrstuvwxyz', 10);

/** The default concurrency of {@link runPipeline}. */
export const DEFAULT_CONCURRENCY = 4;

function checkOptions<TInput>(options: RunPipelineOptions<TInput>): void {
  const { executionId, concurrency, durability, metadata } = options;
  parseInput(optionsSchema, { executionId, concurrency, durability, metadata }, 'runPipeline options');
  const { store, signal, clock } = options;
  if (store !== undefined && (typeof store !== 'object' || typeof (store as Partial<CheckpointStore>).loadExecution !== 'function')) {
    throw new ValidationFailure('store', 'runPipeline options: expected `store` to be a CheckpointStore');
  }
  if (signal !== undefined && !(signal instanceof AbortSignal)) {
    throw new ValidationFailure('signal', 'runPipeline options: expected `signal` to be an AbortSignal');
  }
  if (clock !== undefined && typeof clock.now !== 'function') {
    throw new ValidationFailure('clock', 'runPipeline options: expected `clock` to be a Clock');
  }
}

async function openManager<TInput>(
  pipeline: Pipeline<TInput>,
  executionId: string,
  options: RunPipelineOptions<TInput>,
): Promise<ComprehensiveExecutionManager> {
  const { store } = options;
  let stored: StoredExecution | null = null;
  if (store !== undefined) {
    stored = await store.loadExecution(executionId);
    if (stored !== null && stored.summary.pipelineId !== pipeline.id) {
      throw new ExecutionError(
        ErrorCode.InvalidInput,
        `Execution "${executionId}" in the ${store.kind} store belongs to pipeline "${stored.summary.pipelineId}", not "${pipeline.id}"`,
        { details: { executionId, pipelineId: stored.summary.pipelineId } },
      );
    }
  }
  // What an earlier run recorded (the CLI's module path) is kept unless overridden.
  const metadata: Record<string, JsonValue> = { ...stored?.summary.metadata, ...options.metadata };
  delete metadata.totalSteps;
  const managerOptions: ComprehensiveExecutionManagerOptions = {
    executionId,
    pipelineId: pipeline.id,
    metadata,
    ...(store === undefined ? {} : { store }),
    ...(options.inspect === undefined ? {} : { inspect: options.inspect }),
    ...(options.clock === undefined ? {} : { clock: options.clock }),
    ...(options.durability === undefined ? {} : { durability: options.durability }),
  };
  return new ComprehensiveExecutionManager(managerOptions, store === undefined ? undefined : { stored });
}

/**
 * Runs a pipeline on a ComprehensiveExecutionManager: independent steps in
 * parallel up to `concurrency`, each through `executeStepWithRecovery`
 * (retries, timeouts, alternatives, durability). With a store and the id of
 * a stored execution, the run continues it without re-running completed
 * steps; a stored run that already completed (or failed) is reported as is.
 *
 * @throws ValidationFailure `INVALID_INPUT` for a bad pipeline or options (synchronously)
 *
 * @example
 * const run = runPipeline(pipeline, { store: createSqliteStore(), concurrency: 2 });
 * run.on(ProgressEventType.STEP_COMPLETED, (event) => console.log(`${event.stepId} done`));
 * const { status, outputs } = await run.done;
 */
export function runPipeline<TInput = unknown>(pipeline: Pipeline<TInput>, options: RunPipelineOptions<TInput> = {}): PipelineRunHandle {
  if (!isPipeline(pipeline)) {
    throw new ValidationFailure('pipeline', 'runPipeline: expected a pipeline made by definePipeline()');
  }
  checkOptions(options);
  const executionId = options.executionId ?? `${pipeline.id}-${randomSuffix()}`;
  const hub = new EventHub();
  let scheduler: Scheduler<TInput> | null = null;
  let pendingCancel: string | null = null;
  let pendingPause = false;
  let resolveStarted: (start: RunStart) => void = () => undefined;
  let rejectStarted: (error: unknown) => void = () => undefined;
  const started = new Promise<RunStart>((resolve, reject) => {
    resolveStarted = resolve;
    rejectStarted = reject;
  });
  started.catch(() => undefined);

  const cancel = (reason?: string): void => {
    const text = reason ?? 'Cancelled';
    if (scheduler === null) pendingCancel ??= text;
    else scheduler.cancel(text);
  };
  const onAbort = (): void => {
    const reason: unknown = options.signal?.reason;
    cancel(reason instanceof Error ? reason.message : typeof reason === 'string' ? reason : 'Aborted');
  };
  options.signal?.addEventListener('abort', onAbort, { once: true });

  const drive = async (): Promise<PipelineResult> => {
    const manager = await openManager(pipeline, executionId, options);
    const unsubscribe = manager.progressTracker.addEventHandler((event: ProgressEvent) => {
      if (event.executionId === executionId) hub.publish(event);
    });
    const unregister = registerPipelineRecovery(manager.recoveryManager, pipeline.steps);
    try {
      const resumed = manager.resumed;
      const storedStatus = manager.getExecutionStatus().status;
      const ended = resumed && (storedStatus === ExecutionStatus.COMPLETED || storedStatus === ExecutionStatus.FAILED);
      // A stored run that already ended is reported, not run again; one
      // paused when its process stopped goes on.
      if (resumed && storedStatus === ExecutionStatus.PAUSED) manager.resumeExecution();
      if (!ended) manager.startExecution(pipeline.steps.length);
      const current = new Scheduler(manager, { pipeline, concurrency: options.concurrency ?? DEFAULT_CONCURRENCY, input: options.input as TInput });
      const first = current.result(resumed);
      resolveStarted({ resumed, status: first.status, steps: first.steps });
      if (ended) return first;
      // Whoever awaits `started` sees the snapshot before any step starts.
      await new Promise<void>((resolve) => {
        setImmediate(resolve);
      });
      scheduler = current;
      if (options.signal?.aborted === true) onAbort();
      if (pendingCancel !== null) current.cancel(pendingCancel);
      else if (pendingPause) current.pause();
      await current.run();
      return current.result(resumed);
    } finally {
      unregister();
      try {
        await manager.shutdown();
      } finally {
        unsubscribe();
        hub.close();
      }
    }
  };

  const done = drive().finally(() => {
    options.signal?.removeEventListener('abort', onAbort);
  });
  done.catch((error: unknown) => {
    rejectStarted(error);
    hub.close();
  });
  return {
    executionId,
    done,
    started,
    on: (eventType: ProgressEventType | '*', handler: PipelineEventHandler) => hub.on(eventType, handler),
    cancel,
    pause: () => {
      if (scheduler === null) pendingPause = true;
      else scheduler.pause();
    },
    resume: () => {
      if (scheduler === null) pendingPause = false;
      else scheduler.resume();
    },
    [Symbol.asyncIterator]: () => hub.iterate(),
  };
}

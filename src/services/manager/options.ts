/**
 * Zod schemas of the manager's option bags (validated at the boundary).
 *
 * @module
 */
import type { InspectionEvent, Observer } from 'xstate';
import { z } from 'zod';
import type { Clock } from '../../clock.js';
import type { CheckpointStore, DurabilityMode, StoredExecution } from '../../stores/types.js';
import { finiteNumber, idSchema, type JsonValue } from '../../validation.js';
import type { ExecutionContext } from '../context/index.js';
import type { ProgressTracker } from '../progress/index.js';
import { RecoveryPlan } from '../recovery/recovery-plan.js';
import type { RecoveryManager } from '../recovery/recovery-manager.js';
import type { VariableManager } from '../variables/index.js';
import type { StepExecutor } from './step-runtime.js';

/** An XState inspection observer or callback (e.g. from `@statelyai/inspect`). */
export type InspectOption = Observer<InspectionEvent> | ((event: InspectionEvent) => void);

/** Options of {@link ComprehensiveExecutionManager}. */
export interface ComprehensiveExecutionManagerOptions {
  executionId: string;
  pipelineId: string;
  /** Used as given; created when absent. */
  executionContext?: ExecutionContext;
  /** Used as given; defaults to the execution context's. */
  variableManager?: VariableManager;
  /** Used as given; created when absent. */
  progressTracker?: ProgressTracker;
  /** Used as given; created when absent. */
  recoveryManager?: RecoveryManager;
  /**
   * Time for timestamps, timeouts and backoff waits.
   * @default systemClock
   */
  clock?: Clock;
  /** Passed to every actor (the execution and each step). */
  inspect?: InspectOption;
  /**
   * Checkpoints kept in memory (when the manager creates the context).
   * @default 10
   */
  maxCheckpoints?: number;
  /**
   * Source of randomness for full jitter.
   * @default Math.random
   */
  random?: () => number;
  /**
   * Where the execution persists. A manager created for an execution id the
   * store already holds resumes that execution. Without a store everything
   * stays in memory. Async stores (PostgreSQL) need `openExecution`.
   */
  store?: CheckpointStore;
  /**
   * When writes are durable: `'sync'` (a step's outcome is committed before
   * `executeStepWithRecovery`/`completeStep` returns), `'batched'` (group
   * commit across executions sharing the store, awaited), `'none'`.
   * @default 'sync'
   */
  durability?: DurabilityMode;
  /** JSON kept with the execution's summary in the store (the CLI records its module path here). */
  metadata?: Record<string, JsonValue>;
}

/** @internal What `openExecution` already read from an async store. */
export interface PreloadedExecution {
  stored: StoredExecution | null;
}

/** Options of {@link ComprehensiveExecutionManager.executeStepWithRecovery}. */
export interface StepRunOptions {
  /** Executors tried in order by an ALTERNATIVE_PATH plan. */
  alternatives?: readonly StepExecutor[];
  /** Upper bound of each attempt, in ms, enforced through the executor's signal. */
  timeoutMs?: number;
  /** Recovery plan for this step (wins over handlers and defaults). */
  recoveryPlan?: RecoveryPlan;
}

/** Options of {@link ComprehensiveExecutionManager.completeStep}. */
export interface CompleteStepOptions {
  /** @default true */
  success?: boolean;
  /** The error of a failed step; its message is kept. */
  error?: unknown;
  /** @default 100 */
  progressPercentage?: number;
  /** The step's output, kept for `getStepOutput`. */
  output?: unknown;
}



/** Schema of the identity part of the manager options (components are checked by type). */
export const managerOptionsSchema = z.looseObject({
  executionId: idSchema,
  pipelineId: idSchema,
  maxCheckpoints: z.number().int().min(1).optional(),
});

/** Schema of `executeStepWithRecovery`'s options. */
export const stepRunOptionsSchema = z.strictObject({
  alternatives: z
    .array(z.custom<(...args: never[]) => unknown>((value) => typeof value === 'function', { message: 'Expected a function' }))
    .optional(),
  timeoutMs: z.number().int().positive().optional(),
  recoveryPlan: z.instanceof(RecoveryPlan).optional(),
});

/** Schema of `completeStep`'s options. */
export const completeStepOptionsSchema = z.strictObject({
  success: z.boolean().optional(),
  error: z.unknown().optional(),
  progressPercentage: finiteNumber.optional(),
  output: z.unknown().optional(),
});

/** A non-empty step name. */
export const stepNameSchema = idSchema;

/** A finite, non-negative integer step total. */
export const totalStepsSchema = finiteNumber.pipe(z.number().int().min(0));

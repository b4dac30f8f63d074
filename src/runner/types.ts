/**
 * Public types of the pipeline runner: what a pipeline declares, what a step
 * receives, what {@link runPipeline} takes and what its handle gives back.
 *
 * @module
 */
import type { Clock } from '../clock.js';
import type { ExecutionStatus, ProgressEventType, StepStatus } from '../constants.js';
import type { InspectOption } from '../services/manager.js';
import type { ExecutionStatusReport } from '../services/manager/status-report.js';
import type { ProgressEvent } from '../services/progress/index.js';
import type { ErrorInfo, RecoveryPlan, RecoveryPlanInput, RetryConfigInput } from '../services/recovery/index.js';
import type { VariableManager } from '../services/variables/index.js';
import type { CheckpointStore, DurabilityMode } from '../stores/types.js';
import type { JsonValue } from '../validation.js';

/** What a step's `when` condition receives. */
export interface ConditionContext<TInput = unknown> {
  /** Aborted when the run is cancelled. */
  signal: AbortSignal;
  /** The run's `input`. */
  input: TInput;
  /** The execution's variables (the manager's VariableManager). */
  variables: VariableManager;
  /** Outputs of the steps this one depends on, by step id. */
  outputs: Readonly<Record<string, unknown>>;
}

/** What a step's `run` (and each of its `alternatives`) receives, once per attempt. */
export interface PipelineStepContext<TInput = unknown> extends ConditionContext<TInput> {
  /** Aborted on timeout, cancellation and shutdown: pass it to your I/O. */
  signal: AbortSignal;
  /** 1 for the first call, +1 per retry. */
  attempt: number;
  /** True when the step runs again because its process died while it ran. */
  resumed: boolean;
  /** Reports this step's progress (0..100) with an optional message. */
  reportProgress: (percentage: number, message?: string) => void;
}

/** A step's work; its resolved value is the step's output (JSON when the run has a store). */
export type StepRun<TInput = unknown> = (ctx: PipelineStepContext<TInput>) => unknown;

/**
 * Chooses the recovery of a failed attempt from the classified error.
 * Return a plan (or plan input), or null/undefined for the engine's default.
 */
export type StepRecoveryFunction = (error: ErrorInfo) => RecoveryPlan | RecoveryPlanInput | null | undefined;

/** One step as declared in {@link definePipeline}. */
export interface PipelineStepDefinition<TInput = unknown> {
  /** Unique within the pipeline; the step's id in the execution. */
  id: string;
  /**
   * Human name shown in progress and status.
   * @default the id
   */
  name?: string;
  /** The work. */
  run: StepRun<TInput>;
  /**
   * Ids of the steps that must have completed (or been skipped by their
   * condition) before this one starts; their outputs are in `ctx.outputs`.
   * @default []
   */
  dependsOn?: readonly string[];
  /**
   * Retry with backoff (RETRY_WITH_BACKOFF with this RetryConfig). Unlike a
   * bare RetryConfig, `retryOnCategories` defaults to every category: a step
   * that asks for retries is retried whatever it throws (a FatalError never).
   * Exclusive with `recovery`.
   */
  retry?: RetryConfigInput;
  /**
   * The step's recovery: a plan for every failure, or a function of the
   * classified error. ROLLBACK is refused (a restore would undo steps that
   * run in parallel). Exclusive with `retry`.
   */
  recovery?: RecoveryPlan | RecoveryPlanInput | StepRecoveryFunction;
  /** Upper bound of each attempt in ms, enforced through `ctx.signal`. */
  timeoutMs?: number;
  /** Executors an ALTERNATIVE_PATH plan tries in order. */
  alternatives?: readonly StepRun<TInput>[];
  /** Evaluated when the dependencies are done; false skips the step. */
  when?: (ctx: ConditionContext<TInput>) => boolean | Promise<boolean>;
}

/** What {@link definePipeline} takes. */
export interface PipelineDefinition<TInput = unknown> {
  /** The pipeline id (the executions' `pipelineId`). */
  id: string;
  /** At least one step. */
  steps: readonly PipelineStepDefinition<TInput>[];
}

/** A validated step: defaults filled in. */
export interface PipelineStep<TInput = unknown> {
  readonly id: string;
  readonly name: string;
  readonly run: StepRun<TInput>;
  readonly dependsOn: readonly string[];
  readonly retry: RetryConfigInput | undefined;
  readonly recovery: RecoveryPlan | StepRecoveryFunction | undefined;
  readonly timeoutMs: number | undefined;
  readonly alternatives: readonly StepRun<TInput>[];
  readonly when: ((ctx: ConditionContext<TInput>) => boolean | Promise<boolean>) | undefined;
}

/** A validated, frozen pipeline (made by {@link definePipeline}). */
export interface Pipeline<TInput = unknown> {
  readonly id: string;
  /** In declaration order. */
  readonly steps: readonly PipelineStep<TInput>[];
}

/** Options of {@link runPipeline}. */
export interface RunPipelineOptions<TInput = unknown> {
  /**
   * The execution id. With a store that holds it, the stored run is
   * continued: completed steps are not run again.
   * @default `<pipelineId>-<random>`
   */
  executionId?: string;
  /**
   * Where the execution persists (needed to resume it in another run).
   * @default none: in memory
   */
  store?: CheckpointStore;
  /** Aborting it cancels the run (like `cancel()`). */
  signal?: AbortSignal;
  /**
   * How many steps run at the same time.
   * @default 4
   */
  concurrency?: number;
  /** XState inspection observer, passed to the manager's actors. */
  inspect?: InspectOption;
  /** Given to every step as `ctx.input`. */
  input?: TInput;
  /**
   * When store writes are durable (see the manager's `durability`).
   * @default 'sync'
   */
  durability?: DurabilityMode;
  /** JSON kept with the execution in the store (the CLI records the module path). */
  metadata?: Record<string, JsonValue>;
  /**
   * Time for timestamps, timeouts and backoff waits.
   * @default systemClock
   */
  clock?: Clock;
}

/** A step's outcome in a {@link PipelineResult}. */
export interface StepResult {
  id: string;
  name: string;
  /** `pending` when the step never started (a cancelled run). */
  status: StepStatus;
  /** Attempts of the step's latest run (0 when it never ran). */
  attempts: number;
  retries: number;
  /** Seconds, when this run saw the step finish (null for steps finished in an earlier run). */
  durationSeconds: number | null;
  /** True when the step had finished in an earlier run of this execution and was not run again. */
  earlier: boolean;
  /** The error message of a failed step. */
  error: string | null;
  /** Why the step was skipped or cancelled. */
  reason: string | null;
}

/** What `run.done` resolves with. */
export interface PipelineResult {
  executionId: string;
  pipelineId: string;
  /** `completed`, `failed` or `cancelled`. */
  status: ExecutionStatus;
  /** Outputs of the completed steps, by step id. */
  outputs: Record<string, unknown>;
  /** Every step of the pipeline, in declaration order. */
  steps: StepResult[];
  report: ExecutionStatusReport;
  /** True when the run continued an execution the store already held. */
  resumed: boolean;
}

/** Handler of the run's progress events. */
export type PipelineEventHandler = (event: ProgressEvent) => void;

/** The handle {@link runPipeline} returns. */
export interface PipelineRun extends AsyncIterable<ProgressEvent> {
  readonly executionId: string;
  /**
   * Settles when the run has ended: resolves for completed, failed and
   * cancelled runs; rejects only when the engine itself fails (a store
   * error, a stored execution of another pipeline).
   */
  readonly done: Promise<PipelineResult>;
  /** Subscribes to one event type (`'*'` for all); returns the unsubscribe function. */
  on(eventType: ProgressEventType | '*', handler: PipelineEventHandler): () => void;
  /** Cancels: running steps are aborted and recorded cancelled; the run stays resumable. */
  cancel(reason?: string): void;
  /** Stops starting new steps; steps in flight finish. */
  pause(): void;
  /** Continues a paused run. */
  resume(): void;
}

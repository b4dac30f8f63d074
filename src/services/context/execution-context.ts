/**
 * {@link ExecutionContext}: the status, step outcomes, metrics, variables and
 * checkpoints of one execution, with JSON export/import and file persistence.
 *
 * @module
 */
import { customAlphabet } from 'nanoid';
import { z } from 'zod';
import { isoNow, systemClock } from '../../clock.js';
import type { Clock } from '../../clock.js';
import { ExecutionStatus, PersistenceFormat } from '../../constants.js';
import { ErrorCode, ExecutionError, ValidationFailure } from '../../errors.js';
import { countSchema, idSchema, parseInput, requireBoolean, requireId } from '../../validation.js';
import { VariableManager } from '../variables/variable-manager.js';
import { CHECKPOINT_FORMAT_VERSION, deepFreeze, sealCheckpoint } from './checkpoint.js';
import type { Checkpoint, ExecutionMetrics } from './checkpoint.js';
import { CONTEXT_STATE_FORMAT_VERSION, parseExecutionContextState } from './context-state.js';
import type { ExecutionContextState } from './context-state.js';
import { FileStateManager } from './file-state-manager.js';
import { HandlerSet, parseCheckpointArgs, parseContextOptions, reportHandlerError } from './context-options.js';
import type {
  CheckpointRestoredHandler,
  ExecutionContextOptions,
  HandlerErrorReporter,
  StatusChangeHandler,
  StepEventHandler,
} from './context-options.js';
import { StepLedger } from './step-ledger.js';
import type { StepOutcome, StepRecord } from './step-ledger.js';
import { currentMetrics, emptyMetrics, endMetrics, OUTCOME_COUNTERS, TERMINAL_STATUSES as TERMINAL } from './metrics.js';

/**
 * Checkpoint ids: 21 characters of nanoid's URL-safe alphabet without '-'
 * (about 125 random bits). An id a user types on a command line
 * (`orchestrator restore <executionId> <checkpointId>`) must not look like
 * an option.
 */
const checkpointId = customAlphabet('0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz_', 21);

// Schemas are built once: zod 4 compiles each schema instance on first use.
const optionalCountSchema = countSchema.optional();
const booleanSchema = z.boolean();
const stringSchema = z.string();

/**
 * Status, step outcomes, metrics, variables and checkpoints of one execution.
 *
 * Lifecycle: PENDING -start()-> RUNNING -complete(true|false)-> COMPLETED |
 * FAILED; RUNNING <-> PAUSED via `pauseExecution`/`resumeExecution`;
 * `cancelExecution` from any non-terminal status. Terminal contexts refuse
 * `start`, `complete` and step calls with `INVALID_STATE`; `restoreCheckpoint`
 * and `importState` work in every status.
 *
 * Steps: each step has at most one outcome (its latest). Finishing a step
 * again with the same outcome counts nothing and fires nothing unless the step
 * was started again; finishing it with another outcome moves it.
 *
 * @example
 * const context = createExecutionContext({ executionId: 'run-1', pipelineId: 'etl' });
 * context.start(2);
 * context.startStep('extract');
 * context.completeStep('extract');
 * const checkpoint = context.createCheckpoint('after extract');
 * context.completeStep('load', false);
 * context.restoreCheckpoint(checkpoint.id); // "load" is no longer failed
 */
export class ExecutionContext {
  /** Id of this execution. */
  readonly executionId: string;
  readonly pipelineId: string;
  /** The variables of this execution. */
  readonly variableManager: VariableManager;
  /** The context this one is nested in, or null. */
  readonly parent: ExecutionContext | null;
  /** Checkpoints kept in memory. */
  readonly maxCheckpoints: number;
  /** Directory of `saveState`, if any. */
  readonly stateDir: string | undefined;
  /** Format of `saveState` files. */
  readonly format: PersistenceFormat;

  readonly #clock: Clock;
  readonly #onHandlerError: HandlerErrorReporter;
  #status: ExecutionStatus = ExecutionStatus.PENDING;
  #metrics: ExecutionMetrics = emptyMetrics();
  readonly #steps = new StepLedger();
  #checkpoints: Checkpoint[] = [];
  #nested = new Map<string, ExecutionContext>();
  readonly #stepHandlers: HandlerSet<Parameters<StepEventHandler>>;
  readonly #statusHandlers: HandlerSet<Parameters<StatusChangeHandler>>;
  readonly #restoreHandlers: HandlerSet<Parameters<CheckpointRestoredHandler>>;
  readonly #unsubscribe: (() => void)[];
  #files: FileStateManager | undefined;

  constructor(options: ExecutionContextOptions) {
    const parsed = parseContextOptions(options, 'ExecutionContext options');
    this.executionId = parsed.executionId;
    this.pipelineId = parsed.pipelineId;
    this.#clock = parsed.clock ?? systemClock;
    this.variableManager =
      parsed.variableManager ?? new VariableManager({ pipelineId: parsed.pipelineId, clock: this.#clock });
    this.parent = parsed.parent ?? null;
    this.maxCheckpoints = parsed.maxCheckpoints ?? 10;
    this.stateDir = parsed.stateDir;
    this.format = parsed.format ?? PersistenceFormat.JSON;
    this.#onHandlerError = parsed.onHandlerError ?? reportHandlerError;
    this.#stepHandlers = new HandlerSet('onStepEvent', this.#onHandlerError);
    this.#statusHandlers = new HandlerSet('onStatusChange', this.#onHandlerError);
    this.#restoreHandlers = new HandlerSet('onCheckpointRestored', this.#onHandlerError);
    this.#unsubscribe = [
      this.variableManager.onVariableCreated(() => {
        this.#metrics.variablesCreated += 1;
      }),
      this.variableManager.onVariableChanged(() => {
        this.#metrics.variablesUpdated += 1;
      }),
    ];
  }

  /** Current status. */
  get status(): ExecutionStatus {
    return this.#status;
  }

  /** The most recently started step that has not finished, or null. */
  get currentStepId(): string | null {
    return this.#steps.current;
  }

  /** A copy of the metrics; `duration` runs on the clock until the execution ends. */
  get metrics(): ExecutionMetrics {
    return currentMetrics(this.#metrics, this.#status, this.#clock.now());
  }

  /** Checkpoints kept, oldest first (deeply frozen records). */
  get checkpoints(): readonly Checkpoint[] {
    return [...this.#checkpoints];
  }

  /** Steps whose latest outcome is "completed", in order of completion. */
  get completedSteps(): readonly string[] {
    return this.#steps.list('completed');
  }

  /** Steps whose latest outcome is "failed". */
  get failedSteps(): readonly string[] {
    return this.#steps.list('failed');
  }

  /** Steps whose latest outcome is "skipped". */
  get skippedSteps(): readonly string[] {
    return this.#steps.list('skipped');
  }

  /** The total given to `start(totalSteps)` (0 before). */
  get totalSteps(): number {
    return this.#metrics.stepsTotal;
  }

  /** Contexts made by {@link createNestedContext}, in creation order. */
  get nestedContexts(): readonly ExecutionContext[] {
    return [...this.#nested.values()];
  }

  /**
   * PENDING -> RUNNING and records `startTime`. On a RUNNING context it only
   * updates `totalSteps` (so a resumed execution can be started again).
   * `totalSteps` defaults to the current total. PAUSED or terminal -> `INVALID_STATE`.
   */
  start(totalSteps?: number): void {
    const total = parseInput(optionalCountSchema, totalSteps, 'start totalSteps');
    if (this.#status !== ExecutionStatus.PENDING && this.#status !== ExecutionStatus.RUNNING) {
      throw this.#invalidState('start');
    }
    if (total !== undefined) this.#metrics.stepsTotal = total;
    if (this.#status === ExecutionStatus.PENDING) {
      this.#metrics.startTime = isoNow(this.#clock);
      this.#setStatus(ExecutionStatus.RUNNING);
    }
  }

  /** Same as {@link start}. */
  startExecution(totalSteps?: number): void {
    this.start(totalSteps);
  }

  /**
   * Ends the execution COMPLETED (`success`) or FAILED and fixes `endTime`
   * and `duration` (null when it never started). A terminal context refuses
   * with `INVALID_STATE`.
   */
  complete(success = true): void {
    const ok = parseInput(booleanSchema, success, 'complete success');
    if (TERMINAL.has(this.#status)) throw this.#invalidState('complete');
    this.#finishExecution(ok ? ExecutionStatus.COMPLETED : ExecutionStatus.FAILED);
  }

  /** Same as {@link complete}. */
  completeExecution(success = true): void {
    this.complete(success);
  }

  /** RUNNING -> PAUSED; false (and no change) from any other status. */
  pauseExecution(): boolean {
    if (this.#status !== ExecutionStatus.RUNNING) return false;
    this.#setStatus(ExecutionStatus.PAUSED);
    return true;
  }

  /** PAUSED -> RUNNING; false (and no change) from any other status. */
  resumeExecution(): boolean {
    if (this.#status !== ExecutionStatus.PAUSED) return false;
    this.#setStatus(ExecutionStatus.RUNNING);
    return true;
  }

  /** PENDING, RUNNING or PAUSED -> CANCELLED (fixes `endTime`); false from a terminal status. */
  cancelExecution(): boolean {
    if (TERMINAL.has(this.#status)) return false;
    this.#finishExecution(ExecutionStatus.CANCELLED);
    return true;
  }

  /** Marks a step started: it becomes `currentStepId`; fires "started". */
  startStep(stepId: string): void {
    const id = requireId(stepId, 'startStep stepId');
    if (TERMINAL.has(this.#status)) throw this.#invalidState('startStep');
    this.#steps.start(id);
    this.#stepHandlers.emit(id, 'started');
  }

  /** Records a step's outcome once (see the class notes); fires "completed" or "failed". */
  completeStep(stepId: string, success = true): void {
    const id = requireId(stepId, 'completeStep stepId');
    const ok = requireBoolean(success, 'completeStep success');
    if (TERMINAL.has(this.#status)) throw this.#invalidState('completeStep');
    this.#finishStep(id, ok ? 'completed' : 'failed');
  }

  /** Records a step as skipped; fires "skipped". */
  skipStep(stepId: string): void {
    const id = requireId(stepId, 'skipStep stepId');
    if (TERMINAL.has(this.#status)) throw this.#invalidState('skipStep');
    this.#finishStep(id, 'skipped');
  }

  /**
   * Records status, current step, metrics, step lists, variables and the
   * JSON `extensions` (deep-copied; properties set to `undefined` are dropped
   * as `JSON.stringify` would). Keeps the newest `maxCheckpoints`.
   */
  createCheckpoint(description?: string, extensions?: Record<string, unknown>): Checkpoint {
    const args = parseCheckpointArgs(description, extensions);
    const checkpoint: Checkpoint = sealCheckpoint({
      formatVersion: CHECKPOINT_FORMAT_VERSION,
      id: checkpointId(),
      executionId: this.executionId,
      pipelineId: this.pipelineId,
      createdAt: isoNow(this.#clock),
      description: args.description,
      status: this.#status,
      metrics: this.metrics,
      ...this.#steps.toRecord(),
      variables: structuredClone(this.variableManager.exportState()),
      extensions: args.extensions,
    });
    this.#keep([...this.#checkpoints, checkpoint]);
    return checkpoint;
  }

  /** The kept checkpoint with this id, or undefined. */
  getCheckpoint(checkpointId: string): Checkpoint | undefined {
    return this.#checkpoints.find((checkpoint) => checkpoint.id === checkpointId);
  }

  /**
   * Brings variables, metrics, status, step lists and current step back to a
   * kept checkpoint, then tells `onCheckpointRestored` handlers. False for an
   * unknown id. Kept checkpoints (later ones too) and nested contexts stay.
   */
  restoreCheckpoint(checkpointId: string): boolean {
    const id = parseInput(stringSchema, checkpointId, 'restoreCheckpoint checkpointId');
    const checkpoint = this.getCheckpoint(id);
    if (checkpoint === undefined) return false;
    // Variables first: if the import throws, nothing else has changed.
    this.variableManager.importState(structuredClone(checkpoint.variables));
    this.#applyRecord(checkpoint);
    this.#restoreHandlers.emit(structuredClone(checkpoint));
    return true;
  }

  /** Subscribes to restores (the actor core rebuilds its actors there); returns an unsubscribe function. */
  onCheckpointRestored(handler: CheckpointRestoredHandler): () => void {
    return this.#restoreHandlers.add(handler);
  }

  /** Subscribes to step events; returns an unsubscribe function. A throwing handler is reported, not fatal. */
  onStepEvent(handler: StepEventHandler): () => void {
    return this.#stepHandlers.add(handler);
  }

  /** Subscribes to status changes; returns an unsubscribe function. A throwing handler is reported, not fatal. */
  onStatusChange(handler: StatusChangeHandler): () => void {
    return this.#statusHandlers.add(handler);
  }

  /**
   * Creates a child context `<executionId>.<id>` of the same pipeline, with its
   * own VariableManager unless one is given. An id already used -> `INVALID_INPUT`.
   */
  createNestedContext(id: string, options: { variableManager?: VariableManager } = {}): ExecutionContext {
    const childId = parseInput(idSchema, id, 'createNestedContext id');
    if (this.#nested.has(childId)) {
      throw new ValidationFailure('id', `createNestedContext: nested context "${childId}" already exists`);
    }
    const child = this.#makeChild(childId, options.variableManager);
    this.#nested.set(childId, child);
    return child;
  }

  /** The nested context made with this id, or undefined. */
  getNestedContext(id: string): ExecutionContext | undefined {
    return this.#nested.get(id);
  }

  /** Everything this context holds (nested contexts included) as JSON. */
  exportState(): ExecutionContextState {
    return {
      formatVersion: CONTEXT_STATE_FORMAT_VERSION,
      executionId: this.executionId,
      pipelineId: this.pipelineId,
      exportedAt: isoNow(this.#clock),
      status: this.#status,
      metrics: this.metrics,
      ...this.#steps.toRecord(),
      variables: structuredClone(this.variableManager.exportState()),
      checkpoints: this.#checkpoints.map((checkpoint) => structuredClone(checkpoint)),
      nestedContexts: this.nestedContexts.map((child) => child.exportState()),
    };
  }

  /**
   * Replaces everything (variables, checkpoints and nested contexts included)
   * with an exported state of this same execution. Validated first: a newer
   * format -> `STATE_INCOMPATIBLE`, anything else wrong (another execution's
   * id too) -> `INVALID_INPUT` naming the field; on failure nothing changes.
   * More than `maxCheckpoints` checkpoints: the newest are kept.
   */
  importState(state: unknown): void {
    const parsed = parseExecutionContextState(state, 'ExecutionContext.importState');
    for (const key of ['executionId', 'pipelineId'] as const) {
      if (parsed[key] !== this[key]) {
        throw new ValidationFailure(
          key,
          `ExecutionContext.importState: invalid value at "${key}": expected "${this[key]}", got "${parsed[key]}"`,
        );
      }
    }
    this.#applyState(parsed);
  }

  /**
   * Writes `exportState()` to a new file in `stateDir` and returns its path.
   * Without `stateDir` -> `INVALID_STATE`.
   */
  saveState(): string {
    if (this.stateDir === undefined) {
      throw new ExecutionError(ErrorCode.InvalidState, `saveState: execution "${this.executionId}" has no stateDir`);
    }
    this.#files ??= new FileStateManager({ stateDir: this.stateDir, format: this.format, clock: this.#clock });
    return this.#files.save(this.exportState());
  }

  /** Stops counting variable events and disposes nested contexts (for a shared VariableManager). */
  dispose(): void {
    for (const unsubscribe of this.#unsubscribe.splice(0)) unsubscribe();
    for (const child of this.#nested.values()) child.dispose();
  }

  #makeChild(id: string, variableManager?: VariableManager): ExecutionContext {
    return new ExecutionContext({
      executionId: `${this.executionId}.${id}`,
      pipelineId: this.pipelineId,
      clock: this.#clock,
      maxCheckpoints: this.maxCheckpoints,
      ...(this.stateDir === undefined ? {} : { stateDir: this.stateDir }),
      ...(variableManager === undefined ? {} : { variableManager }),
      format: this.format,
      parent: this,
      onHandlerError: this.#onHandlerError,
    });
  }

  #applyState(state: ExecutionContextState): void {
    // Children are built before anything of ours changes.
    const children = new Map<string, ExecutionContext>();
    for (const childState of state.nestedContexts) {
      const id = childState.executionId.slice(this.executionId.length + 1);
      const child = this.#makeChild(id);
      child.#applyState(childState);
      children.set(id, child);
    }
    this.variableManager.importState(state.variables);
    for (const old of this.#nested.values()) old.dispose();
    this.#nested = children;
    this.#keep(state.checkpoints.map((checkpoint) => deepFreeze(checkpoint)));
    this.#applyRecord(state);
  }

  #applyRecord(record: StepRecord & Pick<Checkpoint, 'status' | 'metrics'>): void {
    this.#metrics = { ...record.metrics };
    this.#steps.load(record);
    this.#setStatus(record.status);
  }

  #keep(checkpoints: Checkpoint[]): void {
    this.#checkpoints = checkpoints.slice(Math.max(0, checkpoints.length - this.maxCheckpoints));
  }

  #finishExecution(status: ExecutionStatus): void {
    endMetrics(this.#metrics, this.#clock.now());
    this.#setStatus(status);
  }

  #finishStep(id: string, outcome: StepOutcome): void {
    if (!this.#steps.finish(id, outcome)) return;
    // A moved step leaves another list: recount all three.
    for (const key of Object.keys(OUTCOME_COUNTERS) as StepOutcome[]) {
      this.#metrics[OUTCOME_COUNTERS[key]] = this.#steps.count(key);
    }
    this.#stepHandlers.emit(id, outcome);
  }

  #setStatus(status: ExecutionStatus): void {
    if (this.#status === status) return;
    this.#status = status;
    this.#statusHandlers.emit(this.executionId, status);
  }

  #invalidState(operation: string): ExecutionError {
    return new ExecutionError(
      ErrorCode.InvalidState,
      `${operation}: execution "${this.executionId}" is ${this.#status}`,
      { details: { executionId: this.executionId, status: this.#status, operation } },
    );
  }
}

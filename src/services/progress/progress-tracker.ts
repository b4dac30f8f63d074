/**
 * Progress of executions and their steps, as numbers (percentage, counters,
 * ETA) and as an ordered stream of progress events.
 *
 * @module
 */
import { systemClock, type Clock } from '../../clock.js';
import { ExecutionStatus, ProgressEventType, StepStatus } from '../../constants.js';
import { ErrorCode, ExecutionError, ValidationFailure, toError } from '../../errors.js';
import { ProgressEventBus, type EventFields } from './event-bus.js';
import { ProgressEventStream } from './event-stream.js';
import { createStep, ExecutionRecord, isActive, stepDurationSeconds, toStepProgress, type StepRecord } from './execution-record.js';
import {
  assertCount, assertFinite, assertId, assertOptionalString, checkTrackerOptions, clampPercentage, parseCompleteStepOptions,
  parseEmitEventArgs, parseProgressState, type ProgressState,
} from './progress-schema.js';
import type {
  CompleteStepOptions, EmitEventOptions, ExecutionProgress, ProgressEventFilter, ProgressEventHandler,
  ProgressPerformanceMetrics, ProgressTrackerOptions, StepProgress,
} from './progress-types.js';
import { applyProgressVariable, readProgressVariable } from './progress-variables.js';

/**
 * Tracks executions and steps, emits ordered progress events, and lets the
 * `progress.<stepId>.percentage` / `.status` variables of a VariableManager
 * drive steps.
 *
 * Rules worth knowing:
 * - Every method that names an execution needs `startExecution` first; an
 *   unknown execution id throws `INVALID_STATE` (`emitEvent` excepted: it
 *   changes no state). `startExecution` on a known id starts it afresh.
 * - A step of a known execution that was never started is started implicitly
 *   (with its STEP_STARTED event) by `completeStep`, `updateStepProgress` and
 *   `markStepRecovering`; `skipStep` records it skipped without starting it.
 * - `completeStep`/`skipStep` on a step already in that final status change
 *   nothing and emit nothing; `updateStepProgress` on a finished step records
 *   the percentage and emits, the status stays.
 * - A progress variable refers to `executionContext.executionId` when given,
 *   else to the most recently started (or imported) execution that has that
 *   step; with no such execution the write is ignored (counted in metrics).
 *   A write equal to the step's current percentage/status emits nothing.
 * - After `shutdown()` reads still answer, `events()` returns a finished
 *   iterator, `cleanup()` still frees memory, and everything else throws
 *   `MANAGER_SHUT_DOWN`.
 *
 * @example
 * const tracker = new ProgressTracker({ clock });
 * tracker.addEventHandler((e) => console.log(e.eventType, e.data));
 * tracker.startExecution('run-1', 2);
 * await tracker.trackStep('run-1', 'load', 'Load data', () => load());
 * tracker.getExecutionProgress('run-1')?.progressPercentage; // 50
 */
export class ProgressTracker {
  private readonly clock: Clock;
  private readonly contextExecutionId: string | undefined;
  private readonly executions = new Map<string, ExecutionRecord>();
  private readonly bus = new ProgressEventBus();
  /** While above 0, state changes are made but no event is delivered or counted (see {@link replay}). */
  private replaying = 0;
  private readonly streams = new Set<ProgressEventStream>();
  private readonly unsubscribeVariables: (() => void)[] = [];
  private sequence = 0;
  private closed = false;
  private variableUpdatesApplied = 0;
  private variableUpdatesIgnored = 0;

  constructor(options: ProgressTrackerOptions = {}) {
    const { executionContext, variableManager, clock } = checkTrackerOptions(options);
    this.clock = clock ?? systemClock;
    this.contextExecutionId = executionContext?.executionId;
    if (variableManager !== undefined) {
      const listener = (event: { name: string; value: unknown }): void => {
        this.onVariable(event.name, event.value);
      };
      this.unsubscribeVariables.push(variableManager.onVariableCreated(listener), variableManager.onVariableChanged(listener));
    }
  }

  /** Whether `shutdown()` was called. */
  get isShutDown(): boolean {
    return this.closed;
  }

  /** Starts (or restarts afresh) an execution of `totalSteps` steps; emits EXECUTION_STARTED. */
  startExecution(executionId: string, totalSteps: number): void {
    this.assertOpen('startExecution');
    assertId(executionId, 'executionId', 'startExecution');
    assertCount(totalSteps, 'totalSteps', 'startExecution');
    const now = this.clock.now();
    const record = new ExecutionRecord(executionId, totalSteps, now, ++this.sequence);
    this.executions.delete(executionId);
    this.executions.set(executionId, record);
    this.emit(now, ProgressEventType.EXECUTION_STARTED, executionId, {}, { totalSteps, progressPercentage: 0 });
  }

  /** Changes an execution's step total (e.g. when a pipeline discovers more steps). Emits nothing. */
  setTotalSteps(executionId: string, totalSteps: number): void {
    this.assertOpen('setTotalSteps');
    assertCount(totalSteps, 'totalSteps', 'setTotalSteps');
    this.requireExecution(executionId, 'setTotalSteps').totalSteps = totalSteps;
  }

  /** Ends an execution as COMPLETED or FAILED; emits EXECUTION_COMPLETED/FAILED (once per outcome). */
  completeExecution(executionId: string, success = true): void {
    this.assertOpen('completeExecution');
    if (typeof success !== 'boolean') throw new ValidationFailure('success', 'completeExecution: expected `success` to be a boolean');
    const record = this.requireExecution(executionId, 'completeExecution');
    const status = success ? ExecutionStatus.COMPLETED : ExecutionStatus.FAILED;
    if (record.status === status) return;
    const now = this.clock.now();
    record.status = status;
    record.endMs = now;
    const progress = record.toProgress(now);
    const duration = record.startMs === null ? null : Math.max(0, now - record.startMs) / 1000;
    this.emit(now, success ? ProgressEventType.EXECUTION_COMPLETED : ProgressEventType.EXECUTION_FAILED, executionId, {}, {
      success, progressPercentage: progress.progressPercentage, completedSteps: progress.completedSteps,
      failedSteps: progress.failedSteps, skippedSteps: progress.skippedSteps, duration,
    });
  }

  /** Marks a step RUNNING at 0 % (a retry of a recovering step keeps its start time); emits STEP_STARTED. */
  startStep(executionId: string, stepId: string, stepName: string): void {
    this.assertOpen('startStep');
    assertId(stepId, 'stepId', 'startStep');
    if (typeof stepName !== 'string') throw new ValidationFailure('stepName', 'startStep: expected `stepName` to be a string');
    const record = this.requireExecution(executionId, 'startStep');
    this.begin(record, stepId, stepName, this.clock.now());
  }

  /** Finishes a step as COMPLETED (default) or FAILED with `errorMessage`; emits STEP_COMPLETED/FAILED. */
  completeStep(executionId: string, stepId: string, options?: CompleteStepOptions): void {
    this.assertOpen('completeStep');
    assertId(stepId, 'stepId', 'completeStep');
    const { success = true, errorMessage, progressPercentage } = parseCompleteStepOptions(options) ?? {};
    const record = this.requireExecution(executionId, 'completeStep');
    const now = this.clock.now();
    const step = record.steps.get(stepId) ?? this.begin(record, stepId, stepId, now);
    const status = success ? StepStatus.COMPLETED : StepStatus.FAILED;
    if (step.status === status) return;
    record.mutate(step, (s) => {
      s.status = status;
      s.endMs = now;
      s.errorMessage = success ? null : (errorMessage ?? null);
      if (progressPercentage !== undefined) s.percentage = clampPercentage(progressPercentage);
      else if (success) s.percentage = 100;
    });
    const extra = success ? {} : { errorMessage: step.errorMessage };
    this.emitStep(now, success ? ProgressEventType.STEP_COMPLETED : ProgressEventType.STEP_FAILED, record, step,
      success ? undefined : (step.errorMessage ?? undefined), { ...extra, duration: stepDurationSeconds(step) });
  }

  /** Records a step SKIPPED (started or not) with `metadata.skipReason`; emits STEP_SKIPPED. */
  skipStep(executionId: string, stepId: string, reason?: string): void {
    this.assertOpen('skipStep');
    assertId(stepId, 'stepId', 'skipStep');
    assertOptionalString(reason, 'reason', 'skipStep');
    const record = this.requireExecution(executionId, 'skipStep');
    const now = this.clock.now();
    let step = record.steps.get(stepId);
    if (step?.status === StepStatus.SKIPPED) return;
    if (step === undefined) {
      step = createStep(stepId, stepId, StepStatus.SKIPPED, null);
      step.endMs = now;
      step.skipReason = reason;
      record.addStep(step);
    } else {
      record.mutate(step, (s) => {
        s.status = StepStatus.SKIPPED;
        s.endMs = now;
        s.skipReason = reason;
      });
    }
    this.emitStep(now, ProgressEventType.STEP_SKIPPED, record, step, reason, { reason: reason ?? null });
  }

  /**
   * Sets a step's percentage (clamped to 0..100; NaN/Infinity refused with
   * `INVALID_INPUT`, nothing changed) and emits one PROGRESS_UPDATE.
   */
  updateStepProgress(executionId: string, stepId: string, progressPercentage: number, message?: string): void {
    this.assertOpen('updateStepProgress');
    assertId(stepId, 'stepId', 'updateStepProgress');
    assertFinite(progressPercentage, 'progressPercentage', 'updateStepProgress');
    assertOptionalString(message, 'message', 'updateStepProgress');
    const record = this.requireExecution(executionId, 'updateStepProgress');
    const now = this.clock.now();
    const step = record.steps.get(stepId) ?? this.begin(record, stepId, stepId, now);
    const percentage = clampPercentage(progressPercentage);
    if (isActive(step.status)) record.mutate(step, (s) => { s.percentage = percentage; });
    else step.percentage = percentage;
    if (message !== undefined) step.lastMessage = message;
    record.progressUpdates += 1;
    this.emitStep(now, ProgressEventType.PROGRESS_UPDATE, record, step, message, {});
  }

  /** Marks a step RECOVERING (a failed step leaves the failed count); emits STEP_RECOVERING. */
  markStepRecovering(executionId: string, stepId: string, message?: string): void {
    this.assertOpen('markStepRecovering');
    assertId(stepId, 'stepId', 'markStepRecovering');
    assertOptionalString(message, 'message', 'markStepRecovering');
    const record = this.requireExecution(executionId, 'markStepRecovering');
    const now = this.clock.now();
    const step = record.steps.get(stepId) ?? this.begin(record, stepId, stepId, now);
    record.mutate(step, (s) => {
      s.status = StepStatus.RECOVERING;
      s.endMs = null;
      if (message !== undefined) s.lastMessage = message;
    });
    this.emitStep(now, ProgressEventType.STEP_RECOVERING, record, step, message, {});
  }

  /** Emits any event type (CHECKPOINT_CREATED/RESTORED, CUSTOM_EVENT...); the execution need not be tracked. */
  emitEvent(executionId: string, eventType: ProgressEventType, options?: EmitEventOptions): void {
    this.assertOpen('emitEvent');
    assertId(executionId, 'executionId', 'emitEvent');
    const parsed = parseEmitEventArgs(eventType, options);
    const { data = {}, ...fields } = parsed.options ?? {};
    this.emit(this.clock.now(), parsed.eventType, executionId, fields, { ...data });
  }

  /** A copy of an execution's progress, or `undefined` when it is not tracked. */
  getExecutionProgress(executionId: string): ExecutionProgress | undefined {
    return this.executions.get(executionId)?.toProgress(this.clock.now());
  }

  /** A copy of one step's progress, or `undefined`. */
  getStepProgress(executionId: string, stepId: string): StepProgress | undefined {
    const step = this.executions.get(executionId)?.steps.get(stepId);
    return step === undefined ? undefined : toStepProgress(step);
  }

  /** Copies of all steps of an execution, in the order they were first seen (empty when unknown). */
  getAllStepProgress(executionId: string): StepProgress[] {
    const record = this.executions.get(executionId);
    return record === undefined ? [] : Array.from(record.steps.values(), toStepProgress);
  }

  /**
   * Runs `fn`, which brings the tracker to what an earlier run recorded (a
   * resume replaying a stored journal), without announcing any of it: the
   * state changes, but no event is delivered or counted, so handlers hear
   * about a step once, in the run where it happened.
   *
   * @internal
   */
  replay<T>(fn: () => T): T {
    this.replaying += 1;
    try {
      return fn();
    } finally {
      this.replaying -= 1;
    }
  }

  /** Registers a handler for every event; returns its unsubscribe function. */
  addEventHandler(handler: ProgressEventHandler): () => void {
    this.assertOpen('addEventHandler');
    if (typeof handler !== 'function') throw new ValidationFailure('handler', 'addEventHandler: expected `handler` to be a function');
    return this.bus.add(handler);
  }

  /**
   * Events as an async iterator, in order, optionally of one execution. It
   * ends on `shutdown()` (after the buffered events); `break` releases it.
   */
  events(filter: ProgressEventFilter = {}): ProgressEventStream {
    if (filter.executionId !== undefined) assertId(filter.executionId, 'filter.executionId', 'events');
    const { executionId } = filter;
    const copy: ProgressEventFilter = executionId === undefined ? {} : { executionId };
    if (this.closed) return new ProgressEventStream(copy);
    const stream: ProgressEventStream = new ProgressEventStream(copy, (push) => {
      const off = this.bus.add(push);
      return () => {
        off();
        this.streams.delete(stream);
      };
    });
    this.streams.add(stream);
    return stream;
  }

  /**
   * Runs `fn` as a step: starts it, completes it with fn's value, or marks it
   * failed with the error's message and rethrows that same error.
   */
  async trackStep<T>(executionId: string, stepId: string, name: string, fn: () => T | PromiseLike<T>): Promise<T> {
    if (typeof fn !== 'function') throw new ValidationFailure('fn', 'trackStep: expected `fn` to be a function');
    this.startStep(executionId, stepId, name);
    let value: T;
    try {
      value = await fn();
    } catch (error) {
      this.finishTracked(executionId, stepId, { success: false, errorMessage: toError(error).message });
      throw error;
    }
    this.finishTracked(executionId, stepId, { success: true });
    return value;
  }

  /** Counters of the tracker and per-execution timing, computed now. */
  getPerformanceMetrics(): ProgressPerformanceMetrics {
    const now = this.clock.now();
    return {
      eventsEmitted: this.bus.eventsEmitted,
      eventsByType: Object.fromEntries(this.bus.eventsByType),
      handlerErrors: this.bus.handlerErrors,
      lastHandlerError: this.bus.lastHandlerError,
      eventHandlers: this.bus.handlerCount,
      activeStreams: this.streams.size,
      trackedExecutions: this.executions.size,
      variableUpdatesApplied: this.variableUpdatesApplied,
      variableUpdatesIgnored: this.variableUpdatesIgnored,
      // fromEntries defines own properties, so an id like "__proto__" stays data.
      executions: Object.fromEntries(Array.from(this.executions, ([id, record]) => [id, record.toPerformance(now)])),
    };
  }

  /** The JSON export of one execution's progress (formatVersion 1). Unknown execution -> `INVALID_STATE`. */
  exportProgress(executionId: string): ProgressState {
    return this.requireExecution(executionId, 'exportProgress').toState();
  }

  /**
   * Replaces the progress of the execution named in `state` (validated: newer
   * formatVersion -> `STATE_INCOMPATIBLE`, malformed -> `INVALID_INPUT`; a
   * failed import changes nothing). Emits nothing.
   */
  importProgress(state: unknown): void {
    this.assertOpen('importProgress');
    const parsed = parseProgressState(state);
    const record = ExecutionRecord.fromState(parsed, ++this.sequence);
    this.executions.delete(parsed.executionId);
    this.executions.set(parsed.executionId, record);
  }

  /** Drops one execution's data (or every execution's without an id); handlers stay. True when something was dropped. */
  cleanup(executionId?: string): boolean {
    if (executionId === undefined) {
      const had = this.executions.size > 0;
      this.executions.clear();
      return had;
    }
    assertId(executionId, 'executionId', 'cleanup');
    return this.executions.delete(executionId);
  }

  /** Ends every iterator, removes every handler and variable subscription. Idempotent; data stays readable. */
  shutdown(): void {
    if (this.closed) return;
    this.closed = true;
    for (const unsubscribe of this.unsubscribeVariables.splice(0)) unsubscribe();
    for (const stream of [...this.streams]) stream.end();
    this.streams.clear();
    this.bus.clear();
  }

  private finishTracked(executionId: string, stepId: string, options: CompleteStepOptions): void {
    // Shut down or cleaned up while fn ran: nothing left to record, and fn's outcome must win.
    if (this.closed || this.executions.get(executionId) === undefined) return;
    this.completeStep(executionId, stepId, options);
  }

  private begin(record: ExecutionRecord, stepId: string, stepName: string, now: number): StepRecord {
    let step = record.steps.get(stepId);
    if (step === undefined) {
      step = createStep(stepId, stepName, StepStatus.RUNNING, now);
      record.addStep(step);
    } else {
      record.mutate(step, (s) => {
        if (!isActive(s.status)) s.startMs = now;
        s.stepName = stepName;
        s.status = StepStatus.RUNNING;
        s.percentage = 0;
        s.endMs = null;
        s.errorMessage = null;
        s.skipReason = undefined;
      });
    }
    this.emitStep(now, ProgressEventType.STEP_STARTED, record, step, undefined, {});
    return step;
  }

  private onVariable(name: string, value: unknown): void {
    if (this.closed || typeof name !== 'string') return;
    const intent = readProgressVariable(name, value);
    if (intent === null) return;
    const record = intent === 'invalid' ? undefined : this.variableTarget(intent.stepId);
    if (intent === 'invalid' || record === undefined) {
      this.variableUpdatesIgnored += 1;
      return;
    }
    try {
      if (applyProgressVariable(this, record.executionId, record.steps.get(intent.stepId), intent)) this.variableUpdatesApplied += 1;
    } catch {
      // The variable manager's write must not fail because of progress bookkeeping.
      this.variableUpdatesIgnored += 1;
    }
  }

  private variableTarget(stepId: string): ExecutionRecord | undefined {
    if (this.contextExecutionId !== undefined) return this.executions.get(this.contextExecutionId);
    let latest: ExecutionRecord | undefined;
    for (const record of this.executions.values()) {
      if (record.steps.has(stepId) && (latest === undefined || record.sequence > latest.sequence)) latest = record;
    }
    return latest;
  }

  private emitStep(now: number, type: ProgressEventType, record: ExecutionRecord, step: StepRecord, message: string | undefined, extra: Record<string, unknown>): void {
    if (this.replaying > 0) return;
    // Nobody listens (no handler, no stream): count it, build nothing.
    if (this.bus.handlerCount === 0) {
      this.bus.countUnheard(type);
      return;
    }
    const fields: EventFields = { stepId: step.stepId, stepName: step.stepName };
    if (message !== undefined) fields.message = message;
    this.emit(now, type, record.executionId, fields, {
      progressPercentage: step.percentage, executionPercentage: record.percentage(), ...extra,
    });
  }

  private emit(now: number, eventType: ProgressEventType, executionId: string, fields: EventFields, data: Record<string, unknown>): void {
    if (this.replaying > 0) return;
    if (this.bus.handlerCount === 0) this.bus.countUnheard(eventType);
    else this.bus.publish(now, eventType, executionId, fields, data);
  }

  private assertOpen(what: string): void {
    if (this.closed) throw new ExecutionError(ErrorCode.ManagerShutDown, `${what}: the progress tracker was shut down`);
  }

  private requireExecution(executionId: string, what: string): ExecutionRecord {
    assertId(executionId, 'executionId', what);
    const record = this.executions.get(executionId);
    if (record === undefined) {
      throw new ExecutionError(ErrorCode.InvalidState, `${what}: execution "${executionId}" is not tracked; call startExecution("${executionId}", totalSteps) first`, {
        details: { executionId },
      });
    }
    return record;
  }
}

/**
 * One run of a pipeline on one ComprehensiveExecutionManager: DAG scheduling
 * up to `concurrency`, conditions, pause and cancellation. Every step goes
 * through `executeStepWithRecovery`, so retries, timeouts, durability and
 * resume are the manager's.
 *
 * Policy (documented in the README):
 * - a step starts when every dependency completed or was skipped;
 * - a failed or cancelled step does not stop independent branches; the steps
 *   downstream of it are skipped at the end with the reason, and the
 *   execution ends failed;
 * - after `cancel()` nothing new starts, running steps are aborted and
 *   recorded cancelled, steps never started stay pending: a later run with
 *   the same execution id and store continues from there.
 *
 * @module
 */
import { CancelledError, toError } from '../errors.js';
import type { ComprehensiveExecutionManager, StepRunOptions } from '../services/manager.js';
import type { StepExecutor } from '../services/manager/step-runtime.js';
import { fixedPlanOf } from './step-recovery.js';
import type { Pipeline, PipelineResult, PipelineStep, StepResult } from './types.js';

type StepState = 'pending' | 'active' | 'completed' | 'skipped' | 'failed' | 'cancelled';

/** A promise that resolves on the next `notify()` (or at once if one was missed). */
class Wake {
  #resolve: (() => void) | null = null;
  #missed = false;

  notify(): void {
    const resolve = this.#resolve;
    this.#resolve = null;
    if (resolve === null) this.#missed = true;
    else resolve();
  }

  wait(): Promise<void> {
    if (this.#missed) {
      this.#missed = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      this.#resolve = resolve;
    });
  }
}

/** What the scheduler needs besides the manager. */
export interface SchedulerOptions<TInput> {
  pipeline: Pipeline<TInput>;
  concurrency: number;
  input: TInput;
}

/** Runs the steps of one pipeline on a started manager. */
export class Scheduler<TInput> {
  readonly #manager: ComprehensiveExecutionManager;
  readonly #options: SchedulerOptions<TInput>;
  readonly #steps: readonly PipelineStep<TInput>[];
  readonly #byId: ReadonlyMap<string, PipelineStep<TInput>>;
  readonly #state = new Map<string, StepState>();
  readonly #outputs: Record<string, unknown> = {};
  /** Steps finished before this run started (a resumed execution). */
  readonly #earlier = new Set<string>();
  readonly #wake = new Wake();
  /** Aborted on cancel: reaches `when` conditions (the manager aborts running steps). */
  readonly #abort = new AbortController();
  #active = 0;
  #paused = false;
  #resumeGate: Promise<void> = Promise.resolve();
  #openGate: () => void = () => undefined;
  #cancelReason: string | null = null;
  #fatal: { error: unknown } | null = null;
  #syncScheduled = false;
  #managerPaused = false;
  #managerCancelled = false;
  #finished = false;

  constructor(manager: ComprehensiveExecutionManager, options: SchedulerOptions<TInput>) {
    this.#manager = manager;
    this.#options = options;
    this.#steps = options.pipeline.steps;
    this.#byId = new Map(this.#steps.map((step) => [step.id, step]));
    for (const step of this.#steps) {
      // Steps a resumed execution already finished are not run again.
      const record = manager.getStepRecord(step.id);
      const done = record?.status === 'completed' || record?.status === 'skipped';
      this.#state.set(step.id, done ? record.status : 'pending');
      if (done) this.#earlier.add(step.id);
      if (record?.status === 'completed') this.#outputs[step.id] = manager.getStepOutput(step.id);
    }
  }

  get #stopping(): boolean {
    return this.#cancelReason !== null || this.#fatal !== null;
  }

  /** Stops starting steps; the manager aborts the running ones. */
  cancel(reason: string): void {
    if (this.#cancelReason !== null || this.#finished) return;
    this.#cancelReason = reason;
    this.#abort.abort(new CancelledError(reason));
    this.#openGate();
    this.#scheduleSync();
    this.#wake.notify();
  }

  /** Stops starting steps (the manager's pause); steps in flight finish. */
  pause(): void {
    if (this.#paused || this.#stopping || this.#finished) return;
    this.#paused = true;
    this.#resumeGate = new Promise((resolve) => {
      this.#openGate = resolve;
    });
    this.#scheduleSync();
  }

  /** Continues a paused run. */
  resume(): void {
    if (!this.#paused) return;
    this.#paused = false;
    this.#openGate();
    this.#scheduleSync();
    this.#wake.notify();
  }

  /**
   * Controls often come from event handlers, which run inside a manager call
   * (a step starting, a step finishing): the manager hears about them once
   * that call has returned.
   */
  #scheduleSync(): void {
    if (this.#syncScheduled) return;
    this.#syncScheduled = true;
    queueMicrotask(() => {
      this.#syncScheduled = false;
      this.#syncManager();
    });
  }

  /** Brings the manager to the requested pause/cancel state (never called inside a manager call). */
  #syncManager(): void {
    if (this.#finished) return;
    try {
      if (this.#cancelReason !== null) {
        if (!this.#managerCancelled) {
          this.#managerCancelled = true;
          this.#manager.cancelExecution(this.#cancelReason);
        }
        return;
      }
      if (this.#paused === this.#managerPaused || this.#fatal !== null) return;
      this.#managerPaused = this.#paused;
      if (this.#paused) this.#manager.pauseExecution();
      else this.#manager.resumeExecution();
    } catch (error) {
      this.#fail(error);
    }
  }

  /** Runs until every step has ended or the run was cancelled; ends the execution. */
  async run(): Promise<void> {
    try {
      for (;;) {
        this.#syncManager();
        if (!this.#stopping && !this.#paused) this.#startReady();
        if (this.#active === 0 && !(this.#paused && !this.#stopping && this.#hasRunnable())) break;
        await this.#wake.wait();
      }
      this.#syncManager();
      if (this.#fatal !== null) throw toError(this.#fatal.error);
      if (this.#cancelReason !== null) return;
      this.#skipBlocked();
      const success = this.#steps.every((step) => {
        const state = this.#state.get(step.id);
        return state === 'completed' || state === 'skipped';
      });
      this.#manager.completeExecution(success);
    } finally {
      this.#finished = true;
    }
  }

  /** The run's outcome, read from the manager (call before it shuts down). */
  result(resumed: boolean): PipelineResult {
    const manager = this.#manager;
    const outputs: Record<string, unknown> = {};
    const steps = this.#steps.map((step): StepResult => {
      const record = manager.getStepRecord(step.id);
      if (record?.status === 'completed') outputs[step.id] = manager.getStepOutput(step.id);
      const earlier = this.#earlier.has(step.id);
      const progress = earlier ? undefined : manager.progressTracker.getStepProgress(manager.executionId, step.id);
      return {
        id: step.id,
        name: step.name,
        status: record?.status ?? (this.#state.get(step.id) === 'active' ? 'running' : 'pending'),
        attempts: record?.attempts ?? 0,
        retries: record?.retries ?? 0,
        durationSeconds: record === undefined ? null : (progress?.duration ?? null),
        earlier,
        error: record?.status === 'failed' ? (record.error?.message ?? 'failed') : null,
        reason: record?.reason ?? null,
      };
    });
    const report = manager.getExecutionStatus();
    return { executionId: manager.executionId, pipelineId: manager.pipelineId, status: report.status, outputs, steps, report, resumed };
  }

  #fail(error: unknown): void {
    if (this.#fatal !== null) return;
    this.#fatal = { error };
    this.#abort.abort(error);
    // Running steps must not outlive a run that can no longer record them.
    this.#managerCancelled = true;
    try {
      this.#manager.cancelExecution(`The run failed: ${toError(error).message}`);
    } catch {
      // The store is what failed; the error above is the one to report.
    }
    this.#openGate();
  }

  #startReady(): void {
    for (const step of this.#steps) {
      if (this.#active >= this.#options.concurrency) return;
      if (this.#state.get(step.id) !== 'pending' || !this.#ready(step)) continue;
      this.#state.set(step.id, 'active');
      this.#active += 1;
      this.#runStep(step)
        .catch((error: unknown) => {
          this.#fail(error);
        })
        .finally(() => {
          this.#active -= 1;
          this.#wake.notify();
        });
    }
  }

  #ready(step: PipelineStep<TInput>): boolean {
    return step.dependsOn.every((id) => {
      const state = this.#state.get(id);
      return state === 'completed' || state === 'skipped';
    });
  }

  /** The failed or cancelled step upstream of `step`, if any. */
  #blockedBy(step: PipelineStep<TInput>, seen = new Set<string>()): string | null {
    for (const id of step.dependsOn) {
      const state = this.#state.get(id);
      if (state === 'failed' || state === 'cancelled') return id;
      const dependency = this.#byId.get(id);
      if (state === 'pending' && dependency !== undefined && !seen.has(id)) {
        seen.add(id);
        const upstream = this.#blockedBy(dependency, seen);
        if (upstream !== null) return upstream;
      }
    }
    return null;
  }

  #hasRunnable(): boolean {
    return this.#steps.some((step) => this.#state.get(step.id) === 'pending' && this.#blockedBy(step) === null);
  }

  #skipBlocked(): void {
    // Reasons first: skipping a step changes what its dependents see.
    const blocked = this.#steps
      .filter((step) => this.#state.get(step.id) === 'pending')
      .map((step) => ({ step, upstream: this.#blockedBy(step) }));
    for (const { step, upstream } of blocked) {
      const direct = upstream !== null && step.dependsOn.includes(upstream);
      const reason =
        upstream === null ? 'its dependencies never completed' : `${direct ? 'dependency' : 'upstream step'} "${upstream}" did not complete`;
      this.#manager.skipStep(step.id, reason);
      this.#state.set(step.id, 'skipped');
    }
  }

  async #runStep(step: PipelineStep<TInput>): Promise<void> {
    const manager = this.#manager;
    const outputs = Object.freeze(Object.fromEntries(step.dependsOn.map((id) => [id, this.#outputs[id]])));
    const base = { input: this.#options.input, variables: manager.variableManager, outputs };
    let go = true;
    let conditionError: { error: unknown } | null = null;
    if (step.when !== undefined) {
      try {
        go = await step.when({ ...base, signal: this.#abort.signal });
      } catch (error) {
        conditionError = { error };
      }
    }
    while (this.#stopping || this.#paused) {
      if (this.#stopping) {
        this.#backToPending(step);
        return;
      }
      await this.#resumeGate;
    }
    // Synchronous from here to the manager call: no pause or cancel can slip in.
    this.#syncManager();
    if (conditionError !== null) {
      manager.completeStep(step.id, { success: false, error: conditionError.error });
      this.#state.set(step.id, 'failed');
      return;
    }
    if (!go) {
      manager.skipStep(step.id, 'its condition was false');
      this.#state.set(step.id, 'skipped');
      return;
    }
    const toExecutor =
      (run: PipelineStep<TInput>['run']): StepExecutor =>
      (args) =>
        run({ ...base, signal: args.signal, attempt: args.attempt, resumed: args.resumed, reportProgress: args.reportProgress });
    const plan = fixedPlanOf(step);
    const runOptions: StepRunOptions = {
      ...(step.alternatives.length === 0 ? {} : { alternatives: step.alternatives.map(toExecutor) }),
      ...(step.timeoutMs === undefined ? {} : { timeoutMs: step.timeoutMs }),
      ...(plan === undefined ? {} : { recoveryPlan: plan }),
    };
    const ok = await manager.executeStepWithRecovery(step.id, step.name, toExecutor(step.run), runOptions);
    const record = manager.getStepRecord(step.id);
    const state: StepState = record?.status ?? (ok ? 'completed' : 'failed');
    this.#state.set(step.id, state);
    if (state === 'completed') this.#outputs[step.id] = manager.getStepOutput(step.id);
  }

  #backToPending(step: PipelineStep<TInput>): void {
    this.#state.set(step.id, 'pending');
  }
}

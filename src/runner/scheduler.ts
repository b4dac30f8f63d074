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
import { ExecutionStatus } from '../constants.js';
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
  readonly #state = new Map<string, StepState>();
  readonly #outputs: Record<string, unknown> = {};
  readonly #wake = new Wake();
  /** Aborted on cancel: reaches `when` conditions (the manager aborts running steps). */
  readonly #abort = new AbortController();
  #active = 0;
  #paused = false;
  #resumeGate: Promise<void> = Promise.resolve();
  #openGate: () => void = () => undefined;
  #cancelReason: string | null = null;
  #fatal: { error: unknown } | null = null;

  constructor(manager: ComprehensiveExecutionManager, options: SchedulerOptions<TInput>) {
    this.#manager = manager;
    this.#options = options;
    this.#steps = options.pipeline.steps;
    for (const step of this.#steps) {
      // Steps a resumed execution already finished are not run again.
      const record = manager.getStepRecord(step.id);
      const done = record?.status === 'completed' || record?.status === 'skipped';
      this.#state.set(step.id, done ? record.status : 'pending');
      if (record?.status === 'completed') this.#outputs[step.id] = manager.getStepOutput(step.id);
    }
  }

  get #stopping(): boolean {
    return this.#cancelReason !== null || this.#fatal !== null;
  }

  /** Stops starting steps; the manager aborts the running ones. */
  cancel(reason: string): void {
    if (this.#cancelReason !== null) return;
    this.#cancelReason = reason;
    this.#abort.abort(new CancelledError(reason));
    try {
      this.#manager.cancelExecution(reason);
    } catch (error) {
      this.#fail(error);
    }
    this.#openGate();
    this.#wake.notify();
  }

  /** Stops starting steps (the manager's pause); steps in flight finish. */
  pause(): void {
    if (this.#paused || this.#stopping) return;
    this.#paused = true;
    this.#resumeGate = new Promise((resolve) => {
      this.#openGate = resolve;
    });
    this.#manager.pauseExecution();
  }

  /** Continues a paused run. */
  resume(): void {
    if (!this.#paused) return;
    this.#paused = false;
    if (!this.#stopping) this.#manager.resumeExecution();
    this.#openGate();
    this.#wake.notify();
  }

  /** Runs until every step has ended or the run was cancelled; ends the execution. */
  async run(): Promise<void> {
    for (;;) {
      if (!this.#stopping && !this.#paused) this.#startReady();
      if (this.#active === 0 && !(this.#paused && !this.#stopping && this.#hasRunnable())) break;
      await this.#wake.wait();
    }
    if (this.#fatal !== null) throw toError(this.#fatal.error);
    if (this.#cancelReason !== null) return;
    this.#skipBlocked();
    const success = this.#steps.every((step) => {
      const state = this.#state.get(step.id);
      return state === 'completed' || state === 'skipped';
    });
    this.#manager.completeExecution(success);
  }

  /** The run's outcome, read from the manager (call before it shuts down). */
  result(resumed: boolean): PipelineResult {
    const manager = this.#manager;
    const outputs: Record<string, unknown> = {};
    const steps = this.#steps.map((step): StepResult => {
      const record = manager.getStepRecord(step.id);
      if (record?.status === 'completed') outputs[step.id] = manager.getStepOutput(step.id);
      const progress = manager.progressTracker.getStepProgress(manager.executionId, step.id);
      return {
        id: step.id,
        name: step.name,
        status: record?.status ?? (this.#state.get(step.id) === 'active' ? 'running' : 'pending'),
        attempts: record?.attempts ?? 0,
        retries: record?.retries ?? 0,
        durationSeconds: record === undefined ? null : (progress?.duration ?? null),
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
      const dependency = this.#steps.find((candidate) => candidate.id === id);
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
    for (const step of this.#steps) {
      if (this.#state.get(step.id) !== 'pending') continue;
      const upstream = this.#blockedBy(step);
      const direct = upstream !== null && step.dependsOn.includes(upstream);
      const reason =
        upstream === null ? 'its dependencies never completed' : `${direct ? 'dependency' : 'upstream step'} "${upstream}" did not complete`;
      this.#manager.skipStep(step.id, reason);
      this.#state.set(step.id, 'skipped');
    }
  }

  /** Waits while paused; false when the run stopped meanwhile. */
  async #mayStart(): Promise<boolean> {
    while (this.#paused && !this.#stopping) await this.#resumeGate;
    return !this.#stopping;
  }

  async #runStep(step: PipelineStep<TInput>): Promise<void> {
    const manager = this.#manager;
    const outputs = Object.freeze(Object.fromEntries(step.dependsOn.map((id) => [id, this.#outputs[id]])));
    const base = { input: this.#options.input, variables: manager.variableManager, outputs };
    if (step.when !== undefined) {
      let go: boolean;
      try {
        go = await step.when({ ...base, signal: this.#abort.signal });
      } catch (error) {
        if (!(await this.#mayStart())) return this.#backToPending(step);
        manager.completeStep(step.id, { success: false, error });
        this.#state.set(step.id, 'failed');
        return undefined;
      }
      if (!(await this.#mayStart())) return this.#backToPending(step);
      if (!go) {
        manager.skipStep(step.id, 'its condition was false');
        this.#state.set(step.id, 'skipped');
        return undefined;
      }
    } else if (!(await this.#mayStart())) return this.#backToPending(step);
    const toExecutor =
      (run: PipelineStep<TInput>['run']): StepExecutor =>
      (args) =>
        run({ ...base, signal: args.signal, attempt: args.attempt, resumed: args.resumed, reportProgress: args.reportProgress });
    const plan = fixedPlanOf(step as PipelineStep<never>);
    const runOptions: StepRunOptions = {
      ...(step.alternatives.length === 0 ? {} : { alternatives: step.alternatives.map(toExecutor) }),
      ...(step.timeoutMs === undefined ? {} : { timeoutMs: step.timeoutMs }),
      ...(plan === undefined ? {} : { recoveryPlan: plan }),
    };
    // No await between #mayStart() and this call: a pause cannot slip in.
    const ok = await manager.executeStepWithRecovery(step.id, step.name, toExecutor(step.run), runOptions);
    const record = manager.getStepRecord(step.id);
    const state: StepState = record?.status ?? (ok ? 'completed' : 'failed');
    this.#state.set(step.id, state);
    if (state === 'completed') this.#outputs[step.id] = manager.getStepOutput(step.id);
    return undefined;
  }

  #backToPending(step: PipelineStep<TInput>): undefined {
    this.#state.set(step.id, 'pending');
    return undefined;
  }

  /** The execution's status as the manager sees it. */
  get status(): ExecutionStatus {
    return this.#manager.getExecutionStatus().status;
  }
}

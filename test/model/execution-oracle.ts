/**
 * What an execution should do with its steps, written from SPEC and the
 * machine types rather than from the machine (see step-oracle.ts for why).
 * Children follow {@link expectedStep}; their reports reach the execution
 * first in, first out, like actor mailboxes.
 *
 * @module
 */
import { StepStatus } from '../../src/constants.js';
import { serializeError } from '../../src/errors.js';
import type { StepFinished, StepRecord } from '../../src/machines/machine-types.js';
import type { ExecutionEvent, ExecutionMachineContext, StepStartOptions } from '../../src/machines/execution.machine.js';
import { DONE, expectedStep, initialStep, type OracleStep, type OracleStepEvent } from './step-oracle.js';

/** An execution as the oracle sees it. */
export interface OracleExecution {
  value: string;
  status: 'active' | 'done';
  context: ExecutionMachineContext;
  steps: Record<string, OracleStep>;
}

/** An event the execution emits. */
export type OracleEmitted =
  | { type: 'step.finished'; record: StepRecord; output: unknown }
  | { type: 'step.status'; stepId: string; status: StepStatus; attempt: number; failure: unknown };

interface Message {
  to: string;
  event: OracleStepEvent;
}

const EXECUTION = '#execution';
const CHILD_DONE = 'xstate.done.actor.';
const ENDED_REASON = 'Execution ended while the step was running';
const CANCELLED_REASON = 'Execution cancelled';

function omit<T>(record: Record<string, T>, key: string): Record<string, T> {
  return Object.fromEntries(Object.entries(record).filter(([id]) => id !== key));
}

function record(stepId: string, stepName: string, status: StepRecord['status'], extra: Partial<StepRecord>): StepRecord {
  return {
    stepId,
    stepName,
    status,
    attempts: 0,
    retries: 0,
    recoveredBy: null,
    error: null,
    reason: null,
    rollbackCheckpointId: null,
    ...extra,
  };
}

/** The step event a parent-level step event becomes. */
function forwarded(event: OracleStepEvent): OracleStepEvent {
  switch (event.type) {
    case 'STEP.PROGRESS':
      return { type: event.type, percentage: event.percentage, message: event.message ?? null };
    case 'STEP.COMPLETE':
      return { type: event.type, output: event.output, ...(event.percentage === undefined ? {} : { percentage: event.percentage }) };
    case 'STEP.FAIL':
      return { type: event.type, error: event.error };
    default:
      return { type: event.type, reason: event.reason ?? null };
  }
}

/** Runs one execution-level event (with everything it sets off) through the oracle. */
class Run {
  readonly emitted: OracleEmitted[] = [];
  private readonly queue: Message[] = [];

  constructor(private state: OracleExecution) {}

  result(): OracleExecution {
    return this.state;
  }

  deliver(first: Message): void {
    this.queue.push(first);
    for (let message = this.queue.shift(); message !== undefined; message = this.queue.shift()) {
      if (message.to === EXECUTION) this.toExecution(message.event);
      else this.toStep(message.to, message.event);
    }
  }

  private toStep(stepId: string, event: OracleStepEvent): void {
    const step = this.state.steps[stepId];
    if (step === undefined) return;
    let result;
    try {
      result = expectedStep(step, event);
    } catch (error) {
      this.state = { ...this.state, steps: { ...this.state.steps, [stepId]: { ...step, status: 'error' } } };
      this.queue.push({ to: EXECUTION, event: { type: `xstate.error.actor.${stepId}`, error } });
      return;
    }
    if (result === null) return;
    this.state = { ...this.state, steps: { ...this.state.steps, [stepId]: result.next } };
    for (const report of result.reports) {
      // A finished step's record and output reach the parent as its done event.
      const event = report.type === DONE ? { type: `${CHILD_DONE}${stepId}`, output: report.output } : { ...report };
      this.queue.push({ to: EXECUTION, event });
    }
  }

  private set(context: Partial<ExecutionMachineContext>, value?: string): void {
    this.state = { ...this.state, context: { ...this.state.context, ...context }, value: value ?? this.state.value };
  }

  private finishAll(value: string, reason: string, cancelReason: string | null): void {
    const { context } = this.state;
    for (const [stepId, step] of Object.entries(context.active)) {
      // The record tells how far the step got: the attempt it was on and the retries it made.
      const progress = { attempts: step.attempt ?? 0, retries: step.retries ?? 0 };
      this.emitted.push({ type: 'step.finished', record: record(stepId, step.stepName, 'cancelled', { ...progress, reason }), output: undefined });
    }
    this.set({
      counts: { ...context.counts, cancelled: context.counts.cancelled + Object.keys(context.active).length },
      active: {},
      recovering: [],
      cancelReason,
    });
    // A final execution stops its children.
    this.state = { ...this.state, value, status: 'done', steps: {} };
  }

  private toExecution(event: OracleStepEvent): void {
    const { value, context } = this.state;
    if (this.state.status !== 'active') return;
    const live = value === 'paused' || value.startsWith('running.');
    const stepId = typeof event.stepId === 'string' ? event.stepId : null;
    const active = stepId !== null && stepId in context.active;
    switch (event.type) {
      case 'EXECUTION.START':
        if (value === 'pending') this.set({ totalSteps: event.totalSteps as number }, 'running.steady');
        return;
      case 'EXECUTION.PAUSE':
        if (value.startsWith('running.')) this.set({}, 'paused');
        return;
      case 'EXECUTION.RESUME':
        if (value === 'paused') this.set({}, 'running.steady');
        break;
      case 'EXECUTION.CANCEL': {
        const reason = (event.reason as string | null | undefined) ?? CANCELLED_REASON;
        this.finishAll('cancelled', reason, reason);
        return;
      }
      case 'EXECUTION.COMPLETE':
        if (live) this.finishAll(event.success === true ? 'completed' : 'failed', ENDED_REASON, context.cancelReason);
        return;
      case 'STEP.START': {
        if (!value.startsWith('running.') || active || stepId === null) return;
        const start = event as unknown as StepStartOptions;
        this.set({
          active: { ...context.active, [stepId]: { stepName: start.stepName, mode: start.mode, attempt: start.attempt ?? 1, retries: 0 } },
          counts: { ...context.counts, started: context.counts.started + 1 },
          currentStepId: stepId,
        });
        // The step starts running as it is spawned: no event is sent to it.
        this.state = { ...this.state, steps: { ...this.state.steps, [stepId]: initialStep({ ...start, autoRun: true }) } };
        return;
      }
      case 'STEP.PROGRESS':
      case 'STEP.COMPLETE':
      case 'STEP.FAIL':
      case 'STEP.SKIP':
      case 'STEP.CANCEL':
        if (live && active) this.queue.push({ to: stepId, event: forwarded(event) });
        return;
      case 'STEP.RECORD': {
        const given = event.record as StepRecord;
        if (!live || given.stepId in context.active) return;
        this.set({
          counts: { ...context.counts, started: context.counts.started + 1, [given.status]: context.counts[given.status] + 1 },
          currentStepId: given.stepId,
        });
        this.emitted.push({ type: 'step.finished', record: given, output: event.output });
        return;
      }
      case 'STEP.STATUS': {
        const step = stepId === null ? undefined : context.active[stepId];
        if (!live || stepId === null || step === undefined) return;
        const others = context.recovering.filter((id) => id !== stepId);
        // Every `running` report from a step is the start of a retry.
        const retries = (step.retries ?? 0) + (event.status === StepStatus.RUNNING ? 1 : 0);
        this.set({
          recovering: event.status === StepStatus.RECOVERING ? [...others, stepId] : others,
          active: { ...context.active, [stepId]: { ...step, attempt: event.attempt as number, retries } },
        });
        this.emitted.push({
          type: 'step.status',
          stepId,
          status: event.status as StepStatus,
          attempt: event.attempt as number,
          failure: event.failure,
        });
        break;
      }
      default: {
        if (event.type.startsWith(CHILD_DONE)) {
          // Only a step this execution runs can finish in it.
          const finishedId = event.type.slice(CHILD_DONE.length);
          if (!live || !(finishedId in context.active)) return;
          const { record: done, output } = event.output as StepFinished;
          this.set({
            counts: { ...context.counts, [done.status]: context.counts[done.status] + 1 },
            recovering: context.recovering.filter((id) => id !== finishedId),
            active: omit(context.active, finishedId),
          });
          this.state = { ...this.state, steps: omit(this.state.steps, finishedId) };
          this.emitted.push({ type: 'step.finished', record: done, output });
          break;
        }
        const crashed = event.type.startsWith('xstate.error.actor.') ? event.type.slice('xstate.error.actor.'.length) : null;
        const step = crashed === null ? undefined : context.active[crashed];
        if (!live || crashed === null || step === undefined) return;
        this.set({
          counts: { ...context.counts, failed: context.counts.failed + 1 },
          recovering: context.recovering.filter((id) => id !== crashed),
          active: omit(context.active, crashed),
        });
        this.state = { ...this.state, steps: omit(this.state.steps, crashed) };
        const error = serializeError(event.error);
        const progress = { attempts: step.attempt ?? 0, retries: step.retries ?? 0 };
        this.emitted.push({ type: 'step.finished', record: record(crashed, step.stepName, 'failed', { ...progress, error }), output: undefined });
      }
    }
    // SPEC: recovery is visible while any step recovers.
    if (this.state.value.startsWith('running.')) {
      this.set({}, this.state.context.recovering.length > 0 ? 'running.recovering' : 'running.steady');
    }
  }
}

/** The execution (and its children) after `event`, with what it emitted. `event` may target a step (`to`). */
export function expectedExecution(
  state: OracleExecution,
  event: ExecutionEvent | OracleStepEvent,
  to: string | null = null,
): { next: OracleExecution; emitted: OracleEmitted[] } {
  const run = new Run(state);
  run.deliver({ to: to ?? EXECUTION, event: event as OracleStepEvent });
  return { next: run.result(), emitted: run.emitted };
}

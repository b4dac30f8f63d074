/**
 * Pure helpers of {@link ExecutionMetrics}: the empty record, the live
 * duration of an unfinished execution and the fixed one of a finished one.
 *
 * @module
 */
import { ExecutionStatus } from '../../constants.js';
import type { ExecutionMetrics } from './checkpoint.js';
import type { StepOutcome } from './step-ledger.js';

/** Statuses an execution never leaves (except through a restore or an import). */
export const TERMINAL_STATUSES: ReadonlySet<ExecutionStatus> = new Set([
  ExecutionStatus.COMPLETED,
  ExecutionStatus.FAILED,
  ExecutionStatus.CANCELLED,
]);

/** The metrics counter of each step outcome. */
export const OUTCOME_COUNTERS = {
  completed: 'stepsCompleted',
  failed: 'stepsFailed',
  skipped: 'stepsSkipped',
} as const satisfies Record<StepOutcome, keyof ExecutionMetrics>;

/** Metrics of a context that has done nothing yet. */
export function emptyMetrics(): ExecutionMetrics {
  return {
    startTime: null,
    endTime: null,
    duration: null,
    stepsCompleted: 0,
    stepsFailed: 0,
    stepsSkipped: 0,
    stepsTotal: 0,
    variablesCreated: 0,
    variablesUpdated: 0,
  };
}

function secondsSince(startTime: string, nowMs: number): number {
  return Math.max(0, (nowMs - Date.parse(startTime)) / 1000);
}

/** A copy of `metrics` whose duration runs up to `nowMs` unless the execution has ended. */
export function currentMetrics(metrics: ExecutionMetrics, status: ExecutionStatus, nowMs: number): ExecutionMetrics {
  const copy = { ...metrics };
  if (!TERMINAL_STATUSES.has(status) && copy.startTime !== null) copy.duration = secondsSince(copy.startTime, nowMs);
  return copy;
}

/** Fixes `endTime` and `duration` (null when the execution never started) at `nowMs`. */
export function endMetrics(metrics: ExecutionMetrics, nowMs: number): void {
  metrics.endTime = new Date(nowMs).toISOString();
  metrics.duration = metrics.startTime === null ? null : secondsSince(metrics.startTime, nowMs);
}

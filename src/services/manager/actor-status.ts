/**
 * Small pure helpers of the manager: reading the execution actor's status,
 * placeholder step records, replaying a status onto a fresh actor.
 *
 * @module
 */
import type { Actor } from 'xstate';
import { ExecutionStatus } from '../../constants.js';
import type { executionMachine } from '../../machines/execution.machine.js';
import type { StepRecord } from '../../machines/machine-types.js';

type ExecutionActor = Actor<typeof executionMachine>;

const TOP_STATES: readonly ExecutionStatus[] = Object.values(ExecutionStatus);

/** True for `{}` (checked without allocating). */
export function isEmpty(options: object): boolean {
  for (const _key in options) return false;
  return true;
}

/** Clamps to 0..100; undefined stays undefined. */
export function clampPercentage(value: number | undefined): number | undefined {
  return value === undefined ? undefined : Math.min(100, Math.max(0, value));
}

/** The execution status an execution actor's state value stands for. */
export function statusOf(value: unknown): ExecutionStatus {
  const top = typeof value === 'string' ? value : Object.keys(value as object)[0];
  return TOP_STATES.find((status) => status === top) ?? ExecutionStatus.PENDING;
}

/** A cancelled record for a step known only by id. */
export function emptyRecord(stepId: string): StepRecord {
  return {
    stepId,
    stepName: stepId,
    status: 'cancelled',
    attempts: 0,
    retries: 0,
    recoveredBy: null,
    error: null,
    reason: null,
    rollbackCheckpointId: null,
  };
}

/** Brings a fresh actor to the status of a checkpoint that carries no snapshot. */
export function replayStatus(actor: ExecutionActor, status: ExecutionStatus, totalSteps: number): void {
  if (status === ExecutionStatus.PENDING) return;
  if (status === ExecutionStatus.CANCELLED) {
    actor.send({ type: 'EXECUTION.CANCEL', reason: 'Restored as cancelled' });
    return;
  }
  actor.send({ type: 'EXECUTION.START', totalSteps });
  if (status === ExecutionStatus.PAUSED) actor.send({ type: 'EXECUTION.PAUSE' });
  if (status === ExecutionStatus.COMPLETED || status === ExecutionStatus.FAILED) {
    actor.send({ type: 'EXECUTION.COMPLETE', success: status === ExecutionStatus.COMPLETED });
  }
}

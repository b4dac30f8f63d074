/**
 * Small pure helpers of the manager: reading the execution actor's status,
 * placeholder step records.
 *
 * @module
 */
import { ExecutionStatus } from '../../constants.js';
import type { StepRecord } from '../../machines/machine-types.js';

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

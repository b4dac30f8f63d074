/**
 * The progress-variable convention: a variable named
 * `progress.<stepId>.percentage` or `progress.<stepId>.status` drives that
 * step. This module only reads names and values; the tracker applies them.
 *
 * @module
 */
import { StepStatus } from '../../constants.js';
import { clampPercentage } from './progress-schema.js';
import type { CompleteStepOptions } from './progress-types.js';

const PREFIX = 'progress.';
const PERCENTAGE_SUFFIX = '.percentage';
const STATUS_SUFFIX = '.status';

/** Step statuses a `progress.<stepId>.status` variable may set. */
export const DRIVABLE_STEP_STATUSES = [StepStatus.RUNNING, StepStatus.COMPLETED, StepStatus.FAILED, StepStatus.SKIPPED] as const;
/** One of {@link DRIVABLE_STEP_STATUSES}. */
export type DrivableStepStatus = (typeof DRIVABLE_STEP_STATUSES)[number];

/** What a progress variable asks for. */
export type ProgressVariableIntent =
  | { kind: 'percentage'; stepId: string; value: number }
  | { kind: 'status'; stepId: string; value: DrivableStepStatus };

/**
 * The name of the variable that drives a step's progress.
 *
 * @example
 * variableManager.setVariable(progressVariableName('load', 'percentage'), 40);
 */
export function progressVariableName(stepId: string, field: 'percentage' | 'status'): string {
  return `${PREFIX}${stepId}.${field}`;
}

/**
 * Reads a variable write. Returns `null` when the name is not a progress
 * variable, `'invalid'` when it is one but the value cannot be used
 * (a percentage must be a finite number or numeric string; a status one of
 * {@link DRIVABLE_STEP_STATUSES}).
 */
export function readProgressVariable(name: string, value: unknown): ProgressVariableIntent | 'invalid' | null {
  if (!name.startsWith(PREFIX)) return null;
  if (name.endsWith(PERCENTAGE_SUFFIX)) {
    const stepId = name.slice(PREFIX.length, -PERCENTAGE_SUFFIX.length);
    if (stepId === '') return null;
    const number = typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
    if (typeof number !== 'number' || !Number.isFinite(number)) return 'invalid';
    return { kind: 'percentage', stepId, value: number };
  }
  if (name.endsWith(STATUS_SUFFIX)) {
    const stepId = name.slice(PREFIX.length, -STATUS_SUFFIX.length);
    if (stepId === '') return null;
    const status = DRIVABLE_STEP_STATUSES.find((candidate) => candidate === value);
    return status === undefined ? 'invalid' : { kind: 'status', stepId, value: status };
  }
  return null;
}

/** The tracker methods a progress variable is applied through. */
export interface ProgressVariableTarget {
  updateStepProgress(executionId: string, stepId: string, progressPercentage: number): void;
  startStep(executionId: string, stepId: string, stepName: string): void;
  completeStep(executionId: string, stepId: string, options?: CompleteStepOptions): void;
  skipStep(executionId: string, stepId: string, reason?: string): void;
}

/**
 * Applies `intent` to a step of `executionId` whose current state is
 * `current` (`undefined` when the step is unknown). A write equal to the
 * current percentage (after clamping) or status does nothing and returns false.
 */
export function applyProgressVariable(
  target: ProgressVariableTarget,
  executionId: string,
  current: { readonly stepName: string; readonly status: StepStatus; readonly percentage: number } | undefined,
  intent: ProgressVariableIntent,
): boolean {
  const { stepId } = intent;
  if (intent.kind === 'percentage') {
    if (current?.percentage === clampPercentage(intent.value)) return false;
    target.updateStepProgress(executionId, stepId, intent.value);
    return true;
  }
  if (current?.status === intent.value) return false;
  const source = `variable "${progressVariableName(stepId, 'status')}"`;
  switch (intent.value) {
    case StepStatus.RUNNING:
      target.startStep(executionId, stepId, current?.stepName ?? stepId);
      break;
    case StepStatus.COMPLETED:
      target.completeStep(executionId, stepId);
      break;
    case StepStatus.FAILED:
      target.completeStep(executionId, stepId, { success: false, errorMessage: `Marked failed by ${source}` });
      break;
    case StepStatus.SKIPPED:
      target.skipStep(executionId, stepId, `Skipped by ${source}`);
      break;
  }
  return true;
}

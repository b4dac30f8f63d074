/**
 * Boundary checks of the progress tracker: the persisted {@link ProgressState}
 * with its zod schema, the option schemas, and plain guards for the hot path
 * (`updateStepProgress` runs per progress report, so its scalar checks avoid
 * a zod parse per call).
 *
 * @module
 */
import { z } from 'zod';
import type { Clock } from '../../clock.js';
import { ExecutionStatus, ProgressEventType, StepStatus } from '../../constants.js';
import { ValidationFailure } from '../../errors.js';
import type { ProgressTrackerOptions } from './progress-types.js';
import { assertFormatVersion, countSchema, finiteNumber, idSchema, isoTimestampSchema, parseInput } from '../../validation.js';

/** The `formatVersion` that `exportProgress` writes and `importProgress` reads up to. */
export const PROGRESS_STATE_FORMAT_VERSION = 1;

/** One step in a {@link ProgressState}. `duration` is informative: import recomputes it from the times. */
export type ProgressStepState = {
  stepId: string;
  stepName: string;
  status: StepStatus;
  progressPercentage: number;
  errorMessage: string | null;
  startTime: string | null;
  endTime: string | null;
  duration: number | null;
  metadata: { lastMessage?: string; skipReason?: string };
};

/**
 * The JSON export of one execution's progress (`exportProgress`). Counters
 * are not stored: they are derived from the steps on import, so an imported
 * state is always consistent.
 */
export type ProgressState = {
  formatVersion: 1;
  executionId: string;
  status: ExecutionStatus;
  totalSteps: number;
  startTime: string | null;
  endTime: string | null;
  /** In the order the steps were first seen. */
  steps: ProgressStepState[];
};

const nullableTime = isoTimestampSchema.nullable();
const percentage = finiteNumber.min(0).max(100);

const stepStateSchema = z.object({
  stepId: idSchema,
  stepName: z.string(),
  status: z.enum(Object.values(StepStatus) as [StepStatus, ...StepStatus[]]),
  progressPercentage: percentage,
  errorMessage: z.string().nullable(),
  startTime: nullableTime,
  endTime: nullableTime,
  duration: finiteNumber.min(0).nullable().optional(),
  metadata: z.object({ lastMessage: z.string().optional(), skipReason: z.string().optional() }),
});

/** zod schema of {@link ProgressState} (formatVersion 1). */
export const ProgressStateSchema = z
  .object({
    formatVersion: z.literal(PROGRESS_STATE_FORMAT_VERSION),
    executionId: idSchema,
    status: z.enum(Object.values(ExecutionStatus) as [ExecutionStatus, ...ExecutionStatus[]]),
    totalSteps: countSchema,
    startTime: nullableTime,
    endTime: nullableTime,
    steps: z.array(stepStateSchema),
  })
  .superRefine((state, ctx) => {
    const seen = new Set<string>();
    state.steps.forEach((step, index) => {
      if (seen.has(step.stepId)) {
        ctx.addIssue({ code: 'custom', path: ['steps', index, 'stepId'], message: `Duplicate step id "${step.stepId}"` });
      }
      seen.add(step.stepId);
    });
  });

/** Parsed form of a {@link ProgressState} (what `importProgress` works from). */
export type ParsedProgressState = z.output<typeof ProgressStateSchema>;

/**
 * Checks an imported progress state: a newer `formatVersion` is refused with
 * `STATE_INCOMPATIBLE`, anything else malformed with `INVALID_INPUT`.
 */
export function parseProgressState(state: unknown): ParsedProgressState {
  assertFormatVersion(state, PROGRESS_STATE_FORMAT_VERSION, 'importProgress');
  return parseInput(ProgressStateSchema, state, 'importProgress');
}

const completeStepOptionsSchema = z
  .object({
    success: z.boolean().optional(),
    errorMessage: z.string().optional(),
    progressPercentage: finiteNumber.optional(),
  })
  .optional();

/** Parses `completeStep` options (NaN/Infinity percentages are refused). */
export function parseCompleteStepOptions(options: unknown): z.output<typeof completeStepOptionsSchema> {
  // Hot path (every step): plain valid options skip zod; zod still words every refusal.
  if (options === undefined) return undefined;
  if (isPlainValidCompleteOptions(options)) return options;
  return parseInput(completeStepOptionsSchema, options, 'completeStep options');
}

function isPlainValidCompleteOptions(options: unknown): options is { success?: boolean; errorMessage?: string; progressPercentage?: number } {
  if (typeof options !== 'object' || options === null || Object.getPrototypeOf(options) !== Object.prototype) return false;
  for (const [key, value] of Object.entries(options)) {
    if (value === undefined) continue;
    if (key === 'success' ? typeof value !== 'boolean'
      : key === 'errorMessage' ? typeof value !== 'string'
      : key === 'progressPercentage' ? typeof value !== 'number' || !Number.isFinite(value)
      : true) return false;
  }
  return true;
}

const emitEventArgsSchema = z.object({
  eventType: z.enum(Object.values(ProgressEventType) as [ProgressEventType, ...ProgressEventType[]]),
  options: z
    .object({
      stepId: z.string().optional(),
      stepName: z.string().optional(),
      message: z.string().optional(),
      data: z.record(z.string(), z.unknown()).optional(),
    })
    .optional(),
});

const EVENT_TYPES: ReadonlySet<unknown> = new Set(Object.values(ProgressEventType));
const FORBIDDEN_DATA_KEYS: ReadonlySet<string> = new Set(['__proto__', 'constructor', 'prototype']);

/** Parses `emitEvent` arguments. */
export function parseEmitEventArgs(eventType: unknown, options: unknown): z.output<typeof emitEventArgsSchema> {
  // Hot path (the manager's checkpoint events): plain valid arguments skip zod; zod still words every refusal.
  if (EVENT_TYPES.has(eventType) && isPlainValidEmitOptions(options)) {
    return options === undefined ? { eventType: eventType as ProgressEventType } : { eventType: eventType as ProgressEventType, options };
  }
  return parseInput(emitEventArgsSchema, { eventType, options }, 'emitEvent');
}

type EmitOptions = NonNullable<z.output<typeof emitEventArgsSchema>['options']>;

/** Options with known keys of the right types, and `data` flat (primitive values): nothing zod would change or refuse. */
function isPlainValidEmitOptions(options: unknown): options is EmitOptions | undefined {
  if (options === undefined) return true;
  if (!isPlainObject(options)) return false;
  for (const [key, value] of Object.entries(options)) {
    if (value === undefined) continue;
    if (key === 'stepId' || key === 'stepName' || key === 'message') {
      if (typeof value !== 'string') return false;
    } else if (key !== 'data' || !isFlatData(value)) {
      return false;
    }
  }
  return true;
}

function isFlatData(data: unknown): boolean {
  if (!isPlainObject(data)) return false;
  for (const [key, value] of Object.entries(data)) {
    if (FORBIDDEN_DATA_KEYS.has(key) || (typeof value === 'object' && value !== null)) return false;
  }
  return true;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && Object.getPrototypeOf(value) === Object.prototype;
}

/**
 * Checks the constructor options by hand: they hold live objects (a variable
 * manager, a context) that a zod walk would copy or traverse needlessly.
 */
export function checkTrackerOptions(options: ProgressTrackerOptions): ProgressTrackerOptions {
  const what = 'ProgressTracker options';
  if (typeof options !== 'object' || (options as unknown) === null) throw new ValidationFailure('', `${what}: expected an object`);
  const { executionContext, variableManager, clock } = options;
  if (executionContext !== undefined) assertId(executionContext.executionId, 'executionContext.executionId', what);
  if (clock !== undefined && typeof (clock as Partial<Clock>).now !== 'function') {
    throw new ValidationFailure('clock', `${what}: expected \`clock\` to be a Clock with a now() method`);
  }
  if (variableManager !== undefined && (typeof variableManager.onVariableCreated !== 'function' || typeof variableManager.onVariableChanged !== 'function')) {
    throw new ValidationFailure('variableManager', `${what}: expected \`variableManager\` to have onVariableCreated/onVariableChanged`);
  }
  return options;
}

/** Throws `INVALID_INPUT` unless `value` is a non-empty string. */
export function assertId(value: unknown, field: string, what: string): asserts value is string {
  if (typeof value !== 'string' || value === '') {
    throw new ValidationFailure(field, `${what}: expected \`${field}\` to be a non-empty string, got ${describe(value)}`);
  }
}

/** Throws `INVALID_INPUT` unless `value` is a finite number. */
export function assertFinite(value: unknown, field: string, what: string): asserts value is number {
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw new ValidationFailure(field, `${what}: expected \`${field}\` to be a finite number, got ${describe(value)}`);
  }
}

/** Throws `INVALID_INPUT` unless `value` is a string or undefined. */
export function assertOptionalString(value: unknown, field: string, what: string): asserts value is string | undefined {
  if (value !== undefined && typeof value !== 'string') {
    throw new ValidationFailure(field, `${what}: expected \`${field}\` to be a string, got ${describe(value)}`);
  }
}

/** Throws `INVALID_INPUT` unless `value` is a non-negative integer. */
export function assertCount(value: unknown, field: string, what: string): asserts value is number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0) {
    throw new ValidationFailure(field, `${what}: expected \`${field}\` to be a non-negative integer, got ${describe(value)}`);
  }
}

function describe(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number' || typeof value === 'boolean' || value === null || value === undefined) return String(value);
  return typeof value;
}

/** Clamps a finite percentage into 0..100. */
export function clampPercentage(value: number): number {
  // `<= 0` also turns -0 into 0, so JSON and equality checks see one zero.
  return value <= 0 ? 0 : value > 100 ? 100 : value;
}

/**
 * The {@link Checkpoint} record and {@link ExecutionMetrics}: their types and
 * the zod schemas that validate them when they come back from JSON.
 *
 * @module
 */
import { z } from 'zod';
import { ExecutionStatus } from '../../constants.js';
import { ErrorCode, ExecutionError, ValidationFailure } from '../../errors.js';
import {
  assertFormatVersion,
  countSchema,
  idSchema,
  isoTimestampSchema,
  jsonValueSchema,
  parseInput,
} from '../../validation.js';
import type { JsonValue } from '../../validation.js';
import { VariableManager } from '../variables/variable-manager.js';
import type { VariableState } from '../variables/variable-manager.js';

/** The only checkpoint format this release writes and reads. */
export const CHECKPOINT_FORMAT_VERSION = 1;

/** Counters and times of one execution (SPEC "ExecutionContext"). */
export interface ExecutionMetrics {
  /** When `start()` ran; null while PENDING. */
  startTime: string | null;
  /** When the execution reached COMPLETED, FAILED or CANCELLED; null before. */
  endTime: string | null;
  /** Seconds from start to end (or to now while not finished); null before start. */
  duration: number | null;
  /** Distinct steps whose latest outcome is "completed". */
  stepsCompleted: number;
  /** Distinct steps whose latest outcome is "failed". */
  stepsFailed: number;
  /** Distinct steps whose latest outcome is "skipped". */
  stepsSkipped: number;
  /** The total given to `start(totalSteps)`. */
  stepsTotal: number;
  /** Variables created in the context's VariableManager since it was attached. */
  variablesCreated: number;
  /** Updates of existing variables in the context's VariableManager. */
  variablesUpdated: number;
}

/**
 * A point the execution can be rolled back to: status, step lists, metrics
 * and the variables, plus JSON `extensions` where the actor core keeps the
 * persisted actor snapshot and the progress.
 */
export interface Checkpoint {
  /** Format of this record; newer versions are refused on import. */
  formatVersion: 1;
  /** Unique id (nanoid). */
  id: string;
  executionId: string;
  pipelineId: string;
  /** ISO timestamp from the context's clock. */
  createdAt: string;
  description: string | null;
  status: ExecutionStatus;
  currentStepId: string | null;
  metrics: ExecutionMetrics;
  completedSteps: string[];
  failedSteps: string[];
  skippedSteps: string[];
  /** `variableManager.exportState()` at checkpoint time. */
  variables: VariableState;
  /** Caller data (JSON only), deep-copied at creation. */
  extensions: Record<string, JsonValue>;
}

const nonNegativeSeconds = z.number().min(0, { message: 'Expected a non-negative number of seconds' });

/** Schema of {@link ExecutionMetrics} (strict: unknown keys are refused). */
export const executionMetricsSchema = z.strictObject({
  startTime: isoTimestampSchema.nullable(),
  endTime: isoTimestampSchema.nullable(),
  duration: nonNegativeSeconds.nullable(),
  stepsCompleted: countSchema,
  stepsFailed: countSchema,
  stepsSkipped: countSchema,
  stepsTotal: countSchema,
  variablesCreated: countSchema,
  variablesUpdated: countSchema,
});

/** Schema of step id lists: non-empty ids, each listed once. */
export const stepListSchema = z.array(idSchema).refine((ids) => new Set(ids).size === ids.length, {
  message: 'Expected each step id at most once',
});

// Only the outer shape here: the variable manager owns the inner schema and
// checks it in validateVariableState, so the two can never drift apart.
const variableStateShape = z.custom<VariableState>(
  (value) => typeof value === 'object' && value !== null && !Array.isArray(value),
  { message: 'Expected a VariableState object' },
);

/** Fields shared by checkpoints and exported context state. */
export interface StepLists {
  metrics: ExecutionMetrics;
  completedSteps: string[];
  failedSteps: string[];
  skippedSteps: string[];
}

/**
 * Adds the cross-field rules of a step record: a step is in at most one
 * outcome list and the counters equal the list lengths.
 */
export function refineStepLists(value: StepLists, ctx: z.RefinementCtx): void {
  const seen = new Map<string, string>();
  for (const list of ['completedSteps', 'failedSteps', 'skippedSteps'] as const) {
    value[list].forEach((id, index) => {
      const other = seen.get(id);
      if (other !== undefined) {
        ctx.addIssue({
          code: 'custom',
          path: [list, index],
          message: `Step "${id}" is also listed in ${other}; a step has one outcome`,
        });
      }
      seen.set(id, list);
    });
  }
  const pairs = [
    ['stepsCompleted', 'completedSteps'],
    ['stepsFailed', 'failedSteps'],
    ['stepsSkipped', 'skippedSteps'],
  ] as const;
  for (const [counter, list] of pairs) {
    if (value.metrics[counter] !== value[list].length) {
      ctx.addIssue({
        code: 'custom',
        path: ['metrics', counter],
        message: `Expected ${value[list].length} (the length of ${list})`,
      });
    }
  }
}

/** Schema of a {@link Checkpoint} record (the variables are checked by {@link parseCheckpoint}). */
export const checkpointSchema = z
  .strictObject({
    formatVersion: z.literal(CHECKPOINT_FORMAT_VERSION),
    id: idSchema,
    executionId: idSchema,
    pipelineId: idSchema,
    createdAt: isoTimestampSchema,
    description: z.string().nullable(),
    status: z.enum(ExecutionStatus),
    currentStepId: idSchema.nullable(),
    metrics: executionMetricsSchema,
    completedSteps: stepListSchema,
    failedSteps: stepListSchema,
    skippedSteps: stepListSchema,
    variables: variableStateShape,
    extensions: z.record(z.string(), jsonValueSchema),
  })
  .superRefine(refineStepLists);

/**
 * Checks a VariableState by importing it into a throw-away VariableManager,
 * so the rules are exactly the ones a real restore will apply. Errors are
 * re-thrown with the field prefixed by `field`.
 */
export function validateVariableState(value: unknown, field: string, what: string): void {
  try {
    new VariableManager({ pipelineId: 'validation' }).importState(value);
  } catch (error) {
    if (error instanceof ValidationFailure) {
      const inner = error.field === '' ? field : `${field}.${error.field}`;
      throw new ValidationFailure(inner, `${what}: invalid value at "${inner}": ${error.message}`, {
        code: error.code,
        cause: error,
      });
    }
    if (error instanceof ExecutionError) throw error;
    throw new ValidationFailure(field, `${what}: invalid value at "${field}": ${String(error)}`, { cause: error });
  }
}

/**
 * Validates one checkpoint record (e.g. read back from a store).
 * A newer `formatVersion` is refused with `CHECKPOINT_INCOMPATIBLE`, anything
 * malformed with `INVALID_INPUT` naming the field. Returns a deep copy.
 *
 * @example
 * const checkpoint = parseCheckpoint(JSON.parse(text));
 */
export function parseCheckpoint(value: unknown, what = 'Checkpoint'): Checkpoint {
  assertFormatVersion(value, CHECKPOINT_FORMAT_VERSION, what, ErrorCode.CheckpointIncompatible);
  const parsed = parseInput(checkpointSchema, value, what);
  validateVariableState(parsed.variables, 'variables', what);
  return structuredClone(parsed);
}

/** Freezes a record and everything inside it, so shared checkpoints cannot be edited in place. */
export function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}

/** Checkpoints built from validated parts and frozen whole: valid as they are, for as long as they live. */
const sealedCheckpoints = new WeakSet<object>();

/**
 * Freezes a checkpoint that was built from validated parts and remembers it
 * as valid, so that a store writing it does not parse the whole record again
 * (its actor snapshot makes it the largest value the engine writes). Frozen
 * all the way down, it cannot change after this.
 *
 * @internal
 */
export function sealCheckpoint(checkpoint: Checkpoint): Checkpoint {
  deepFreeze(checkpoint);
  sealedCheckpoints.add(checkpoint);
  return checkpoint;
}

/** True for a checkpoint {@link sealCheckpoint} vouched for. @internal */
export function isSealedCheckpoint(value: unknown): value is Checkpoint {
  return typeof value === 'object' && value !== null && sealedCheckpoints.has(value);
}

/**
 * {@link ExecutionContextState}: the JSON export format of an
 * `ExecutionContext` (what `exportState()` returns, `importState()` accepts
 * and `FileStateManager` writes), with its schema.
 *
 * @module
 */
import { z } from 'zod';
import { ExecutionStatus } from '../../constants.js';
import { ErrorCode, ValidationFailure } from '../../errors.js';
import { assertFormatVersion, idSchema, isoTimestampSchema, parseInput } from '../../validation.js';
import type { VariableState } from '../variables/variable-manager.js';
import {
  CHECKPOINT_FORMAT_VERSION,
  checkpointSchema,
  executionMetricsSchema,
  refineStepLists,
  stepListSchema,
  validateVariableState,
} from './checkpoint.js';
import type { Checkpoint, ExecutionMetrics } from './checkpoint.js';

/** The only context state format this release writes and reads. */
export const CONTEXT_STATE_FORMAT_VERSION = 1;

/** Nested contexts deeper than this are refused on import (guards the recursion). */
export const MAX_NESTING_DEPTH = 32;

/** Everything an `ExecutionContext` holds, as JSON. `importState` replaces all of it. */
export interface ExecutionContextState {
  /** Format of this record; newer versions are refused with `STATE_INCOMPATIBLE`. */
  formatVersion: 1;
  executionId: string;
  pipelineId: string;
  /** ISO timestamp (context clock) of the export. */
  exportedAt: string;
  status: ExecutionStatus;
  currentStepId: string | null;
  metrics: ExecutionMetrics;
  completedSteps: string[];
  failedSteps: string[];
  skippedSteps: string[];
  /** The context's `variableManager.exportState()`. */
  variables: VariableState;
  /** Oldest first. */
  checkpoints: Checkpoint[];
  /** Children made by `createNestedContext`, in creation order. */
  nestedContexts: ExecutionContextState[];
}

const variableStateShape = z.custom<VariableState>(
  (value) => typeof value === 'object' && value !== null && !Array.isArray(value),
  { message: 'Expected a VariableState object' },
);

/** Schema of {@link ExecutionContextState} (variables are checked by {@link parseExecutionContextState}). */
export const executionContextStateSchema: z.ZodType<ExecutionContextState> = z.lazy(() =>
  z
    .strictObject({
      formatVersion: z.literal(CONTEXT_STATE_FORMAT_VERSION),
      executionId: idSchema,
      pipelineId: idSchema,
      exportedAt: isoTimestampSchema,
      status: z.enum(ExecutionStatus),
      currentStepId: idSchema.nullable(),
      metrics: executionMetricsSchema,
      completedSteps: stepListSchema,
      failedSteps: stepListSchema,
      skippedSteps: stepListSchema,
      variables: variableStateShape,
      checkpoints: z.array(checkpointSchema),
      nestedContexts: z.array(executionContextStateSchema),
    })
    .superRefine((state, ctx) => {
      refineStepLists(state, ctx);
      const ids = new Set<string>();
      state.checkpoints.forEach((checkpoint, index) => {
        if (ids.has(checkpoint.id)) {
          ctx.addIssue({ code: 'custom', path: ['checkpoints', index, 'id'], message: `Duplicate checkpoint id "${checkpoint.id}"` });
        }
        ids.add(checkpoint.id);
        for (const key of ['executionId', 'pipelineId'] as const) {
          if (checkpoint[key] !== state[key]) {
            ctx.addIssue({
              code: 'custom',
              path: ['checkpoints', index, key],
              message: `Expected "${state[key]}" (the state's ${key})`,
            });
          }
        }
      });
      const children = new Set<string>();
      state.nestedContexts.forEach((child, index) => {
        const suffix = child.executionId.slice(state.executionId.length + 1);
        if (!child.executionId.startsWith(`${state.executionId}.`) || suffix === '') {
          ctx.addIssue({
            code: 'custom',
            path: ['nestedContexts', index, 'executionId'],
            message: `Expected "${state.executionId}.<id>"`,
          });
        } else if (child.pipelineId !== state.pipelineId) {
          ctx.addIssue({
            code: 'custom',
            path: ['nestedContexts', index, 'pipelineId'],
            message: `Expected "${state.pipelineId}" (the parent's pipelineId)`,
          });
        } else if (children.has(suffix)) {
          ctx.addIssue({
            code: 'custom',
            path: ['nestedContexts', index, 'executionId'],
            message: `Duplicate nested context "${child.executionId}"`,
          });
        }
        children.add(suffix);
      });
    }),
);

function nestingDepth(value: unknown, depth = 0): number {
  if (typeof value !== 'object' || value === null) return depth;
  const nested = (value as Record<string, unknown>).nestedContexts;
  if (!Array.isArray(nested) || depth > MAX_NESTING_DEPTH) return depth;
  return Math.max(depth, ...nested.map((child) => nestingDepth(child, depth + 1)));
}

function checkVersions(value: unknown, path: string, what: string): void {
  if (typeof value !== 'object' || value === null) return;
  assertFormatVersion(value, CONTEXT_STATE_FORMAT_VERSION, `${what}${path}`);
  const record = value as Record<string, unknown>;
  if (Array.isArray(record.checkpoints)) {
    record.checkpoints.forEach((checkpoint: unknown, index) => {
      assertFormatVersion(
        checkpoint,
        CHECKPOINT_FORMAT_VERSION,
        `${what}${path} checkpoints[${index}]`,
        ErrorCode.CheckpointIncompatible,
      );
    });
  }
  if (Array.isArray(record.nestedContexts)) {
    record.nestedContexts.forEach((child: unknown, index) => {
      checkVersions(child, `${path} nestedContexts[${index}]`, what);
    });
  }
}

function checkVariables(state: ExecutionContextState, prefix: string, what: string): void {
  validateVariableState(state.variables, `${prefix}variables`, what);
  state.checkpoints.forEach((checkpoint, index) => {
    validateVariableState(checkpoint.variables, `${prefix}checkpoints[${index}].variables`, what);
  });
  state.nestedContexts.forEach((child, index) => {
    checkVariables(child, `${prefix}nestedContexts[${index}].`, what);
  });
}

/**
 * Validates an exported context state and returns a deep copy of it.
 * Newer `formatVersion` -> `STATE_INCOMPATIBLE` (`CHECKPOINT_INCOMPATIBLE` for
 * a checkpoint inside); anything malformed -> `INVALID_INPUT` naming the field.
 *
 * @example
 * const state = parseExecutionContextState(JSON.parse(text));
 */
export function parseExecutionContextState(value: unknown, what = 'ExecutionContext state'): ExecutionContextState {
  checkVersions(value, '', what);
  if (nestingDepth(value) > MAX_NESTING_DEPTH) {
    throw new ValidationFailure(
      'nestedContexts',
      `${what}: invalid value at "nestedContexts": expected at most ${MAX_NESTING_DEPTH} levels of nesting`,
    );
  }
  const parsed = parseInput(executionContextStateSchema, value, what);
  checkVariables(parsed, '', what);
  return structuredClone(parsed);
}

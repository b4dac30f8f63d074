/**
 * Zod schemas of the manager's option bags (validated at the boundary).
 *
 * @module
 */
import { z } from 'zod';
import { finiteNumber, idSchema } from '../../validation.js';
import { RecoveryPlan } from '../recovery/recovery-plan.js';

/** Schema of the identity part of the manager options (components are checked by type). */
export const managerOptionsSchema = z.looseObject({
  executionId: idSchema,
  pipelineId: idSchema,
  maxCheckpoints: z.number().int().min(1).optional(),
});

/** Schema of `executeStepWithRecovery`'s options. */
export const stepRunOptionsSchema = z.strictObject({
  alternatives: z
    .array(z.custom<(...args: never[]) => unknown>((value) => typeof value === 'function', { message: 'Expected a function' }))
    .optional(),
  timeoutMs: z.number().int().positive().optional(),
  recoveryPlan: z.instanceof(RecoveryPlan).optional(),
});

/** Schema of `completeStep`'s options. */
export const completeStepOptionsSchema = z.strictObject({
  success: z.boolean().optional(),
  error: z.unknown().optional(),
  progressPercentage: finiteNumber.optional(),
  output: z.unknown().optional(),
});

/** A non-empty step name. */
export const stepNameSchema = idSchema;

/** A finite, non-negative integer step total. */
export const totalStepsSchema = finiteNumber.pipe(z.number().int().min(0));

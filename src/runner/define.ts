/**
 * {@link definePipeline}: a pipeline's steps, validated once (zod for each
 * step's shape, then the dependency graph), frozen and branded so the CLI
 * can recognise a module's default export.
 *
 * @module
 */
import { z } from 'zod';
import { ErrorCategory, RecoveryStrategy } from '../constants.js';
import { ExecutionError, ValidationFailure } from '../errors.js';
import { RecoveryPlan, RetryConfig, type RecoveryPlanInput, type RetryConfigInput } from '../services/recovery/index.js';
import { idSchema, parseInput } from '../validation.js';
import { assertValidGraph } from './graph.js';
import type { Pipeline, PipelineDefinition, PipelineStep, StepRecoveryFunction } from './types.js';

/** Registry-wide symbol: two copies of the package still recognise each other's pipelines. */
const PIPELINE_BRAND = Symbol.for('@orchestrator/execution.pipeline');

const functionSchema = z.custom<(...args: never[]) => unknown>((value) => typeof value === 'function', {
  message: 'Expected a function',
});
const plainObjectSchema = z.custom<Record<string, unknown>>(
  (value) => typeof value === 'object' && value !== null && !Array.isArray(value),
  { message: 'Expected an object' },
);

const stepSchema = z.strictObject({
  id: idSchema,
  name: idSchema.optional(),
  run: functionSchema,
  dependsOn: z.array(idSchema).optional(),
  retry: plainObjectSchema.optional(),
  recovery: z
    .custom<RecoveryPlan | RecoveryPlanInput | StepRecoveryFunction>(
      (value) => value instanceof RecoveryPlan || typeof value === 'function' || (typeof value === 'object' && value !== null),
      { message: 'Expected a RecoveryPlan, plan options or a function of the error' },
    )
    .optional(),
  timeoutMs: z.number().int().positive().optional(),
  alternatives: z.array(functionSchema).optional(),
  when: functionSchema.optional(),
});

const pipelineSchema = z.strictObject({
  id: idSchema,
  steps: z.array(z.unknown()).min(1, { message: 'Expected at least one step' }),
});

/** Every category: a step that asks for retries is retried whatever it throws. */
const ALL_CATEGORIES = Object.values(ErrorCategory);

/**
 * The RETRY_WITH_BACKOFF plan of a step's `retry` option.
 * @throws ValidationFailure when the retry settings are invalid
 */
export function retryPlanFor(retry: RetryConfigInput): RecoveryPlan {
  return new RecoveryPlan({
    strategy: RecoveryStrategy.RETRY_WITH_BACKOFF,
    retryConfig: new RetryConfig({ retryOnCategories: ALL_CATEGORIES, ...retry }),
  });
}

function stepLabel(raw: unknown, index: number): string {
  const id = typeof raw === 'object' && raw !== null ? (raw as { id?: unknown }).id : undefined;
  return typeof id === 'string' && id !== '' ? `step "${id}"` : `steps[${index}]`;
}

/** Rethrows a nested validation error with the step it belongs to. */
function withStep<T>(what: string, field: string, build: () => T): T {
  try {
    return build();
  } catch (error) {
    if (error instanceof ExecutionError) {
      throw new ValidationFailure(field, `${what}: ${error.message}`, { cause: error });
    }
    throw error;
  }
}

function normalizeStep(pipelineId: string, raw: unknown, index: number): PipelineStep<never> {
  const what = `definePipeline "${pipelineId}" ${stepLabel(raw, index)}`;
  const step = parseInput(stepSchema, raw, what);
  if (step.retry !== undefined && step.recovery !== undefined) {
    throw new ValidationFailure(`steps[${index}].retry`, `${what}: give either \`retry\` or \`recovery\`, not both`);
  }
  const retry = step.retry as RetryConfigInput | undefined;
  if (retry !== undefined) withStep(what, `steps[${index}].retry`, () => retryPlanFor(retry));
  let recovery: RecoveryPlan | StepRecoveryFunction | undefined;
  if (typeof step.recovery === 'function') recovery = step.recovery;
  else if (step.recovery !== undefined) {
    const input = step.recovery;
    recovery = withStep(what, `steps[${index}].recovery`, () => (input instanceof RecoveryPlan ? input : new RecoveryPlan(input)));
    if (recovery.strategy === RecoveryStrategy.ROLLBACK) {
      throw new ValidationFailure(
        `steps[${index}].recovery`,
        `${what}: ROLLBACK is not supported in a pipeline (restoring a checkpoint would undo steps running in parallel); use RETRY, RETRY_WITH_BACKOFF, SKIP, ALTERNATIVE_PATH or FAIL_FAST`,
      );
    }
  }
  return Object.freeze({
    id: step.id,
    name: step.name ?? step.id,
    run: step.run as PipelineStep<never>['run'],
    dependsOn: Object.freeze([...new Set(step.dependsOn ?? [])]),
    retry: retry === undefined ? undefined : Object.freeze({ ...retry }),
    recovery,
    timeoutMs: step.timeoutMs,
    alternatives: Object.freeze([...(step.alternatives ?? [])]) as PipelineStep<never>['alternatives'],
    when: step.when as PipelineStep<never>['when'],
  });
}

/**
 * Validates a pipeline: each step's shape (zod), then the graph. A duplicate
 * id, a dependency on an unknown step or a cycle is refused with an
 * `ExecutionError` (`INVALID_INPUT`) whose message names it.
 *
 * @example
 * export default definePipeline({
 *   id: 'etl',
 *   steps: [
 *     { id: 'extract', run: async ({ signal }) => fetchRows(signal) },
 *     { id: 'load', dependsOn: ['extract'], retry: { maxAttempts: 3 }, run: ({ outputs }) => save(outputs.extract) },
 *   ],
 * });
 */
export function definePipeline<TInput = unknown>(definition: PipelineDefinition<TInput>): Pipeline<TInput> {
  const shape = parseInput(pipelineSchema, definition, 'definePipeline');
  const steps = shape.steps.map((raw, index) => normalizeStep(shape.id, raw, index)) as unknown as PipelineStep<TInput>[];
  assertValidGraph(shape.id, steps);
  const pipeline: Pipeline<TInput> = { id: shape.id, steps: Object.freeze(steps) };
  Object.defineProperty(pipeline, PIPELINE_BRAND, { value: true });
  return Object.freeze(pipeline);
}

/** True for a pipeline made by {@link definePipeline} (any copy of this package). */
export function isPipeline(value: unknown): value is Pipeline {
  return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[PIPELINE_BRAND] === true;
}

/**
 * The pipeline runner: declare steps with {@link definePipeline}, run them
 * with {@link runPipeline} on a ComprehensiveExecutionManager.
 *
 * @module
 */
export { definePipeline, isPipeline } from './define.js';
export { findCycle } from './graph.js';
export { DEFAULT_CONCURRENCY, runPipeline, type PipelineRunHandle, type RunStart } from './run.js';
export { restoreStoredExecution, type RestoreStoredOptions, type RestoreStoredResult } from './restore-stored.js';
export type {
  ConditionContext,
  Pipeline,
  PipelineDefinition,
  PipelineEventHandler,
  PipelineResult,
  PipelineRun,
  PipelineStep,
  PipelineStepDefinition,
  RunPipelineOptions,
  PipelineStepContext,
  StepRecoveryFunction,
  StepResult,
  StepRun,
} from './types.js';

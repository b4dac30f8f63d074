/**
 * Execution context service: status, step outcomes, metrics, checkpoints and
 * file persistence of one execution.
 *
 * @module
 */
export { ExecutionContext } from './execution-context.js';
export type {
  CheckpointRestoredHandler,
  ContextStepEvent,
  ExecutionContextOptions,
  HandlerErrorReporter,
  StatusChangeHandler,
  StepEventHandler,
} from './context-options.js';
export { createExecutionContext, loadExecutionContext, type LoadExecutionContextOptions } from './factory.js';
export {
  type Checkpoint,
  type ExecutionMetrics,
  CHECKPOINT_FORMAT_VERSION,
  checkpointSchema,
  executionMetricsSchema,
  parseCheckpoint,
} from './checkpoint.js';
export {
  type ExecutionContextState,
  CONTEXT_STATE_FORMAT_VERSION,
  executionContextStateSchema,
  parseExecutionContextState,
} from './context-state.js';
export { FileStateManager, type FileStateManagerOptions, type StateFileInfo } from './file-state-manager.js';

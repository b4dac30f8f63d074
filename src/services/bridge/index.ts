/**
 * The bridge between the new execution context and the legacy runtime state.
 *
 * @module
 */
export { ExecutionStateBridge, stepResultVariableName } from './execution-state-bridge.js';
export type {
  BridgeRegisterOptions,
  CombinedState,
  ExecutionStateBridgeOptions,
  SyncReport,
} from './execution-state-bridge.js';
export { resultAliases } from './entries.js';
export { PipelineExecutionState } from './pipeline-execution-state.js';
export type {
  PipelineExecutionStateOptions,
  PipelineExecutionSummary,
  TaggedEntry,
} from './pipeline-execution-state.js';
export { PIPELINE_STATE_FORMAT_VERSION, pipelineStateSchema } from './schemas.js';
export type { LoopContext, LoopContextInput, PipelineState, RegisterOptions } from './schemas.js';

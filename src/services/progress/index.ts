/**
 * Progress tracking: the {@link ProgressTracker}, its event stream, its
 * persisted state and the progress-variable convention.
 *
 * @module
 */
export { ProgressTracker } from './progress-tracker.js';
export { ProgressEventStream } from './event-stream.js';
export {
  PROGRESS_STATE_FORMAT_VERSION,
  ProgressStateSchema,
  parseProgressState,
  type ProgressState,
  type ProgressStepState,
} from './progress-schema.js';
export {
  DRIVABLE_STEP_STATUSES,
  progressVariableName,
  readProgressVariable,
  type DrivableStepStatus,
  type ProgressVariableIntent,
} from './progress-variables.js';
export type {
  CompleteStepOptions,
  EmitEventOptions,
  ExecutionPerformance,
  ExecutionProgress,
  ProgressEvent,
  ProgressEventFilter,
  ProgressEventHandler,
  ProgressPerformanceMetrics,
  ProgressTrackerOptions,
  ProgressVariableSource,
  StepProgress,
  StepProgressMetadata,
} from './progress-types.js';

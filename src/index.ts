/**
 * @orchestrator/execution: a durable, inspectable pipeline execution engine on
 * XState v5 actors. This is the one public entry: explicit named exports.
 *
 * @module
 */

// Constants, errors, time
export {
  ErrorCategory,
  ErrorSeverity,
  ExecutionStatus,
  PersistenceFormat,
  ProgressEventType,
  RecoveryStrategy,
  StepStatus,
  VariableScope,
  VariableType,
} from './constants.js';
export {
  CancelledError,
  ErrorCode,
  ExecutionError,
  FatalError,
  RetryableError,
  StepTimeoutError,
  ValidationFailure,
  reviveError,
  serializeError,
  toError,
  type ExecutionErrorOptions,
  type SerializedError,
} from './errors.js';
export { SimulatedClock, systemClock, type Clock, type TimerHandle } from './clock.js';
export type { JsonValue } from './validation.js';

// Machines and actors
export { stepMachine, planRecovers, type StepContext, type StepEvent, type StepParentEvent } from './machines/step.machine.js';
export {
  executionMachine,
  type ActiveStep,
  type ExecutionEmitted,
  type ExecutionEvent,
  type ExecutionMachineContext,
  type ExecutionMachineInput,
  type StepCounts,
  type StepStartOptions,
} from './machines/execution.machine.js';
export type {
  AlternativeInput,
  BackoffInput,
  ExecutorInput,
  ExecutorOutcome,
  RecoveredBy,
  StepFailure,
  StepFinished,
  StepInput,
  StepMode,
  StepRecord,
} from './machines/machine-types.js';
export { createExecutionLogic, createStepLogic, type StepRuntime } from './actors/step-logic.js';
export { runWithTimeout, type RunWithTimeoutOptions } from './actors/run-with-timeout.js';

// The manager
export {
  ComprehensiveExecutionManager,
  createComprehensiveExecutionManager,
  type ComprehensiveExecutionManagerOptions,
  type CompleteStepOptions as ManagerCompleteStepOptions,
  type InspectOption,
  type StepRunOptions,
} from './services/manager.js';
export type { ExecutionStatusReport } from './services/manager/status-report.js';
export type { StepExecutor, StepExecutorArgs } from './services/manager/step-runtime.js';
export { ENGINE_CHECKPOINT_FORMAT_VERSION, type EngineCheckpointData } from './services/manager/engine-checkpoint.js';

// Variables
export {
  VARIABLE_STATE_FORMAT_VERSION,
  VariableContext,
  VariableManager,
  VariableManagerAdapter,
  type ContextOptions,
  type GetVariableOptions,
  type ListVariablesOptions,
  type SetVariableOptions,
  type VariableContextOptions,
  type VariableEntry,
  type VariableDeletedEvent,
  type VariableDeletedHandler,
  type VariableEvent,
  type VariableEventHandler,
  type VariableManagerAdapterOptions,
  type VariableManagerOptions,
  type VariableMetadata,
  type VariableState,
} from './services/variables/index.js';

// Progress
export {
  PROGRESS_STATE_FORMAT_VERSION,
  ProgressEventStream,
  ProgressTracker,
  progressVariableName,
  type CompleteStepOptions,
  type EmitEventOptions,
  type ExecutionPerformance,
  type ExecutionProgress,
  type ProgressEvent,
  type ProgressEventFilter,
  type ProgressEventHandler,
  type ProgressPerformanceMetrics,
  type ProgressState,
  type ProgressTrackerOptions,
  type StepProgress,
  type StepProgressMetadata,
} from './services/progress/index.js';

// Recovery
export {
  DEFAULT_RETRY_CATEGORIES,
  RecoveryManager,
  RecoveryPlan,
  RetryConfig,
  canRetry,
  classifyError,
  criticalErrorHandler,
  defaultPlanFor,
  describePlan,
  isAutomated,
  isRetryStrategy,
  networkErrorHandler,
  retryDelayMs,
  severityFor,
  timeoutErrorHandler,
  type ClassifyErrorOptions,
  type ErrorHandler,
  type ErrorHistoryFilter,
  type ErrorInfo,
  type ExecuteRecoveryOptions,
  type JitterMode,
  type RecoveryManagerOptions,
  type RecoveryOutcome,
  type RecoveryPlanData,
  type RecoveryPlanInput,
  type RecoveryStatus,
  type RetryCondition,
  type RetryConfigData,
  type RetryConfigInput,
  type RollbackTarget,
} from './services/recovery/index.js';

// Execution context
export {
  CHECKPOINT_FORMAT_VERSION,
  CONTEXT_STATE_FORMAT_VERSION,
  ExecutionContext,
  FileStateManager,
  createExecutionContext,
  loadExecutionContext,
  type Checkpoint,
  type ContextStepEvent,
  type ExecutionContextOptions,
  type ExecutionContextState,
  type ExecutionMetrics,
  type FileStateManagerOptions,
  type LoadExecutionContextOptions,
  type StateFileInfo,
  type StatusChangeHandler,
  type StepEventHandler,
} from './services/context/index.js';

// Legacy state and the bridge
export {
  ExecutionStateBridge,
  PIPELINE_STATE_FORMAT_VERSION,
  PipelineExecutionState,
  resultAliases,
  stepResultVariableName,
  type BridgeRegisterOptions,
  type CombinedState,
  type ExecutionStateBridgeOptions,
  type LoopContext,
  type PipelineExecutionStateOptions,
  type PipelineState,
  type SyncReport,
} from './services/bridge/index.js';

// Durable stores and resume
export {
  SQLITE_SCHEMA_VERSION,
  createFileStore,
  createMemoryStore,
  createSqliteStore,
  type CheckpointStore,
  type CheckpointSummary,
  type DurabilityMode,
  type EmbeddedCheckpointStore,
  type ExecutionFilter,
  type ExecutionSummary,
  type FileStoreOptions,
  type JournalEntry,
  type SqliteCheckpointStore,
  type SqliteStoreOptions,
  type StoreBatch,
  type StoredCheckpoint,
  type StoredExecution,
  type StoredJournalEntry,
  type SyncStoreApi,
} from './stores/index.js';
export {
  listExecutions,
  openExecution,
  resumeExecution,
  type OpenExecutionOptions,
  type ResumeExecutionOptions,
} from './services/open-execution.js';

// The pipeline runner
export {
  DEFAULT_CONCURRENCY,
  definePipeline,
  findCycle,
  isPipeline,
  restoreStoredExecution,
  runPipeline,
  type ConditionContext,
  type Pipeline,
  type PipelineDefinition,
  type PipelineEventHandler,
  type PipelineResult,
  type PipelineRun,
  type PipelineRunHandle,
  type PipelineStep,
  type PipelineStepContext,
  type PipelineStepDefinition,
  type RestoreStoredOptions,
  type RestoreStoredResult,
  type RunPipelineOptions,
  type RunStart,
  type StepRecoveryFunction,
  type StepResult,
  type StepRun,
} from './runner/index.js';

// Scale-out on PostgreSQL: the store, its queue and the workers
export {
  POSTGRES_MIGRATIONS,
  POSTGRES_SCHEMA_VERSION,
  type PostgresMigration,
} from './stores/postgres-migrations.js';
export {
  createPostgresStore,
  type PostgresCheckpointStore,
  type PostgresStoreOptions,
  type PostgresStoreStats,
  type WriteFence,
} from './stores/postgres-store.js';
export {
  QueueStatus,
  createQueue,
  createWorker,
  enqueue,
  getQueueEntry,
  queueCounts,
  type EnqueueOptions,
  type EnqueueResult,
  type Queue,
  type QueueEntry,
  type StartedExecution,
  type Worker,
  type WorkerOptions,
  type WorkerStats,
  type WorkerStopOptions,
} from './workers/index.js';

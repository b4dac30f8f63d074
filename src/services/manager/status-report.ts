/**
 * `getExecutionStatus()`'s report, exactly in SPEC's shape.
 *
 * @module
 */
import type { ExecutionStatus } from '../../constants.js';
import type { ExecutionContext } from '../context/index.js';
import type { ProgressTracker } from '../progress/index.js';
import type { RecoveryManager, RecoveryStatus } from '../recovery/recovery-manager.js';

/** The manager's status report (SPEC "ComprehensiveExecutionManager"). */
export interface ExecutionStatusReport {
  executionId: string;
  pipelineId: string;
  status: ExecutionStatus;
  progress: {
    percentage: number;
    completedSteps: number;
    totalSteps: number;
    runningSteps: number;
    failedSteps: number;
    skippedSteps: number;
  };
  metrics: {
    startTime: string | null;
    endTime: string | null;
    /** Seconds. */
    duration: number | null;
    stepsCompleted: number;
    stepsFailed: number;
  };
  /** The RecoveryManager's status; `activeRecoveries` counts step actors in `recovering`. */
  recovery: RecoveryStatus;
  /** A count, as in the seed. */
  checkpoints: number;
  currentStepId: string | null;
}

/** Inputs of {@link buildStatusReport}. */
export interface StatusSources {
  status: ExecutionStatus;
  /** Step actors in `recovering` right now. */
  activeRecoveries: number;
  executionContext: ExecutionContext;
  progressTracker: ProgressTracker;
  recoveryManager: RecoveryManager;
}

/** Assembles the report from the subsystems; the actor decides `status` and `activeRecoveries`. */
export function buildStatusReport(sources: StatusSources): ExecutionStatusReport {
  const { executionContext: context, progressTracker, recoveryManager } = sources;
  const progress = progressTracker.getExecutionProgress(context.executionId);
  const metrics = context.metrics;
  const recovery = recoveryManager.getRecoveryStatus();
  return {
    executionId: context.executionId,
    pipelineId: context.pipelineId,
    status: sources.status,
    progress: {
      percentage: progress?.progressPercentage ?? 0,
      completedSteps: progress?.completedSteps ?? 0,
      totalSteps: progress?.totalSteps ?? context.totalSteps,
      runningSteps: progress?.runningSteps ?? 0,
      failedSteps: progress?.failedSteps ?? 0,
      skippedSteps: progress?.skippedSteps ?? 0,
    },
    metrics: {
      startTime: metrics.startTime,
      endTime: metrics.endTime,
      duration: metrics.duration,
      stepsCompleted: metrics.stepsCompleted,
      stepsFailed: metrics.stepsFailed,
    },
    recovery: {
      totalErrors: recovery.totalErrors,
      activeRecoveries: sources.activeRecoveries,
      errorCountsByCategory: { ...recovery.errorCountsByCategory },
      errorCountsBySeverity: { ...recovery.errorCountsBySeverity },
      stepsWithRetries: recovery.stepsWithRetries,
      registeredHandlers: { ...recovery.registeredHandlers },
    },
    checkpoints: context.checkpoints.length,
    currentStepId: context.currentStepId,
  };
}

/**
 * The CLI's tables: a run's final status, the status report, the list of
 * executions and of checkpoints.
 *
 * @module
 */
import type { StepRecord } from '../../machines/machine-types.js';
import type { PipelineResult } from '../../runner/index.js';
import type { ExecutionStatusReport } from '../../services/manager/status-report.js';
import type { StepProgress } from '../../services/progress/index.js';
import type { CheckpointSummary, ExecutionSummary } from '../../stores/types.js';
import { percent, seconds, table, type Paint } from './format.js';

function note(step: PipelineResult['steps'][number]): string {
  return step.error ?? step.reason ?? (step.earlier ? 'done in an earlier run' : '');
}

/** The final status table of a run and its one-line verdict. */
export function resultLines(result: PipelineResult, paint: Paint): string[] {
  const rows = result.steps.map((step) => [step.id, step.status, String(step.attempts), seconds(step.durationSeconds), note(step)]);
  const { metrics } = result.report;
  const count = (status: string): number => result.steps.filter((step) => step.status === status).length;
  const counts = [`${count('completed')} completed`, `${count('failed')} failed`, `${count('skipped')} skipped`];
  if (count('cancelled') > 0) counts.push(`${count('cancelled')} cancelled`);
  if (count('pending') > 0) counts.push(`${count('pending')} not started`);
  // A run that found everything done earlier has no duration of its own.
  const ranNow = result.steps.some((step) => !step.earlier);
  const took = metrics.duration === null || !ranNow ? '' : ` in ${seconds(metrics.duration)}`;
  const verdict = `Execution ${result.executionId} ${result.status}${took}: ${counts.join(', ')} (${result.steps.length} steps)`;
  const colour = result.status === 'completed' ? paint.green : result.status === 'failed' ? paint.red : paint.yellow;
  return [...table(['STEP', 'STATUS', 'ATTEMPTS', 'DURATION', 'NOTE'], rows), '', colour(verdict)];
}

/**
 * The `status` command's text. Retries are counted from the steps' stored
 * records (the report's recovery figures are those of the process that
 * reads it, which ran nothing).
 */
export function reportLines(report: ExecutionStatusReport, steps: readonly StepProgress[], recordOf: (stepId: string) => StepRecord | undefined): string[] {
  const { progress, metrics } = report;
  const retried = steps.map((step) => recordOf(step.stepId)?.retries ?? 0).filter((retries) => retries > 0);
  const retries = retried.reduce((sum, n) => sum + n, 0);
  const lines = [
    `Execution   ${report.executionId}`,
    `Pipeline    ${report.pipelineId}`,
    `Status      ${report.status}`,
    `Progress    ${percent(progress.percentage).trim()} (${progress.completedSteps}/${progress.totalSteps} completed, ${progress.runningSteps} running, ${progress.failedSteps} failed, ${progress.skippedSteps} skipped)`,
    `Started     ${metrics.startTime ?? '-'}`,
    `Ended       ${metrics.endTime ?? '-'}`,
    `Duration    ${seconds(metrics.duration)}`,
    `Retries     ${retries}${retries === 0 ? '' : ` (in ${retried.length} step${retried.length === 1 ? '' : 's'})`}`,
    `Checkpoints ${report.checkpoints}`,
  ];
  if (steps.length > 0) {
    const rows = steps.map((step) => [
      step.stepId,
      // The tracker counts a cancelled step as failed; its record says which it was.
      recordOf(step.stepId)?.status ?? step.status,
      String(recordOf(step.stepId)?.attempts ?? '-'),
      percent(step.progressPercentage).trim(),
      seconds(step.duration),
      step.errorMessage ?? step.metadata.skipReason ?? step.metadata.lastMessage ?? '',
    ]);
    lines.push('', ...table(['STEP', 'STATUS', 'ATTEMPTS', 'PROGRESS', 'DURATION', 'NOTE'], rows));
  }
  return lines;
}

/** The `list` command's table. */
export function executionLines(executions: readonly ExecutionSummary[]): string[] {
  if (executions.length === 0) return ['No executions stored.'];
  return table(
    ['EXECUTION', 'PIPELINE', 'STATUS', 'UPDATED'],
    executions.map((execution) => [execution.executionId, execution.pipelineId, execution.status, execution.updatedAt]),
  );
}

/** The `checkpoints` command's table. */
export function checkpointLines(checkpoints: readonly CheckpointSummary[]): string[] {
  if (checkpoints.length === 0) return ['No checkpoints.'];
  return table(
    ['CHECKPOINT', 'CREATED', 'DESCRIPTION'],
    checkpoints.map((checkpoint) => [checkpoint.id, checkpoint.createdAt, checkpoint.description ?? '']),
  );
}

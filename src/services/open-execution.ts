/**
 * Opening executions on any store, sync or async: a new one, or the stored
 * one resumed.
 *
 * @module
 */
import { ErrorCode, ExecutionError } from '../errors.js';
import type { CheckpointStore, ExecutionFilter, ExecutionSummary } from '../stores/types.js';
import { requireId } from '../validation.js';
import { ComprehensiveExecutionManager, type ComprehensiveExecutionManagerOptions } from './manager.js';

/** Options of {@link openExecution}: the manager's, with a store required. */
export type OpenExecutionOptions = ComprehensiveExecutionManagerOptions & { store: CheckpointStore };

/**
 * Returns a manager for `executionId` on any store: the stored execution
 * resumed (status, variables, checkpoints, completed steps and their
 * outputs), or a new one.
 *
 * @example
 * const manager = await openExecution({ executionId: 'etl-42', pipelineId: 'etl', store: createSqliteStore() });
 */
export async function openExecution(options: OpenExecutionOptions): Promise<ComprehensiveExecutionManager> {
  const id = requireId(options.executionId, 'openExecution executionId');
  const stored = await options.store.loadExecution(id);
  return new ComprehensiveExecutionManager(options, { stored });
}

/** Options of {@link resumeExecution}. */
export type ResumeExecutionOptions = Omit<ComprehensiveExecutionManagerOptions, 'executionId' | 'pipelineId'> & {
  store: CheckpointStore;
};

/**
 * Opens a stored execution. Fails with `EXECUTION_NOT_FOUND` when the store
 * has none with that id.
 *
 * @example
 * const manager = await resumeExecution('etl-42', { store });
 */
export async function resumeExecution(executionId: string, options: ResumeExecutionOptions): Promise<ComprehensiveExecutionManager> {
  const id = requireId(executionId, 'resumeExecution executionId');
  const stored = await options.store.loadExecution(id);
  if (stored === null) {
    throw new ExecutionError(ErrorCode.ExecutionNotFound, `No execution "${id}" in the ${options.store.kind} store`, {
      details: { executionId: id },
    });
  }
  return new ComprehensiveExecutionManager({ ...options, executionId: id, pipelineId: stored.summary.pipelineId }, { stored });
}

/** The store's executions, newest first (SPEC: `listExecutions({ status })`). */
export function listExecutions(store: CheckpointStore, filter: ExecutionFilter = {}): Promise<ExecutionSummary[]> {
  return store.listExecutions(filter);
}

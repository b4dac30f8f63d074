/**
 * Entry points that make an {@link ExecutionContext}: a new one, or the
 * latest saved state of an execution read back from a state directory.
 *
 * @module
 */
import type { Clock } from '../../clock.js';
import type { PersistenceFormat } from '../../constants.js';
import { ErrorCode, ExecutionError } from '../../errors.js';
import { idSchema, parseInput } from '../../validation.js';
import type { VariableManager } from '../variables/variable-manager.js';
import { ExecutionContext } from './execution-context.js';
import type { ExecutionContextOptions } from './context-options.js';
import type { HandlerErrorReporter } from './context-options.js';
import { FileStateManager } from './file-state-manager.js';

/**
 * Creates an {@link ExecutionContext} (same as `new ExecutionContext(options)`).
 *
 * @example
 * const context = createExecutionContext({ executionId: 'run-1', pipelineId: 'etl', stateDir: '.orchestrator/contexts' });
 * context.start(3);
 */
export function createExecutionContext(options: ExecutionContextOptions): ExecutionContext {
  return new ExecutionContext(options);
}

/** Options of {@link loadExecutionContext}. */
export interface LoadExecutionContextOptions {
  /** Directory the state was saved to (`saveState`). */
  stateDir: string;
  /**
   * Format of later `saveState` calls (reading detects either format).
   * @default PersistenceFormat.JSON
   */
  format?: PersistenceFormat;
  /**
   * Clock of the loaded context.
   * @default systemClock
   */
  clock?: Clock;
  /**
   * Checkpoints kept in memory.
   * @default 10
   */
  maxCheckpoints?: number;
  /**
   * VariableManager to load the variables into.
   * @default a new VariableManager
   */
  variableManager?: VariableManager;
  /** Told when a handler throws. */
  onHandlerError?: HandlerErrorReporter;
}

/**
 * Loads the latest saved state of an execution from `stateDir`.
 * No file for it -> `EXECUTION_NOT_FOUND`; a corrupt file -> `STORE_CORRUPT`.
 *
 * @example
 * const context = await loadExecutionContext('run-1', { stateDir: '.orchestrator/contexts' });
 * context.resumeExecution();
 */
export function loadExecutionContext(
  executionId: string,
  options: LoadExecutionContextOptions,
): Promise<ExecutionContext> {
  try {
    const id = parseInput(idSchema, executionId, 'loadExecutionContext executionId');
    const { stateDir, format, clock, ...rest } = options;
    const files = new FileStateManager({
      stateDir,
      ...(format === undefined ? {} : { format }),
      ...(clock === undefined ? {} : { clock }),
    });
    const state = files.loadLatest(id);
    if (state === undefined) {
      throw new ExecutionError(ErrorCode.ExecutionNotFound, `No saved state for execution "${id}" in ${files.stateDir}`, {
        details: { executionId: id, stateDir: files.stateDir },
      });
    }
    const context = new ExecutionContext({
      ...rest,
      executionId: state.executionId,
      pipelineId: state.pipelineId,
      stateDir,
      ...(format === undefined ? {} : { format }),
      ...(clock === undefined ? {} : { clock }),
    });
    context.importState(state);
    return Promise.resolve(context);
  } catch (error) {
    return Promise.reject(error instanceof Error ? error : new Error(String(error)));
  }
}

/**
 * Wiring of the manager's components: injected ones are used as given, the
 * others are created and connected to each other.
 *
 * @module
 */
import type { Clock } from '../../clock.js';
import { ErrorCode, ExecutionError } from '../../errors.js';
import { ExecutionContext } from '../context/index.js';
import { ProgressTracker } from '../progress/index.js';
import { RecoveryManager } from '../recovery/recovery-manager.js';
import { VariableManager } from '../variables/index.js';
import type { ComprehensiveExecutionManagerOptions } from './options.js';

/** The four services a manager drives. */
export interface ManagerComponents {
  variableManager: VariableManager;
  executionContext: ExecutionContext;
  progressTracker: ProgressTracker;
  recoveryManager: RecoveryManager;
}

/**
 * Uses the injected components (the variable manager too, which the seed's
 * upstream ignored) and creates the missing ones around them.
 */
export function wireComponents(
  options: ComprehensiveExecutionManagerOptions,
  identity: { executionId: string; pipelineId: string; clock: Clock; maxCheckpoints: number | undefined },
): ManagerComponents {
  const { executionId, pipelineId, clock, maxCheckpoints } = identity;
  if (
    options.executionContext !== undefined &&
    options.variableManager !== undefined &&
    options.executionContext.variableManager !== options.variableManager
  ) {
    throw new ExecutionError(
      ErrorCode.InvalidInput,
      'ComprehensiveExecutionManager options: `variableManager` must be the injected executionContext.variableManager',
      { details: { field: 'variableManager' } },
    );
  }
  const variableManager =
    options.variableManager ?? options.executionContext?.variableManager ?? new VariableManager({ pipelineId, clock });
  const executionContext =
    options.executionContext ??
    new ExecutionContext({
      executionId,
      pipelineId,
      variableManager,
      clock,
      ...(maxCheckpoints === undefined ? {} : { maxCheckpoints }),
    });
  const progressTracker = options.progressTracker ?? new ProgressTracker({ executionContext, variableManager, clock });
  const recoveryManager =
    options.recoveryManager ??
    new RecoveryManager({
      executionContext,
      progressTracker,
      clock,
      executionId,
      ...(options.random === undefined ? {} : { random: options.random }),
    });
  return { variableManager, executionContext, progressTracker, recoveryManager };
}

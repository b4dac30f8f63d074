/**
 * How a pipeline's recovery options reach the manager's RecoveryManager: a
 * step's `retry` or fixed plan becomes its recovery plan; `recovery`
 * functions are consulted through handlers that answer for their own step
 * only; and a pipeline never rolls back by default.
 *
 * @module
 */
import { ErrorCategory, ErrorSeverity, RecoveryStrategy } from '../constants.js';
import { RecoveryPlan, type ErrorInfo, type RecoveryManager, type RecoveryPlanInput } from '../services/recovery/index.js';
import { retryPlanFor } from './define.js';
import type { PipelineStep, StepRecoveryFunction } from './types.js';

/**
 * A plan of this copy of the package. A pipeline module loaded in its own
 * module namespace (the CLI's fallback for `.ts` in a CommonJS package) makes
 * its plans with another copy of the classes: they are rebuilt from JSON.
 */
export function ownPlan(value: RecoveryPlan | RecoveryPlanInput | null | undefined): RecoveryPlan | undefined {
  if (value === null || value === undefined) return undefined;
  if (value instanceof RecoveryPlan) return value;
  const toJSON = (value as { toJSON?: unknown }).toJSON;
  if (typeof toJSON === 'function') return RecoveryPlan.fromJSON(toJSON.call(value));
  return new RecoveryPlan(value);
}

/** The plan a step runs with (`executeStepWithRecovery`'s `recoveryPlan`), if it has a fixed one. */
export function fixedPlanOf(step: PipelineStep<never>): RecoveryPlan | undefined {
  if (step.retry !== undefined) return retryPlanFor(step.retry);
  return typeof step.recovery === 'function' ? undefined : ownPlan(step.recovery);
}

function noRollback(plan: RecoveryPlan, info: ErrorInfo): RecoveryPlan {
  if (plan.strategy !== RecoveryStrategy.ROLLBACK) return plan;
  return new RecoveryPlan({
    strategy: RecoveryStrategy.FAIL_FAST,
    description: `Fail step "${info.stepId}": ROLLBACK is not available in a pipeline (a restore would undo steps running in parallel).`,
  });
}

/**
 * Registers the pipeline's handlers on `recoveryManager`; returns the remover.
 *
 * - A step's `recovery` function is registered for every category, so it
 *   wins over the built-in category handlers (network, timeout), and it
 *   answers for its own step only.
 * - A global handler turns the default of HIGH severity errors (ROLLBACK to
 *   the latest checkpoint) into FAIL_FAST: in a DAG a restore would undo the
 *   work of sibling steps.
 */
export function registerPipelineRecovery(recoveryManager: RecoveryManager, steps: readonly PipelineStep<never>[]): () => void {
  const functions = new Map<string, StepRecoveryFunction>();
  for (const step of steps) {
    if (typeof step.recovery === 'function') functions.set(step.id, step.recovery);
  }
  const removers: (() => void)[] = [];
  if (functions.size > 0) {
    const dispatch = (info: ErrorInfo): RecoveryPlan | null => {
      const choose = functions.get(info.stepId);
      if (choose === undefined) return null;
      const plan = ownPlan(choose(info));
      return plan === undefined ? null : noRollback(plan, info);
    };
    for (const category of Object.values(ErrorCategory)) {
      removers.push(recoveryManager.registerErrorHandler(category, dispatch));
    }
  }
  removers.push(
    recoveryManager.registerGlobalErrorHandler((info) =>
      info.severity === ErrorSeverity.HIGH
        ? new RecoveryPlan({
            strategy: RecoveryStrategy.FAIL_FAST,
            description: `Fail step "${info.stepId}" (${info.category} error); a pipeline does not roll back by default.`,
          })
        : null,
    ),
  );
  return () => {
    for (const remove of removers) remove();
  };
}

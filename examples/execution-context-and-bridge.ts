/**
 * The seed's "ExecutionContext" and "ExecutionStateBridge" sections: a
 * context's lifecycle, steps and export/import, then a bridge that keeps the
 * context's variables and a legacy `PipelineExecutionState` in step.
 *
 * Run it with `npm run example:bridge`.
 *
 * @module
 */
import {
  ExecutionContext,
  ExecutionStateBridge,
  PipelineExecutionState,
  VariableType,
  createExecutionContext,
  type ExecutionStatus,
  type SyncReport,
} from '../src/index.js';
import { createOutput } from './support/output.js';
import { runIfMain, type ExampleOptions } from './support/runtime.js';

/** What the context and bridge example observed. */
export interface ContextAndBridgeResult {
  /** Status of the first context after `complete(true)`, and its completed steps. */
  contextStatus: ExecutionStatus;
  completedSteps: string[];
  /** Status and completed steps of a fresh context after `importState` of the first one's export. */
  importedStatus: ExecutionStatus;
  importedCompletedSteps: string[];
  /** Legacy values after `syncToPipelineState`. */
  legacyResult: unknown;
  legacyLoadValue: unknown;
  /** The VariableManager's view of a legacy variable after `syncFromPipelineState`. */
  syncedFromLegacy: unknown;
  toReport: SyncReport;
  fromReport: SyncReport;
  /** Status of the bridged context at the end. */
  bridgedStatus: ExecutionStatus;
}

/**
 * Runs the context and bridge calls (nothing here waits, so `timeScale` has no effect).
 *
 * @example
 * const result = await main();
 * result.importedStatus; // 'completed'
 */
export function main(options: ExampleOptions = {}): Promise<ContextAndBridgeResult> {
  const out = createOutput(options.log);
  const print = (text: string): void => {
    out.line(text);
  };

  // ---- ExecutionContext ------------------------------------------------------

  // Create execution context
  const executionContext = createExecutionContext({ executionId: 'my_execution', pipelineId: 'my_pipeline' });
  executionContext.onStatusChange((executionId, status) => {
    print(`[${executionId}] status -> ${status}`);
  });
  executionContext.onStepEvent((stepId, event) => {
    print(`[step ${stepId}] ${event}`);
  });

  // Start execution
  executionContext.start();
  // Start step
  executionContext.startStep('step_1');
  // Complete step
  executionContext.completeStep('step_1', true);
  // Complete execution
  executionContext.complete(true);

  // Export state for persistence (plain JSON)
  const state = executionContext.exportState();
  const persisted = JSON.stringify(state);
  print(`exported ${persisted.length} bytes of JSON (formatVersion ${state.formatVersion})`);

  // Import state from persistence, here into a fresh context of the same execution
  const restoredContext = new ExecutionContext({ executionId: 'my_execution', pipelineId: 'my_pipeline' });
  restoredContext.importState(JSON.parse(persisted));
  print(`imported: status ${restoredContext.status}, completed steps ${restoredContext.completedSteps.join(', ')}`);

  // ---- ExecutionStateBridge --------------------------------------------------

  const bridgedContext = createExecutionContext({ executionId: 'customer_analytics_002', pipelineId: 'customer_analytics' });
  bridgedContext.start(2);
  const legacyPipelineState = new PipelineExecutionState({ pipelineId: 'customer_analytics' });
  const bridge = new ExecutionStateBridge({
    executionContext: bridgedContext,
    pipelineExecutionState: legacyPipelineState,
  });

  // Register variable in both systems
  bridge.registerVariable(
    'result',
    { status: 'success', count: 1500 },
    { varType: VariableType.OUTPUT, sourceStep: 'process_data' },
  );

  // Register step result
  const customerData = { customers: 1500, records: 45000 };
  bridge.startStep('load_data');
  bridge.registerStepResult('load_data', customerData);
  print(`load_data completed in the context: ${bridgedContext.completedSteps.includes('load_data')}`);
  print(`legacy executed tasks: ${legacyPipelineState.executedTasks.join(', ')}`);

  // A value the new system writes on its own, then
  // sync variables to legacy system
  bridgedContext.variableManager.setVariable('customer_count', 1500, { varType: VariableType.OUTPUT, sourceStep: 'load_data' });
  const toReport = bridge.syncToPipelineState();
  print(`syncToPipelineState: variables [${toReport.variables.join(', ')}], results [${toReport.results.join(', ')}], unchanged ${toReport.unchanged}`);
  const legacyResult = legacyPipelineState.getVariable('result');
  const legacyLoadValue = legacyPipelineState.getContextValue('load_data_result');
  print(`legacy result = ${JSON.stringify(legacyResult)}, legacy load_data_result = ${JSON.stringify(legacyLoadValue)}`);

  // A value the legacy runtime writes on its own, then
  // sync variables from legacy system
  legacyPipelineState.registerVariable('region', 'emea');
  const fromReport = bridge.syncFromPipelineState();
  print(`syncFromPipelineState: variables [${fromReport.variables.join(', ')}], results [${fromReport.results.join(', ')}], unchanged ${fromReport.unchanged}`);
  const syncedFromLegacy = bridgedContext.variableManager.getVariable('region');
  print(`region in the VariableManager = ${String(syncedFromLegacy)}`);

  bridgedContext.complete(true);

  return Promise.resolve({
    contextStatus: executionContext.status,
    completedSteps: [...executionContext.completedSteps],
    importedStatus: restoredContext.status,
    importedCompletedSteps: [...restoredContext.completedSteps],
    legacyResult,
    legacyLoadValue,
    syncedFromLegacy,
    toReport,
    fromReport,
    bridgedStatus: bridgedContext.status,
  });
}

runIfMain(import.meta.url, () => main());

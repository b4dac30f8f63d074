/**
 * The seed's "Variable Access" section: the manager's integrated
 * VariableManager, with typed variables, listing, metadata, templates and an
 * isolated context.
 *
 * Run it with `npm run example:variables`.
 *
 * @module
 */
import {
  VariableContext,
  VariableScope,
  VariableType,
  createComprehensiveExecutionManager,
  type VariableMetadata,
} from '../src/index.js';
import { createOutput } from './support/output.js';
import { runIfMain, type ExampleOptions } from './support/runtime.js';

/** What the variables example observed. */
export interface VariablesResult {
  /** `getVariable('customer_count')`. */
  customerCount: unknown;
  /** `getVariable('missing', { defaultValue: 0 })`. */
  missingWithDefault: unknown;
  /** Names from `listVariables()` (all) and from `listVariables({ varType: OUTPUT })`. */
  allNames: string[];
  outputNames: string[];
  /** Metadata of `customer_count` after one update. */
  metadata: VariableMetadata | undefined;
  /** A template read before and after the variable it references changed. */
  summaryBefore: unknown;
  summaryAfter: unknown;
  /** `resolveTemplate` with an extra value. */
  resolved: string;
  /** `row` inside an isolated context, and in the globals afterwards. */
  rowInContext: unknown;
  rowAfterContext: unknown;
  /** Names passed to the created/changed handlers, in order. */
  events: string[];
}

/**
 * Runs the variable calls (nothing here waits, so `timeScale` has no effect).
 *
 * @example
 * const result = await main();
 * result.customerCount; // 1600
 */
export async function main(options: ExampleOptions = {}): Promise<VariablesResult> {
  const out = createOutput(options.log);
  const print = (text: string): void => {
    out.line(text);
  };

  const executionManager = createComprehensiveExecutionManager({
    executionId: 'variables_demo_001',
    pipelineId: 'customer_analytics',
  });
  const variables = executionManager.variableManager;
  const events: string[] = [];
  const unsubscribeCreated = variables.onVariableCreated((event) => events.push(`created ${event.name}`));
  const unsubscribeChanged = variables.onVariableChanged((event) =>
    events.push(`changed ${event.name}: ${JSON.stringify(event.previousValue)} -> ${JSON.stringify(event.value)}`),
  );

  try {
    // Set variables
    variables.setVariable('customer_count', 1500, {
      varType: VariableType.OUTPUT,
      sourceStep: 'load_data',
    });
    variables.setVariable('source', 'crm', { varType: VariableType.CONFIGURATION, description: 'Where customers come from' });
    variables.setVariable('data_info', { customers: 1500, records: 45000 }, { varType: VariableType.OUTPUT, sourceStep: 'load_data' });

    // Get variables
    const firstCount = variables.getVariable<number>('customer_count');
    print(`customer_count = ${firstCount}`);
    const missingWithDefault = variables.getVariable('missing', { defaultValue: 0 });
    print(`missing (default 0) = ${String(missingWithDefault)}`);

    // A template is read through getVariable and resolved on every read.
    variables.setTemplate('summary', 'Loaded ${customer_count} customers from ${source} (${data_info.records} records)');
    const summaryBefore = variables.getVariable('summary');
    print(`summary = ${String(summaryBefore)}`);

    // An update bumps the version and re-resolves templates that use it.
    variables.setVariable('customer_count', 1600, { sourceStep: 'dedupe' });
    const customerCount = variables.getVariable('customer_count');
    const summaryAfter = variables.getVariable('summary');
    print(`summary after the update = ${String(summaryAfter)}`);
    const metadata = variables.getVariableMetadata('customer_count');
    print(`customer_count metadata: type ${metadata?.varType}, version ${metadata?.version}, source step ${metadata?.sourceStep}`);

    const resolved = variables.resolveTemplate('Report for ${pipeline}: ${customer_count} customers', {
      pipeline: 'customer_analytics',
    });
    print(resolved);

    // List all variables
    const allNames = Object.keys(variables.listVariables());
    const outputNames = Object.keys(variables.listVariables({ varType: VariableType.OUTPUT }));
    print(`all variables: ${allNames.join(', ')}`);
    print(`OUTPUT variables: ${outputNames.join(', ')}`);

    // An isolated context: writes stay in it, reads fall back to the globals.
    const scope = new VariableContext({ variableManager: variables });
    let rowInContext: unknown;
    try {
      scope.set('row', 3, { scope: VariableScope.LOOP });
      rowInContext = scope.get('row');
      print(`row in the context = ${String(rowInContext)}, customer_count seen from it = ${String(scope.get('customer_count'))}`);
    } finally {
      scope.dispose();
    }
    const rowAfterContext = variables.getVariable('row');
    print(`row after dispose = ${String(rowAfterContext)}`);
    print(`events: ${events.join('; ')}`);

    return {
      customerCount,
      missingWithDefault,
      allNames,
      outputNames,
      metadata,
      summaryBefore,
      summaryAfter,
      resolved,
      rowInContext,
      rowAfterContext,
      events: [...events],
    };
  } finally {
    unsubscribeCreated();
    unsubscribeChanged();
    executionManager.cleanup();
    await executionManager.shutdown();
  }
}

runIfMain(import.meta.url, () => main());

/**
 * The seed's "Complete Usage Example", ported to TypeScript: load, process
 * (45 batches of 1000 records, with progress), checkpoint, aggregate (with a
 * restore on failure) and save, with live progress on the terminal.
 *
 * Run it with `npm start` (`EXAMPLE_TIME_SCALE=0 npm start` skips the waits).
 *
 * @module
 */
import {
  VariableType,
  createComprehensiveExecutionManager,
  type ExecutionStatusReport,
} from '../src/index.js';
import { attachLiveProgress } from './support/live-progress.js';
import { createOutput } from './support/output.js';
import { createSleep, resolveTimeScale, runIfMain, type ExampleOptions } from './support/runtime.js';

/** Options of the customer analytics example. */
export interface CustomerAnalyticsOptions extends ExampleOptions {
  /**
   * Makes the aggregation fail, to walk the seed's restore-on-failure branch.
   * @default false
   */
  failAggregation?: boolean;
}

/** What `load_data` returns (the seed's dict). */
interface DataInfo {
  customers: number;
  records: number;
}

/**
 * Runs the pipeline and returns the final status report.
 *
 * @example
 * const status = await main({ timeScale: 0 });
 * status.status; // 'completed'
 */
export async function main(options: CustomerAnalyticsOptions = {}): Promise<ExecutionStatusReport> {
  const sleep = createSleep(resolveTimeScale(options.timeScale));
  const out = createOutput(options.log);
  const print = (text: string): void => {
    out.line(text);
  };

  // Create execution manager
  const executionManager = createComprehensiveExecutionManager({
    executionId: 'customer_analytics_001',
    pipelineId: 'customer_analytics',
  });
  const stopProgress = attachLiveProgress(executionManager.progressTracker, executionManager.executionId, out);

  try {
    // Start execution
    executionManager.startExecution(4);

    // Step 1: Load data
    const loadData = async (): Promise<DataInfo> => {
      await sleep(1); // Simulate work
      return { customers: 1500, records: 45000 };
    };

    const success = await executionManager.executeStepWithRecovery('load_data', 'Load Customer Data', loadData);

    if (!success) {
      throw new Error('Failed to load data');
    }

    // Store result. The seed calls load_data() a second time here; the port
    // reads the output the step already resolved with.
    const dataInfo = executionManager.getStepOutput('load_data') as DataInfo;
    executionManager.variableManager.setVariable('data_info', dataInfo, {
      varType: VariableType.OUTPUT,
      sourceStep: 'load_data',
    });

    // Step 2: Process data with progress tracking
    executionManager.startStep('process_data', 'Process Customer Records');

    const records = dataInfo.records;
    const batchSize = 1000;
    const batches = Math.ceil(records / batchSize);

    let processedCount = 0;
    for (let i = 0; i < batches; i++) {
      // Process batch
      await sleep(0.5); // Simulate processing
      processedCount += Math.min(batchSize, records - i * batchSize);

      // Update progress
      const progress = ((i + 1) / batches) * 100;
      executionManager.updateStepProgress('process_data', progress, `Processed ${processedCount}/${records} records`);
    }

    executionManager.completeStep('process_data', { success: true });

    // Step 3: Create checkpoint and perform risky operation
    const checkpoint = executionManager.createCheckpoint('Before aggregation');

    executionManager.startStep('aggregate_data', 'Aggregate Results');

    try {
      // Simulate risky operation that might fail
      await sleep(1);
      if (processedCount < records || options.failAggregation === true) {
        throw new Error('Incomplete data processing');
      }

      const aggregatedResults = {
        total_customers: dataInfo.customers,
        processed_records: processedCount,
        completion_rate: (processedCount / records) * 100,
      };
      executionManager.variableManager.setVariable('aggregated_results', aggregatedResults, {
        varType: VariableType.OUTPUT,
        sourceStep: 'aggregate_data',
      });

      executionManager.completeStep('aggregate_data', { success: true });
    } catch (e) {
      out.end();
      print(`Aggregation failed: ${errorMessage(e)}`);

      // Restore from checkpoint
      if (executionManager.restoreCheckpoint(checkpoint.id)) {
        print('Restored from checkpoint, retrying...');
        // Retry logic here
        executionManager.completeStep('aggregate_data', { success: false, error: e });
      }
    }

    // Step 4: Final step
    executionManager.startStep('save_results', 'Save Final Results');
    await sleep(0.5);
    executionManager.completeStep('save_results', { success: true });

    // Complete execution
    executionManager.completeExecution(true);

    // Get final status
    const finalStatus = executionManager.getExecutionStatus();
    out.end();
    print(`Execution completed: ${finalStatus.status}`);
    print(`Total duration: ${finalStatus.metrics.duration ?? 0} seconds`);
    print(`Checkpoints created: ${finalStatus.checkpoints}`);
  } catch (e) {
    out.end();
    print(`Execution failed: ${errorMessage(e)}`);
    executionManager.completeExecution(false);
  } finally {
    // Clean up resources
    stopProgress();
    out.end();
    executionManager.cleanup();
    await executionManager.shutdown();
  }
  // Still readable after shutdown.
  return executionManager.getExecutionStatus();
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

runIfMain(import.meta.url, () => main());

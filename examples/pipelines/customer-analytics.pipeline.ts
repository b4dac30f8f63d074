/**
 * The seed's customer analytics pipeline, declared with definePipeline():
 * load, process (45 batches of 1000 records, with progress), aggregate and
 * save. `npm start` runs it through the CLI on the embedded SQLite store:
 *
 *   orchestrator run examples/pipelines/customer-analytics.pipeline.ts --execution-id customer_analytics_001
 *
 * The simulated work takes about 25 s; `EXAMPLE_TIME_SCALE` scales it (0
 * runs without waiting). `process_data` records how many batches it has
 * done in a variable, so a run cancelled in the middle (Ctrl-C) continues
 * with the next batch when it is resumed.
 *
 * @module
 */
import { VariableType, definePipeline } from '../../src/index.js';
import { resolveTimeScale } from '../support/runtime.js';

/** What `load_data` returns (the seed's dict). */
export interface DataInfo {
  customers: number;
  records: number;
}

/** What `aggregate_data` returns. */
export interface AggregatedResults {
  total_customers: number;
  processed_records: number;
  completion_rate: number;
}

const BATCH_SIZE = 1000;
const BATCHES_DONE = 'process_data.batches_done';

/** Waits `seconds` of simulated work (scaled by EXAMPLE_TIME_SCALE); rejects when `signal` aborts. */
function work(seconds: number, signal: AbortSignal): Promise<void> {
  const ms = seconds * 1000 * resolveTimeScale(undefined);
  return new Promise((resolve, reject) => {
    if (signal.aborted) {
      reject(signal.reason as Error);
      return;
    }
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(signal.reason as Error);
    };
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

export default definePipeline({
  id: 'customer_analytics',
  steps: [
    {
      id: 'load_data',
      name: 'Load Customer Data',
      run: async ({ signal, variables }): Promise<DataInfo> => {
        await work(1, signal);
        const dataInfo = { customers: 1500, records: 45_000 };
        variables.setVariable('data_info', dataInfo, { varType: VariableType.OUTPUT, sourceStep: 'load_data' });
        return dataInfo;
      },
    },
    {
      id: 'process_data',
      name: 'Process Customer Records',
      dependsOn: ['load_data'],
      run: async ({ signal, variables, outputs, reportProgress }) => {
        const { records } = outputs.load_data as DataInfo;
        const batches = Math.ceil(records / BATCH_SIZE);
        // Resumed after a cancel: go on from the last batch that was recorded.
        const start = variables.getVariable<number>(BATCHES_DONE) ?? 0;
        for (let i = start; i < batches; i++) {
          await work(0.5, signal);
          const processed = Math.min((i + 1) * BATCH_SIZE, records);
          variables.setVariable(BATCHES_DONE, i + 1, { sourceStep: 'process_data' });
          reportProgress(((i + 1) / batches) * 100, `Processed ${processed}/${records} records`);
        }
        return { processed: records };
      },
    },
    {
      id: 'aggregate_data',
      name: 'Aggregate Results',
      dependsOn: ['load_data', 'process_data'],
      run: async ({ signal, variables, outputs }): Promise<AggregatedResults> => {
        await work(1, signal);
        const { customers, records } = outputs.load_data as DataInfo;
        const { processed } = outputs.process_data as { processed: number };
        if (processed < records) throw new Error('Incomplete data processing');
        const aggregated = { total_customers: customers, processed_records: processed, completion_rate: (processed / records) * 100 };
        variables.setVariable('aggregated_results', aggregated, { varType: VariableType.OUTPUT, sourceStep: 'aggregate_data' });
        return aggregated;
      },
    },
    {
      id: 'save_results',
      name: 'Save Final Results',
      dependsOn: ['aggregate_data'],
      run: async ({ signal, outputs }) => {
        await work(0.5, signal);
        return { saved: true, results: outputs.aggregate_data as AggregatedResults };
      },
    },
  ],
});

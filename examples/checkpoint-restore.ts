/**
 * The seed's "Checkpoint Management" section: create a checkpoint before a
 * risky operation, restore it when the operation fails, retry with
 * different parameters.
 *
 * Run it with `npm run example:checkpoint`.
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

/** What the checkpoint example observed. */
export interface CheckpointRestoreResult {
  /** Id of the "Before risky operation" checkpoint (a nanoid). */
  checkpointId: string;
  /** What `restoreCheckpoint` returned. */
  restored: boolean;
  /** `restoreCheckpoint` of an id that does not exist. */
  restoredUnknown: boolean;
  /** `batch_size` while the risky operation ran, and right after the restore. */
  batchSizeDuringFailure: unknown;
  batchSizeAfterRestore: unknown;
  /** Completed and running steps right after the restore (the checkpoint's view). */
  completedStepsAfterRestore: number;
  runningStepsAfterRestore: number;
  /** The final status report. */
  status: ExecutionStatusReport;
}

/** The risky operation: it fails unless the batch is small enough. */
async function riskyOperation(batchSize: number, sleep: (seconds: number) => Promise<void>): Promise<number> {
  await sleep(0.5);
  if (batchSize > 5000) throw new Error(`Out of memory: batch of ${batchSize} records is too large`);
  return Math.ceil(45000 / batchSize);
}

/**
 * Runs the checkpoint, failure and restore.
 *
 * @example
 * const result = await main({ timeScale: 0 });
 * result.restored; // true
 */
export async function main(options: ExampleOptions = {}): Promise<CheckpointRestoreResult> {
  const sleep = createSleep(resolveTimeScale(options.timeScale));
  const out = createOutput(options.log);
  const print = (text: string): void => {
    out.line(text);
  };

  const executionManager = createComprehensiveExecutionManager({
    executionId: 'checkpoint_demo_001',
    pipelineId: 'customer_analytics',
  });
  const stopProgress = attachLiveProgress(executionManager.progressTracker, executionManager.executionId, out);
  const variables = executionManager.variableManager;

  try {
    executionManager.startExecution(2);
    await executionManager.executeStepWithRecovery('load_data', 'Load Customer Data', async () => {
      await sleep(0.5);
      return { customers: 1500, records: 45000 };
    });
    variables.setVariable('batch_size', 10000, { varType: VariableType.CONFIGURATION });

    // Create checkpoint
    const checkpoint = executionManager.createCheckpoint('Before risky operation');
    print(`Created checkpoint: ${checkpoint.id}`);

    executionManager.startStep('transform', 'Transform Records');
    variables.setVariable('batch_size', 20000, { varType: VariableType.CONFIGURATION });
    const batchSizeDuringFailure = variables.getVariable('batch_size');
    let restored = false;
    let batchSizeAfterRestore: unknown;
    let completedStepsAfterRestore = 0;
    let runningStepsAfterRestore = 0;
    try {
      // Perform risky operation...
      await riskyOperation(variables.getVariable<number>('batch_size') ?? 0, sleep);
      executionManager.completeStep('transform');
    } catch (e) {
      print(`Operation failed: ${e instanceof Error ? e.message : String(e)}`);
      print('Restoring from checkpoint...');

      restored = executionManager.restoreCheckpoint(checkpoint.id);
      batchSizeAfterRestore = variables.getVariable('batch_size');
      ({ completedSteps: completedStepsAfterRestore, runningSteps: runningStepsAfterRestore } =
        executionManager.getExecutionStatus().progress);
      if (restored) {
        print('Successfully restored from checkpoint');
        print(
          `batch_size is back to ${String(batchSizeAfterRestore)}; steps completed: ${completedStepsAfterRestore}, running: ${runningStepsAfterRestore}`,
        );
        // Retry with different parameters
        variables.setVariable('batch_size', 1000, { varType: VariableType.CONFIGURATION });
        executionManager.startStep('transform', 'Transform Records');
        const batches = await riskyOperation(variables.getVariable<number>('batch_size') ?? 0, sleep);
        print(`Retried with batch_size 1000: ${batches} batches`);
        executionManager.completeStep('transform');
      } else {
        print('Failed to restore checkpoint');
        executionManager.completeStep('transform', { success: false, error: e });
      }
    }

    const restoredUnknown = executionManager.restoreCheckpoint('no-such-checkpoint');
    print(`restoreCheckpoint('no-such-checkpoint') -> ${restoredUnknown}`);

    executionManager.completeExecution(true);
    const status = executionManager.getExecutionStatus();
    print(`Execution completed: ${status.status}`);
    print(`Checkpoints created: ${status.checkpoints}`);
    return {
      checkpointId: checkpoint.id,
      restored,
      restoredUnknown,
      batchSizeDuringFailure,
      batchSizeAfterRestore,
      completedStepsAfterRestore,
      runningStepsAfterRestore,
      status,
    };
  } finally {
    stopProgress();
    out.end();
    executionManager.cleanup();
    await executionManager.shutdown();
  }
}

runIfMain(import.meta.url, () => main());

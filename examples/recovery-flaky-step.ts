/**
 * The seed's "Step Execution with Recovery" and "Error Handling and
 * Recovery" sections: a flaky step that fails twice with a network error and
 * then succeeds under a retry-with-backoff plan, then `handleStepError` and
 * the plan's `isAutomated()` check.
 *
 * Run it with `npm run example:recovery`.
 *
 * @module
 */
import {
  ErrorCategory,
  RecoveryPlan,
  RecoveryStrategy,
  createComprehensiveExecutionManager,
  type ExecutionStatusReport,
  type StepExecutorArgs,
} from '../src/index.js';
import { attachLiveProgress } from './support/live-progress.js';
import { createOutput } from './support/output.js';
import { createSleep, resolveTimeScale, runIfMain, type ExampleOptions } from './support/runtime.js';

/** What a `handleStepError` call planned. */
export interface PlanSummary {
  strategy: RecoveryStrategy;
  automated: boolean;
  description: string;
}

/** What the recovery example observed. */
export interface FlakyStepResult {
  /** What `executeStepWithRecovery` returned. */
  success: boolean;
  /** The `attempt` numbers the executor was called with. */
  attempts: number[];
  /** Retries made in the step's run (`getRetryCount`), read before cleanup. */
  retries: number;
  /** The backoff wait before each retry, as the plan computes it. */
  plannedDelaysMs: number[];
  /** The step's output (`getStepOutput`). */
  output: unknown;
  /** Errors recorded before cleanup, by category. */
  errorCountsByCategory: Record<string, number>;
  /** `handleStepError` for a timed-out API call (a built-in, automated plan). */
  apiCallPlan: PlanSummary;
  /** `handleStepError` for an expired token (a registered manual plan). */
  authPlan: PlanSummary;
  /** The final status report. */
  status: ExecutionStatusReport;
}

/** An error as Node's HTTP client raises it when the peer drops the connection. */
function connectionReset(): Error {
  return Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' });
}

/**
 * Runs the flaky step and the error-handling calls.
 *
 * @example
 * const result = await main({ timeScale: 0 });
 * result.attempts; // [1, 2, 3]
 */
export async function main(options: ExampleOptions = {}): Promise<FlakyStepResult> {
  const timeScale = resolveTimeScale(options.timeScale);
  const sleep = createSleep(timeScale);
  const out = createOutput(options.log);
  const print = (text: string): void => {
    out.line(text);
  };

  const executionManager = createComprehensiveExecutionManager({
    executionId: 'recovery_demo_001',
    pipelineId: 'customer_sync',
  });
  const stopProgress = attachLiveProgress(executionManager.progressTracker, executionManager.executionId, out);

  // The built-in network plan waits 2 s, then 3 s; this one keeps the demo
  // short (250 ms, x2) and scales with EXAMPLE_TIME_SCALE.
  const plan = new RecoveryPlan({
    strategy: RecoveryStrategy.RETRY_WITH_BACKOFF,
    retryConfig: { maxAttempts: 4, initialDelayMs: 250 * timeScale, backoffFactor: 2, maxDelayMs: 2000 * timeScale },
  });
  print(`Recovery plan for load_data: ${plan.description}`);

  const attempts: number[] = [];
  const loadCustomerData = async ({ attempt }: StepExecutorArgs): Promise<{ customers: number }> => {
    attempts.push(attempt);
    await sleep(0.2); // the request
    if (attempt <= 2) {
      print(`   attempt ${attempt}: the API dropped the connection (ECONNRESET)`);
      throw connectionReset();
    }
    print(`   attempt ${attempt}: 200 OK`);
    return { customers: 1500 };
  };

  try {
    executionManager.startExecution(1);

    // Execute with automatic recovery
    const success = await executionManager.executeStepWithRecovery('load_data', 'Load Customer Data', loadCustomerData, {
      recoveryPlan: plan,
    });

    if (success) {
      print('Data loaded successfully');
    } else {
      print('Data loading failed after recovery attempts');
    }
    const retries = executionManager.recoveryManager.getRetryCount('load_data');
    const plannedDelaysMs = Array.from({ length: retries }, (_, n) => plan.retryConfig?.getDelayMs(n) ?? 0);
    print(`Retries: ${retries}, backoff waits: ${plannedDelaysMs.map((ms) => `${ms} ms`).join(', ')}`);

    // handle_step_error(): a timed-out API call gets the built-in timeout plan.
    let apiCallPlan: PlanSummary | undefined;
    try {
      throw Object.assign(new Error('Request to https://api.example.com/customers timed out'), { code: 'ETIMEDOUT' });
    } catch (error) {
      const recoveryPlan = executionManager.handleStepError('api_call', 'Call External API', error, {
        retryCount: 2,
        timeout: 30,
      });
      apiCallPlan = describe(recoveryPlan, print);
    }

    // A plan a human has to carry out: registered for authentication errors.
    executionManager.recoveryManager.registerErrorHandler(
      ErrorCategory.AUTHENTICATION,
      () =>
        new RecoveryPlan({
          strategy: RecoveryStrategy.MANUAL_INTERVENTION,
          manualInstructions: 'Renew the API token and resume the run.',
        }),
    );
    const authPlan = describe(
      executionManager.handleStepError('api_call', 'Call External API', Object.assign(new Error('Token expired'), { status: 401 })),
      print,
    );

    const errorCountsByCategory = executionManager.getExecutionStatus().recovery.errorCountsByCategory;
    executionManager.completeExecution(success);
    return {
      success,
      attempts,
      retries,
      plannedDelaysMs,
      output: executionManager.getStepOutput('load_data'),
      errorCountsByCategory,
      apiCallPlan,
      authPlan,
      status: executionManager.getExecutionStatus(),
    };
  } finally {
    stopProgress();
    out.end();
    executionManager.cleanup();
    await executionManager.shutdown();
  }
}

/** Prints the seed's `is_automated()` branch and summarises the plan. */
function describe(recoveryPlan: RecoveryPlan, print: (text: string) => void): PlanSummary {
  if (recoveryPlan.isAutomated()) {
    print(`Automated recovery available: ${recoveryPlan.description}`);
  } else {
    print(`Manual intervention required: ${recoveryPlan.description}`);
  }
  return { strategy: recoveryPlan.strategy, automated: recoveryPlan.isAutomated(), description: recoveryPlan.description };
}

runIfMain(import.meta.url, () => main());

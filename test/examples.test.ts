import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { ErrorCategory, ExecutionStatus, RecoveryStrategy, VariableType } from '../src/index.js';
import { main as checkpointRestore } from '../examples/checkpoint-restore.js';
import { main as customerAnalytics } from '../examples/customer-analytics.js';
import { main as contextAndBridge } from '../examples/execution-context-and-bridge.js';
import { main as flakyStep } from '../examples/recovery-flaky-step.js';
import { main as variablesExample } from '../examples/variables.js';
import { progressBar } from '../examples/support/live-progress.js';
import { createOutput } from '../examples/support/output.js';
import { resolveTimeScale } from '../examples/support/runtime.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const ESC = '\u001b';

function collect(): { lines: string[]; log: (line: string) => void } {
  const lines: string[] = [];
  return { lines, log: (line) => lines.push(line) };
}

describe('examples/customer-analytics (the seed\'s complete usage example)', () => {
  it('completes all 4 steps at 100% and prints the seed\'s final lines', async () => {
    const { lines, log } = collect();
    const status = await customerAnalytics({ timeScale: 0, log });

    expect(status.status).toBe(ExecutionStatus.COMPLETED);
    expect(status.progress).toEqual({
      percentage: 100,
      completedSteps: 4,
      totalSteps: 4,
      runningSteps: 0,
      failedSteps: 0,
      skippedSteps: 0,
    });
    // Three checkpoints: "execution_started" (startExecution), "Before
    // aggregation" (the example's own) and "execution_completed" (completeExecution).
    expect(status.checkpoints).toBe(3);
    const created = lines.filter((line) => line.startsWith('## checkpoint created: '));
    expect(created.map((line) => line.replace(/ \[.*\]$/, ''))).toEqual([
      '## checkpoint created: execution_started',
      '## checkpoint created: Before aggregation',
      '## checkpoint created: execution_completed',
    ]);

    expect(lines).toContain('Execution completed: completed');
    expect(lines).toContain('Checkpoints created: 3');
    expect(lines.at(-1)).toBe('Checkpoints created: 3');
    expect(lines.at(-2)).toMatch(/^Total duration: \d+(\.\d+)? seconds$/);
    expect(lines.some((line) => line.includes('Aggregation failed'))).toBe(false);
  });

  it('prints one progress line per batch: 45 batches of 1000 records, in order', async () => {
    const { lines, log } = collect();
    await customerAnalytics({ timeScale: 0, log });

    const progress = lines.filter((line) => line.includes('Processed '));
    expect(progress).toHaveLength(45);
    progress.forEach((line, i) => {
      expect(line).toContain(`Processed ${(i + 1) * 1000}/45000 records`);
    });
    expect(progress[0]).toBe('   process_data [..........] 2% Processed 1000/45000 records');
    expect(progress[21]).toBe('   process_data [####......] 49% Processed 22000/45000 records');
    expect(progress[44]).toBe('   process_data [##########] 100% Processed 45000/45000 records');
    expect(lines).toContain('-> load_data (Load Customer Data) started');
    expect(lines).toContain('-> save_results (Save Final Results) started');
  });

  it('walks the restore-on-failure branch when the aggregation fails', async () => {
    const { lines, log } = collect();
    const status = await customerAnalytics({ timeScale: 0, log, failAggregation: true });

    const failed = lines.indexOf('Aggregation failed: Incomplete data processing');
    const restored = lines.indexOf('Restored from checkpoint, retrying...');
    expect(failed).toBeGreaterThan(-1);
    expect(restored).toBeGreaterThan(failed);
    expect(lines.slice(failed, restored).some((line) => line.startsWith('## checkpoint restored: Before aggregation'))).toBe(true);
    // As in the seed, the aggregation ends failed and the run still completes.
    expect(status.status).toBe(ExecutionStatus.COMPLETED);
    expect(status.progress).toMatchObject({ percentage: 100, completedSteps: 3, failedSteps: 1, totalSteps: 4 });
    expect(status.checkpoints).toBe(3);
    expect(lines.at(-1)).toBe('Checkpoints created: 3');
  });

  it('runs as `npm start` does, without a TTY: plain lines, no escape codes', async () => {
    const { stdout, stderr } = await promisify(execFile)(
      process.execPath,
      ['--import', 'tsx', 'examples/customer-analytics.ts'],
      { cwd: root, env: { ...process.env, EXAMPLE_TIME_SCALE: '0' }, timeout: 60_000 },
    );
    expect(stderr).toBe('');
    expect(stdout).not.toContain(ESC);
    expect(stdout).not.toContain('\r');
    const lines = stdout.trimEnd().split('\n');
    expect(lines.filter((line) => line.includes('Processed '))).toHaveLength(45);
    expect(lines).toContain('Execution completed: completed');
    expect(lines.at(-1)).toBe('Checkpoints created: 3');
  });
});

describe('examples/recovery-flaky-step', () => {
  it('retries the flaky step twice and succeeds on attempt 3', async () => {
    const { lines, log } = collect();
    const result = await flakyStep({ timeScale: 0, log });

    expect(result.success).toBe(true);
    expect(result.attempts).toEqual([1, 2, 3]);
    expect(result.retries).toBe(2);
    expect(result.output).toEqual({ customers: 1500 });
    expect(lines).toContain('Data loaded successfully');
    expect(lines.filter((line) => line.startsWith('.. load_data (Load Customer Data) recovering: socket hang up'))).toHaveLength(2);
    expect(lines.filter((line) => line === '-> load_data (Load Customer Data) started')).toHaveLength(3);
    expect(result.status.status).toBe(ExecutionStatus.COMPLETED);
    expect(result.status.progress).toMatchObject({ completedSteps: 1, failedSteps: 0, percentage: 100 });
  });

  it('waits with exponential backoff between retries (scaled)', async () => {
    const result = await flakyStep({ timeScale: 0.01, log: () => undefined });
    // 250 ms x2 at a scale of 0.01: 2.5 ms before retry 1, 5 ms before retry 2.
    expect(result.plannedDelaysMs).toEqual([2.5, 5]);
    expect(result.success).toBe(true);
  });

  it('classifies errors and reports automated and manual plans', async () => {
    const { lines, log } = collect();
    const result = await flakyStep({ timeScale: 0, log });

    expect(result.errorCountsByCategory).toEqual({
      [ErrorCategory.NETWORK]: 2,
      [ErrorCategory.TIMEOUT]: 1,
      [ErrorCategory.AUTHENTICATION]: 1,
    });
    expect(result.apiCallPlan).toMatchObject({ strategy: RecoveryStrategy.RETRY, automated: true });
    expect(result.authPlan).toMatchObject({ strategy: RecoveryStrategy.MANUAL_INTERVENTION, automated: false });
    expect(lines).toContain(`Automated recovery available: ${result.apiCallPlan.description}`);
    expect(lines).toContain(`Manual intervention required: ${result.authPlan.description}`);
  });
});

describe('examples/checkpoint-restore', () => {
  it('restores variables and steps to the checkpoint, then retries and completes', async () => {
    const { lines, log } = collect();
    const result = await checkpointRestore({ timeScale: 0, log });

    expect(result.checkpointId).toMatch(/^[\w-]{21}$/);
    expect(lines).toContain(`Created checkpoint: ${result.checkpointId}`);
    expect(result.restored).toBe(true);
    expect(result.restoredUnknown).toBe(false);
    expect(result.batchSizeDuringFailure).toBe(20000);
    expect(result.batchSizeAfterRestore).toBe(10000);
    expect(result.completedStepsAfterRestore).toBe(1);
    expect(result.runningStepsAfterRestore).toBe(0);
    expect(lines).toContain('Successfully restored from checkpoint');
    expect(lines).toContain('Retried with batch_size 1000: 45 batches');
    expect(result.status.status).toBe(ExecutionStatus.COMPLETED);
    expect(result.status.progress).toMatchObject({ completedSteps: 2, failedSteps: 0, percentage: 100 });
    expect(result.status.checkpoints).toBe(3);
  });
});

describe('examples/variables', () => {
  it('sets, reads, lists, templates and isolates variables', async () => {
    const { lines, log } = collect();
    const result = await variablesExample({ timeScale: 0, log });

    expect(result.customerCount).toBe(1600);
    expect(result.missingWithDefault).toBe(0);
    expect(result.metadata).toMatchObject({ varType: VariableType.OUTPUT, version: 2, sourceStep: 'dedupe' });
    expect(result.summaryBefore).toBe('Loaded 1500 customers from crm (45000 records)');
    expect(result.summaryAfter).toBe('Loaded 1600 customers from crm (45000 records)');
    expect(result.resolved).toBe('Report for customer_analytics: 1600 customers');
    expect(result.allNames).toEqual(['customer_count', 'source', 'data_info']);
    expect(result.outputNames).toEqual(['customer_count', 'data_info']);
    expect(result.rowInContext).toBe(3);
    expect(result.rowAfterContext).toBeUndefined();
    expect(result.events).toEqual([
      'created customer_count',
      'created source',
      'created data_info',
      'changed customer_count: 1500 -> 1600',
      'created row',
    ]);
    expect(lines[0]).toBe('customer_count = 1500');
  });
});

describe('examples/execution-context-and-bridge', () => {
  it('round-trips a context through JSON and syncs both ways through the bridge', async () => {
    const { lines, log } = collect();
    const result = await contextAndBridge({ timeScale: 0, log });

    expect(result.contextStatus).toBe(ExecutionStatus.COMPLETED);
    expect(result.completedSteps).toEqual(['step_1']);
    expect(result.importedStatus).toBe(ExecutionStatus.COMPLETED);
    expect(result.importedCompletedSteps).toEqual(['step_1']);
    expect(result.legacyResult).toEqual({ status: 'success', count: 1500 });
    expect(result.legacyLoadValue).toEqual({ customers: 1500, records: 45000 });
    expect(result.toReport.variables).toEqual(['customer_count']);
    expect(result.fromReport.variables).toEqual(['region']);
    expect(result.syncedFromLegacy).toBe('emea');
    expect(result.bridgedStatus).toBe(ExecutionStatus.COMPLETED);
    expect(lines.slice(0, 4)).toEqual([
      '[my_execution] status -> running',
      '[step step_1] started',
      '[step step_1] completed',
      '[my_execution] status -> completed',
    ]);
  });
});

describe('examples/support', () => {
  it('redraws progress of one step in place on a TTY and ends the line before anything else', () => {
    let written = '';
    const out = createOutput(undefined, { isTTY: true, write: (chunk: string) => (written += chunk) });
    out.line('start');
    out.redraw('a', '10%');
    out.redraw('a', '20%');
    out.redraw('b', '5%');
    out.line('done');
    expect(written).toBe(`start\n10%\r${ESC}[2K20%\n5%\ndone\n`);
  });

  it('prints plain lines when the stream is not a TTY', () => {
    let written = '';
    const out = createOutput(undefined, { isTTY: false, write: (chunk: string) => (written += chunk) });
    out.redraw('a', '10%');
    out.redraw('a', '20%');
    out.line('done');
    out.end();
    expect(written).toBe('10%\n20%\ndone\n');
  });

  it('draws a 10-cell bar that is full only at 100%', () => {
    expect(progressBar(0)).toBe('[..........]');
    expect(progressBar(50)).toBe('[#####.....]');
    expect(progressBar(99.9)).toBe('[#########.]');
    expect(progressBar(100)).toBe('[##########]');
    expect(progressBar(150)).toBe('[##########]');
  });

  it('takes the time scale from the option, then EXAMPLE_TIME_SCALE, then 1', () => {
    expect(resolveTimeScale(undefined, {})).toBe(1);
    expect(resolveTimeScale(undefined, { EXAMPLE_TIME_SCALE: '0' })).toBe(0);
    expect(resolveTimeScale(0.5, { EXAMPLE_TIME_SCALE: '0' })).toBe(0.5);
    expect(() => resolveTimeScale(undefined, { EXAMPLE_TIME_SCALE: 'fast' })).toThrow(/EXAMPLE_TIME_SCALE=fast/);
    expect(() => resolveTimeScale(-1, {})).toThrow(/finite number >= 0/);
  });
});

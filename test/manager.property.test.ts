/**
 * Random sequences of manager calls: whatever the order, the manager only
 * throws ExecutionErrors with documented codes, its counters stay coherent,
 * status moves only along legal transitions (or through a restore), and a
 * checkpoint restored at once changes nothing.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ErrorCategory, ExecutionStatus, RecoveryStrategy } from '../src/constants.js';
import { ErrorCode, ExecutionError } from '../src/errors.js';
import type { ComprehensiveExecutionManager } from '../src/services/manager.js';
import type { StepExecutor } from '../src/services/manager/step-runtime.js';
import { RecoveryPlan } from '../src/services/recovery/index.js';
import type { SimulatedClock } from '../src/clock.js';
import { ExecutionContext, type ExecutionContextOptions } from '../src/services/context/index.js';
import { createHarness, ERROR_FOR_CATEGORY, flush, newClock } from './helpers/manager-harness.js';

const STEP_IDS = ['s0', 's1', 's2', 's3', 's4'] as const;
const CATEGORIES = Object.values(ErrorCategory);
const STRATEGIES = Object.values(RecoveryStrategy);
const ALLOWED_CODES: ReadonlySet<string> = new Set([ErrorCode.InvalidInput, ErrorCode.InvalidState]);

/** Legal status moves without a restore (SPEC: pending -> running -> (paused <-> running) -> completed | failed | cancelled). */
const LEGAL: Readonly<Record<ExecutionStatus, readonly ExecutionStatus[]>> = {
  [ExecutionStatus.PENDING]: [ExecutionStatus.RUNNING, ExecutionStatus.CANCELLED],
  [ExecutionStatus.RUNNING]: [ExecutionStatus.PAUSED, ExecutionStatus.COMPLETED, ExecutionStatus.FAILED, ExecutionStatus.CANCELLED],
  [ExecutionStatus.PAUSED]: [ExecutionStatus.RUNNING, ExecutionStatus.COMPLETED, ExecutionStatus.FAILED, ExecutionStatus.CANCELLED],
  [ExecutionStatus.COMPLETED]: [],
  [ExecutionStatus.FAILED]: [],
  [ExecutionStatus.CANCELLED]: [],
};

type HistoryEntry = { kind: 'status'; status: ExecutionStatus } | { kind: 'restore' };

/**
 * Records restores in the status history (a restore may move status
 * anywhere) and ends a restore loop: more than `perWindow` restores between
 * two commands are refused. (The ROLLBACK replay loop is a known bug, tested
 * in manager.recovery.test.ts; without this guard it would starve the runner.)
 */
class ObservedContext extends ExecutionContext {
  readonly history: HistoryEntry[] = [];
  windowRestores = 0;
  loopsCut = 0;
  constructor(options: ExecutionContextOptions) {
    super(options);
    this.onStatusChange((_id, status) => {
      this.history.push({ kind: 'status', status });
    });
  }
  override restoreCheckpoint(checkpointId: string): boolean {
    this.windowRestores += 1;
    if (this.windowRestores > 20) {
      this.loopsCut += 1;
      return false;
    }
    this.history.push({ kind: 'restore' });
    return super.restoreCheckpoint(checkpointId);
  }
}

type ExecutorKind =
  | { kind: 'ok'; async: boolean }
  | { kind: 'fail'; category: ErrorCategory }
  | { kind: 'flaky'; category: ErrorCategory; failures: number }
  | { kind: 'slow'; ms: number }
  | { kind: 'throwString' };

type Command =
  | { type: 'startStep'; step: number }
  | { type: 'completeStep'; step: number; success: boolean; category: ErrorCategory; pct: number | undefined }
  | { type: 'progress'; step: number; pct: number }
  | { type: 'skip'; step: number }
  | { type: 'checkpoint' }
  | { type: 'restore'; pick: number; unknown: boolean }
  | { type: 'checkpointRestore' }
  | { type: 'handleError'; step: number; category: ErrorCategory }
  | { type: 'execute'; step: number; executor: ExecutorKind; strategy: RecoveryStrategy | null; timeoutMs: number | null }
  | { type: 'advance'; timers: number }
  | { type: 'pause' }
  | { type: 'resume' }
  | { type: 'cancel' }
  | { type: 'completeExecution'; success: boolean }
  | { type: 'cleanup' };

const step = fc.integer({ min: 0, max: STEP_IDS.length - 1 });
const category = fc.constantFrom(...CATEGORIES);
const executorKind: fc.Arbitrary<ExecutorKind> = fc.oneof(
  fc.record({ kind: fc.constant('ok' as const), async: fc.boolean() }),
  fc.record({ kind: fc.constant('fail' as const), category }),
  fc.record({ kind: fc.constant('flaky' as const), category, failures: fc.integer({ min: 1, max: 3 }) }),
  fc.record({ kind: fc.constant('slow' as const), ms: fc.integer({ min: 1, max: 5000 }) }),
  fc.record({ kind: fc.constant('throwString' as const) }),
);

const command: fc.Arbitrary<Command> = fc.oneof(
  { arbitrary: fc.record({ type: fc.constant('startStep' as const), step }), weight: 3 },
  {
    arbitrary: fc.record({
      type: fc.constant('completeStep' as const),
      step,
      success: fc.boolean(),
      category,
      pct: fc.option(fc.double({ min: -1000, max: 1000, noNaN: true }), { nil: undefined }),
    }),
    weight: 3,
  },
  { arbitrary: fc.record({ type: fc.constant('progress' as const), step, pct: fc.double() }), weight: 3 },
  { arbitrary: fc.record({ type: fc.constant('skip' as const), step }), weight: 1 },
  { arbitrary: fc.record({ type: fc.constant('checkpoint' as const) }), weight: 2 },
  {
    arbitrary: fc.record({ type: fc.constant('restore' as const), pick: fc.nat(), unknown: fc.boolean() }),
    weight: 2,
  },
  { arbitrary: fc.record({ type: fc.constant('checkpointRestore' as const) }), weight: 2 },
  { arbitrary: fc.record({ type: fc.constant('handleError' as const), step, category }), weight: 1 },
  {
    arbitrary: fc.record({
      type: fc.constant('execute' as const),
      step,
      executor: executorKind,
      strategy: fc.option(fc.constantFrom(...STRATEGIES), { nil: null, freq: 2 }),
      timeoutMs: fc.option(fc.integer({ min: 1, max: 3000 }), { nil: null, freq: 3 }),
    }),
    weight: 5,
  },
  { arbitrary: fc.record({ type: fc.constant('advance' as const), timers: fc.integer({ min: 0, max: 6 }) }), weight: 4 },
  { arbitrary: fc.record({ type: fc.constant('pause' as const) }), weight: 1 },
  { arbitrary: fc.record({ type: fc.constant('resume' as const) }), weight: 1 },
  { arbitrary: fc.record({ type: fc.constant('cancel' as const) }), weight: 1 },
  { arbitrary: fc.record({ type: fc.constant('completeExecution' as const), success: fc.boolean() }), weight: 1 },
  { arbitrary: fc.record({ type: fc.constant('cleanup' as const) }), weight: 1 },
);

function makeExecutor(kind: ExecutorKind, clock: SimulatedClock): StepExecutor {
  let calls = 0;
  switch (kind.kind) {
    case 'ok':
      return kind.async ? async () => Promise.resolve({ ok: true }) : () => 'ok';
    case 'fail':
      return () => {
        throw ERROR_FOR_CATEGORY[kind.category]();
      };
    case 'flaky':
      return () => {
        calls += 1;
        if (calls <= kind.failures) throw ERROR_FOR_CATEGORY[kind.category]();
        return calls;
      };
    case 'slow':
      return ({ signal }) =>
        new Promise<string>((resolve, reject) => {
          const handle = clock.setTimeout(() => {
            resolve('slow');
          }, kind.ms);
          signal.addEventListener('abort', () => {
            clock.clearTimeout(handle);
            reject(signal.reason instanceof Error ? signal.reason : new Error('aborted'));
          });
        });
    case 'throwString':
      return () => {
        // eslint-disable-next-line @typescript-eslint/only-throw-error -- non-Error throws must be normalised
        throw 'plain string thrown';
      };
  }
}

interface RunState {
  manager: ComprehensiveExecutionManager;
  clock: SimulatedClock;
  context: ObservedContext;
  touched: Set<string>;
  checkpointIds: string[];
  pending: Promise<void>[];
  results: boolean[];
  rejections: unknown[];
}

function expectOnlyDocumentedErrors(error: unknown, what: string): void {
  if (!(error instanceof ExecutionError)) {
    throw new Error(`${what} threw a non-ExecutionError: ${String(error)}`, { cause: error });
  }
  expect(ALLOWED_CODES.has(error.code), `${what} threw code ${error.code}: ${error.message}`).toBe(true);
}

function checkInvariants(state: RunState, after: string): void {
  const report = state.manager.getExecutionStatus();
  const { progress, metrics } = report;
  for (const value of [progress.completedSteps, progress.failedSteps, progress.skippedSteps, progress.runningSteps]) {
    expect(Number.isInteger(value) && value >= 0, after).toBe(true);
  }
  expect(progress.completedSteps + progress.failedSteps + progress.skippedSteps, after).toBeLessThanOrEqual(state.touched.size);
  expect(progress.percentage, after).toBeGreaterThanOrEqual(0);
  expect(progress.percentage, after).toBeLessThanOrEqual(100);
  expect(Number.isFinite(progress.percentage), after).toBe(true);
  expect(metrics.stepsCompleted + metrics.stepsFailed, after).toBeLessThanOrEqual(state.touched.size);
  expect(report.recovery.activeRecoveries, after).toBeGreaterThanOrEqual(0);
  expect(report.recovery.activeRecoveries, after).toBeLessThanOrEqual(STEP_IDS.length);
  expect(report.status, after).toBe(state.context.status);
  let current: ExecutionStatus = ExecutionStatus.PENDING;
  let afterRestore = false;
  for (const entry of state.context.history) {
    if (entry.kind === 'restore') {
      afterRestore = true;
      continue;
    }
    if (!afterRestore) {
      expect(LEGAL[current], `${after}: ${current} -> ${entry.status}`).toContain(entry.status);
    }
    current = entry.status;
    afterRestore = false;
  }
}

async function runCommand(state: RunState, cmd: Command): Promise<void> {
  const { manager, clock } = state;
  const id = 'step' in cmd ? STEP_IDS[cmd.step]! : '';
  switch (cmd.type) {
    case 'startStep':
      state.touched.add(id);
      manager.startStep(id, `Step ${id}`);
      return;
    case 'completeStep':
      state.touched.add(id);
      manager.completeStep(id, {
        success: cmd.success,
        ...(cmd.success ? {} : { error: ERROR_FOR_CATEGORY[cmd.category]() }),
        ...(cmd.pct === undefined ? {} : { progressPercentage: cmd.pct }),
      });
      return;
    case 'progress':
      manager.updateStepProgress(id, cmd.pct);
      return;
    case 'skip':
      state.touched.add(id);
      manager.skipStep(id, 'random skip');
      return;
    case 'checkpoint':
      state.checkpointIds.push(manager.createCheckpoint('random').id);
      return;
    case 'restore': {
      const known = state.checkpointIds.length === 0 ? undefined : state.checkpointIds[cmd.pick % state.checkpointIds.length];
      const target = cmd.unknown || known === undefined ? `unknown-${cmd.pick}` : known;
      const kept = manager.executionContext.getCheckpoint(target) !== undefined;
      expect(manager.restoreCheckpoint(target)).toBe(kept);
      return;
    }
    case 'checkpointRestore': {
      const checkpoint = manager.createCheckpoint('immediate');
      state.checkpointIds.push(checkpoint.id);
      const before = manager.getExecutionStatus();
      expect(manager.restoreCheckpoint(checkpoint.id)).toBe(true);
      expect(manager.getExecutionStatus()).toEqual({
        ...before,
        // SPEC: a restore resets retry counts, which stepsWithRetries counts.
        recovery: { ...before.recovery, stepsWithRetries: manager.getExecutionStatus().recovery.stepsWithRetries },
      });
      return;
    }
    case 'handleError':
      manager.handleStepError(id, `Step ${id}`, ERROR_FOR_CATEGORY[cmd.category]());
      return;
    case 'execute': {
      state.touched.add(id);
      const options = {
        ...(cmd.strategy === null ? {} : { recoveryPlan: new RecoveryPlan({ strategy: cmd.strategy, retryConfig: { maxAttempts: 3, initialDelayMs: 100 } }) }),
        ...(cmd.timeoutMs === null ? {} : { timeoutMs: cmd.timeoutMs }),
        ...(cmd.strategy === RecoveryStrategy.ALTERNATIVE_PATH ? { alternatives: [() => 'alternative'] } : {}),
      };
      const run = manager.executeStepWithRecovery(id, `Step ${id}`, makeExecutor(cmd.executor, clock), options);
      state.pending.push(
        run.then(
          (ok) => {
            state.results.push(ok);
          },
          (error: unknown) => {
            state.rejections.push(error);
          },
        ),
      );
      await flush(1);
      return;
    }
    case 'advance':
      for (let i = 0; i < cmd.timers; i++) {
        await flush(2);
        clock.runNext();
      }
      await flush(2);
      return;
    case 'pause':
      manager.pauseExecution();
      return;
    case 'resume':
      manager.resumeExecution();
      return;
    case 'cancel':
      manager.cancelExecution('random cancel');
      return;
    case 'completeExecution':
      manager.completeExecution(cmd.success);
      return;
    case 'cleanup':
      manager.cleanup();
      return;
  }
}

describe('ComprehensiveExecutionManager under random call sequences', () => {
  it('throws only documented ExecutionErrors and keeps counters, status and checkpoints coherent', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 1, max: 6 }), fc.array(command, { minLength: 1, maxLength: 40 }), async (total, commands) => {
        const clock = newClock();
        const context = new ObservedContext({ executionId: 'exec-1', pipelineId: 'pipe-1', clock });
        const { manager } = createHarness({ executionContext: context }, clock);
        const state: RunState = {
          manager,
          clock,
          context,
          touched: new Set(),
          checkpointIds: [],
          pending: [],
          results: [],
          rejections: [],
        };
        manager.startExecution(total);
        state.checkpointIds.push(...context.checkpoints.map((c) => c.id));
        try {
          for (const [index, cmd] of commands.entries()) {
            context.windowRestores = 0;
            const what = `#${index} ${JSON.stringify(cmd)}`;
            try {
              await runCommand(state, cmd);
            } catch (error) {
              expectOnlyDocumentedErrors(error, what);
            }
            checkInvariants(state, what);
          }
          // Let in-flight work finish on the clock, then settle the rest by shutting down.
          for (let i = 0; i < 100 && state.results.length + state.rejections.length < state.pending.length; i++) {
            context.windowRestores = 0;
            await flush(2);
            if (!clock.runNext()) break;
          }
          await flush(2);
          checkInvariants(state, 'after draining');
        } finally {
          await manager.shutdown();
        }
        await Promise.all(state.pending);
        expect(state.results.length + state.rejections.length).toBe(state.pending.length);
        for (const result of state.results) expect(typeof result).toBe('boolean');
        for (const error of state.rejections) expectOnlyDocumentedErrors(error, 'executeStepWithRecovery');
        expect(clock.pendingTimers).toBeLessThanOrEqual(0 + countSlowTimers(commands));
      }),
      { numRuns: 100 },
    );
  });
});

/** Timers the test's own "slow" executors may leave behind (the engine must leave none). */
function countSlowTimers(commands: readonly Command[]): number {
  return commands.filter((cmd) => cmd.type === 'execute' && cmd.executor.kind === 'slow').length;
}

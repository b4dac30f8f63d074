import { describe, expect, it } from 'vitest';
import type { AnyActorRef, InspectionEvent } from 'xstate';
import { ErrorCategory, ErrorSeverity, ExecutionStatus, RecoveryStrategy } from '../src/constants.js';
import { ErrorCode, ExecutionError } from '../src/errors.js';
import type { ExecutionStatusReport } from '../src/services/manager/status-report.js';
import { ExecutionContext } from '../src/services/context/index.js';
import { ProgressTracker } from '../src/services/progress/index.js';
import { RecoveryManager, RecoveryPlan } from '../src/services/recovery/index.js';
import { VariableManager } from '../src/services/variables/index.js';
import { createHarness, drive, flush, networkError, newClock } from './helpers/manager-harness.js';

const REPORT_KEYS = ['checkpoints', 'currentStepId', 'executionId', 'metrics', 'pipelineId', 'progress', 'recovery', 'status'];
const PROGRESS_KEYS = ['completedSteps', 'failedSteps', 'percentage', 'runningSteps', 'skippedSteps', 'totalSteps'];
const METRICS_KEYS = ['duration', 'endTime', 'startTime', 'stepsCompleted', 'stepsFailed'];
const RECOVERY_KEYS = [
  'activeRecoveries',
  'errorCountsByCategory',
  'errorCountsBySeverity',
  'registeredHandlers',
  'stepsWithRetries',
  'totalErrors',
];

/** Asserts SPEC's ExecutionStatusReport shape exactly: key sets at every level and value types. */
function expectReportShape(report: ExecutionStatusReport): void {
  expect(Object.keys(report).sort()).toEqual(REPORT_KEYS);
  expect(Object.keys(report.progress).sort()).toEqual(PROGRESS_KEYS);
  expect(Object.keys(report.metrics).sort()).toEqual(METRICS_KEYS);
  expect(Object.keys(report.recovery).sort()).toEqual(RECOVERY_KEYS);
  expect(Object.keys(report.recovery.registeredHandlers).sort()).toEqual(['categorySpecific', 'global']);
  for (const key of PROGRESS_KEYS) expect(typeof report.progress[key as keyof typeof report.progress]).toBe('number');
  expect(report.progress.percentage).toBeGreaterThanOrEqual(0);
  expect(report.progress.percentage).toBeLessThanOrEqual(100);
  expect(typeof report.checkpoints).toBe('number');
  expect(Object.values(ExecutionStatus)).toContain(report.status);
  for (const key of Object.keys(report.recovery.errorCountsByCategory)) {
    expect(Object.values(ErrorCategory)).toContain(key);
  }
  for (const key of Object.keys(report.recovery.errorCountsBySeverity)) {
    expect(Object.values(ErrorSeverity)).toContain(key);
  }
  // JSON only.
  expect(JSON.parse(JSON.stringify(report))).toEqual(report);
}

describe('getExecutionStatus', () => {
  it('has exactly the SPEC keys at every level, in every phase', async () => {
    const { manager, clock } = createHarness();
    expectReportShape(manager.getExecutionStatus());
    expect(manager.getExecutionStatus()).toMatchObject({
      executionId: 'exec-1',
      pipelineId: 'pipe-1',
      status: ExecutionStatus.PENDING,
      currentStepId: null,
      checkpoints: 0,
      metrics: { startTime: null, endTime: null, duration: null },
    });

    manager.startExecution(3);
    let n = 0;
    const run = manager.executeStepWithRecovery('a', 'A', () => {
      n += 1;
      if (n === 1) throw networkError();
      return n;
    });
    await flush();
    const recovering = manager.getExecutionStatus();
    expectReportShape(recovering);
    expect(recovering.recovery).toMatchObject({
      totalErrors: 1,
      activeRecoveries: 1,
      errorCountsByCategory: { network: 1 },
      errorCountsBySeverity: { medium: 1 },
    });
    await drive(clock, run);
    manager.completeStep('b', { success: false, error: new Error('b') });
    expectReportShape(manager.getExecutionStatus());

    manager.completeExecution(false);
    expectReportShape(manager.getExecutionStatus());
    await manager.shutdown();
    expectReportShape(manager.getExecutionStatus());
  });

  it('percentage counts finished steps plus the partial progress of running ones over totalSteps', () => {
    const { manager } = createHarness();
    manager.startExecution(4);
    manager.completeStep('a');
    manager.completeStep('b', { success: false, error: new Error('b') });
    manager.startStep('c', 'C');
    manager.updateStepProgress('c', 50);
    expect(manager.getExecutionStatus().progress.percentage).toBeCloseTo(62.5, 10);
  });
});

/** The id of the actor an inspection event is about (a spawned step's id is its step id). */
function actorIdOf(event: InspectionEvent): string {
  return (event.actorRef as AnyActorRef).id;
}

describe('inspect', () => {
  it('receives actor, event and snapshot events for the execution actor and every step actor (id = step id)', async () => {
    const seen: InspectionEvent[] = [];
    const { manager, clock } = createHarness({
      inspect: (event) => {
        seen.push(event);
      },
    });
    manager.startExecution(2);
    await drive(clock, manager.executeStepWithRecovery('load', 'Load', () => 'x'));
    manager.startStep('manual', 'Manual');
    manager.completeStep('manual');

    const typesFor = (predicate: (event: InspectionEvent) => boolean): Set<string> =>
      new Set(seen.filter(predicate).map((event) => event.type));
    const root = manager.actor;
    const rootTypes = typesFor((event) => event.actorRef.sessionId === root.sessionId);
    for (const type of ['@xstate.actor', '@xstate.event', '@xstate.snapshot']) {
      expect(rootTypes).toContain(type);
      expect(typesFor((event) => actorIdOf(event) === 'load')).toContain(type);
      expect(typesFor((event) => actorIdOf(event) === 'manual')).toContain(type);
    }
    const stepActors = seen.filter((event) => event.type === '@xstate.actor' && actorIdOf(event) === 'load');
    expect(stepActors).toHaveLength(1);
    expect(stepActors[0]?.actorRef.sessionId).not.toBe(root.sessionId);
    const rootEvents = seen
      .filter((event) => event.type === '@xstate.event' && event.actorRef.sessionId === root.sessionId)
      .map((event) => (event.type === '@xstate.event' ? event.event.type : ''));
    // A finished step reports through its done event (the step machine's output).
    expect(rootEvents).toEqual(expect.arrayContaining(['EXECUTION.START', 'STEP.START', 'xstate.done.actor.load', 'xstate.done.actor.manual']));
  });

  it('is passed to the actors rebuilt by a restore', async () => {
    const seen: InspectionEvent[] = [];
    const { manager } = createHarness({
      inspect: (event) => {
        seen.push(event);
      },
    });
    manager.startExecution(1);
    manager.startStep('s', 'S');
    const checkpoint = manager.createCheckpoint('with s running');
    const oldSession = manager.actor.sessionId;
    expect(manager.restoreCheckpoint(checkpoint.id)).toBe(true);
    await flush();
    expect(manager.actor.sessionId).not.toBe(oldSession);
    const actors = seen.filter((event) => event.type === '@xstate.actor');
    expect(actors.some((event) => event.actorRef.sessionId === manager.actor.sessionId)).toBe(true);
    expect(actors.filter((event) => actorIdOf(event) === 's')).toHaveLength(2);
  });
});

describe('cleanup', () => {
  it('clears error history and retry counts; the status stays readable', async () => {
    const { manager, clock } = createHarness();
    manager.startExecution(2);
    let n = 0;
    await drive(
      clock,
      manager.executeStepWithRecovery('a', 'A', () => {
        n += 1;
        if (n < 3) throw networkError();
        return 'ok';
      }),
    );
    manager.handleStepError('b', 'B', new Error('Something failed'));
    manager.completeStep('b', { success: false, error: new Error('b') });
    manager.completeExecution(false);
    const before = manager.getExecutionStatus();
    expect(before.recovery.totalErrors).toBe(3);
    expect(manager.recoveryManager.getRetryCount('a')).toBe(2);

    manager.cleanup();

    expect(manager.recoveryManager.getErrorHistory()).toEqual([]);
    expect(manager.recoveryManager.getRetryCount('a')).toBe(0);
    const after = manager.getExecutionStatus();
    expect(after.recovery).toMatchObject({ totalErrors: 0, stepsWithRetries: 0, errorCountsByCategory: {} });
    expect(after.status).toBe(ExecutionStatus.FAILED);
    expect(after.progress).toEqual(before.progress);
    expect(after.metrics).toEqual(before.metrics);
    expect(after.checkpoints).toBe(before.checkpoints);
    expect(manager.getStepOutput('a')).toBe('ok');
  });

  // BUG (reported): cleanup() forgets every registered executor, also those of
  // steps in flight; a step waiting to retry then waits forever for its
  // executor to be registered again and its caller never hears back.
  it('cleanup() while a step waits to retry does not strand that step', async () => {
    const { manager, clock } = createHarness();
    manager.startExecution(1);
    let n = 0;
    const run = manager.executeStepWithRecovery('a', 'A', () => {
      n += 1;
      if (n === 1) throw networkError();
      return 'ok';
    });
    await flush();
    expect(manager.isStepRecovering('a')).toBe(true);
    manager.cleanup();
    expect(await drive(clock, run)).toBe(true);
    expect(n).toBe(2);
  });
});

describe('shutdown', () => {
  it('is idempotent, keeps getExecutionStatus answering, refuses changes with MANAGER_SHUT_DOWN', async () => {
    const { manager, clock } = createHarness();
    manager.startExecution(2);
    await drive(clock, manager.executeStepWithRecovery('a', 'A', () => 'A'));
    const checkpoint = manager.createCheckpoint('x');
    const before = manager.getExecutionStatus();

    await manager.shutdown();
    await manager.shutdown();

    expect(manager.getExecutionStatus()).toEqual(before);
    expect(manager.getStepOutput('a')).toBe('A');
    expect(manager.getStepRecord('a')?.status).toBe('completed');
    const calls: [string, () => unknown][] = [
      ['startExecution', () => { manager.startExecution(1); }],
      ['completeExecution', () => { manager.completeExecution(true); }],
      ['startStep', () => { manager.startStep('b', 'B'); }],
      ['completeStep', () => { manager.completeStep('b'); }],
      ['skipStep', () => { manager.skipStep('b'); }],
      ['updateStepProgress', () => { manager.updateStepProgress('a', 5); }],
      ['handleStepError', () => manager.handleStepError('a', 'A', new Error('x'))],
      ['createCheckpoint', () => manager.createCheckpoint('after')],
      ['restoreCheckpoint', () => manager.restoreCheckpoint(checkpoint.id)],
      ['pauseExecution', () => manager.pauseExecution()],
      ['resumeExecution', () => manager.resumeExecution()],
      ['cancelExecution', () => manager.cancelExecution()],
    ];
    for (const [name, call] of calls) {
      let error: unknown;
      try {
        call();
      } catch (caught) {
        error = caught;
      }
      expect(error, name).toBeInstanceOf(ExecutionError);
      expect((error as ExecutionError).code, name).toBe(ErrorCode.ManagerShutDown);
    }
    await expect(manager.executeStepWithRecovery('b', 'B', () => 1)).rejects.toMatchObject({
      code: ErrorCode.ManagerShutDown,
    });
    expect(() => {
      manager.cleanup();
    }).not.toThrow();
    expect(manager.getExecutionStatus()).toEqual(before);
  });

  it('resolves a pending executeStepWithRecovery with false and aborts its signal', async () => {
    const { manager } = createHarness();
    manager.startExecution(1);
    let signal: AbortSignal | undefined;
    const run = manager.executeStepWithRecovery('slow', 'Slow', (args) => {
      signal = args.signal;
      return new Promise(() => undefined);
    });
    await flush();
    expect(signal?.aborted).toBe(false);
    await manager.shutdown();
    expect(await run).toBe(false);
    expect(signal?.aborted).toBe(true);
  });

  it('resolves a step waiting in recovering with false and leaves no timer behind', async () => {
    const { manager, clock } = createHarness();
    manager.startExecution(1);
    let calls = 0;
    const run = manager.executeStepWithRecovery('a', 'A', () => {
      calls += 1;
      throw networkError();
    });
    await flush();
    expect(manager.isStepRecovering('a')).toBe(true);
    await manager.shutdown();
    expect(await run).toBe(false);
    expect(clock.pendingTimers).toBe(0);
    expect(calls).toBe(1);
  });
});

describe('injected components', () => {
  it('uses the given VariableManager, ProgressTracker, RecoveryManager and ExecutionContext', async () => {
    const clock = newClock();
    const variableManager = new VariableManager({ pipelineId: 'pipe-1', clock });
    const executionContext = new ExecutionContext({ executionId: 'exec-1', pipelineId: 'pipe-1', variableManager, clock });
    const progressTracker = new ProgressTracker({ executionContext, variableManager, clock });
    const recoveryManager = new RecoveryManager({ executionContext, progressTracker, clock });
    recoveryManager.registerErrorHandler(ErrorCategory.EXECUTION, () => new RecoveryPlan({ strategy: RecoveryStrategy.SKIP }));

    const { manager } = createHarness({ variableManager, executionContext, progressTracker, recoveryManager }, clock);

    expect(manager.variableManager).toBe(variableManager);
    expect(manager.executionContext).toBe(executionContext);
    expect(manager.progressTracker).toBe(progressTracker);
    expect(manager.recoveryManager).toBe(recoveryManager);

    manager.startExecution(2);
    expect(executionContext.status).toBe(ExecutionStatus.RUNNING);
    expect(executionContext.checkpoints.map((c) => c.description)).toEqual(['execution_started']);
    expect(progressTracker.getExecutionProgress('exec-1')?.totalSteps).toBe(2);

    manager.startStep('a', 'A');
    manager.updateStepProgress('a', 25);
    expect(variableManager.getVariable('progress.a.percentage')).toBe(25);
    expect(progressTracker.getStepProgress('exec-1', 'a')?.progressPercentage).toBe(25);

    // The handler registered on the injected RecoveryManager decides the plan.
    const ok = await drive(
      clock,
      manager.executeStepWithRecovery('b', 'B', () => {
        throw new Error('Something failed');
      }),
    );
    expect(ok).toBe(true);
    expect(manager.getStepRecord('b')?.status).toBe('skipped');
    expect(recoveryManager.getErrorHistory({ stepId: 'b' })).toHaveLength(1);
    expect(executionContext.skippedSteps).toEqual(['b']);
  });

  it('uses an injected VariableManager alone for its own context', () => {
    const clock = newClock();
    const variableManager = new VariableManager({ pipelineId: 'pipe-1', clock });
    const { manager } = createHarness({ variableManager }, clock);
    expect(manager.variableManager).toBe(variableManager);
    expect(manager.executionContext.variableManager).toBe(variableManager);
    manager.startExecution(1);
    manager.startStep('a', 'A');
    manager.updateStepProgress('a', 70);
    expect(variableManager.getVariable('progress.a.percentage')).toBe(70);
    variableManager.setVariable('mine', 1);
    const checkpoint = manager.createCheckpoint('with mine');
    expect(checkpoint.variables.variables.mine?.value).toBe(1);
  });

  it('refuses a VariableManager that is not the injected context\'s with INVALID_INPUT', () => {
    const clock = newClock();
    const executionContext = new ExecutionContext({ executionId: 'exec-1', pipelineId: 'pipe-1', clock });
    let error: unknown;
    try {
      createHarness({ executionContext, variableManager: new VariableManager({ pipelineId: 'pipe-1', clock }) }, clock);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ExecutionError);
    expect((error as ExecutionError).code).toBe(ErrorCode.InvalidInput);
  });
});

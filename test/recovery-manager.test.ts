import { describe, expect, it } from 'vitest';
import { SimulatedClock } from '../src/clock.js';
import { ErrorCategory, ErrorSeverity, RecoveryStrategy } from '../src/constants.js';
import { ErrorCode } from '../src/errors.js';
import { RecoveryManager, RecoveryPlan, type ErrorInfo } from '../src/services/recovery/index.js';

const network = (message = 'reset'): Error => Object.assign(new Error(message), { code: 'ECONNRESET' });
const timeout = (): Error => Object.assign(new Error('slow'), { name: 'TimeoutError' });
const auth = (): Error => Object.assign(new Error('nope'), { status: 401 });
const plain = (): Error => new Error('Something failed');
const skip = (description?: string): RecoveryPlan =>
  new RecoveryPlan({ strategy: RecoveryStrategy.SKIP, ...(description === undefined ? {} : { description }) });

describe('RecoveryManager plan precedence', () => {
  it('step plan > category handlers > global handlers > default by severity', () => {
    const manager = new RecoveryManager();
    const info = manager.classifyError(network(), { stepId: 's1', stepName: 'S1' });
    manager.registerGlobalErrorHandler(() => skip('global'));
    expect(manager.getRecoveryPlan(info).description).toBe('Retry with exponential backoff (2s, x1.5, max 30s), up to 5 attempts in all.');
    manager.registerErrorHandler(ErrorCategory.NETWORK, () => skip('category'));
    expect(manager.getRecoveryPlan(info).description).toBe('category');
    manager.setRecoveryPlan('s1', skip('step'));
    expect(manager.getRecoveryPlan(info).description).toBe('step');
    expect(manager.getRecoveryPlan({ ...info, stepId: 's2' }).description).toBe('category');
    manager.setRecoveryPlan('s1', null);
    expect(manager.getRecoveryPlan(info).description).toBe('category');
    const other = manager.classifyError(plain(), { stepId: 's1' });
    expect(manager.getRecoveryPlan(other).description).toBe('global');
  });

  it('consults category handlers in registration order; null or undefined passes', () => {
    const manager = new RecoveryManager();
    const calls: string[] = [];
    manager.registerErrorHandler(ErrorCategory.EXECUTION, () => {
      calls.push('first');
      return null;
    });
    manager.registerErrorHandler(ErrorCategory.EXECUTION, () => {
      calls.push('second');
      return undefined;
    });
    manager.registerErrorHandler(ErrorCategory.EXECUTION, () => {
      calls.push('third');
      return skip('third');
    });
    manager.registerErrorHandler(ErrorCategory.EXECUTION, () => {
      calls.push('fourth');
      return skip('fourth');
    });
    expect(manager.getRecoveryPlan(manager.classifyError(plain())).description).toBe('third');
    expect(calls).toEqual(['first', 'second', 'third']);
  });

  it('handlers get a copy of the info; the remover unregisters', () => {
    const manager = new RecoveryManager();
    const remove = manager.registerErrorHandler(ErrorCategory.EXECUTION, (info: ErrorInfo) => {
      info.message = 'mutated';
      return skip('mine');
    });
    const info = manager.classifyError(plain());
    expect(manager.getRecoveryPlan(info).strategy).toBe(RecoveryStrategy.SKIP);
    expect(info.message).toBe('Something failed');
    remove();
    expect(manager.getRecoveryPlan(info).strategy).toBe(RecoveryStrategy.RETRY_WITH_BACKOFF);
  });

  it('defaults by severity: LOW -> RETRY, MEDIUM -> RETRY_WITH_BACKOFF, HIGH -> ROLLBACK, CRITICAL -> FAIL_FAST', () => {
    const manager = new RecoveryManager({ builtInHandlers: false });
    const planFor = (error: unknown): RecoveryPlan => manager.getRecoveryPlan(manager.classifyError(error));
    expect(planFor(new TypeError('bad')).strategy).toBe(RecoveryStrategy.RETRY);
    expect(planFor(plain()).strategy).toBe(RecoveryStrategy.RETRY_WITH_BACKOFF);
    expect(planFor(network()).strategy).toBe(RecoveryStrategy.RETRY_WITH_BACKOFF);
    const high = planFor(auth());
    expect(high.strategy).toBe(RecoveryStrategy.ROLLBACK);
    expect(high.targetCheckpoint).toBeUndefined();
    expect(planFor(Object.assign(plain(), { severity: 'critical' })).strategy).toBe(RecoveryStrategy.FAIL_FAST);
  });

  it('built-in handlers: network backoff (5, 2 s, x1.5, 30 s), timeout retry (3, 5 s), critical fail-fast', () => {
    const manager = new RecoveryManager();
    const net = manager.getRecoveryPlan(manager.classifyError(network()));
    expect(net.strategy).toBe(RecoveryStrategy.RETRY_WITH_BACKOFF);
    expect(net.retryConfig?.toJSON()).toMatchObject({ maxAttempts: 5, initialDelayMs: 2000, backoffFactor: 1.5, maxDelayMs: 30_000 });
    const slow = manager.getRecoveryPlan(manager.classifyError(timeout()));
    expect(slow.strategy).toBe(RecoveryStrategy.RETRY);
    expect(slow.retryConfig?.toJSON()).toMatchObject({ maxAttempts: 3, initialDelayMs: 5000 });
    const critical = manager.getRecoveryPlan(manager.classifyError(Object.assign(network(), { name: 'CriticalNetworkError' })));
    expect(critical.strategy).toBe(RecoveryStrategy.FAIL_FAST);
    expect(critical.manualInstructions).toContain('CriticalNetworkError');
    expect(critical.isAutomated()).toBe(true);
  });

  it('a handler may return plan input, which is validated', () => {
    const manager = new RecoveryManager();
    manager.registerGlobalErrorHandler(() => ({ strategy: RecoveryStrategy.SKIP }) as unknown as RecoveryPlan);
    expect(manager.getRecoveryPlan(manager.classifyError(plain())).strategy).toBe(RecoveryStrategy.SKIP);
    manager.registerErrorHandler(ErrorCategory.EXECUTION, () => ({ strategy: 'nope' }) as unknown as RecoveryPlan);
    expect(() => manager.getRecoveryPlan(manager.classifyError(plain()))).toThrow(expect.objectContaining({ code: 'INVALID_INPUT' }));
  });
});

describe('RecoveryManager.handleError and history', () => {
  it('classifies, records and returns the plan without making the step recovering', () => {
    const clock = new SimulatedClock(Date.parse('2026-02-01T00:00:00Z'));
    const manager = new RecoveryManager({ clock });
    const plan = manager.handleError('api', 'Call API', network(), { retry_count: 2 });
    expect(plan.strategy).toBe(RecoveryStrategy.RETRY_WITH_BACKOFF);
    expect(manager.isStepRecovering('api')).toBe(false);
    expect(manager.getRecoveryStatus().activeRecoveries).toBe(0);
    const [info] = manager.getErrorHistory();
    expect(info).toMatchObject({
      stepId: 'api',
      stepName: 'Call API',
      category: ErrorCategory.NETWORK,
      timestamp: '2026-02-01T00:00:00.000Z',
      context: { retry_count: 2 },
    });
  });

  it('filters by step, category and severity; limit keeps the most recent N', () => {
    const manager = new RecoveryManager();
    manager.handleError('a', 'A', network('n1'));
    manager.handleError('b', 'B', auth());
    manager.handleError('a', 'A', plain());
    manager.handleError('a', 'A', network('n2'));
    manager.handleError('b', 'B', network('n3'));
    const messages = (infos: ErrorInfo[]): string[] => infos.map((i) => i.message);
    expect(messages(manager.getErrorHistory())).toEqual(['n1', 'nope', 'Something failed', 'n2', 'n3']);
    expect(messages(manager.getErrorHistory({ stepId: 'a' }))).toEqual(['n1', 'Something failed', 'n2']);
    expect(messages(manager.getErrorHistory({ category: ErrorCategory.NETWORK }))).toEqual(['n1', 'n2', 'n3']);
    expect(messages(manager.getErrorHistory({ severity: ErrorSeverity.HIGH }))).toEqual(['nope']);
    expect(messages(manager.getErrorHistory({ limit: 2 }))).toEqual(['n2', 'n3']);
    expect(messages(manager.getErrorHistory({ stepId: 'a', category: ErrorCategory.NETWORK, limit: 1 }))).toEqual(['n2']);
    expect(manager.getErrorHistory({ limit: 0 })).toEqual([]);
    expect(() => manager.getErrorHistory({ limit: -1 })).toThrow(expect.objectContaining({ code: 'INVALID_INPUT' }));
    expect(() => manager.getErrorHistory({ category: 'bogus' as ErrorCategory })).toThrow(expect.objectContaining({ code: 'INVALID_INPUT' }));
  });

  it('returns copies of the history', () => {
    const manager = new RecoveryManager();
    manager.handleError('a', 'A', plain());
    const [copy] = manager.getErrorHistory();
    copy!.message = 'changed';
    expect(manager.getErrorHistory()[0]!.message).toBe('Something failed');
  });

  it('keeps at most maxErrorHistory errors but keeps counting', () => {
    const manager = new RecoveryManager({ maxErrorHistory: 2 });
    for (const n of [1, 2, 3]) manager.handleError('a', 'A', new Error(`e${n}`));
    expect(manager.getErrorHistory().map((i) => i.message)).toEqual(['e2', 'e3']);
    expect(manager.getRecoveryStatus().totalErrors).toBe(3);
  });
});

describe('RecoveryManager status, retry counts, cleanup, shutdown', () => {
  it('getRecoveryStatus counts errors, recoveries, retries and handlers (built-ins included)', () => {
    const manager = new RecoveryManager();
    expect(manager.getRecoveryStatus()).toEqual({
      totalErrors: 0,
      activeRecoveries: 0,
      errorCountsByCategory: {},
      errorCountsBySeverity: {},
      stepsWithRetries: 0,
      registeredHandlers: { categorySpecific: 2, global: 1 },
    });
    manager.handleError('a', 'A', network());
    manager.handleError('a', 'A', network());
    manager.handleError('b', 'B', auth());
    manager.recordRetry('a');
    manager.recordRetry('a');
    manager.recordRetry('c');
    manager.resetRetryCount('c');
    manager.setStepRecovering('a', true);
    manager.registerErrorHandler(ErrorCategory.NETWORK, () => null);
    manager.registerGlobalErrorHandler(() => null);
    expect(manager.getRecoveryStatus()).toEqual({
      totalErrors: 3,
      activeRecoveries: 1,
      errorCountsByCategory: { network: 2, authentication: 1 },
      errorCountsBySeverity: { medium: 2, high: 1 },
      stepsWithRetries: 1,
      registeredHandlers: { categorySpecific: 3, global: 2 },
    });
    expect(manager.getRetryCount('a')).toBe(2);
    expect(manager.getRetryCount('c')).toBe(0);
    expect(manager.isStepRecovering('a')).toBe(true);
    manager.setStepRecovering('a', false);
    expect(manager.isStepRecovering('a')).toBe(false);
    expect(new RecoveryManager({ builtInHandlers: false }).getRecoveryStatus().registeredHandlers).toEqual({ categorySpecific: 0, global: 0 });
  });

  it('cleanup clears history, counts and retry counts; handlers and step plans stay', () => {
    const manager = new RecoveryManager();
    manager.registerGlobalErrorHandler(() => null);
    manager.setRecoveryPlan('a', skip('kept'));
    manager.handleError('a', 'A', network());
    manager.recordRetry('a');
    manager.cleanup();
    expect(manager.getErrorHistory()).toEqual([]);
    expect(manager.getRetryCount('a')).toBe(0);
    expect(manager.getRecoveryStatus()).toMatchObject({ totalErrors: 0, errorCountsByCategory: {}, stepsWithRetries: 0 });
    expect(manager.getRecoveryStatus().registeredHandlers).toEqual({ categorySpecific: 2, global: 2 });
    expect(manager.getStepRecoveryPlan('a')?.description).toBe('kept');
  });

  it('after shutdown, reads answer and changes throw MANAGER_SHUT_DOWN', () => {
    const manager = new RecoveryManager();
    manager.handleError('a', 'A', network());
    manager.shutdown();
    manager.shutdown();
    expect(manager.getErrorHistory()).toEqual([]);
    expect(manager.getRecoveryStatus().totalErrors).toBe(0);
    const shutDown = expect.objectContaining({ code: ErrorCode.ManagerShutDown }) as Error;
    expect(() => manager.handleError('a', 'A', network())).toThrow(shutDown);
    expect(() => manager.registerGlobalErrorHandler(() => null)).toThrow(shutDown);
    expect(() => {
      manager.recordRetry('a');
    }).toThrow(shutDown);
    expect(() => {
      manager.setStepRecovering('a', true);
    }).toThrow(shutDown);
    expect(() => {
      manager.setStepRecovering('a', false);
    }).not.toThrow();
    expect(manager.classifyError(network()).category).toBe(ErrorCategory.NETWORK);
  });

  it('refuses bad input with INVALID_INPUT', () => {
    const manager = new RecoveryManager();
    const invalid = expect.objectContaining({ code: 'INVALID_INPUT' }) as Error;
    expect(() => manager.registerErrorHandler('bogus' as ErrorCategory, () => null)).toThrow(invalid);
    expect(() => manager.registerErrorHandler(ErrorCategory.NETWORK, 'x' as never)).toThrow(invalid);
    expect(() => manager.handleError('', 'A', plain())).toThrow(invalid);
    expect(() => {
      manager.setRecoveryPlan('a', { strategy: 'nope' } as never);
    }).toThrow(invalid);
    expect(() => new RecoveryManager({ maxErrorHistory: 0 })).toThrow(invalid);
    expect(() => new RecoveryManager({ random: 3 } as never)).toThrow(invalid);
    expect(() => new RecoveryManager({ progressTracker: {} as never })).toThrow(invalid);
    expect(() => new RecoveryManager({ clock: { now: () => 0 } as never })).toThrow(invalid);
    expect(() => new RecoveryManager({ unknownOption: true } as never)).toThrow(invalid);
    // A live service is checked by shape, not walked: its own data may hold any key.
    const context = { executionId: 'e', checkpoints: [], restoreCheckpoint: () => false, data: JSON.parse('{"constructor": 1}') as unknown };
    expect(() => new RecoveryManager({ executionContext: context })).not.toThrow();
    expect(() => manager.getRecoveryPlan({ stepId: 'a' } as ErrorInfo)).toThrow(invalid);
    expect(manager.getErrorHistory()).toEqual([]);
  });
});

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ErrorCategory, ErrorSeverity, RecoveryStrategy } from '../src/constants.js';
import { FatalError, RetryableError } from '../src/errors.js';
import {
  RecoveryPlan,
  RetryConfig,
  canRetry,
  classifyError,
  defaultPlanFor,
  isAutomated,
  retryDelayMs,
  type ErrorInfo,
} from '../src/services/recovery/index.js';

/** Asserts an INVALID_INPUT whose message names `field`. */
function expectInvalid(run: () => unknown, field: string): void {
  let caught: unknown;
  try {
    run();
  } catch (error) {
    caught = error;
  }
  expect(caught).toMatchObject({ code: 'INVALID_INPUT' });
  expect((caught as Error).message).toContain(field);
}

const networkInfo = (): ErrorInfo => classifyError(Object.assign(new Error('reset'), { code: 'ECONNRESET' }));
const executionInfo = (): ErrorInfo => classifyError(new Error('Something failed'));

describe('RetryConfig', () => {
  it('has the SPEC defaults', () => {
    expect(new RetryConfig().toJSON()).toEqual({
      maxAttempts: 3,
      initialDelayMs: 1000,
      maxDelayMs: 60_000,
      backoffFactor: 2,
      exponentialBackoff: true,
      jitter: 'none',
      retryOnCategories: [ErrorCategory.NETWORK, ErrorCategory.TIMEOUT, ErrorCategory.RESOURCE],
    });
  });

  it('getDelayMs: 1s, x2, max 10s gives 2, 4, 8, 10 s for attempts 1..4 (and 1 s for 0)', () => {
    const config = new RetryConfig({ initialDelayMs: 1000, backoffFactor: 2, maxDelayMs: 10_000 });
    expect([0, 1, 2, 3, 4, 5].map((a) => config.getDelayMs(a))).toEqual([1000, 2000, 4000, 8000, 10_000, 10_000]);
  });

  it('getDelayMs without exponential backoff is the initial delay', () => {
    const config = new RetryConfig({ initialDelayMs: 750, exponentialBackoff: false });
    expect([0, 1, 5].map((a) => config.getDelayMs(a))).toEqual([750, 750, 750]);
  });

  it('getDelayMs refuses a negative or NaN attempt', () => {
    const config = new RetryConfig();
    expect(() => config.getDelayMs(-1)).toThrow(expect.objectContaining({ code: 'INVALID_INPUT', field: 'attempt' }));
    expect(() => config.getDelayMs(Number.NaN)).toThrow(expect.objectContaining({ code: 'INVALID_INPUT' }));
  });

  it('full jitter always stays within [0, computed delay]', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 100_000 }),
        fc.double({ min: 1, max: 5, noNaN: true }),
        fc.integer({ min: 0, max: 1_000_000 }),
        fc.integer({ min: 0, max: 40 }),
        fc.double({ min: 0, max: 1, noNaN: true, maxExcluded: true }),
        (initialDelayMs, backoffFactor, maxDelayMs, attempt, draw) => {
          const plain = new RetryConfig({ initialDelayMs, backoffFactor, maxDelayMs });
          const jittered = new RetryConfig({ initialDelayMs, backoffFactor, maxDelayMs, jitter: 'full' });
          const bound = plain.getDelayMs(attempt);
          const delay = jittered.getDelayMs(attempt, () => draw);
          return delay >= 0 && delay <= bound && bound <= maxDelayMs;
        },
      ),
    );
  });

  it('full jitter draws uniformly from 0..delay (random 0 -> 0, 0.5 -> half)', () => {
    const config = new RetryConfig({ jitter: 'full', initialDelayMs: 1000 });
    expect(config.getDelayMs(1, () => 0)).toBe(0);
    expect(config.getDelayMs(1, () => 0.5)).toBe(1000);
    expect(config.getDelayMs(1, () => 7)).toBe(2000);
  });

  it('shouldRetry: attempts below maxAttempts, retryable category or error, condition', () => {
    const config = new RetryConfig({ maxAttempts: 3 });
    const info = networkInfo();
    expect([1, 2, 3, 4].map((a) => config.shouldRetry(info, a))).toEqual([true, true, false, false]);
    expect(config.shouldRetry(executionInfo(), 1)).toBe(false);
    expect(config.shouldRetry(classifyError(new RetryableError('x', { category: 'execution' })), 1)).toBe(true);
    expect(config.shouldRetry(classifyError(new FatalError('x', { category: 'network' })), 1)).toBe(false);
    const narrowed = new RetryConfig({ retryOnCategories: [ErrorCategory.TIMEOUT] });
    expect(narrowed.shouldRetry(info, 1)).toBe(false);
    const widened = new RetryConfig({ retryOnCategories: [ErrorCategory.EXECUTION] });
    expect(widened.shouldRetry(executionInfo(), 1)).toBe(true);
    const seen: number[] = [];
    const conditioned = new RetryConfig({
      maxAttempts: 5,
      retryCondition: (_info, attempt) => {
        seen.push(attempt);
        return attempt < 2;
      },
    });
    expect([1, 2].map((a) => conditioned.shouldRetry(info, a))).toEqual([true, false]);
    expect(seen).toEqual([1, 2]);
    expect(conditioned.shouldRetry(executionInfo(), 1)).toBe(false);
    expect(seen).toEqual([1, 2]);
  });

  it.each([
    ['maxAttempts', 0],
    ['maxAttempts', 1.5],
    ['initialDelayMs', -1],
    ['initialDelayMs', Number.NaN],
    ['maxDelayMs', Number.POSITIVE_INFINITY],
    ['backoffFactor', 0.5],
    ['jitter', 'half'],
    ['retryOnCategories', ['nope']],
    ['retryCondition', 'yes'],
    ['unexpected', 1],
  ])('refuses %s = %s with INVALID_INPUT naming the field', (field, value) => {
    expectInvalid(() => new RetryConfig({ [field]: value }), field);
  });

  it('round-trips through JSON (without retryCondition)', () => {
    const config = new RetryConfig({ maxAttempts: 5, jitter: 'full', retryCondition: () => true });
    const copy = RetryConfig.fromJSON(JSON.parse(JSON.stringify(config)));
    expect(copy.toJSON()).toEqual(config.toJSON());
    expect(copy.retryCondition).toBeUndefined();
    expect(() => RetryConfig.fromJSON({ maxAttempts: 'x' })).toThrow(expect.objectContaining({ code: 'INVALID_INPUT' }));
  });
});

describe('RecoveryPlan', () => {
  it('generates a readable description when missing', () => {
    const backoff = new RecoveryPlan({
      strategy: RecoveryStrategy.RETRY_WITH_BACKOFF,
      retryConfig: { initialDelayMs: 1000, backoffFactor: 2, maxDelayMs: 10_000 },
    });
    expect(backoff.description).toBe('Retry with exponential backoff (1s, x2, max 10s), up to 3 attempts in all.');
    expect(new RecoveryPlan({ strategy: RecoveryStrategy.RETRY }).description).toBe(
      'Retry after a fixed 1s delay, up to 3 attempts in all.',
    );
    expect(new RecoveryPlan({ strategy: RecoveryStrategy.SKIP }).description).toBe('Skip the step and continue.');
    expect(new RecoveryPlan({ strategy: RecoveryStrategy.ROLLBACK }).description).toBe('Roll back to the latest checkpoint.');
    expect(new RecoveryPlan({ strategy: RecoveryStrategy.ROLLBACK, targetCheckpoint: 'cp1' }).description).toBe(
      'Roll back to checkpoint cp1.',
    );
    expect(
      new RecoveryPlan({ strategy: RecoveryStrategy.MANUAL_INTERVENTION, manualInstructions: 'Call ops.', timeoutMs: 1500 })
        .description,
    ).toBe('Stop and wait for manual intervention. Instructions: Call ops. Each attempt is limited to 1.5s.');
    expect(new RecoveryPlan({ strategy: RecoveryStrategy.FAIL_FAST, description: 'Give up.' }).description).toBe('Give up.');
  });

  it('gives the retry strategies a default RetryConfig', () => {
    expect(new RecoveryPlan({ strategy: RecoveryStrategy.RETRY }).retryConfig?.maxAttempts).toBe(3);
    expect(new RecoveryPlan({ strategy: RecoveryStrategy.SKIP }).retryConfig).toBeUndefined();
  });

  it('isAutomated is true unless MANUAL_INTERVENTION', () => {
    for (const strategy of Object.values(RecoveryStrategy)) {
      const plan = new RecoveryPlan({ strategy });
      expect(plan.isAutomated()).toBe(strategy !== RecoveryStrategy.MANUAL_INTERVENTION);
      expect(isAutomated(plan.toJSON())).toBe(plan.isAutomated());
    }
  });

  it('round-trips through JSON', () => {
    const plan = new RecoveryPlan({
      strategy: RecoveryStrategy.ALTERNATIVE_PATH,
      alternativeSteps: ['a', 'b'],
      timeoutMs: 2000,
      retryConfig: { maxAttempts: 2 },
    });
    const data = JSON.parse(JSON.stringify(plan)) as unknown;
    expect(RecoveryPlan.fromJSON(data).toJSON()).toEqual(plan.toJSON());
    expect(plan.toJSON()).not.toHaveProperty('targetCheckpoint');
  });

  it.each([
    [{ strategy: 'retry_forever' }, 'strategy'],
    [{ strategy: 'retry', timeoutMs: 0 }, 'timeoutMs'],
    [{ strategy: 'retry', timeoutMs: Number.NaN }, 'timeoutMs'],
    [{ strategy: 'skip', alternativeSteps: [''] }, 'alternativeSteps'],
    [{ strategy: 'skip', extra: true }, 'extra'],
    [{ strategy: 'retry', retryConfig: { maxAttempts: -1 } }, 'maxAttempts'],
  ])('refuses %j naming %s', (input, field) => {
    expectInvalid(() => new RecoveryPlan(input as never), field);
  });
});

describe('pure policy', () => {
  it('defaultPlanFor: LOW -> RETRY, MEDIUM -> RETRY_WITH_BACKOFF, HIGH -> ROLLBACK latest, CRITICAL -> FAIL_FAST', () => {
    expect(defaultPlanFor(ErrorSeverity.LOW)).toMatchObject({ strategy: RecoveryStrategy.RETRY, retryConfig: { maxAttempts: 3 } });
    expect(defaultPlanFor(ErrorSeverity.MEDIUM)).toMatchObject({ strategy: RecoveryStrategy.RETRY_WITH_BACKOFF });
    const high = defaultPlanFor(ErrorSeverity.HIGH);
    expect(high.strategy).toBe(RecoveryStrategy.ROLLBACK);
    expect(high.targetCheckpoint).toBeUndefined();
    const critical = defaultPlanFor(ErrorSeverity.CRITICAL);
    expect(critical.strategy).toBe(RecoveryStrategy.FAIL_FAST);
    expect(critical.manualInstructions).toEqual(expect.any(String));
    for (const severity of Object.values(ErrorSeverity)) expect(RecoveryPlan.fromJSON(defaultPlanFor(severity)).description).not.toBe('');
  });

  it('canRetry only for the retry strategies, per the config', () => {
    const info = networkInfo();
    const retry = new RecoveryPlan({ strategy: RecoveryStrategy.RETRY, retryConfig: { maxAttempts: 2 } }).toJSON();
    expect(canRetry(retry, info, 1)).toBe(true);
    expect(canRetry(retry, info, 2)).toBe(false);
    expect(canRetry(retry, executionInfo(), 1)).toBe(false);
    expect(canRetry({ strategy: RecoveryStrategy.SKIP }, info, 1)).toBe(false);
    expect(canRetry(retry, info, 1, () => false)).toBe(false);
  });

  it('retryDelayMs: retry n waits getDelayMs(n - 1) with backoff, initialDelayMs with RETRY', () => {
    const retryConfig = { initialDelayMs: 1000, backoffFactor: 2, maxDelayMs: 10_000 };
    const backoff = new RecoveryPlan({ strategy: RecoveryStrategy.RETRY_WITH_BACKOFF, retryConfig }).toJSON();
    const fixed = new RecoveryPlan({ strategy: RecoveryStrategy.RETRY, retryConfig }).toJSON();
    expect([1, 2, 3, 4, 5, 6].map((n) => retryDelayMs(backoff, n))).toEqual([1000, 2000, 4000, 8000, 10_000, 10_000]);
    expect([1, 2, 3].map((n) => retryDelayMs(fixed, n))).toEqual([1000, 1000, 1000]);
    expect(() => retryDelayMs(fixed, 0)).toThrow(expect.objectContaining({ code: 'INVALID_INPUT' }));
  });
});

import { describe, expect, it } from 'vitest';
import { ErrorCategory, ErrorSeverity } from '../src/constants.js';
import {
  CancelledError,
  ExecutionError,
  ErrorCode,
  FatalError,
  RetryableError,
  StepTimeoutError,
  ValidationFailure,
  reviveError,
  serializeError,
} from '../src/errors.js';
import { SimulatedClock } from '../src/clock.js';
import { classifyError, classifyErrorCore, severityFor } from '../src/services/recovery/index.js';

const named = (name: string, message = 'boom'): Error => Object.assign(new Error(message), { name });
const withFields = (fields: Record<string, unknown>, message = 'boom'): Error => Object.assign(new Error(message), fields);
const category = (error: unknown): string => classifyErrorCore(error).category;

describe('classifyError: the error\'s own signals', () => {
  it('honours RetryableError and FatalError before anything else', () => {
    expect(classifyErrorCore(new RetryableError('invalid schema'))).toMatchObject({
      category: ErrorCategory.NETWORK,
      retryable: true,
      fatal: false,
    });
    expect(category(new RetryableError('x', { category: 'resource' }))).toBe(ErrorCategory.RESOURCE);
    expect(classifyErrorCore(new FatalError('network connection lost'))).toMatchObject({
      category: ErrorCategory.EXECUTION,
      retryable: false,
      fatal: true,
    });
    expect(category(new FatalError('x', { category: 'validation' }))).toBe(ErrorCategory.VALIDATION);
  });

  it('gives revived (deserialised) RetryableError/FatalError the same answer', () => {
    const revived = reviveError(serializeError(new RetryableError('x', { category: 'timeout' })));
    expect(classifyErrorCore(revived)).toMatchObject({ category: ErrorCategory.TIMEOUT, retryable: true });
    expect(classifyErrorCore(reviveError(serializeError(new FatalError('x')))).fatal).toBe(true);
  });

  it('uses a valid `category` field and ignores an unknown one', () => {
    expect(category(withFields({ category: 'dependency' }, 'network down'))).toBe(ErrorCategory.DEPENDENCY);
    expect(category(withFields({ category: 'NETWORK' }))).toBe(ErrorCategory.NETWORK);
    expect(category(withFields({ category: 'nonsense' }, 'Something failed'))).toBe(ErrorCategory.EXECUTION);
  });

  it.each([
    ['ValidationError', ErrorCategory.VALIDATION],
    ['ValueError', ErrorCategory.VALIDATION],
    ['TypeError', ErrorCategory.VALIDATION],
    ['ConnectionError', ErrorCategory.NETWORK],
    ['TimeoutError', ErrorCategory.TIMEOUT],
  ])('maps the name %s to %s', (name, expected) => {
    expect(category(named(name, 'Something failed'))).toBe(expected);
  });

  it('maps a real TypeError, our StepTimeoutError and ValidationFailure', () => {
    expect(category(new TypeError('x is not a function'))).toBe(ErrorCategory.VALIDATION);
    const timeout = new StepTimeoutError('s1', 500);
    expect(timeout.code).toBe(ErrorCode.StepTimeout);
    expect(classifyErrorCore(timeout)).toMatchObject({ category: ErrorCategory.TIMEOUT, retryable: true });
    expect(category(new ValidationFailure('field', 'bad'))).toBe(ErrorCategory.VALIDATION);
  });

  it('maps an AbortError to TIMEOUT only when its reason is a timeout', () => {
    const timeoutAbort = Object.assign(new Error('aborted'), {
      name: 'AbortError',
      cause: new DOMException('signal timed out', 'TimeoutError'),
    });
    expect(category(timeoutAbort)).toBe(ErrorCategory.TIMEOUT);
    expect(category(new DOMException('signal timed out', 'TimeoutError'))).toBe(ErrorCategory.TIMEOUT);
    expect(category(Object.assign(new Error('The operation was aborted'), { name: 'AbortError' }))).toBe(
      ErrorCategory.EXECUTION,
    );
  });

  it.each([
    ['EACCES', ErrorCategory.AUTHENTICATION],
    ['EPERM', ErrorCategory.AUTHENTICATION],
    ['ETIMEDOUT', ErrorCategory.TIMEOUT],
    ['ENOSPC', ErrorCategory.RESOURCE],
    ['ENOMEM', ErrorCategory.RESOURCE],
    ['EMFILE', ErrorCategory.RESOURCE],
    ['ECONNRESET', ErrorCategory.NETWORK],
    ['ECONNREFUSED', ErrorCategory.NETWORK],
    ['ENOTFOUND', ErrorCategory.NETWORK],
    ['EAI_AGAIN', ErrorCategory.NETWORK],
    ['EPIPE', ErrorCategory.NETWORK],
    ['ERR_MODULE_NOT_FOUND', ErrorCategory.DEPENDENCY],
    ['MODULE_NOT_FOUND', ErrorCategory.DEPENDENCY],
  ])('maps the Node code %s to %s', (code, expected) => {
    expect(category(withFields({ code }, 'Something failed'))).toBe(expected);
  });

  it.each([
    [401, ErrorCategory.AUTHENTICATION],
    [403, ErrorCategory.AUTHENTICATION],
    [408, ErrorCategory.TIMEOUT],
    [429, ErrorCategory.RESOURCE],
    [500, ErrorCategory.NETWORK],
    [502, ErrorCategory.NETWORK],
    [503, ErrorCategory.NETWORK],
    [599, ErrorCategory.NETWORK],
    [400, ErrorCategory.VALIDATION],
    [404, ErrorCategory.VALIDATION],
    [422, ErrorCategory.VALIDATION],
  ])('maps the HTTP status %i to %s', (status, expected) => {
    expect(category(withFields({ status }, 'Something failed'))).toBe(expected);
    expect(category(withFields({ statusCode: status }, 'Something failed'))).toBe(expected);
  });

  it('ignores statuses that are not errors', () => {
    expect(category(withFields({ status: 200 }, 'Something failed'))).toBe(ErrorCategory.EXECUTION);
    expect(category(withFields({ status: 302 }, 'Something failed'))).toBe(ErrorCategory.EXECUTION);
  });

  it("reads the cause's code when the error itself says nothing (fetch's TypeError)", () => {
    const fetchFailure = new TypeError('fetch failed', { cause: withFields({ code: 'ECONNREFUSED' }) });
    expect(category(fetchFailure)).toBe(ErrorCategory.NETWORK);
    const wrapped = new ExecutionError(ErrorCode.StepFailed, 'Step failed', { cause: withFields({ status: 503 }) });
    expect(category(wrapped)).toBe(ErrorCategory.NETWORK);
  });

  it('prefers the name over the code over keywords', () => {
    expect(category(withFields({ name: 'ValidationError', code: 'ECONNRESET' }))).toBe(ErrorCategory.VALIDATION);
    expect(category(withFields({ code: 'ENOSPC' }, 'connection lost'))).toBe(ErrorCategory.RESOURCE);
  });
});

describe('classifyError: whole-word message keywords', () => {
  it.each([
    ['Connection refused by peer', ErrorCategory.NETWORK],
    ['too many open connections', ErrorCategory.NETWORK],
    ['network unreachable', ErrorCategory.NETWORK],
    ['socket hang up', ErrorCategory.NETWORK],
    ['DNS lookup failed', ErrorCategory.NETWORK],
    ['unknown host: example', ErrorCategory.NETWORK],
    ['Request timeout', ErrorCategory.TIMEOUT],
    ['operation timed out', ErrorCategory.TIMEOUT],
    ['lease expired', ErrorCategory.TIMEOUT],
    ['deadline exceeded', ErrorCategory.TIMEOUT],
    ['Authentication failed', ErrorCategory.AUTHENTICATION],
    ['authorization header missing', ErrorCategory.AUTHENTICATION],
    ['Forbidden', ErrorCategory.AUTHENTICATION],
    ['401 Unauthorized', ErrorCategory.AUTHENTICATION],
    ['resource exhausted', ErrorCategory.RESOURCE],
    ['out of memory', ErrorCategory.RESOURCE],
    ['disk full', ErrorCategory.RESOURCE],
    ['no space left on device', ErrorCategory.RESOURCE],
    ['quota exceeded', ErrorCategory.RESOURCE],
    ['validation failed for field x', ErrorCategory.VALIDATION],
    ['Invalid input', ErrorCategory.VALIDATION],
    ['unexpected format', ErrorCategory.VALIDATION],
    ['schema mismatch', ErrorCategory.VALIDATION],
    ['bad configuration', ErrorCategory.CONFIGURATION],
    ['missing config', ErrorCategory.CONFIGURATION],
    ['unknown setting "x"', ErrorCategory.CONFIGURATION],
    ['required parameter missing', ErrorCategory.CONFIGURATION],
    ['dependency not installed', ErrorCategory.DEPENDENCY],
    ['cannot import name', ErrorCategory.DEPENDENCY],
    ["Cannot find module 'x'", ErrorCategory.DEPENDENCY],
    ['package not found', ErrorCategory.DEPENDENCY],
  ])('%j is %s', (message, expected) => {
    expect(category(new Error(message))).toBe(expected);
  });

  it.each([
    'Something failed',
    'disconnected from peer',
    'reconnecting now',
    'listening on localhost',
    'namespace clash',
    'timeoutless loop',
    'invalidated cache',
    'reformatted output',
    'imported 3 rows',
  ])('%j matches no keyword (whole words only) and is EXECUTION', (message) => {
    expect(category(new Error(message))).toBe(ErrorCategory.EXECUTION);
  });

  it('checks keywords in the order network, timeout, ... (first match wins)', () => {
    expect(category(new Error('connection timeout'))).toBe(ErrorCategory.NETWORK);
    expect(category(new Error('invalid config'))).toBe(ErrorCategory.VALIDATION);
  });

  it('reads words of a CamelCase error name', () => {
    expect(category(named('DatabaseConnectionError', 'Something failed'))).toBe(ErrorCategory.NETWORK);
    expect(category(named('ModuleNotFoundError', 'Something failed'))).toBe(ErrorCategory.DEPENDENCY);
    expect(category(named('ExecutionError', 'Something failed'))).toBe(ErrorCategory.EXECUTION);
  });
});

describe('classifyError: non-Error throws', () => {
  it('normalises strings, plain objects and undefined', () => {
    expect(category('network is down')).toBe(ErrorCategory.NETWORK);
    expect(category({ status: 503 })).toBe(ErrorCategory.NETWORK);
    expect(category({ code: 'ENOSPC' })).toBe(ErrorCategory.RESOURCE);
    expect(category(undefined)).toBe(ErrorCategory.EXECUTION);
    expect(category(42)).toBe(ErrorCategory.EXECUTION);
    expect(classifyErrorCore({ severity: 'critical' }).severity).toBe(ErrorSeverity.CRITICAL);
  });
});

describe('severity', () => {
  it.each([
    [ErrorCategory.AUTHENTICATION, ErrorSeverity.HIGH],
    [ErrorCategory.CONFIGURATION, ErrorSeverity.HIGH],
    [ErrorCategory.NETWORK, ErrorSeverity.MEDIUM],
    [ErrorCategory.RESOURCE, ErrorSeverity.MEDIUM],
    [ErrorCategory.DEPENDENCY, ErrorSeverity.MEDIUM],
    [ErrorCategory.EXECUTION, ErrorSeverity.MEDIUM],
    [ErrorCategory.SYSTEM, ErrorSeverity.MEDIUM],
    [ErrorCategory.VALIDATION, ErrorSeverity.LOW],
    [ErrorCategory.TIMEOUT, ErrorSeverity.LOW],
  ])('%s is %s', (cat, severity) => {
    expect(severityFor(cat)).toBe(severity);
    expect(severityFor(cat, new Error('x'))).toBe(severity);
  });

  it('is CRITICAL when the name contains Critical or severity is critical', () => {
    expect(severityFor(ErrorCategory.VALIDATION, named('CriticalDataError'))).toBe(ErrorSeverity.CRITICAL);
    expect(severityFor(ErrorCategory.NETWORK, withFields({ severity: 'critical' }))).toBe(ErrorSeverity.CRITICAL);
    expect(classifyErrorCore(named('CriticalError', 'Something failed'))).toMatchObject({
      category: ErrorCategory.EXECUTION,
      severity: ErrorSeverity.CRITICAL,
    });
  });

  it('classifies a plain Error("Something failed") as EXECUTION / MEDIUM', () => {
    expect(classifyErrorCore(new Error('Something failed'))).toEqual({
      category: ErrorCategory.EXECUTION,
      severity: ErrorSeverity.MEDIUM,
      retryable: false,
      fatal: false,
      errorType: 'Error',
      message: 'Something failed',
    });
  });
});

describe('classifyError -> ErrorInfo', () => {
  it('builds a JSON-only info with ids, timestamp from the clock, context and the serialised error', () => {
    const clock = new SimulatedClock(Date.parse('2026-01-01T00:00:00Z'));
    const info = classifyError(
      withFields({ code: 'ECONNRESET' }, 'reset'),
      { stepId: 'load', stepName: 'Load', attempt: 2, fn: () => 1, big: 10n },
      { clock },
    );
    expect(info).toMatchObject({
      stepId: 'load',
      stepName: 'Load',
      category: ErrorCategory.NETWORK,
      severity: ErrorSeverity.MEDIUM,
      message: 'reset',
      errorType: 'Error',
      timestamp: '2026-01-01T00:00:00.000Z',
      retryable: false,
      fatal: false,
      context: { stepId: 'load', stepName: 'Load', attempt: 2 },
    });
    expect(info.error).toMatchObject({ name: 'Error', message: 'reset', code: 'ECONNRESET' });
    expect(info.errorId).toMatch(/^[\w-]{21}$/);
    expect(JSON.parse(JSON.stringify(info))).toEqual(info);
  });

  it("defaults the step fields to 'unknown' and gives unique ids", () => {
    const a = classifyError(new Error('x'));
    const b = classifyError(new Error('x'));
    expect(a.stepId).toBe('unknown');
    expect(a.stepName).toBe('unknown');
    expect(a.errorId).not.toBe(b.errorId);
  });

  it('marks CancelledError fatal', () => {
    expect(classifyError(new CancelledError()).fatal).toBe(true);
  });

  it('refuses a context with a __proto__ key', () => {
    const context = JSON.parse('{"__proto__": {"polluted": true}}') as Record<string, unknown>;
    expect(() => classifyError(new Error('x'), context)).toThrow(expect.objectContaining({ code: 'INVALID_INPUT' }));
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});

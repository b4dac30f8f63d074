/**
 * Pure error classification: the tables of SPEC "RecoveryManager" and
 * "Details that tests rely on". No clock, no ids, no I/O, so the step
 * machine can import it for its guards.
 *
 * @module
 */
import { ErrorCategory, ErrorSeverity } from '../../constants.js';
import { CancelledError, FatalError, RetryableError, toError } from '../../errors.js';

/** What {@link classifyErrorCore} reads from an error, before ids and timestamps are added. */
export interface ErrorClassification {
  /** Kind of error. */
  category: ErrorCategory;
  /** How bad it is ({@link severityFor}). */
  severity: ErrorSeverity;
  /**
   * The error itself asked to be retried (a `RetryableError`, or a `retryable: true`
   * field such as `StepTimeoutError`'s), whatever `retryOnCategories` says.
   */
  retryable: boolean;
  /** The error itself asked never to be retried (`FatalError`, `CancelledError`). */
  fatal: boolean;
  /** The error's `name` (`TypeError`, `TimeoutError`...). */
  errorType: string;
  /** The error's message. */
  message: string;
}

const { VALIDATION, EXECUTION, TIMEOUT, RESOURCE, NETWORK, AUTHENTICATION, DEPENDENCY, CONFIGURATION } =
  ErrorCategory;

/** Categories retried by default (`RetryConfig.retryOnCategories`). */
export const DEFAULT_RETRY_CATEGORIES: readonly ErrorCategory[] = Object.freeze([NETWORK, TIMEOUT, RESOURCE]);

// Maps, not object literals: an error named "constructor" must not find Object.prototype.
const NAME_CATEGORIES: ReadonlyMap<string, ErrorCategory> = new Map<string, ErrorCategory>([
  ['ValidationError', VALIDATION],
  ['ValueError', VALIDATION],
  ['ValidationFailure', VALIDATION],
  ['ZodError', VALIDATION],
  ['ConnectionError', NETWORK],
  ['ConnectionRefusedError', NETWORK],
  ['ConnectionResetError', NETWORK],
  ['ConnectionAbortedError', NETWORK],
  ['TimeoutError', TIMEOUT],
]);

const CODE_CATEGORIES: ReadonlyMap<string, ErrorCategory> = new Map<string, ErrorCategory>([
  ['EACCES', AUTHENTICATION],
  ['EPERM', AUTHENTICATION],
  ['ETIMEDOUT', TIMEOUT],
  ['ESOCKETTIMEDOUT', TIMEOUT],
  ['UND_ERR_CONNECT_TIMEOUT', TIMEOUT],
  ['UND_ERR_HEADERS_TIMEOUT', TIMEOUT],
  ['UND_ERR_BODY_TIMEOUT', TIMEOUT],
  ['STEP_TIMEOUT', TIMEOUT],
  ['ENOSPC', RESOURCE],
  ['ENOMEM', RESOURCE],
  ['EMFILE', RESOURCE],
  ['ENFILE', RESOURCE],
  ['ECONNRESET', NETWORK],
  ['ECONNREFUSED', NETWORK],
  ['ECONNABORTED', NETWORK],
  ['ENOTFOUND', NETWORK],
  ['EAI_AGAIN', NETWORK],
  ['EPIPE', NETWORK],
  ['EHOSTUNREACH', NETWORK],
  ['ENETUNREACH', NETWORK],
  ['ENETDOWN', NETWORK],
  ['UND_ERR_SOCKET', NETWORK],
  ['ERR_MODULE_NOT_FOUND', DEPENDENCY],
  ['MODULE_NOT_FOUND', DEPENDENCY],
  ['INVALID_INPUT', VALIDATION],
]);

/**
 * Whole-word keywords, checked in this order (so "connection timeout" is
 * NETWORK). Plurals and British spellings are accepted; "disconnected" or
 * "localhost" are not words of the list and do not match.
 */
const KEYWORDS: readonly (readonly [ErrorCategory, RegExp])[] = [
  [NETWORK, /\b(?:connections?|networks?|sockets?|dns|hosts?)\b/i],
  [TIMEOUT, /\b(?:timeouts?|timed?[ -]?outs?|expired|deadlines?)\b/i],
  [AUTHENTICATION, /\b(?:authentication|authori[sz]ation|forbidden|unauthori[sz]ed)\b/i],
  [RESOURCE, /\b(?:resources?|memory|disks?|space|quotas?)\b/i],
  [VALIDATION, /\b(?:validation|invalid|formats?|schemas?)\b/i],
  [CONFIGURATION, /\b(?:configurations?|configs?|settings?|parameters?)\b/i],
  [DEPENDENCY, /\b(?:dependency|dependencies|imports?|modules?|packages?)\b/i],
];

const CATEGORY_SEVERITY: Readonly<Record<ErrorCategory, ErrorSeverity>> = {
  authentication: ErrorSeverity.HIGH,
  configuration: ErrorSeverity.HIGH,
  network: ErrorSeverity.MEDIUM,
  resource: ErrorSeverity.MEDIUM,
  dependency: ErrorSeverity.MEDIUM,
  execution: ErrorSeverity.MEDIUM,
  system: ErrorSeverity.MEDIUM,
  user: ErrorSeverity.MEDIUM,
  unknown: ErrorSeverity.MEDIUM,
  validation: ErrorSeverity.LOW,
  timeout: ErrorSeverity.LOW,
};

const CATEGORY_VALUES: ReadonlySet<string> = new Set(Object.values(ErrorCategory));

/** True when `value` is one of {@link ErrorCategory}'s values. */
export function isErrorCategory(value: unknown): value is ErrorCategory {
  return typeof value === 'string' && CATEGORY_VALUES.has(value);
}

type Fields = Record<string, unknown>;

function fieldsOf(value: unknown): Fields | undefined {
  return typeof value === 'object' && value !== null ? (value as Fields) : undefined;
}

function categoryField(fields: Fields): ErrorCategory | undefined {
  const raw = fields.category;
  const value = typeof raw === 'string' ? raw.toLowerCase() : undefined;
  return isErrorCategory(value) ? value : undefined;
}

function statusCategory(status: number): ErrorCategory | undefined {
  if (status === 401 || status === 403) return AUTHENTICATION;
  if (status === 408) return TIMEOUT;
  if (status === 429) return RESOURCE;
  if (status >= 500 && status <= 599) return NETWORK;
  if (status >= 400 && status <= 499) return VALIDATION;
  return undefined;
}

function httpStatus(fields: Fields): number | undefined {
  const response = fieldsOf(fields.response);
  for (const candidate of [fields.status, fields.statusCode, response?.status]) {
    if (typeof candidate === 'number' && Number.isInteger(candidate)) return candidate;
  }
  return undefined;
}

function isTimeoutSignal(value: unknown): boolean {
  const fields = fieldsOf(value);
  if (fields === undefined) return false;
  return fields.name === 'TimeoutError' || fields.code === 'ETIMEDOUT' || fields.code === 'STEP_TIMEOUT';
}

/**
 * The error's own structured signals: a `category` field, a known `name`, a
 * Node/engine `code`, an HTTP status. `TypeError` is left out on purpose
 * (see {@link categorize}).
 */
function signalCategory(value: unknown): ErrorCategory | undefined {
  const fields = fieldsOf(value);
  if (fields === undefined) return undefined;
  const fromField = categoryField(fields);
  if (fromField !== undefined) return fromField;
  const name = typeof fields.name === 'string' ? fields.name : '';
  const byName = NAME_CATEGORIES.get(name);
  if (byName !== undefined) return byName;
  if (name === 'AbortError' && (isTimeoutSignal(fields.cause) || isTimeoutSignal(fields.reason))) return TIMEOUT;
  const byCode = typeof fields.code === 'string' ? CODE_CATEGORIES.get(fields.code) : undefined;
  if (byCode !== undefined) return byCode;
  const status = httpStatus(fields);
  return status === undefined ? undefined : statusCategory(status);
}

/** "DatabaseConnectionError" -> "Database Connection Error"; "socket_hang_up" -> "socket hang up". */
function words(text: string, splitCamelCase: boolean): string {
  const spaced = splitCamelCase ? text.replace(/([a-z0-9])([A-Z])/g, '$1 $2') : text;
  return spaced.replace(/_/g, ' ');
}

function keywordCategory(text: string): ErrorCategory | undefined {
  for (const [category, pattern] of KEYWORDS) {
    if (pattern.test(text)) return category;
  }
  return undefined;
}

// By name too: a revived (deserialised) RetryableError is a plain Error named "RetryableError".
function isNamed(error: Error, ctor: abstract new (...args: never[]) => Error, name: string): boolean {
  const actual: string = error.name;
  return actual === name || error instanceof ctor;
}

/**
 * The category alone. Order: explicit classes, then the error's own signals,
 * then its `cause`'s signals (a wrapper such as `TypeError('fetch failed')`
 * carries the Node code on its cause), then `TypeError`, then keywords in the
 * name and the message, else EXECUTION.
 */
function categorize(error: Error): ErrorCategory {
  const fields = error as unknown as Fields;
  if (isNamed(error, RetryableError, 'RetryableError')) return categoryField(fields) ?? NETWORK;
  if (isNamed(error, FatalError, 'FatalError')) return categoryField(fields) ?? EXECUTION;
  const own = signalCategory(error) ?? signalCategory(error.cause);
  if (own !== undefined) return own;
  if (error.name === 'TypeError') return VALIDATION;
  return keywordCategory(words(error.name, true)) ?? keywordCategory(words(error.message, false)) ?? EXECUTION;
}

/**
 * Severity from the category (AUTHENTICATION, CONFIGURATION -> HIGH;
 * VALIDATION, TIMEOUT -> LOW; the rest MEDIUM), or CRITICAL when the error
 * says so: a name containing "Critical" or a `severity: 'critical'` field.
 *
 * @example
 * severityFor(ErrorCategory.NETWORK); // 'medium'
 */
export function severityFor(category: ErrorCategory, error?: unknown): ErrorSeverity {
  const fields = fieldsOf(error);
  if (fields !== undefined) {
    const name = typeof fields.name === 'string' ? fields.name : '';
    const severity = typeof fields.severity === 'string' ? fields.severity.toLowerCase() : '';
    if (/critical/i.test(name) || severity === ErrorSeverity.CRITICAL) return ErrorSeverity.CRITICAL;
  }
  return CATEGORY_SEVERITY[category];
}

/**
 * Classifies anything thrown (non-Error throws are normalised first) without
 * ids or timestamps. `classifyError` builds the full `ErrorInfo` from this.
 *
 * @example
 * classifyErrorCore(Object.assign(new Error('reset'), { code: 'ECONNRESET' })).category; // 'network'
 */
export function classifyErrorCore(thrown: unknown): ErrorClassification {
  const error = toError(thrown);
  // A thrown plain object keeps its own fields (severity, retryable) on the original, not on the wrapper.
  const source = fieldsOf(thrown) ?? (error as unknown as Fields);
  const category = categorize(error);
  const fatal = isNamed(error, FatalError, 'FatalError') || isNamed(error, CancelledError, 'CancelledError');
  const retryable = !fatal && (isNamed(error, RetryableError, 'RetryableError') || source.retryable === true);
  return {
    category,
    severity: severityFor(category, source),
    retryable,
    fatal,
    errorType: error.name,
    message: error.message,
  };
}
